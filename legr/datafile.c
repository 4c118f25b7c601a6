/* datafile.c: reading a .data file (see datafile.h). */
#include "datafile.h"
#include "darknet.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static char *copy_opt(list *opt, const char *key)
{
    char *v = option_find_str(opt, (char *)key, 0);
    return v ? legr_strdup(v) : NULL;
}

int legr_datafile_read(const char *path, legr_datafile *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    if (legr_check_regular(path, err, errlen) != 0) return -1;
    list *opt = read_data_cfg((char *)path);
    d->path = legr_strdup(path);
    d->train = copy_opt(opt, "train");
    d->valid = copy_opt(opt, "valid");
    d->names = copy_opt(opt, "names");
    d->labels = copy_opt(opt, "labels");
    d->classes = option_find_int_quiet(opt, "classes", 0);
    legr_free_options(opt);
    if (!d->path) {
        legr_datafile_free(d);
        return legr_fail(err, errlen, "out of memory");
    }
    return 0;
}

const char *legr_datafile_list(const legr_datafile *d, const char *key)
{
    if (!strcmp(key, "train")) return d->train;
    if (!strcmp(key, "valid")) return d->valid;
    return NULL;
}

int legr_datafile_need(const legr_datafile *d, const char *key, char *err, size_t errlen)
{
    const char *l = legr_datafile_list(d, key);
    if (!l) return legr_fail(err, errlen, "%s: no %s= list", d->path, key);
    return legr_check_regular(l, err, errlen);
}

void legr_datafile_free(legr_datafile *d)
{
    free(d->path);
    free(d->train);
    free(d->valid);
    free(d->names);
    free(d->labels);
    memset(d, 0, sizeof *d);
}
