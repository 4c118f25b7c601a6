/* choose.h: which filters a pruned layer keeps, chosen by the error their
 * loss leaves in the next conv (the channel selection of ThiNet and of
 * He et al. 2017) instead of by their L2 norm.  The mask's count per group
 * is kept, so FLOPs and the cfg are what the ranking chose; only WHICH
 * channels stay changes.
 *
 * A group qualifies when its channels reach exactly one dense conv Q
 * (through depthwise followers, max-pooling or upsampling at most) and Q
 * reads nothing else.  On the original network's activations, Q's output
 * y = W x (Q's filters that the mask keeps, each times its BN scale,
 * gamma / sigma, so that errors count as Q's BN passes them on) is a
 * least-squares target; starting from
 * all of the group's
 * channels, the channel whose removal raises the error of the best fit of y
 * from the remaining ones the least goes, one at a time (backward
 * elimination, each step an exact rank-k2 update of the inverse normal
 * matrix), until the group's count is reached.  Q's filters are those the
 * mask keeps when the group is taken (groups go in order, so Q's own group
 * is usually re-chosen after, for Q's consumer).  Groups whose elimination would cost more than a few seconds
 * keep the input mask, as do those where it fails or does not beat it. */
#ifndef LEGR_CHOOSE_H
#define LEGR_CHOOSE_H

#include <stddef.h>
#include "darknet.h"
#include "graph.h"
#include "mask.h"
#include "recover.h"

/* Backward elimination on one layer's normal equations (the algorithm,
 * apart from any network): G is the d x d matrix sum x x^T (row-major,
 * d = n*k2 + 1, the constant 1 last) over samples of the consumer's input
 * patches x (n channels of k2 rows each), w its o filters (o x n*k2),
 * ridge relative to G's mean diagonal.  keep[0..n) receives `want` ones.
 * *err_chosen and, when l2_keep is given (n flags), *err_l2 receive the
 * error of fitting y = w x from the chosen channels and from l2_keep's,
 * relative to sum y^2.  Returns 0, or -1 with err set. */
int legr_choose_channels(const double *G, int n, int k2, const float *w, int o, int want,
                         float ridge, unsigned char *keep, const unsigned char *l2_keep,
                         double *err_chosen, double *err_l2, char *err, size_t errlen);

/* What legr_choose_by_error did, per group it re-chose. */
typedef struct {
    int group, consumer;        /* the group and its one conv consumer Q */
    int n, kept, changed;       /* channels, kept, and how many differ from the input mask */
    double err_l2, err_chosen;  /* Q's relative output error from the input mask's / the chosen channels */
    int fallback;               /* 1: the elimination failed; the input mask's choice stays (errors -1) */
} legr_choose_group;

/* Re-chooses, in m, the kept channels of every qualifying group that m
 * prunes, on o's images through the original network orig (not changed).
 * report (may be NULL, room for g->n_groups entries) and *n_report receive
 * one entry per re-chosen group.  Returns 0, or -1 with err set (m is then
 * as it was or partly re-chosen, each group a valid choice). */
int legr_choose_by_error(network *orig, const legr_graph *g, legr_mask *m,
                         const legr_recover_opts *o, legr_choose_group *report, int *n_report,
                         char *err, size_t errlen);

#endif
