/* bigbatch.h: what one training-mode forward of a large batch computes,
 * without the memory of that batch.
 *
 * Darknet's training-mode forward of B images holds, for every layer, B
 * images' worth of outputs, deltas and BN copies (Yolo-Fastest at 320x320:
 * about 110 MB an image, 3.5 GB at its cfg's batch=32).  What legr needs
 * from such a forward is small: every BN layer's batch mean and variance
 * (BN re-estimation) and Darknet's cost (the validation loss).  Here the
 * same numbers are computed layer by layer: each layer runs over the batch
 * a few images at a time (Darknet's own layer code, its buffers touched for
 * those images only), and the batch's outputs of a layer are kept only
 * until the last layer that reads them has run.  A BN layer runs twice per
 * chunk: once for its input's statistics over the whole batch, then
 * normalised by them, as the one big forward normalises it.  Peak memory:
 * the batch times the largest set of layer outputs alive at once (3 MB an
 * image on Yolo-Fastest), plus the chunk's Darknet buffers.
 *
 * Layers run in inference mode except the cost layers, which run in
 * training mode when truth is asked for; so dropout passes everything
 * through (as legr's training-mode passes always set it to) and [crop]
 * takes its center.  With a GPU the batch runs as one Darknet training-mode
 * forward on the device (its memory is the device's). */
#ifndef LEGR_BIGBATCH_H
#define LEGR_BIGBATCH_H

#include <stddef.h>
#include "darknet.h"
#include "eval.h"

/* Per channel: how many values, their mean and the sum of their squared
 * deviations from it. */
typedef struct {
    double count;
    double *mean, *m2;
} legr_bn_acc;

/* Adds `count` values per channel whose mean and variance (over count - 1,
 * Darknet's definition) were mean[c], var[c]: Chan et al.'s pairwise
 * combination, exact up to the rounding of the inputs. */
void legr_bn_acc_add(legr_bn_acc *a, const float *mean, const float *var, int channels, double count);

/* What the forwards gathered: every BN layer's statistics over every value
 * its input took, and the cost layers' costs. */
typedef struct {
    int n_layers;
    legr_bn_acc *bn;        /* per layer; mean == NULL for a layer without BN */
    double cost;            /* Darknet's cost of every cost layer, summed */
    int n_cost;             /* cost layers of the network */
} legr_bigbatch_acc;

int legr_bigbatch_acc_init(legr_bigbatch_acc *a, const network *net, char *err, size_t errlen);
void legr_bigbatch_acc_free(legr_bigbatch_acc *a);

/* Makes the statistics in a every BN layer's rolling mean and variance. */
void legr_bigbatch_apply_bn(const legr_bigbatch_acc *a, network *net);

/* One training-mode forward of images first..first+n-1 of vs (wrapping
 * around) as a single batch of n, computed fb images at a time (n may
 * exceed net->batch; with a GPU it may not).  Adds each BN layer's batch
 * statistics to a->bn and, when truth, the cost layers' costs to a->cost.
 * The network is left as it was (batch, rolling statistics).  0, or -1
 * with err set. */
int legr_bigbatch_forward(network *net, const legr_valset *vs, int first, int n, int fb, int truth,
                          legr_bigbatch_acc *a, char *err, size_t errlen);

#endif
