/* rank.h: LeGR's global filter ranking and budget selection.
 *
 * Filter j of group g scores  alpha_g * ||theta_j||^2 + kappa_g,  where
 * ||theta_j||^2 sums the squared raw conv weights of filter j over the group's
 * producer layers.  Pruning to a budget deletes the lowest-scoring filters one
 * at a time, recounting the network's FLOPs, until FLOPs < ratio * original,
 * never taking a group below its floor max(ceil(min_frac * n), 2). */
#ifndef LEGR_RANK_H
#define LEGR_RANK_H

#include <stddef.h>
#include "graph.h"
#include "mask.h"
#include "latency.h"

typedef struct {
    int n_groups;
    float *alpha;       /* per group (ignored for fixed groups) */
    float *kappa;
} legr_affine;

typedef struct {
    int n_groups;
    float **norm;       /* norm[g][j]: squared L2 norm of filter j of group g */
} legr_norms;

/* Squared filter norms from the weights held by a loaded network. */
int legr_norms_compute(const network *net, const legr_graph *g, legr_norms *nr);
void legr_norms_free(legr_norms *nr);

/* alpha = 1, kappa = 0 for every group: plain global L2 ranking. */
int legr_affine_identity(legr_affine *a, int n_groups);
void legr_affine_free(legr_affine *a);

/* The per-group floor for a group of n channels. */
int legr_floor(int n, float min_frac);

/* Chooses the mask for one budget.  Returns 0 with *flops set to the FLOPs
 * reached, or -1 with err set when the floors make the budget unreachable. */
int legr_select(const network *net, const legr_graph *g, const legr_norms *nr,
                const legr_affine *a, float ratio, float min_frac,
                legr_mask *m, long *flops, char *err, size_t errlen);
/* How a budget is counted and met. */
typedef struct {
    int round;              /* every pruned group keeps a multiple of this many
                             * filters (SIMD and GPU kernels want 8); 0 or 1: any */
    const legr_latency *latency;    /* NULL: ratio is of the FLOPs; else of the
                                     * latency this model predicts */
} legr_budget;

/* legr_select under a budget (NULL: FLOPs, round 1, which is legr_select).
 * With round > 1 filters go in blocks: the group of the lowest-scoring kept
 * filter gives up its lowest-scoring ones, down to the multiple below, then
 * `round` at a time; floors are rounded up to the multiple; groups smaller
 * than `round` stay whole.  *flops is the FLOPs reached either way. */
int legr_select_budget(const network *net, const legr_graph *g, const legr_norms *nr,
                       const legr_affine *a, float ratio, float min_frac, const legr_budget *b,
                       legr_mask *m, long *flops, char *err, size_t errlen);

/* Baselines on the same footing as LeGR's ranking:
 *   uniform: every prunable group keeps the same fraction of its filters
 *            (its highest-norm ones), the largest fraction that meets the
 *            budget;
 *   random:  random scores instead of norms (seeded), then legr_select. */
int legr_select_uniform(const network *net, const legr_graph *g, const legr_norms *nr,
                        float ratio, float min_frac, const legr_budget *b, legr_mask *m,
                        long *flops, char *err, size_t errlen);
int legr_norms_random(const legr_graph *g, unsigned long long seed, legr_norms *nr);

/* Ranking files: a commented header, then one line per prunable group:
 *   <group> <first-producer-layer> <channels> <alpha> <kappa>
 * extra_header (may be NULL) is written as further "# " lines. */
int legr_ranking_write(const char *path, const char *cfg_path,
                       const legr_graph *g, const legr_affine *a,
                       const char *extra_header, char *err, size_t errlen);
int legr_ranking_read(const char *path, const legr_graph *g, legr_affine *a,
                      char *err, size_t errlen);

#endif
