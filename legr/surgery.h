/* surgery.h: writes the pruned .cfg/.weights pair for a mask.  The cfg keeps
 * every section and key of the input, changing only filters= (and groups= of
 * depthwise convs); the weights file gets header 0.2.0, seen = 0, and exactly
 * the bytes its cfg implies. */
#ifndef LEGR_SURGERY_H
#define LEGR_SURGERY_H

#include <stddef.h>
#include "cfgfile.h"
#include "graph.h"
#include "mask.h"
#include "weights.h"
#include "model.h"

/* New filters= (and groups=, -1 when unchanged) per layer under mask m. */
void legr_pruned_shape(const network *net, const legr_graph *g,
                       const legr_mask *m, int *filters, int *groups);

/* Writes <prefix>.cfg and <prefix>.weights (temporary names, then rename).
 * Refuses to write over the input files.  Returns 0 or -1 with err set. */
int legr_write_pruned(const legr_cfg *cfg, const network *net,
                      const legr_graph *g, const legr_weights *w,
                      const legr_mask *m, const char *out_cfg,
                      const char *out_weights, char *err, size_t errlen);

/* Builds the pruned network for a mask in memory: the pair is written to
 * files in workdir named after tag, read back and removed.  Returns NULL
 * with err set on failure. */
network *legr_build_pruned(legr_model *m, const legr_mask *mask, const char *workdir,
                           int tag, char *err, size_t errlen);

#endif
