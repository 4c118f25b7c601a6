/* cfgfile.h: a Darknet .cfg file as text: sections and key=value pairs in
 * file order, read as Darknet's reader would (cfgcheck.h checks the values)
 * and written back with chosen values replaced. */
#ifndef LEGR_CFGFILE_H
#define LEGR_CFGFILE_H

#include <stddef.h>

typedef struct {
    char *key;
    char *value;
    int line;               /* 1-based line number in the input file */
} legr_kv;

typedef struct {
    char *type;             /* "[convolutional]", "[net]", ... */
    int line;
    legr_kv *kv;
    int n_kv;
} legr_section;

typedef struct {
    char *path;
    legr_section *sec;      /* sec[0] is [net]; layer i is sec[i + 1] */
    int n_sec;
    int has_cr;             /* CRLF line ends (Darknet's parser cannot read them) */
    char **warnings;        /* "<path>:<line>: ..." from legr_cfg_check */
    int n_warnings;
} legr_cfg;

/* Reads `path` (lexical checks only: cfgcheck.h's legr_cfg_load also checks
 * the values).  Returns 0, or -1 with a one-line message in err
 * ("<path>:<line>: <problem>"). */
int legr_cfg_read(const char *path, legr_cfg *cfg, char *err, size_t errlen);
void legr_cfg_free(legr_cfg *cfg);

/* Value of `key` in section s, or NULL. */
const char *legr_cfg_value(const legr_section *s, const char *key);

/* Sets key=value in section sec (the first such key, or a new one at the
 * end of the section).  Returns 0 or -1 (out of memory). */
int legr_cfg_set(legr_cfg *cfg, int sec, const char *key, const char *value);

/* Writes the cfg to `path` (LF line ends, key=value), replacing the value of
 * filters= in layer i by filters[i] and of groups= by groups[i] where those are
 * >= 0 (either array may be NULL).  Writes to a temporary name and renames.
 * Returns 0 or -1 with err set. */
int legr_cfg_write(const legr_cfg *cfg, const char *path, const int *filters,
                   const int *groups, char *err, size_t errlen);

#endif
