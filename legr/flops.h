/* flops.h: cost of a network, whole or pruned by a mask, counted the way
 * stock `darknet ops` counts it (2 x multiply-adds of conv/connected/RNN
 * layers) and its parameter count (weights + biases + BN scales). */
#ifndef LEGR_FLOPS_H
#define LEGR_FLOPS_H

#include "graph.h"
#include "mask.h"

/* m may be NULL (unpruned). */
long legr_layer_flops(const network *net, const legr_graph *g,
                      const legr_mask *m, int i);
long legr_network_flops(const network *net, const legr_graph *g,
                        const legr_mask *m);
long legr_layer_params(const network *net, const legr_graph *g,
                       const legr_mask *m, int i);
long legr_network_params(const network *net, const legr_graph *g,
                         const legr_mask *m);

/* Input / output channels of layer i under mask m. */
int legr_layer_in_channels(const network *net, const legr_graph *g,
                           const legr_mask *m, int i);
int legr_layer_out_channels(const network *net, const legr_graph *g,
                            const legr_mask *m, int i);

#endif
