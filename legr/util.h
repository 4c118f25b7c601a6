/* util.h: small helpers shared by legr/ sources: error formatting, checked
 * allocation, strict number parsing, regular-file checks, atomic and staged
 * file replacement, and the janitor of a work directory. */
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
/* 1 for NaN only (also by the bits). */
int legr_isnan(double x);

/* Strict parsing of a whole string: an int in range, or a finite double
 * ("nan", "inf", "1e999", "", "3x" refused).  Return 0, or -1. */
int legr_parse_int(const char *s, int *v);
int legr_parse_double(const char *s, double *v);

/* malloc/calloc that return NULL on overflow of n * size. */
void *legr_calloc(size_t n, size_t size);

/* A malloc'd printf; NULL on failure. */
char *legr_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A duration for progress lines and ETAs, into buf: "42s" under 90 s,
 * "12m05s" under 90 min, else "3h04m" (rounded to the second; negative,
 * NaN and absurd values print "0s"). Returns buf. */
const char *legr_fmt_duration(double seconds, char *buf, size_t len);

/* "<base name of path without ext><suffix>", in the current directory
 * (malloc'd; NULL on failure): the default output prefix of a command. */
char *legr_default_prefix(const char *path, const char *ext, const char *suffix);

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

/* 0 when path names an existing regular file (after links); else -1 with err
 * "<path>: cannot open: <reason>" or "<path>: not a regular file".  A FIFO,
 * a directory or a device is refused without being opened: fopen would block
 * on a FIFO or read a device. */
int legr_check_regular(const char *path, char *err, size_t errlen);

/* fopen(path, mode) for reading, of a regular file only (as above; the open
 * itself cannot block either).  NULL with err set (err may be NULL). */
FILE *legr_fopen_regular(const char *path, const char *mode, char *err, size_t errlen);

/* 0 when an output can be written at path: it is absent or a regular file,
 * in an existing directory this process may write.  Else -1 with err. */
int legr_check_output(const char *path, char *err, size_t errlen);

/* Outputs written under temporary names and renamed into place together
 * once all are complete, so that a failed run leaves none of them: stage
 * gives the temporary name for dst ("<dst>.tmp.<pid>", NULL on OOM); commit
 * renames them in order (if one rename fails, the ones already renamed are
 * removed, and the temporaries); abort removes the temporaries.  Both free
 * the list.  Zero-initialise. */
typedef struct {
    int n;
    char **tmp, **dst;
} legr_staged;
const char *legr_stage(legr_staged *s, const char *dst);
int legr_staged_commit(legr_staged *s, char *err, size_t errlen);
void legr_staged_abort(legr_staged *s);

/* Removes dir's files and dir itself (one level); 0 or -1. */
int legr_remove_dir(const char *dir);

/* A child process that removes a work directory once this process and the
 * workers it forks have all ended, however they end (an error, SIGINT,
 * SIGTERM, kill -9): start returns the write end of a pipe (or -1), watch
 * sends it the directory to remove.  Start it before anything that must not
 * be forked (MPI, CUDA): it only reads the pipe. */
int legr_janitor_start(void);
int legr_janitor_watch(int fd, const char *dir);

/* A whole regular file, NUL-terminated and malloc'd (*len: its size); NULL
 * if it cannot be read. */
char *legr_read_file(const char *path, size_t *len);

/* 64-bit FNV-1a of n bytes, continuing from h (0: start afresh). */
unsigned long long legr_fnv1a(const void *p, size_t n, unsigned long long h);

/* legr's cache directory (latency tables, checked image lists): $LEGR_CACHE,
 * else $XDG_CACHE_HOME/darknet-legr, else ~/.cache/darknet-legr (into buf).
 * mkdir creates it (and its parent) if missing; failure is no error, since a
 * cache that cannot be written is only not kept. */
void legr_cache_dir(char *buf, size_t len);
void legr_cache_mkdir(void);

/* Lines of a text file without their line ends, empty lines skipped;
 * NULL if it cannot be read (or is not a regular file).  Free with
 * legr_free_strings. */
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
