/* graph.c: traces every channel of a parsed Darknet network back to the
 * group of conv filters that makes it (see graph.h).
 *
 * Construction works on "sets": each conv with groups=1 makes one set of
 * `filters` channels, and every layer's output is a list of sets.  A
 * [shortcut] adds two lists channel by channel, so their sets are merged
 * (union-find) into one group.  Any consumer legr cannot re-index exactly
 * (heads, [connected], [reorg], grouped convs, ...) marks the sets it reads
 * as fixed, with the reason. */
#include "graph.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    int n_sets, cap;
    int *parent;
    int *size;
    int *fixed;
    char (*why)[128];
} setpool;

static int pool_new(setpool *p, int n)
{
    if (p->n_sets == p->cap) {
        int cap = p->cap ? 2 * p->cap : 64;
        int *pa = realloc(p->parent, cap * sizeof(int));
        if (pa) p->parent = pa;
        int *sz = realloc(p->size, cap * sizeof(int));
        if (sz) p->size = sz;
        int *fx = realloc(p->fixed, cap * sizeof(int));
        if (fx) p->fixed = fx;
        char (*wh)[128] = realloc(p->why, cap * sizeof(*wh));
        if (wh) p->why = wh;
        if (!pa || !sz || !fx || !wh) return -1;
        p->cap = cap;
    }
    int s = p->n_sets++;
    p->parent[s] = s;
    p->size[s] = n;
    p->fixed[s] = 0;
    p->why[s][0] = 0;
    return s;
}

static int pool_find(setpool *p, int s)
{
    while (p->parent[s] != s) {
        p->parent[s] = p->parent[p->parent[s]];
        s = p->parent[s];
    }
    return s;
}

static void pool_fix(setpool *p, int s, const char *why)
{
    s = pool_find(p, s);
    if (p->fixed[s]) return;
    p->fixed[s] = 1;
    snprintf(p->why[s], sizeof(p->why[s]), "%s", why);
}

static void pool_union(setpool *p, int a, int b)
{
    a = pool_find(p, a);
    b = pool_find(p, b);
    if (a == b) return;
    if (b < a) { int t = a; a = b; b = t; }
    p->parent[b] = a;
    if (p->fixed[b] && !p->fixed[a]) {
        p->fixed[a] = 1;
        memcpy(p->why[a], p->why[b], sizeof(p->why[a]));
    }
}

const char *legr_layer_name(LAYER_TYPE t)
{
    switch (t) {
    case CONVOLUTIONAL: return "convolutional";
    case DECONVOLUTIONAL: return "deconvolutional";
    case CONNECTED: return "connected";
    case MAXPOOL: return "maxpool";
    case SOFTMAX: return "softmax";
    case DETECTION: return "detection";
    case DROPOUT: return "dropout";
    case CROP: return "crop";
    case ROUTE: return "route";
    case COST: return "cost";
    case NORMALIZATION: return "normalization";
    case AVGPOOL: return "avgpool";
    case LOCAL: return "local";
    case SHORTCUT: return "shortcut";
    case ACTIVE: return "activation";
    case RNN: return "rnn";
    case GRU: return "gru";
    case LSTM: return "lstm";
    case CRNN: return "crnn";
    case BATCHNORM: return "batchnorm";
    case NETWORK: return "network";
    case XNOR: return "xnor";
    case REGION: return "region";
    case YOLO: return "yolo";
    case ISEG: return "iseg";
    case REORG: return "reorg";
    case UPSAMPLE: return "upsample";
    case LOGXENT: return "logistic";
    case L2NORM: return "l2norm";
    default: return "unknown";
    }
}

/* A growable list of set ids: one layer's input or output. */
typedef struct { int *v; int n; } blocks;

static int blocks_push(blocks *b, int s)
{
    int *v = realloc(b->v, (b->n + 1) * sizeof(int));
    if (!v) return -1;
    b->v = v;
    b->v[b->n++] = s;
    return 0;
}

static int blocks_append(blocks *b, const blocks *src)
{
    for (int k = 0; k < src->n; ++k)
        if (blocks_push(b, src->v[k]) != 0) return -1;
    return 0;
}

static void fix_blocks(setpool *p, const blocks *b, const char *why)
{
    for (int k = 0; k < b->n; ++k) pool_fix(p, b->v[k], why);
}

/* Layer types whose output channels are their input channels, one to one. */
static int passes_channels(LAYER_TYPE t)
{
    return t == MAXPOOL || t == UPSAMPLE || t == DROPOUT || t == AVGPOOL || t == ACTIVE;
}

/* Fills in[i]/out[i] (set ids) for layer i.  Returns 0 or -1 (no memory). */
static int trace_layer(const network *net, int i, setpool *p, blocks *in,
                       blocks *out, int *role, const blocks *net_input)
{
    const layer *l = &net->layers[i];
    char why[128];
    if (i == 0) { if (blocks_append(&in[i], net_input)) return -1; }
    else if (blocks_append(&in[i], &out[i - 1])) return -1;

    if (l->type == CONVOLUTIONAL) {
        if (l->groups == 1 && !l->binary && !l->xnor) {
            role[i] = LEGR_PRODUCER;
            int s = pool_new(p, l->n);
            return s < 0 ? -1 : blocks_push(&out[i], s);
        }
        if (l->groups == l->c && l->n == l->c && !l->binary && !l->xnor) {
            role[i] = LEGR_DEPTHWISE;
            return blocks_append(&out[i], &in[i]);
        }
        role[i] = LEGR_FIXED_CONV;
        snprintf(why, sizeof why, "read by layer %d (%s conv)", i,
                 l->groups > 1 ? "grouped" : "binary");
        fix_blocks(p, &in[i], why);
        int s = pool_new(p, l->n);
        if (s < 0) return -1;
        snprintf(why, sizeof why, "made by layer %d (%s conv)", i,
                 l->groups > 1 ? "grouped" : "binary");
        pool_fix(p, s, why);
        return blocks_push(&out[i], s);
    }
    if (passes_channels(l->type))
        return blocks_append(&out[i], &in[i]);
    if (l->type == ROUTE) {
        /* A route's input is its listed layers, not the previous layer. */
        in[i].n = 0;
        for (int k = 0; k < l->n; ++k)
            if (blocks_append(&in[i], &out[l->input_layers[k]])) return -1;
        return blocks_append(&out[i], &in[i]);
    }
    if (l->type == SHORTCUT) {
        const blocks *a = &in[i], *b = &out[l->index];
        int same = a->n == b->n && l->c == l->out_c;
        for (int k = 0; same && k < a->n; ++k)
            if (p->size[a->v[k]] != p->size[b->v[k]]) same = 0;
        if (same) {
            for (int k = 0; k < a->n; ++k) pool_union(p, a->v[k], b->v[k]);
        } else {
            snprintf(why, sizeof why, "layer %d ([shortcut]) adds inputs of different channel layout", i);
            fix_blocks(p, a, why);
            fix_blocks(p, b, why);
        }
        if (blocks_append(&out[i], a)) return -1;
        return blocks_append(&in[i], b);   /* in: both addends */
    }
    /* Everything else: the channels it reads keep their count. */
    snprintf(why, sizeof why, "read by layer %d [%s]", i, legr_layer_name(l->type));
    fix_blocks(p, &in[i], why);
    int s = pool_new(p, l->out_c > 0 ? l->out_c : 1);
    if (s < 0) return -1;
    snprintf(why, sizeof why, "made by layer %d [%s]", i, legr_layer_name(l->type));
    pool_fix(p, s, why);
    return blocks_push(&out[i], s);
}

static int add_member(int **list, int *n, int layer)
{
    int *v = realloc(*list, (*n + 1) * sizeof(int));
    if (!v) return -1;
    *list = v;
    v[(*n)++] = layer;
    return 0;
}

/* Turns set ids into dense group ids and fills the group table. */
static int make_groups(setpool *p, legr_graph *g, blocks *in, blocks *out)
{
    int *gid = malloc(p->n_sets * sizeof(int));
    if (!gid) return -1;
    g->n_groups = 0;
    for (int s = 0; s < p->n_sets; ++s)
        gid[s] = pool_find(p, s) == s ? g->n_groups++ : -1;
    g->groups = legr_calloc(g->n_groups, sizeof(legr_group));
    if (!g->groups) { free(gid); return -1; }
    for (int s = 0; s < p->n_sets; ++s) {
        if (gid[s] < 0) continue;
        legr_group *gr = &g->groups[gid[s]];
        gr->n = p->size[s];
        gr->fixed = p->fixed[s];
        memcpy(gr->why, p->why[s], sizeof(gr->why));
    }
    for (int i = 0; i < g->n_layers; ++i) {
        g->n_in[i] = in[i].n;
        g->n_out[i] = out[i].n;
        g->in[i] = in[i].v;
        g->out[i] = out[i].v;
        in[i].v = out[i].v = NULL;
        for (int k = 0; k < g->n_in[i]; ++k) g->in[i][k] = gid[pool_find(p, g->in[i][k])];
        for (int k = 0; k < g->n_out[i]; ++k) g->out[i][k] = gid[pool_find(p, g->out[i][k])];
        if (g->role[i] == LEGR_PRODUCER) {
            legr_group *gr = &g->groups[g->out[i][0]];
            if (add_member(&gr->producers, &gr->n_producers, i)) { free(gid); return -1; }
        }
        if (g->role[i] == LEGR_DEPTHWISE) {
            for (int k = 0; k < g->n_in[i]; ++k) {
                legr_group *gr = &g->groups[g->in[i][k]];
                if (add_member(&gr->followers, &gr->n_followers, i)) { free(gid); return -1; }
            }
        }
    }
    /* A group made by no conv filters (network input, head outputs) is fixed. */
    for (int k = 0; k < g->n_groups; ++k) {
        legr_group *gr = &g->groups[k];
        if (!gr->fixed && gr->n_producers == 0) {
            gr->fixed = 1;
            snprintf(gr->why, sizeof gr->why, "not made by conv filters");
        }
        if (!gr->fixed && gr->n < 2) {
            gr->fixed = 1;
            snprintf(gr->why, sizeof gr->why, "a single channel");
        }
    }
    free(gid);
    return 0;
}

int legr_graph_build(const network *net, legr_graph *g, char *err, size_t errlen)
{
    memset(g, 0, sizeof(*g));
    int n = net->n;
    g->n_layers = n;
    g->role = legr_calloc(n, sizeof(int));
    g->in = legr_calloc(n, sizeof(int *));
    g->out = legr_calloc(n, sizeof(int *));
    g->n_in = legr_calloc(n, sizeof(int));
    g->n_out = legr_calloc(n, sizeof(int));
    blocks *in = legr_calloc(n, sizeof(blocks));
    blocks *out = legr_calloc(n, sizeof(blocks));
    setpool p = {0};
    blocks net_input = {0};
    int rc = -1;
    char bad[256] = "";
    if (!g->role || !g->in || !g->out || !g->n_in || !g->n_out || !in || !out) goto done;

    int s = pool_new(&p, net->c);
    if (s < 0 || blocks_push(&net_input, s)) goto done;
    pool_fix(&p, s, "network input");
    for (int i = 0; i < n; ++i)
        if (trace_layer(net, i, &p, in, out, g->role, &net_input)) goto done;
    fix_blocks(&p, &out[n - 1], "network output");
    /* Darknet silently makes a route of differently sized layers 0 channels
     * wide: check that the traced channels are the ones Darknet built. */
    for (int i = 0; i < n; ++i) {
        const layer *l = &net->layers[i];
        int cin = 0, cout = 0;
        for (int k = 0; k < in[i].n; ++k) cin += p.size[in[i].v[k]];
        for (int k = 0; k < out[i].n; ++k) cout += p.size[out[i].v[k]];
        if ((l->type == CONVOLUTIONAL && cin != l->c) ||
            ((l->type == CONVOLUTIONAL || l->type == ROUTE || passes_channels(l->type)) && cout != l->out_c)) {
            snprintf(bad, sizeof bad, "layer %d [%s]: Darknet built %d -> %d channels, its inputs give %d -> %d "
                     "(a [route] of layers with different sizes?)", i, legr_layer_name(l->type), l->c, l->out_c, cin, cout);
            rc = -2;
            goto done;
        }
    }
    /* Channels a later layer reads by index from a YOLO/region head are
     * already fixed by the head; nothing else to do. */
    rc = make_groups(&p, g, in, out);
done:
    for (int i = 0; in && out && i < n; ++i) { free(in[i].v); free(out[i].v); }
    free(in);
    free(out);
    free(net_input.v);
    free(p.parent); free(p.size); free(p.fixed); free(p.why);
    if (rc != 0) {
        legr_graph_free(g);
        if (rc == -2) return legr_fail(err, errlen, "%s", bad);
        return legr_fail(err, errlen, "out of memory building the channel graph");
    }
    return 0;
}

void legr_graph_free(legr_graph *g)
{
    for (int i = 0; i < g->n_layers; ++i) {
        if (g->in) free(g->in[i]);
        if (g->out) free(g->out[i]);
    }
    for (int k = 0; k < g->n_groups; ++k) {
        free(g->groups[k].producers);
        free(g->groups[k].followers);
    }
    free(g->groups); free(g->role); free(g->in); free(g->out);
    free(g->n_in); free(g->n_out);
    memset(g, 0, sizeof(*g));
}

int legr_graph_prunable(const legr_graph *g)
{
    int n = 0;
    for (int k = 0; k < g->n_groups; ++k) n += !g->groups[k].fixed;
    return n;
}
