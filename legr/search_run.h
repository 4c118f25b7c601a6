/* search_run.h: the `legr search` pipeline: its settings and their
 * fingerprint (what -resume must match), the work directory and its
 * janitor, the data, the MPI role, the cost projection, and the progress
 * and checkpoint callbacks around the evolution (search.c) and the
 * candidates' fitness (fitness.c, cluster.c). */
#ifndef LEGR_SEARCH_RUN_H
#define LEGR_SEARCH_RUN_H

#include <stddef.h>
#include "fitness.h"
#include "search.h"

typedef struct {
    const char *cfg, *weights;
    const char *datacfg;        /* NULL: cfg/coco.data for 80-class detectors */
    float targets[LEGR_MAX_TARGETS];
    int n_targets;
    int tau;                    /* fine-tuning iterations per candidate */
    float lr;                   /* 0: the cfg's */
    int batch;                  /* fine-tuning batch (0: the cfg's; 16 for a batch=1 cfg) */
    legr_evo_opts evo;          /* evals, pool, sample, mutate, seed, workers (batch) */
    const char *fitness;        /* NULL (by the model), "map", "top1" or "loss" */
    int val_n, bn_images, recover, round, by_latency;
    float min_frac;
    const char *out;            /* ranking file (NULL: <cfg name>-legr.ranking) */
    const char *json;           /* summary, or NULL */
    int resume, use_mpi, same_data;
    int reselect;               /* with recover: each candidate's kept filters re-chosen (choose.h) */
} legr_search_args;

int legr_run_search(const legr_search_args *a, char *err, size_t errlen);

#endif
