/* guard.h: what a command may read and write, checked before it reads or
 * writes anything: every input a regular file (a FIFO would block, a
 * directory or device is refused), the lists a .data names among the
 * inputs, and every output writable and none of the inputs (by inode). */
#ifndef LEGR_GUARD_H
#define LEGR_GUARD_H

#include <stddef.h>
#include "datafile.h"

#define LEGR_MAX_INPUTS 32

/* The paths are borrowed: they must outlive the set. */
typedef struct {
    const char *p[LEGR_MAX_INPUTS];
    int n;
} legr_inputs;

/* Adds path (NULL: nothing) after checking it is a regular file. */
int legr_input_file(legr_inputs *in, const char *path, char *err, size_t errlen);

/* Adds path without a check (an output-only command's reference file). */
void legr_input_add(legr_inputs *in, const char *path);

/* Reads the .data file path into d (NULL path: d zeroed, nothing read) and
 * adds it and every list it names; each of `need` ("train", "valid",
 * "train,valid"; NULL: none) must be named and be a regular file. */
int legr_input_data(legr_inputs *in, const char *path, const char *need, legr_datafile *d,
                    char *err, size_t errlen);

/* 0 when out is none of the inputs and can be written (absent or a regular
 * file, in a writable directory); else -1 with err naming out. */
int legr_output_check(const char *out, const legr_inputs *in, char *err, size_t errlen);

/* 0 when out is none of the n other outputs of the same command (by name or,
 * when both exist, by inode); else -1 with err naming out. */
int legr_output_distinct(const char *out, const char *const *others, int n, char *err, size_t errlen);

#endif
