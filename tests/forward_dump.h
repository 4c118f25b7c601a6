/* forward_dump.h: one deterministic forward pass and the floats it yields,
 * written against Darknet's public API only so that the same code is built
 * into the tests (our libdarknet) and into stock_forward (Debian's stock
 * libdarknet.so).  Header-only on purpose: each side compiles it with its own
 * darknet.h. */
#ifndef LEGR_FORWARD_DUMP_H
#define LEGR_FORWARD_DUMP_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* x[i] = sin(i * 0.37) * 0.5 + 0.5 */
static inline void fd_input(float *x, size_t n)
{
    size_t i;
    for (i = 0; i < n; ++i) x[i] = (float)(sin((double)i * 0.37) * 0.5 + 0.5);
}

static inline int fd_is_head(LAYER_TYPE t)
{
    return t == YOLO || t == REGION || t == DETECTION;
}

/* Layers whose outputs are dumped after the final output: the detection
 * heads, and the input of a [softmax] (a classifier's logits: softmax
 * probabilities alone are too small for a relative comparison). */
static inline int fd_is_dumped(const network *net, int i)
{
    if (fd_is_head(net->layers[i].type)) return 1;
    return i + 1 < net->n && net->layers[i + 1].type == SOFTMAX;
}

/* Sets batch 1, runs network_predict on fd_input and returns (malloc'd) the
 * final output (net->outputs floats) followed by the outputs of the layers
 * fd_is_dumped picks, in layer order.  NULL on failure. */
static inline float *fd_forward(network *net, size_t *n_out)
{
    size_t total, pos;
    int i;
    float *x, *y, *res;

    set_batch_network(net, 1);
    x = (float *)malloc(sizeof(float) * (size_t)net->inputs);
    if (!x) return NULL;
    fd_input(x, (size_t)net->inputs);
    y = network_predict(net, x);
    total = (size_t)net->outputs;
    for (i = 0; i < net->n; ++i)
        if (fd_is_dumped(net, i)) total += (size_t)net->layers[i].outputs;
    res = (float *)malloc(sizeof(float) * (total ? total : 1));
    if (!res) { free(x); return NULL; }
    memcpy(res, y, sizeof(float) * (size_t)net->outputs);
    pos = (size_t)net->outputs;
    for (i = 0; i < net->n; ++i) {
        layer *l = &net->layers[i];
        if (!fd_is_dumped(net, i)) continue;
        memcpy(res + pos, l->output, sizeof(float) * (size_t)l->outputs);
        pos += (size_t)l->outputs;
    }
    free(x);
    *n_out = total;
    return res;
}

#endif
