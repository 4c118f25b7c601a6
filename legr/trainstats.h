/* trainstats.h: what training-mode forwards of a network over an image set
 * give without a weight update: Darknet's validation loss and re-estimated
 * BN statistics, computed whole-batch exactly (bigbatch.h) a few images at a
 * time, dropout off and the rolling statistics put back where they must. */
#ifndef LEGR_TRAINSTATS_H
#define LEGR_TRAINSTATS_H

#include <stddef.h>
#include "darknet.h"
#include "eval.h"

/* Darknet's training cost per image over the set (each image once), from
 * training-mode forwards of net->batch images without weight updates (the
 * last one smaller), each computed legr_forward_batch(net) images at a time
 * (bigbatch.h).  BN rolling statistics are left as they were.  0 with
 * *loss set, or -1 with err set. */
int legr_validation_loss(network *net, const legr_valset *vs, double *loss,
                         char *err, size_t errlen);

/* Re-estimates every batch-normalised layer's rolling mean and variance
 * from n_batches batches of net->batch images of the set (wrapping around):
 * each batch as one training-mode forward (no weight update) computes its
 * batch statistics (bigbatch.h: layer by layer, legr_forward_batch(net)
 * images at a time, the same numbers to float rounding), and each
 * channel's statistics over the batches are combined exactly: the mean and
 * variance (Darknet's: over count - 1) of every value its BN input took,
 * not an average of the batches' variances.  0, or -1 with err set (the
 * statistics are then left as they were). */
int legr_bn_reestimate(network *net, const legr_valset *vs, int n_batches, char *err, size_t errlen);
/* The same computing fwd_batch images at a time (<= 0: legr_forward_batch). */
int legr_bn_reestimate_at(network *net, const legr_valset *vs, int n_batches, int fwd_batch,
                          char *err, size_t errlen);

#endif
