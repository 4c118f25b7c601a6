/* bench.h: forward latency as a user feels it: batch 1 at the network's
 * input size, warm-up passes, then the median of timed passes, per layer
 * too; detection decoding (boxes + NMS) timed apart. */
#ifndef LEGR_BENCH_H
#define LEGR_BENCH_H

#include "darknet.h"

#include <stddef.h>

typedef struct {
    int runs;               /* timed forward passes (default 20) */
    int warmup;             /* untimed passes first (default 3) */
    int threads;            /* BLAS/OpenMP threads (default 1; 0: as they are) */
    int turn;               /* timed passes per network in a row (default 5) */
} legr_bench_opts;

typedef struct {
    double median_ms, min_ms, max_ms;   /* whole forward pass */
    double decode_ms;       /* get_network_boxes + NMS (detectors), median; 0 otherwise */
    double *layer_ms;       /* median per layer (n_layers), malloc'd */
    int n_layers;
    int threads;
} legr_bench_result;

/* Defaults above. */
legr_bench_opts legr_bench_defaults(void);

/* Times each of nets[0..n_nets) (set to batch 1 for the passes, then back
 * to their batch; inference mode, a fixed input).  The networks take turns
 * of o->turn timed passes, each turn after one untimed pass when there are
 * several: a network is timed with its own weights and activations in the
 * caches, as a deployed model runs frame after frame (timed right after
 * another network's pass, the demo detector at 0.3 of its FLOPs took 1.15
 * ms instead of 0.87), while a busy spell of the machine still hits them
 * alike.  r[j] receives net j's figures.  Returns 0, or -1 with err set (out of
 * memory, bad options). */
int legr_bench_forward(network **nets, int n_nets, const legr_bench_opts *o,
                       legr_bench_result *r, char *err, size_t errlen);
void legr_bench_free(legr_bench_result *r);

/* One network's median forward ms (legr_bench_forward without the rest). */
int legr_bench_median(network *net, const legr_bench_opts *o, double *ms, char *err, size_t errlen);

#endif
