/* guard.c: a command's inputs and outputs checked up front (see guard.h). */
#include "guard.h"
#include "util.h"

#include <string.h>

void legr_input_add(legr_inputs *in, const char *path)
{
    if (path && in->n < LEGR_MAX_INPUTS) in->p[in->n++] = path;
}

int legr_input_file(legr_inputs *in, const char *path, char *err, size_t errlen)
{
    if (!path) return 0;
    if (legr_check_regular(path, err, errlen) != 0) return -1;
    legr_input_add(in, path);
    return 0;
}

int legr_input_data(legr_inputs *in, const char *path, const char *need, legr_datafile *d,
                    char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    if (!path) return 0;
    if (legr_datafile_read(path, d, err, errlen) != 0) return -1;
    legr_input_add(in, d->path);
    legr_input_add(in, d->train);
    legr_input_add(in, d->valid);
    legr_input_add(in, d->names);
    legr_input_add(in, d->labels);
    const char *keys[] = { "train", "valid" };
    for (int k = 0; k < 2; ++k)
        if (need && strstr(need, keys[k]) && legr_datafile_need(d, keys[k], err, errlen) != 0) return -1;
    return 0;
}

int legr_output_check(const char *out, const legr_inputs *in, char *err, size_t errlen)
{
    if (legr_clobbers_input(out, in->p, in->n))
        return legr_fail(err, errlen, "%s: refusing to overwrite an input file (choose another -out)", out);
    return legr_check_output(out, err, errlen);
}

int legr_output_distinct(const char *out, const char *const *others, int n, char *err, size_t errlen)
{
    for (int i = 0; i < n; ++i)
        if (others[i] && (!strcmp(out, others[i]) || legr_same_file(out, others[i])))
            return legr_fail(err, errlen, "%s: also written as another output of this command (choose another name)", out);
    return 0;
}
