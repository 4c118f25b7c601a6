/* util.h: small helpers shared by legr/ sources: error formatting, checked
 * allocation, atomic file replacement. */
#ifndef LEGR_UTIL_H
#define LEGR_UTIL_H

#include <stddef.h>
#include <stdio.h>

/* snprintf into err (if err != NULL); always returns -1 so callers can write
 * `return legr_fail(err, len, "...", ...);`. */
int legr_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* 0 for NaN and +-inf, from the bits: Darknet builds with -Ofast, whose
 * -ffinite-math-only compiles isfinite()/isnan() to constants. */
int legr_finite(double x);

/* malloc/calloc that return NULL on overflow of n * size. */
void *legr_calloc(size_t n, size_t size);

/* A malloc'd printf; NULL on failure. */
char *legr_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* strdup that returns NULL on failure. */
char *legr_strdup(const char *s);

/* Opens "<path>.tmp.<pid>" for writing; *tmp receives the temporary name
 * (caller frees).  Returns NULL with err set on failure. */
FILE *legr_open_temp(const char *path, char **tmp, char *err, size_t errlen);

/* Closes fp and renames tmp to path, or removes tmp if ok == 0 or anything
 * fails.  Returns 0 or -1 with err set. */
int legr_commit_temp(FILE *fp, char *tmp, const char *path, int ok,
                     char *err, size_t errlen);

/* 1 if paths a and b name the same existing file. */
int legr_same_file(const char *a, const char *b);

/* 1 if `out` names the same existing file as one of inputs[0..n) (NULL
 * entries skipped): an output that would overwrite an input. */
int legr_clobbers_input(const char *out, const char *const *inputs, int n);

/* Lines of a text file without their line ends, empty lines skipped;
 * NULL if it cannot be read.  Free with legr_free_strings. */
char **legr_read_lines(const char *path, int *n);
void legr_free_strings(char **v, int n);

/* Darknet's [yolo]/[region] layers print statistics on stdout during
 * training-mode forwards; legr discards that output while it trains or
 * scores internally.  mute returns a handle for unmute. */
int legr_mute_stdout(void);
void legr_unmute_stdout(int handle);
/* The same for any descriptor (stderr: Darknet's layer table on parsing). */
int legr_mute_fd(int fd);
void legr_unmute_fd(int fd, int handle);

/* Frees the list read_data_cfg() returns (Darknet has no function for it). */
struct list;
void legr_free_options(struct list *opt);

#endif
