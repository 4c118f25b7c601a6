/* finetune.h: a few iterations of Darknet's own training on a network in
 * memory: the data loading of `detector train` / `classifier train` (same
 * augmentation from the cfg), constant learning rate, no burn-in, no
 * multi-scale, loading done synchronously so a seed makes it repeatable. */
#ifndef LEGR_FINETUNE_H
#define LEGR_FINETUNE_H

#include <stddef.h>
#include "darknet.h"

typedef struct {
    char **paths;           /* the train= list */
    int n_paths;
    char **labels;          /* classifiers: labels= names */
    int n_labels;
    int classes;
    int is_detector;
} legr_trainset;

/* Reads the train= list (and labels for classifiers) of datacfg.
 * Returns 0 or -1 with err set. */
int legr_trainset_load(const char *datacfg, const network *net, legr_trainset *ts,
                       char *err, size_t errlen);
void legr_trainset_free(legr_trainset *ts);

/* Loads one iteration's images (net->batch * net->subdivisions) of ts with
 * Darknet's own loader and augmentation, into *d (free with free_data). */
void legr_trainset_next(network *net, const legr_trainset *ts, data *d);

/* Runs between the forward and the backward pass of every sub-batch: the
 * place to add to the heads' deltas (distillation).  Returning non-zero
 * stops the iteration before the backward pass (a diverged forward: with
 * NaN activations Darknet's maxpool backward writes outside its buffer). */
typedef int (*legr_train_hook)(network *net, void *ctx);

/* One iteration of Darknet's training step on d (its rows a multiple of
 * net->batch): per sub-batch forward, hook, backward; update_network every
 * net->subdivisions sub-batches, as train_network does.  Returns Darknet's
 * loss per image, or -1 when the hook stopped it. */
float legr_train_iteration(network *net, data d, legr_train_hook hook, void *ctx);

/* Trains net for iters iterations (each net->batch * net->subdivisions
 * images) at learning rate lr (cfg's when lr <= 0), seeding Darknet's rand()
 * with seed first.  The forward and backward passes take at most
 * legr_forward_batch(net) images at a time (the largest divisor of
 * net->batch up to it), the updates the same images as before, as a larger
 * subdivisions= would; BN's batch statistics are then those of the smaller
 * passes.  Returns the mean training loss. */
float legr_finetune(network *net, const legr_trainset *ts, int iters, float lr,
                    unsigned seed);

#endif
