/* search.h: LeGR's regularised ("aging") evolution over one (alpha, kappa)
 * pair per prunable group (Algorithm 1 of the paper).
 *
 *   candidates 0 .. pool-2: alpha_g = exp(N(0,1)), kappa_g = N(0, std_g)
 *   candidate  pool-1:      alpha = 1, kappa = 0 (plain L2)
 *   then, each step: draw `sample` members of the pool, take the fittest,
 *   mutate about `mutate` of its groups (alpha *= exp(N(0, step)),
 *   kappa += N(0, std_g); step falls linearly from 1 to 0.2), evaluate it,
 *   append it and drop the oldest member.
 *
 * With batch > 1 (parallel workers), `batch` children are drawn from the
 * same pool state, evaluated together and inserted in index order; the same
 * seed and batch always give the same result, and batch 1 is the sequential
 * algorithm.
 *
 * std_g is the standard deviation of group g's squared filter norms.  The
 * evolution knows nothing of Darknet: fitness comes from a callback (higher
 * is better), so it can be tested with a synthetic one.  One RNG, seeded
 * once; its state is part of the checkpoint. */
#ifndef LEGR_SEARCH_H
#define LEGR_SEARCH_H

#include <stddef.h>
#include <stdint.h>
#include "graph.h"
#include "rank.h"
#include "rng.h"

typedef struct {
    int evals;              /* total candidates, initial pool included */
    int pool;
    int sample;
    float mutate;           /* fraction of groups mutated per child */
    uint64_t seed;
    int batch;              /* children evaluated together (>= 1) */
} legr_evo_opts;

/* Fitness of n candidates (n <= batch); returns 0 and fills fitness[], or
 * -1 to abort the search (err set). */
typedef int (*legr_fitness_fn)(void *ctx, const legr_affine *cands, int n,
                               double *fitness, char *err, size_t errlen);

/* Called after every candidate (for logs and progress); index is the
 * candidate's number.  batch_done is 1 after the last child of a batch: only
 * then is the state one that legr_evo_save can checkpoint for an identical
 * resume (the RNG has already drawn the rest of the batch before). */
typedef struct legr_evo legr_evo;
typedef int (*legr_progress_fn)(void *ctx, const legr_evo *evo, int index,
                                double fitness, int batch_done, char *err, size_t errlen);

struct legr_evo {
    legr_evo_opts o;
    int n_groups;
    const legr_graph *g;
    float *std;             /* per group */
    legr_rng rng;           /* the evolution's one stream (checkpointed) */
    int done;               /* candidates evaluated so far */
    int n_pool;             /* members now in the pool, oldest first */
    legr_affine *pool;
    double *pool_fit;
    legr_affine best;
    double best_fit;
    int best_index;
};

int legr_evo_init(legr_evo *e, const legr_graph *g, const legr_norms *nr,
                  const legr_evo_opts *o);
void legr_evo_free(legr_evo *e);

/* Runs (or continues, after legr_evo_load) until o.evals candidates. */
int legr_evo_run(legr_evo *e, legr_fitness_fn fit, void *fit_ctx,
                 legr_progress_fn progress, void *progress_ctx, char *err, size_t errlen);

/* Checkpoint of the whole state (settings line, RNG, pool, best), written
 * atomically; load refuses a checkpoint whose settings line differs. */
int legr_evo_save(const legr_evo *e, const char *path, const char *settings,
                  char *err, size_t errlen);
int legr_evo_load(legr_evo *e, const char *path, const char *settings,
                  char *err, size_t errlen);

#endif
