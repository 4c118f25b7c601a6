/* mask.c: the kept/removed state of every group's channels, and the two
 * questions asked of it everywhere: how many channels does a list of blocks
 * keep, and which ones. */
#include "mask.h"
#include "util.h"
#ifdef GPU
#include "weights.h"
#endif

#include <stdlib.h>
#include <string.h>

int legr_mask_init(legr_mask *m, const legr_graph *g)
{
    memset(m, 0, sizeof(*m));
    m->n_groups = g->n_groups;
    m->keep = legr_calloc(g->n_groups, sizeof(unsigned char *));
    m->kept = legr_calloc(g->n_groups, sizeof(int));
    if (!m->keep || !m->kept) { legr_mask_free(m); return -1; }
    for (int k = 0; k < g->n_groups; ++k) {
        m->keep[k] = malloc(g->groups[k].n);
        if (!m->keep[k]) { legr_mask_free(m); return -1; }
        memset(m->keep[k], 1, g->groups[k].n);
        m->kept[k] = g->groups[k].n;
    }
    return 0;
}

void legr_mask_free(legr_mask *m)
{
    for (int k = 0; m->keep && k < m->n_groups; ++k) free(m->keep[k]);
    free(m->keep);
    free(m->kept);
    memset(m, 0, sizeof(*m));
}

int legr_blocks_channels(const legr_graph *g, const legr_mask *m,
                         const int *blocks, int n_blocks)
{
    int c = 0;
    for (int k = 0; k < n_blocks; ++k)
        c += m ? m->kept[blocks[k]] : g->groups[blocks[k]].n;
    return c;
}

int legr_blocks_kept_index(const legr_graph *g, const legr_mask *m,
                           const int *blocks, int n_blocks, int *idx)
{
    int base = 0, n = 0;
    for (int k = 0; k < n_blocks; ++k) {
        int gk = blocks[k];
        for (int j = 0; j < g->groups[gk].n; ++j)
            if (!m || m->keep[gk][j]) idx[n++] = base + j;
        base += g->groups[gk].n;
    }
    return n;
}

/* Zeroes output channel j of conv layer l (weights, bias, BN scale). */
static void zero_filter(layer *l, int j)
{
    int per = l->c / l->groups * l->size * l->size;
    memset(l->weights + (size_t)j * per, 0, per * sizeof(float));
    l->biases[j] = 0;
    if (l->batch_normalize) l->scales[j] = 0;
}

void legr_mask_zero_network(network *net, const legr_graph *g, const legr_mask *m)
{
    for (int i = 0; i < g->n_layers; ++i) {
        layer *l = &net->layers[i];
        if (g->role[i] != LEGR_PRODUCER && g->role[i] != LEGR_DEPTHWISE) continue;
        int base = 0;
        for (int k = 0; k < g->n_out[i]; ++k) {
            int gk = g->out[i][k];
            for (int j = 0; j < g->groups[gk].n; ++j)
                if (!m->keep[gk][j]) zero_filter(l, base + j);
            base += g->groups[gk].n;
        }
#ifdef GPU
        legr_push_layer(l);
#endif
    }
}
