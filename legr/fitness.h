/* fitness.h: the fitness of one LeGR candidate, measured with Darknet: prune
 * the ORIGINAL network to the target budget with the candidate's (alpha,
 * kappa), optionally reconstruct it (least squares against the original),
 * fine-tune it tau iterations, optionally re-estimate BN, and score
 * it on a fixed validation set (mAP@0.5, top-1, or minus the loss).  With
 * several targets, the fitness is the mean of the scores at each budget, so
 * that one ranking is learned for all of them. */
#ifndef LEGR_FITNESS_H
#define LEGR_FITNESS_H

#include <stddef.h>
#include <stdint.h>
#include "model.h"
#include "rank.h"
#include "eval.h"
#include "finetune.h"

enum legr_fitness_kind { LEGR_FIT_MAP, LEGR_FIT_TOP1, LEGR_FIT_LOSS };

#define LEGR_MAX_TARGETS 8

/* Seconds spent in each step of the fitness, summed over candidates. */
typedef struct {
    double prune;               /* budget selection, surgery, building the pruned net */
    double recover, finetune, bn, eval;
} legr_fitness_times;

typedef struct {
    legr_model *model;          /* original network, weights loaded */
    const legr_norms *norms;
    float targets[LEGR_MAX_TARGETS];    /* FLOP budgets each candidate is pruned to */
    int n_targets;                      /* 1 .. LEGR_MAX_TARGETS */
    float min_frac;
    legr_budget budget;         /* how -target is counted (FLOPs or latency) and rounded */
    int tau;                    /* fine-tuning iterations */
    float lr;                   /* fine-tuning learning rate (<= 0: cfg's) */
    int batch;                  /* training batch (<= 0: cfg's) */
    int kind;                   /* enum legr_fitness_kind */
    const legr_trainset *train;
    const legr_valset *val;
    const legr_valset *bnset;   /* BN re-estimation images, or NULL */
    int bn_batches;
    int recover;                /* > 0: reconstruct (recover.h) on this many bnset
                                 * images before fine-tuning */
    int reselect;               /* 1 (with recover): the kept filters re-chosen by
                                 * reconstruction error first (choose.h) */
    const char *workdir;        /* where the candidate's files are written */
    int workers;                /* candidates evaluated at once, one process each */
    uint64_t seed;
    int index;                  /* candidate number (seeds its fine-tuning) */
    int same_data;              /* 1: every candidate fine-tunes on the same image
                                 * sequence (common random numbers), seeded by seed alone */
    legr_fitness_times t;       /* time spent, summed over candidates */
} legr_fitness_ctx;

/* What a worker (a forked process or an MPI rank) sends back for one
 * candidate: plain bytes, so workers must share the driver's ABI. */
typedef struct {
    int rc;
    double fitness;
    legr_fitness_times t;
    char err[256];
} legr_fitness_result;

/* Evaluates candidate number `index` in this process with one BLAS thread:
 * the body of every worker. */
void legr_fitness_work(const legr_fitness_ctx *c, const legr_affine *a, int index,
                       legr_fitness_result *r);

/* Takes a worker's result into c's time totals and *fitness; returns -1 with
 * err set when the worker failed. */
int legr_fitness_take(legr_fitness_ctx *c, const legr_fitness_result *r, double *fitness,
                      char *err, size_t errlen);

/* legr_fitness_fn for search.h; ctx is a legr_fitness_ctx.  With
 * workers > 1 and n > 1, each candidate is evaluated in its own forked
 * process (one BLAS thread each) that shares the loaded model and images. */
int legr_candidates_fitness(void *ctx, const legr_affine *cands, int n,
                            double *fitness, char *err, size_t errlen);

/* Projected seconds of one candidate, from the original network's forward
 * time at batch 1 (fwd_ms): per budget t, the image passes it makes (tau x
 * batch training images at about 3 forward passes each, the BN images, the
 * reconstruction images through both networks up to each re-fitted conv,
 * the validation images),
 * scaled by t for the pruned network's share.  *passes (if given) gets the
 * image passes counted at full size. */
double legr_fitness_cost(const legr_fitness_ctx *c, double fwd_ms, double *passes);


#endif
