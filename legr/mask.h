/* mask.h: which channels of each group are kept.  A mask is the whole result
 * of choosing filters: FLOP counting, surgery and the masked forward all read
 * it. */
#ifndef LEGR_MASK_H
#define LEGR_MASK_H

#include "graph.h"

typedef struct {
    int n_groups;
    unsigned char **keep;   /* keep[g][j] = 1 if channel j of group g stays */
    int *kept;              /* number of channels kept per group */
} legr_mask;

/* A mask keeping everything.  Returns 0 or -1 (out of memory). */
int legr_mask_init(legr_mask *m, const legr_graph *g);
void legr_mask_free(legr_mask *m);

/* Channels of a list of blocks under mask m (m may be NULL: all kept). */
int legr_blocks_channels(const legr_graph *g, const legr_mask *m,
                         const int *blocks, int n_blocks);

/* Indices (into the unpruned block list) of the channels kept, in order.
 * idx must hold the unpruned channel count; returns the number written. */
int legr_blocks_kept_index(const legr_graph *g, const legr_mask *m,
                           const int *blocks, int n_blocks, int *idx);

/* Zeroes, in a loaded network, the filters (weights, bias, BN scale) of
 * every removed channel at its producer convs and depthwise followers, so
 * the network computes what the pruned one computes ("masked forward"). */
void legr_mask_zero_network(network *net, const legr_graph *g, const legr_mask *m);

#endif
