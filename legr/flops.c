/* flops.c: FLOPs and parameters of a network under a mask, counted as
 * stock `darknet ops` counts FLOPs (examples/darknet.c numops). */
#include "flops.h"

int legr_layer_in_channels(const network *net, const legr_graph *g,
                           const legr_mask *m, int i)
{
    const layer *l = &net->layers[i];
    if (l->type == ROUTE || l->type == SHORTCUT) return legr_layer_out_channels(net, g, m, i);
    return legr_blocks_channels(g, m, g->in[i], g->n_in[i]);
}

int legr_layer_out_channels(const network *net, const legr_graph *g,
                            const legr_mask *m, int i)
{
    (void)net;
    return legr_blocks_channels(g, m, g->out[i], g->n_out[i]);
}

/* Input channels per filter of conv layer i (c / groups, pruned). */
static long conv_fan_in(const network *net, const legr_graph *g,
                        const legr_mask *m, int i)
{
    const layer *l = &net->layers[i];
    if (g->role[i] == LEGR_DEPTHWISE) return 1;
    if (g->role[i] == LEGR_FIXED_CONV) return l->c / l->groups;
    return legr_blocks_channels(g, m, g->in[i], g->n_in[i]);
}

static long io_ops(const layer *l)
{
    return 2l * l->inputs * l->outputs;
}

long legr_layer_flops(const network *net, const legr_graph *g,
                      const legr_mask *m, int i)
{
    const layer *l = &net->layers[i];
    switch (l->type) {
    case CONVOLUTIONAL: {
        long n = legr_layer_out_channels(net, g, m, i);
        return 2l * n * l->size * l->size * conv_fan_in(net, g, m, i) * l->out_h * l->out_w;
    }
    case CONNECTED:
        return io_ops(l);
    case RNN:
        return io_ops(l->input_layer) + io_ops(l->self_layer) + io_ops(l->output_layer);
    case GRU:
        return io_ops(l->uz) + io_ops(l->uh) + io_ops(l->ur) +
               io_ops(l->wz) + io_ops(l->wh) + io_ops(l->wr);
    case LSTM:
        return io_ops(l->uf) + io_ops(l->ui) + io_ops(l->ug) + io_ops(l->uo) +
               io_ops(l->wf) + io_ops(l->wi) + io_ops(l->wg) + io_ops(l->wo);
    default:
        return 0;
    }
}

long legr_network_flops(const network *net, const legr_graph *g, const legr_mask *m)
{
    long ops = 0;
    for (int i = 0; i < net->n; ++i) ops += legr_layer_flops(net, g, m, i);
    return ops;
}

long legr_layer_params(const network *net, const legr_graph *g,
                       const legr_mask *m, int i)
{
    const layer *l = &net->layers[i];
    if (l->type == CONVOLUTIONAL) {
        long n = legr_layer_out_channels(net, g, m, i);
        return n * conv_fan_in(net, g, m, i) * l->size * l->size
               + n * (l->batch_normalize ? 2 : 1);
    }
    if (l->type == CONNECTED)
        return (long)l->inputs * l->outputs + (long)l->outputs * (l->batch_normalize ? 2 : 1);
    if (l->type == BATCHNORM) return l->c;
    return 0;
}

long legr_network_params(const network *net, const legr_graph *g, const legr_mask *m)
{
    long p = 0;
    for (int i = 0; i < net->n; ++i) p += legr_layer_params(net, g, m, i);
    return p;
}
