/* prune_run.h: the `legr prune` pipeline: a ranking (learned or a baseline)
 * and FLOP or latency budgets in, one pruned cfg/weights pair per budget out,
 * recovered when asked, and with -eval the Pareto table (text, CSV, plot,
 * JSON) of the original and every pair. */
#ifndef LEGR_PRUNE_RUN_H
#define LEGR_PRUNE_RUN_H

#include <stddef.h>

#define LEGR_MAX_BUDGETS 61

typedef struct {
    const char *cfg, *weights;
    const char *ranking;        /* a ranking file, or NULL */
    const char *baseline;       /* NULL (plain L2), "l2", "uniform" or "random" */
    float ratio[LEGR_MAX_BUDGETS];
    int n_ratios;
    const char *prefix;         /* outputs <prefix>-<100 ratio>.cfg/.weights */
    float min_frac;             /* per-group floor */
    int seed;                   /* of the random baseline */
    int round;                  /* kept filters a multiple of it */
    int by_latency;             /* budgets count predicted latency, not FLOPs */
    const char *evaldata;       /* -eval: a .data whose valid= scores every pair */
    int eval_n;                 /* its first N images (0: all) */
    int bn, bn_given;           /* -bn K: BN batches (written into the files when given) */
    int recover;                /* images for reconstruction (0: none) */
    const char *images;         /* recovery images: an image list, */
    const char *recdata;        /* or a .data's train= list (default: -eval's) */
    float ridge;
    int reselect;               /* choose the kept filters by reconstruction error (choose.h) */
    const char *json;           /* -json: the summary as JSON, or NULL */
    int verbose;
} legr_prune_args;

/* Runs the pipeline; every output is written under a temporary name and all
 * are renamed at the end, so that on an error (-1, err set) none is left. */
int legr_run_prune(const legr_prune_args *a, char *err, size_t errlen);

#endif
