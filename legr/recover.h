/* recover.h: least-squares reconstruction of a pruned network (ThiNet /
 * He et al. 2017 "channel pruning"): every dense conv whose input channels
 * were removed gets its remaining weights re-fitted, layer by layer in
 * network order (and every later dense conv, whose input drifted), so that
 * its output before BN and activation on unlabelled
 * images matches the ORIGINAL network's output of that layer, each layer fed
 * with the already reconstructed pruned network's activations.  The removed
 * channels' mean contribution goes into the bias (no BN) or the BN rolling
 * mean.  The normal equations are solved with LAPACK (dposv). */
#ifndef LEGR_RECOVER_H
#define LEGR_RECOVER_H

#include <stddef.h>
#include "darknet.h"
#include "graph.h"
#include "mask.h"
#include "eval.h"

typedef struct {
    const legr_valset *images;  /* prepared images (no labels needed) */
    int n_images;               /* images used (<= images->n_images; <= 0: all) */
    int positions;              /* output positions sampled per image (<= 0: 256) */
    float ridge;                /* ridge term relative to the mean diagonal (< 0: 1e-4) */
} legr_recover_opts;

/* Per re-fitted layer: its output error against the original's (mean square
 * over the sampled positions and kept filters, relative to the original
 * output's mean square), before and after the fit. */
typedef struct {
    int layer;
    double err_before, err_after;
} legr_recover_layer;

/* Layers of `orig` (the graph g's network) that reconstruction re-fits under
 * mask m: dense convs whose input channels the mask reduces, and every dense
 * conv after the first layer that lost filters (its input has drifted; on
 * Yolo-Fastest at 0.8 re-fitting these too lifted mAP@0.5 0.259 -> 0.263).  Writes up to
 * max indices to out (may be NULL) and returns how many there are. */
int legr_recover_layers(const network *orig, const legr_graph *g, const legr_mask *m,
                        int *out, int max);

/* Re-fits `pruned` (the network the surgery wrote for mask m of orig, same
 * layer numbering) in place.  report (may be NULL) receives one entry per
 * re-fitted layer, in order; *n_report their number.  Returns 0 or -1 with
 * err set. */
int legr_reconstruct(network *orig, network *pruned, const legr_graph *g, const legr_mask *m,
                     const legr_recover_opts *o, legr_recover_layer *report, int *n_report,
                     char *err, size_t errlen);

/* The same error measure without changing anything: for each layer of
 * legr_recover_layers, the relative error of pruned's output against orig's
 * on the given images (errs[k] for the k-th layer).  Returns 0 or -1. */
int legr_recover_errors(network *orig, network *pruned, const legr_graph *g, const legr_mask *m,
                        const legr_recover_opts *o, double *errs, char *err, size_t errlen);

#endif
