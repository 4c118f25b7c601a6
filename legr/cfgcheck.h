/* cfgcheck.h: the model boundary: which cfgs legr hands to Darknet's parser
 * (supported layers, keys read as Darknet reads them, every layer's shape
 * computed and bounded), and the limits it enforces. */
#ifndef LEGR_CFGCHECK_H
#define LEGR_CFGCHECK_H

#include "cfgfile.h"

#include <stddef.h>

/* Limits (the README's "Model boundary" states them). */
#define LEGR_MAX_SIDE      8192          /* [net] width, height; [detection] side */
#define LEGR_MAX_CHANNELS  64            /* [net] channels */
#define LEGR_MAX_BATCH     1024          /* [net] batch / subdivisions */
#define LEGR_MAX_FILTERS   65536         /* filters of one conv */
#define LEGR_MAX_KERNEL    64            /* size, stride of convs and pools */
#define LEGR_MAX_CLASSES   100000
#define LEGR_MAX_ANCHORS   64            /* num of [yolo]/[region] */
#define LEGR_MAX_TENSOR    2147483647LL  /* floats in one Darknet buffer (an int) */
#define LEGR_MAX_WORKSPACE 2000000000LL  /* bytes of one conv's im2col buffer */
#define LEGR_MAX_TOTAL     32e9          /* bytes Darknet allocates for the network */

/* One layer's output as legr computes it; w = h = c = 0 for flat outputs. */
typedef struct { int w, h, c, outputs; } legr_cfg_shape;

/* Checks a cfg read by legr_cfg_read against the boundary above.  Keys this
 * Darknet ignores become cfg->warnings.  shapes (if given) receives the
 * output of each layer (cfg->n_sec - 1 entries).  Returns 0, or -1 with one
 * line in err naming the file, line and problem. */
int legr_cfg_check(legr_cfg *cfg, legr_cfg_shape *shapes, char *err, size_t errlen);

/* legr_cfg_read, then legr_cfg_check: what every command reads a cfg with. */
int legr_cfg_load(const char *path, legr_cfg *cfg, char *err, size_t errlen);

/* The keys of the cfg that this Darknet ignores: one "legr: warning:" line
 * each on stderr. */
void legr_cfg_print_warnings(const legr_cfg *cfg);

#endif
