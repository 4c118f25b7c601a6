/* labels.c: a training list checked before Darknet's loader reads it (see
 * labels.h). */
#include "labels.h"
#include "eval.h"
#include "labelpath.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* err += " (listed in <listname>)" when it fits. */
static int listed_in(char *err, size_t errlen, const char *listname)
{
    size_t used = strlen(err);
    if (used < errlen) snprintf(err + used, errlen - used, " (listed in %s)", listname);
    return -1;
}

int legr_trainlist_check(const char *listname, char *const *paths, int n, int classes,
                         int detector, char *err, size_t errlen)
{
    for (int i = 0; i < n; ++i) {
        if (legr_check_regular(paths[i], err, errlen) != 0) return listed_in(err, errlen, listname);
        if (!detector) continue;
        char lp[4096];
        legr_label_path(paths[i], lp, sizeof lp);
        if (legr_check_regular(lp, err, errlen) != 0) return listed_in(err, errlen, listname);
        legr_box *boxes;
        if (legr_read_labels(lp, classes, &boxes, err, errlen) < 0) return -1;
        free(boxes);
    }
    return 0;
}
