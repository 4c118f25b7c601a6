/* samples.c: reading a conv's input samples out of a forward pass (see
 * samples.h); shared by reconstruction (recover.c) and channel selection
 * (choose.c). */
#include "samples.h"
#include "compat.h"

void legr_forward_upto(network *net, int end)
{
    network n = *net;
    n.train = 0;
    for (int i = 0; i < end; ++i) {
        n.index = i;
        layer l = n.layers[i];
        forward_layer_inference(l, n);
        n.input = l.output;
        if (l.truth) n.truth = l.output;
    }
}

const float *legr_layer_input(const network *net, int i, int b)
{
    const float *base = i == 0 ? net->input : net->layers[i - 1].output;
    return base + (size_t)b * net->layers[i].inputs;
}

int legr_sample_count(int hw, int positions)
{
    if (positions <= 0) positions = 256;
    return positions < hw ? positions : hw;
}

int legr_sample_position(int hw, int per_img, int image, int j)
{
    int step = hw / per_img;
    return j * step + (image * 7) % step;
}

void legr_gather_patch(const layer *l, const float *in, const int *idx, int n, int p,
                       float *col, int ld)
{
    int oy = p / l->out_w, ox = p % l->out_w, k = l->size;
    size_t r = 0;
    for (int t = 0; t < n; ++t) {
        const float *plane = in + (size_t)(idx ? idx[t] : t) * l->h * l->w;
        for (int ky = 0; ky < k; ++ky) {
            int iy = oy * l->stride - l->pad + ky;
            for (int kx = 0; kx < k; ++kx, ++r) {
                int ix = ox * l->stride - l->pad + kx;
                col[r * ld] = (iy >= 0 && iy < l->h && ix >= 0 && ix < l->w) ? plane[iy * l->w + ix] : 0;
            }
        }
    }
}
