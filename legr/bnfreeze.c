/* bnfreeze.c: BN convs trained with their rolling statistics fixed (see
 * bnfreeze.h).  The conv itself is Darknet's forward_convolutional_layer /
 * backward_convolutional_layer on a copy of the layer with BN and the
 * activation off; the BN and the activation around it are here.  A frozen
 * layer uses two BN buffers that training with frozen statistics leaves
 * idle: l.mean (zeroed) as the conv's bias and l.variance as the place its
 * bias gradient goes, so no state lives outside the network. */
#include "bnfreeze.h"
#include "convolutional_layer.h"
#include "activations.h"

#include <math.h>
#include <string.h>

/* 1 / what Darknet's inference divides channel f by (here in float). */
static float bn_inv_std(const layer *l, int f)
{
    return 1.f / (sqrtf(l->rolling_variance[f]) + .000001f);
}

static void forward_frozen_bn(layer l, network net)
{
    layer conv = l;
    conv.batch_normalize = 0;
    conv.activation = LINEAR;
    memset(l.mean, 0, l.n * sizeof(float));
    conv.biases = l.mean;
    forward_convolutional_layer(conv, net);
    int spatial = l.out_h * l.out_w;
    for (int b = 0; b < l.batch; ++b)
        for (int f = 0; f < l.n; ++f) {
            size_t off = ((size_t)b * l.n + f) * spatial;
            float m = l.rolling_mean[f], inv = bn_inv_std(&l, f), s = l.scales[f], beta = l.biases[f];
            for (int i = 0; i < spatial; ++i) {
                float t = (l.output[off + i] - m) * inv;
                l.x_norm[off + i] = t;
                l.output[off + i] = t * s + beta;
            }
        }
    activate_array(l.output, l.outputs * l.batch, l.activation);
}

static void backward_frozen_bn(layer l, network net)
{
    gradient_array(l.output, l.outputs * l.batch, l.activation, l.delta);
    int spatial = l.out_h * l.out_w;
    for (int f = 0; f < l.n; ++f) {
        double sb = 0, ss = 0;
        float k = l.scales[f] * bn_inv_std(&l, f);
        for (int b = 0; b < l.batch; ++b) {
            size_t off = ((size_t)b * l.n + f) * spatial;
            for (int i = 0; i < spatial; ++i) {
                float d = l.delta[off + i];
                sb += d;
                ss += d * l.x_norm[off + i];
                l.delta[off + i] = d * k;
            }
        }
        l.bias_updates[f] += (float)sb;
        l.scale_updates[f] += (float)ss;
    }
    layer conv = l;
    conv.batch_normalize = 0;
    conv.activation = LINEAR;
    memset(l.variance, 0, l.n * sizeof(float));
    conv.bias_updates = l.variance;     /* the conv's own bias is 0: discarded */
    backward_convolutional_layer(conv, net);
}

static int freezable(const layer *l)
{
    return l->type == CONVOLUTIONAL && l->batch_normalize && !l->binary && !l->xnor &&
           l->mean && l->variance && l->x_norm && l->scales && l->scale_updates;
}

int legr_bn_freeze(network *net)
{
    int n = 0;
    for (int i = 0; i < net->n; ++i) {
        layer *l = &net->layers[i];
        if (!freezable(l)) continue;
        l->forward = forward_frozen_bn;
        l->backward = backward_frozen_bn;
        ++n;
    }
    return n;
}

void legr_bn_thaw(network *net)
{
    for (int i = 0; i < net->n; ++i) {
        layer *l = &net->layers[i];
        if (l->forward == forward_frozen_bn) l->forward = forward_convolutional_layer;
        if (l->backward == backward_frozen_bn) l->backward = backward_convolutional_layer;
    }
}
