/* flops_run.h: the `legr flops` and `legr bench` pipelines: what a cfg
 * costs, counted (FLOPs, parameters, prunable groups) and timed (forward
 * latency at batch 1, several cfgs timed in turns). */
#ifndef LEGR_FLOPS_RUN_H
#define LEGR_FLOPS_RUN_H

#include <stddef.h>
#include "bench.h"

typedef struct {
    const char *cfg;
    const char *json;           /* or NULL */
    int verbose;                /* every layer and group */
} legr_flops_args;

int legr_run_flops(const legr_flops_args *a, char *err, size_t errlen);

#define LEGR_MAX_BENCH_CFGS 16

typedef struct {
    const char *cfgs[LEGR_MAX_BENCH_CFGS];
    int n_cfgs;
    legr_bench_opts opts;
    int layers;                 /* each cfg's median ms per layer */
} legr_bench_args;

int legr_run_bench(const legr_bench_args *a, char *err, size_t errlen);

#endif
