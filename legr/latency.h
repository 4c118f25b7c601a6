/* latency.h: a per-layer latency model of one network on this machine, for
 * pruning to a fraction of the measured latency instead of the FLOPs.  Each
 * layer's time is fitted as a + b x work, its work being its FLOPs under a
 * mask (or, for layers without FLOPs, its output size), from bench.c
 * timings of the original and of two uniformly thinned copies.  The model
 * is cached per cfg text, CPU and thread count. */
#ifndef LEGR_LATENCY_H
#define LEGR_LATENCY_H

#include <stddef.h>
#include "darknet.h"
#include "graph.h"
#include "mask.h"
#include "model.h"

typedef struct {
    int n_layers;
    double *a, *b;          /* ms, ms per unit of work */
    int threads;
} legr_latency;

/* The model's prediction for layer i, and for the whole network, under
 * mask m (NULL: unpruned), in ms. */
double legr_latency_layer(const legr_latency *lt, const network *net, const legr_graph *g,
                          const legr_mask *m, int i);
double legr_latency_network(const legr_latency *lt, const network *net, const legr_graph *g,
                            const legr_mask *m);

/* The model for m (loaded with weights) at `threads` threads: read from
 * the cache, or measured (a few seconds to minutes: three networks, `runs`
 * passes each, in turns) and cached.  *cached (if given) says which.
 * Returns 0 or -1 with err set. */
int legr_latency_get(legr_model *m, int threads, int runs, legr_latency *lt, int *cached,
                     char *err, size_t errlen);
void legr_latency_free(legr_latency *lt);

/* legr_latency_get at one thread, 15 runs, saying on stdout whether the
 * model was cached or measured now, and what it predicts for the original
 * (prune and search -budget latency). */
int legr_latency_announce(legr_model *m, legr_latency *lt, char *err, size_t errlen);

#endif
