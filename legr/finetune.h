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

/* Trains net for iters iterations (each net->batch * net->subdivisions
 * images) at learning rate lr (cfg's when lr <= 0), seeding Darknet's rand()
 * with seed first.  Returns the mean training loss. */
float legr_finetune(network *net, const legr_trainset *ts, int iters, float lr,
                    unsigned seed);

#endif
