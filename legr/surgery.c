/* surgery.c: writes the pruned .cfg/.weights pair for a mask.  Each conv
 * keeps the filters its group keeps, and reads only the input channels its
 * input blocks keep; every other layer's weights are copied unchanged (the
 * graph guarantees their channels are fixed). */
#include "surgery.h"
#include "model.h"
#include "flops.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void legr_pruned_shape(const network *net, const legr_graph *g,
                       const legr_mask *m, int *filters, int *groups)
{
    for (int i = 0; i < net->n; ++i) {
        filters[i] = groups[i] = -1;
        if (g->role[i] == LEGR_PRODUCER || g->role[i] == LEGR_DEPTHWISE)
            filters[i] = legr_layer_out_channels(net, g, m, i);
        if (g->role[i] == LEGR_DEPTHWISE) groups[i] = filters[i];
    }
}

static int write_floats(FILE *fp, const float *v, size_t n)
{
    return fwrite(v, sizeof(float), n, fp) == n ? 0 : -1;
}

/* Writes v[idx[0..n)] (a gather). */
static int write_picked(FILE *fp, const float *v, const int *idx, int n)
{
    for (int t = 0; t < n; ++t)
        if (fwrite(&v[idx[t]], sizeof(float), 1, fp) != 1) return -1;
    return 0;
}

/* Writes conv layer i pruned.  src: its floats in the input file. */
static int write_conv(FILE *fp, const network *net, const legr_graph *g,
                      const legr_mask *m, int i, const float *src, int *out_idx,
                      int *in_idx, size_t *written)
{
    const layer *l = &net->layers[i];
    int n = l->n, k2 = l->size * l->size, per = l->c / l->groups * k2;
    int n_out, n_in = 0;
    if (g->role[i] == LEGR_PRODUCER || g->role[i] == LEGR_DEPTHWISE)
        n_out = legr_blocks_kept_index(g, m, g->out[i], g->n_out[i], out_idx);
    else
        for (n_out = 0; n_out < n; ++n_out) out_idx[n_out] = n_out;
    if (g->role[i] == LEGR_PRODUCER)
        n_in = legr_blocks_kept_index(g, m, g->in[i], g->n_in[i], in_idx);

    const float *bias = src, *bn = src + n;
    const float *w = bn + (l->batch_normalize ? 3 * n : 0);
    if (write_picked(fp, bias, out_idx, n_out)) return -1;
    for (int s = 0; l->batch_normalize && s < 3; ++s)
        if (write_picked(fp, bn + (size_t)s * n, out_idx, n_out)) return -1;
    *written += (size_t)n_out * (l->batch_normalize ? 4 : 1);
    for (int o = 0; o < n_out; ++o) {
        const float *f = w + (size_t)out_idx[o] * per;
        if (g->role[i] != LEGR_PRODUCER) {      /* depthwise or fixed: whole filter */
            if (write_floats(fp, f, per)) return -1;
            *written += per;
            continue;
        }
        for (int c = 0; c < n_in; ++c)
            if (write_floats(fp, f + (size_t)in_idx[c] * k2, k2)) return -1;
        *written += (size_t)n_in * k2;
    }
    return 0;
}

static int write_weights(FILE *fp, const network *net, const legr_graph *g,
                         const legr_weights *w, const legr_mask *m, size_t *written)
{
    int maxc = 1;
    for (int i = 0; i < net->n; ++i) {
        if (net->layers[i].n > maxc) maxc = net->layers[i].n;
        if (net->layers[i].c > maxc) maxc = net->layers[i].c;
    }
    int *out_idx = legr_calloc(maxc, sizeof(int)), *in_idx = legr_calloc(maxc, sizeof(int));
    int rc = (out_idx && in_idx && legr_weights_write_header(fp) == 0) ? 0 : -1;
    for (int i = 0; rc == 0 && i < net->n; ++i) {
        const float *src = w->data + w->offset[i];
        if (net->layers[i].type == CONVOLUTIONAL) {
            rc = write_conv(fp, net, g, m, i, src, out_idx, in_idx, written);
        } else {
            size_t len = w->offset[i + 1] - w->offset[i];
            rc = write_floats(fp, src, len);
            *written += len;
        }
    }
    free(out_idx);
    free(in_idx);
    return rc;
}

/* Floats the pruned cfg implies: from the pruned shape, without reparsing. */
static size_t implied_floats(const network *net, const legr_graph *g,
                             const legr_mask *m, const legr_weights *w)
{
    size_t total = 0;
    for (int i = 0; i < net->n; ++i) {
        const layer *l = &net->layers[i];
        if (l->type != CONVOLUTIONAL) {
            total += w->offset[i + 1] - w->offset[i];
            continue;
        }
        size_t n = legr_layer_out_channels(net, g, m, i);
        size_t fan = g->role[i] == LEGR_PRODUCER ? (size_t)legr_layer_in_channels(net, g, m, i)
                                                  : (size_t)(l->c / l->groups);
        total += n * (l->batch_normalize ? 4 : 1) + n * fan * l->size * l->size;
    }
    return total;
}

int legr_write_pruned(const legr_cfg *cfg, const network *net,
                      const legr_graph *g, const legr_weights *w,
                      const legr_mask *m, const char *out_cfg,
                      const char *out_weights, char *err, size_t errlen)
{
    if (legr_same_file(out_cfg, cfg->path))
        return legr_fail(err, errlen, "%s: refusing to overwrite the input cfg", out_cfg);
    if (w->data == NULL)
        return legr_fail(err, errlen, "no weights loaded");
    int *filters = legr_calloc(net->n, sizeof(int)), *groups = legr_calloc(net->n, sizeof(int));
    if (!filters || !groups) {
        free(filters); free(groups);
        return legr_fail(err, errlen, "out of memory");
    }
    legr_pruned_shape(net, g, m, filters, groups);

    /* Both files are written under temporary names and renamed only when
     * both are complete: an earlier pair of the same name stays intact. */
    size_t lw = strlen(out_weights) + 32, lc = strlen(out_cfg) + 32;
    char *wpart = malloc(lw), *cpart = malloc(lc), *tmp;
    snprintf(wpart, lw, "%s.part.%ld", out_weights, (long)getpid());
    snprintf(cpart, lc, "%s.part.%ld", out_cfg, (long)getpid());
    size_t written = 0;
    int rc = -1;
    FILE *fp = legr_open_temp(wpart, &tmp, err, errlen);
    if (fp) {
        int ok = write_weights(fp, net, g, w, m, &written) == 0;
        size_t want = implied_floats(net, g, m, w);
        if (ok && written != want) {
            ok = 0;
            legr_fail(err, errlen, "%s: internal error: wrote %zu floats, cfg implies %zu",
                      out_weights, written, want);
        } else if (!ok) {
            legr_fail(err, errlen, "%s: write failed", out_weights);
        }
        rc = legr_commit_temp(fp, tmp, wpart, ok, err, errlen);
    }
    if (rc == 0) rc = legr_cfg_write(cfg, cpart, filters, groups, err, errlen);
    if (rc == 0 && (rename(wpart, out_weights) != 0 || rename(cpart, out_cfg) != 0))
        rc = legr_fail(err, errlen, "%s: cannot rename into place", out_cfg);
    remove(wpart);      /* no-ops after the renames */
    remove(cpart);
    free(wpart);
    free(cpart);
    free(filters);
    free(groups);
    return rc;
}

network *legr_build_pruned(legr_model *m, const legr_mask *mask, const char *workdir,
                           int tag, char *err, size_t errlen)
{
    size_t len = strlen(workdir) + 48;
    char *cfg = malloc(len), *weights = malloc(len);
    snprintf(cfg, len, "%s/candidate-%d.cfg", workdir, tag);
    snprintf(weights, len, "%s/candidate-%d.weights", workdir, tag);
    network *net = NULL;
    if (legr_write_pruned(&m->cfg, m->net, &m->graph, &m->w, mask, cfg, weights, err, errlen) == 0) {
        net = legr_load_written_pair(cfg, weights);
    }
    remove(cfg);
    remove(weights);
    free(cfg);
    free(weights);
    return net;
}
