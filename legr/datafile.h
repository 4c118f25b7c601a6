/* datafile.h: the one reader of Darknet's .data files (train=, valid=,
 * names=, labels=, classes=) for every command. */
#ifndef LEGR_DATAFILE_H
#define LEGR_DATAFILE_H

#include <stddef.h>

typedef struct {
    char *path;                     /* the .data file itself */
    char *train, *valid;            /* image lists; NULL where absent */
    char *names, *labels;           /* class names (detectors) / labels (classifiers) */
    int classes;                    /* 0 when absent (Darknet reads it with atoi) */
} legr_datafile;

/* Reads path with Darknet's own parser, after checking it is a regular file
 * (Darknet's reader exits on a missing one).  0, or -1 with err. */
int legr_datafile_read(const char *path, legr_datafile *d, char *err, size_t errlen);

/* The list named by key ("train" or "valid"), or NULL. */
const char *legr_datafile_list(const legr_datafile *d, const char *key);

/* 0 when the key's list is named and is a regular file; else -1 with err
 * ("<data>: no train= list", or the list's own problem). */
int legr_datafile_need(const legr_datafile *d, const char *key, char *err, size_t errlen);

void legr_datafile_free(legr_datafile *d);

#endif
