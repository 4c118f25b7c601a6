/* choose.c: channel selection by reconstruction error (see choose.h).
 *
 * The elimination: with A = G + ridge (no ridge on the constant), the best
 * fit of y from all channels is F = A^-1 G W^T.  Forcing channel c's block
 * of F to zero raises the (ridge) least-squares error by
 *     delta_c = tr(F_c^T (Ainv_cc)^-1 F_c)
 * (Ainv_cc: the k2 x k2 diagonal block of A^-1), and the new fit and inverse
 * are F - Ainv_:c (Ainv_cc)^-1 F_c and Ainv - Ainv_:c (Ainv_cc)^-1 Ainv_c:.
 * Each step drops the channel of least delta.  The error of any subset is
 * the sum of the deltas of removing the rest, in any order, which is how the
 * input mask's subset is scored for the report. */
#include "choose.h"
#include "eval.h"
#include "samples.h"
#include "util.h"
#include "gemm.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Groups whose elimination would take more floating-point work than this
 * (a few seconds; e.g. a 3x3 conv over 512 channels with 1024 filters) keep
 * the input mask: see choose_work. */
#define CHOOSE_MAX_WORK 4e9

/* The state of one elimination: the inverse and the fit, both updated in
 * place as channels go. */
typedef struct {
    int n, k2, d, o;
    double *ainv;           /* d x d */
    double *f;              /* d x o */
    unsigned char *active;  /* n */
    double lambda;          /* the ridge term, absolute */
    double yy, obj;         /* sum y^2; the current fit's ridge objective */
    double m[81 * 81];      /* scratch: one block inverse (k2 <= 81) */
} elim;

static void elim_free(elim *e)
{
    free(e->ainv); free(e->f); free(e->active);
}

/* A^-1 from A (d x d, row-major, symmetric) by Cholesky. */
static int invert_spd(double *a, int d)
{
    if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', d, a, d) != 0) return -1;
    if (LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'U', d, a, d) != 0) return -1;
    for (int i = 0; i < d; ++i)
        for (int j = 0; j < i; ++j) a[(size_t)i * d + j] = a[(size_t)j * d + i];
    return 0;
}

static int elim_init(elim *e, const double *G, int n, int k2, const float *w, int o, float ridge)
{
    memset(e, 0, sizeof *e);
    int d = n * k2 + 1;
    e->n = n; e->k2 = k2; e->d = d; e->o = o;
    e->ainv = legr_calloc((size_t)d * d, sizeof(double));
    e->f = legr_calloc((size_t)d * o, sizeof(double));
    e->active = legr_calloc(n, 1);
    double *h = legr_calloc((size_t)d * o, sizeof(double));
    if (!e->ainv || !e->f || !e->active || !h || k2 > 81) { free(h); return -1; }
    memset(e->active, 1, n);
    double mean_diag = 0;
    for (int j = 0; j < d - 1; ++j) mean_diag += G[(size_t)j * d + j];
    mean_diag = d > 1 ? mean_diag / (d - 1) : 1;
    double lambda = e->lambda = ridge * (mean_diag > 0 ? mean_diag : 1);
    /* h = G W^T (W^T padded with a zero row for the constant): y = W x */
    for (int i = 0; i < d; ++i)
        for (int j = 0; j < d - 1; ++j) {
            double gij = G[(size_t)i * d + j];
            if (gij == 0) continue;
            for (int t = 0; t < o; ++t) h[(size_t)i * o + t] += gij * w[(size_t)t * (d - 1) + j];
        }
    for (int j = 0; j < d - 1; ++j)
        for (int t = 0; t < o; ++t) e->yy += (double)w[(size_t)t * (d - 1) + j] * h[(size_t)j * o + t];
    memcpy(e->ainv, G, (size_t)d * d * sizeof(double));
    for (int j = 0; j < d - 1; ++j) e->ainv[(size_t)j * d + j] += lambda;
    if (invert_spd(e->ainv, d) != 0) { free(h); return -1; }
    for (int i = 0; i < d; ++i)
        for (int k = 0; k < d; ++k) {
            double a = e->ainv[(size_t)i * d + k];
            for (int t = 0; t < o; ++t) e->f[(size_t)i * o + t] += a * h[(size_t)k * o + t];
        }
    /* the full fit's objective |y - F x|^2 + lambda |F|^2 = yy - F.h */
    e->obj = e->yy;
    for (size_t t = 0; t < (size_t)d * o; ++t) e->obj -= e->f[t] * h[t];
    free(h);
    return 0;
}

/* The current fit's squared error alone (the objective less its ridge
 * term), relative to sum y^2. */
static double elim_error(const elim *e)
{
    double pen = 0;
    for (size_t t = 0; t < (size_t)(e->d - 1) * e->o; ++t) pen += e->f[t] * e->f[t];
    double err = e->obj - e->lambda * pen;
    return e->yy > 0 && err > 0 ? err / e->yy : 0;
}

/* (Ainv_cc)^-1 into e->m; returns -1 when the block is not positive. */
static int block_inverse(elim *e, int c)
{
    int k2 = e->k2, d = e->d;
    for (int r = 0; r < k2; ++r)
        for (int s = 0; s < k2; ++s)
            e->m[r * k2 + s] = e->ainv[(size_t)(c * k2 + r) * d + c * k2 + s];
    return invert_spd(e->m, k2);
}

/* delta_c, or HUGE_VAL when channel c cannot be scored. */
static double removal_cost(elim *e, int c)
{
    if (block_inverse(e, c) != 0) return HUGE_VAL;
    int k2 = e->k2, o = e->o;
    const double *fc = e->f + (size_t)c * k2 * o;
    double delta = 0;
    for (int r = 0; r < k2; ++r)
        for (int s = 0; s < k2; ++s) {
            double mrs = e->m[r * k2 + s];
            for (int t = 0; t < o; ++t) delta += fc[(size_t)r * o + t] * mrs * fc[(size_t)s * o + t];
        }
    return delta > 0 ? delta : 0;
}

/* Removes channel c: the rank-k2 update of the inverse and the fit. */
static int remove_channel(elim *e, int c, double *t)
{
    int k2 = e->k2, d = e->d, o = e->o;
    double delta = removal_cost(e, c);
    if (!(delta < HUGE_VAL)) return -1;    /* a block that lost positivity to rounding */
    /* t = Ainv_:c (Ainv_cc)^-1 (d x k2) */
    for (int i = 0; i < d; ++i)
        for (int s = 0; s < k2; ++s) {
            double v = 0;
            for (int r = 0; r < k2; ++r) v += e->ainv[(size_t)i * d + c * k2 + r] * e->m[r * k2 + s];
            t[(size_t)i * k2 + s] = v;
        }
    double *fc = legr_calloc((size_t)k2 * (o > d ? o : d), sizeof(double));
    if (!fc) return -1;
    memcpy(fc, e->f + (size_t)c * k2 * o, (size_t)k2 * o * sizeof(double));
    for (int i = 0; i < d; ++i)
        for (int s = 0; s < k2; ++s) {
            double ts = t[(size_t)i * k2 + s];
            if (ts == 0) continue;
            for (int q = 0; q < o; ++q) e->f[(size_t)i * o + q] -= ts * fc[(size_t)s * o + q];
        }
    memcpy(fc, e->ainv + (size_t)c * k2 * d, (size_t)k2 * d * sizeof(double));
    for (int i = 0; i < d; ++i)
        for (int s = 0; s < k2; ++s) {
            double ts = t[(size_t)i * k2 + s];
            if (ts == 0) continue;
            double *row = e->ainv + (size_t)i * d;
            const double *src = fc + (size_t)s * d;
            for (int j = 0; j < d; ++j) row[j] -= ts * src[j];
        }
    free(fc);
    /* exact zeros where channel c was */
    for (int r = 0; r < k2; ++r) {
        int i = c * k2 + r;
        memset(e->ainv + (size_t)i * d, 0, d * sizeof(double));
        for (int j = 0; j < d; ++j) e->ainv[(size_t)j * d + i] = 0;
        memset(e->f + (size_t)i * o, 0, o * sizeof(double));
    }
    e->active[c] = 0;
    e->obj += delta;
    return 0;
}

/* Removes channels until `want` remain: the cheapest each time, or (when
 * given) exactly those that `subset` does not keep. */
static int eliminate(elim *e, int want, const unsigned char *subset)
{
    double *t = legr_calloc((size_t)e->d * e->k2, sizeof(double));
    if (!t) return -1;
    int left = e->n, rc = 0;
    for (int c = 0; subset && c < e->n && rc == 0; ++c)
        if (!subset[c]) rc = remove_channel(e, c, t);
    while (!subset && left > want && rc == 0) {
        int best = -1;
        double best_cost = HUGE_VAL;
        for (int c = 0; c < e->n; ++c) {
            if (!e->active[c]) continue;
            double cost = removal_cost(e, c);
            if (best < 0 || cost < best_cost) { best = c; best_cost = cost; }
        }
        rc = remove_channel(e, best, t);
        --left;
    }
    free(t);
    return rc;
}

/* dst = a copy of src's state (its own buffers), or -1 out of memory. */
static int elim_copy(elim *dst, const elim *src)
{
    size_t dd = (size_t)src->d * src->d, dout = (size_t)src->d * src->o;
    *dst = *src;
    dst->ainv = malloc(dd * sizeof(double));
    dst->f = malloc(dout * sizeof(double));
    dst->active = malloc(src->n);
    if (!dst->ainv || !dst->f || !dst->active) return -1;
    memcpy(dst->ainv, src->ainv, dd * sizeof(double));
    memcpy(dst->f, src->f, dout * sizeof(double));
    memcpy(dst->active, src->active, src->n);
    return 0;
}

int legr_choose_channels(const double *G, int n, int k2, const float *w, int o, int want,
                         float ridge, unsigned char *keep, const unsigned char *l2_keep,
                         double *err_chosen, double *err_l2, char *err, size_t errlen)
{
    if (want < 0 || want > n) return legr_fail(err, errlen, "cannot keep %d of %d channels", want, n);
    if (k2 > 81) return legr_fail(err, errlen, "channel selection: kernels larger than 9 x 9 are not supported");
    /* the full fit once; the given subset's elimination starts from a copy */
    elim e, given;
    memset(&given, 0, sizeof given);
    int rc = elim_init(&e, G, n, k2, w, o, ridge);
    if (rc == 0 && l2_keep) rc = elim_copy(&given, &e);
    if (rc == 0) rc = eliminate(&e, want, NULL);
    if (rc != 0) {
        elim_free(&e);
        elim_free(&given);
        return legr_fail(err, errlen, "channel selection: the %d x %d normal matrix is singular, "
                         "lost positivity, or is out of memory", n * k2 + 1, n * k2 + 1);
    }
    memcpy(keep, e.active, n);
    *err_chosen = elim_error(&e);
    elim_free(&e);
    if (!l2_keep) return 0;
    rc = eliminate(&given, want, l2_keep);
    if (rc == 0) *err_l2 = elim_error(&given);
    elim_free(&given);
    return rc == 0 ? 0 : legr_fail(err, errlen, "channel selection: the given subset's fit failed");
}

/* ---- the network side: which groups, and their normal matrices ---- */

/* The one dense conv that group k's channels reach, or -1 when they reach
 * anything else (a route, a shortcut, a head, a second conv...). */
static int sole_consumer(const network *net, const legr_graph *g, int k)
{
    int q = -1;
    for (int i = 0; i < net->n; ++i) {
        int hit = 0;
        for (int b = 0; b < g->n_in[i]; ++b) hit |= g->in[i][b] == k;
        if (!hit || g->role[i] == LEGR_DEPTHWISE) continue;
        const layer *l = &net->layers[i];
        if (g->role[i] == LEGR_OTHER && (l->type == MAXPOOL || l->type == UPSAMPLE)) continue;
        if (q >= 0 || g->role[i] != LEGR_PRODUCER || l->type != CONVOLUTIONAL || l->groups != 1 ||
            l->binary || l->xnor || g->n_in[i] != 1)
            return -1;
        q = i;
    }
    return q;
}

/* The elimination's floating-point work for d unknowns in blocks of k2, o
 * filters and `drop` channels to remove: the inverse and the first fit
 * (about 2 d^2 o), then per step the update (d^2 k2) and the costs. */
static double choose_work(int d, int k2, int o, int drop)
{
    double n = (double)(d - 1) / k2;
    return (double)d * d * (2.0 * o + (double)k2 * drop) + drop * n * k2 * k2 * o;
}

/* One group being re-chosen: its consumer's normal matrix. */
typedef struct {
    int group, q, d;
    double *G;
} cand;

/* Adds the current batch's samples (images [0, nb), the first one's index
 * `first`) of q's input to c->G.  x and gf: scratch of d x S and d x d. */
static void add_samples(cand *c, const network *net, int nb, int first, int positions, float *x, float *gf)
{
    const layer *l = &net->layers[c->q];
    int hw = l->out_h * l->out_w, per_img = legr_sample_count(hw, positions), S = nb * per_img, d = c->d;
    for (int b = 0; b < nb; ++b) {
        const float *in = legr_layer_input(net, c->q, b);
        for (int j = 0; j < per_img; ++j) {
            int sidx = b * per_img + j;
            legr_gather_patch(l, in, NULL, l->c, legr_sample_position(hw, per_img, first + b, j), x + sidx, S);
            x[(size_t)(d - 1) * S + sidx] = 1;
        }
    }
    gemm(0, 1, d, d, S, 1, x, S, x, S, 0, gf, d);
    for (size_t t = 0; t < (size_t)d * d; ++t) c->G[t] += gf[t];
}

/* One forward pass over the images accumulating cands[0..nc). */
static int accumulate(cand *cands, int nc, network *net, const legr_recover_opts *o, int n_images,
                      char *err, size_t errlen)
{
    int B = net->batch < LEGR_FORWARD_BATCH ? net->batch : LEGR_FORWARD_BATCH, b0 = net->batch;
    int end = 0, dmax = 0, smax = 0;
    for (int k = 0; k < nc; ++k) {
        const layer *l = &net->layers[cands[k].q];
        int s = B * legr_sample_count(l->out_h * l->out_w, o->positions);
        if (cands[k].q > end) end = cands[k].q;
        if (cands[k].d > dmax) dmax = cands[k].d;
        if (s > smax) smax = s;
    }
    float *x = legr_calloc((size_t)dmax * smax, sizeof(float));
    float *gf = legr_calloc((size_t)dmax * dmax, sizeof(float));
    int rc = x && gf ? 0 : legr_fail(err, errlen, "channel selection: out of memory");
    set_batch_network(net, B);
    for (int first = 0; first < n_images && rc == 0; first += B) {
        int nb = n_images - first < B ? n_images - first : B;
        if (legr_valset_fill(net, o->images, first, 0, err, errlen) != 0) { rc = -1; break; }
        legr_forward_upto(net, end);
        for (int k = 0; k < nc; ++k) add_samples(&cands[k], net, nb, first, o->positions, x, gf);
    }
    set_batch_network(net, b0);
    free(x);
    free(gf);
    return rc;
}

/* Q's filters that the mask keeps, weighted by their BN scale (the error as
 * Q's BN passes it on), as o x c*k2 rows; NULL when out of memory. */
static float *kept_scaled_filters(const layer *l, const legr_graph *g, const legr_mask *m, int q, int *o)
{
    size_t per = (size_t)l->c * l->size * l->size;
    int *idx = legr_calloc(l->n, sizeof(int));
    float *w = legr_calloc((size_t)l->n * per, sizeof(float));
    if (!idx || !w) { free(idx); free(w); return NULL; }
    *o = legr_blocks_kept_index(g, m, g->out[q], g->n_out[q], idx);
    for (int r = 0; r < *o; ++r) {
        int t = idx[r];
        float s = l->batch_normalize ? l->scales[t] / (sqrtf(l->rolling_variance[t]) + .000001f) : 1;
        if (!legr_finite(s)) s = 0;
        for (size_t j = 0; j < per; ++j) w[r * per + j] = l->weights[t * per + j] * s;
    }
    free(idx);
    return w;
}

/* Elimination for one accumulated candidate; updates m and fills the
 * report.  Where the elimination fails (a normal matrix that lost
 * positivity to rounding, no memory) the group keeps the input mask's
 * choice (rep->fallback).  Returns -1 only when out of memory before. */
static int choose_group(cand *c, network *net, const legr_graph *g, legr_mask *m, float ridge,
                        legr_choose_group *rep, char *err, size_t errlen)
{
    const layer *l = &net->layers[c->q];
    int k = c->group, n = g->groups[k].n, o = 0;
    unsigned char *keep = legr_calloc(n, 1);
    float *w = kept_scaled_filters(l, g, m, c->q, &o);
    if (!keep || !w) { free(keep); free(w); return legr_fail(err, errlen, "out of memory"); }
    double e_new = 0, e_l2 = 0;
    char why[256];
    *rep = (legr_choose_group){ k, c->q, n, m->kept[k], 0, -1, -1, 0 };
    if (legr_choose_channels(c->G, n, l->size * l->size, w, o, m->kept[k], ridge,
                             keep, m->keep[k], &e_new, &e_l2, why, sizeof why) != 0) {
        rep->fallback = 1;
    } else {
        int changed = 0;
        for (int j = 0; j < n; ++j) changed += keep[j] && !m->keep[k][j];
        /* the L2 choice stays where the elimination does not beat it */
        if (e_new < e_l2) memcpy(m->keep[k], keep, n);
        else changed = 0, e_new = e_l2;
        rep->changed = changed;
        rep->err_l2 = e_l2;
        rep->err_chosen = e_new;
    }
    free(w);
    free(keep);
    return 0;
}

int legr_choose_by_error(network *orig, const legr_graph *g, legr_mask *m,
                         const legr_recover_opts *o, legr_choose_group *report, int *n_report,
                         char *err, size_t errlen)
{
    if (n_report) *n_report = 0;
    if (!o->images || o->images->n_images == 0)
        return legr_fail(err, errlen, "channel selection needs at least one image");
    if (o->images->w != orig->w || o->images->h != orig->h || o->images->c != orig->c)
        return legr_fail(err, errlen, "channel selection images were prepared for another input size");
    int n_images = o->n_images > 0 && o->n_images < o->images->n_images ? o->n_images : o->images->n_images;
    /* a floor: with no ridge at all a dead channel makes G singular */
    float ridge = o->ridge >= 0 ? o->ridge : 1e-4f;
    if (ridge < 1e-8f) ridge = 1e-8f;
    cand *cands = legr_calloc(g->n_groups ? g->n_groups : 1, sizeof(cand));
    if (!cands) return legr_fail(err, errlen, "out of memory");
    int nc = 0, rc = 0, nr = 0;
    for (int k = 0; k < g->n_groups; ++k) {
        if (g->groups[k].fixed || m->kept[k] >= g->groups[k].n || m->kept[k] <= 0) continue;
        int q = sole_consumer(orig, g, k);
        if (q < 0) continue;
        const layer *l = &orig->layers[q];
        int d = l->c * l->size * l->size + 1;
        if (l->size > 9 || choose_work(d, l->size * l->size, l->n, g->groups[k].n - m->kept[k]) > CHOOSE_MAX_WORK) continue;
        cands[nc++] = (cand){ k, q, d, NULL };
    }
    /* as many normal matrices per forward pass as fit in 1 GiB */
    for (int first = 0; first < nc && rc == 0;) {
        size_t bytes = 0;
        int last = first;
        while (last < nc && (last == first || bytes + (size_t)cands[last].d * cands[last].d * 8 <= (1u << 30))) {
            bytes += (size_t)cands[last].d * cands[last].d * 8;
            cands[last].G = legr_calloc((size_t)cands[last].d * cands[last].d, sizeof(double));
            if (!cands[last].G) { rc = legr_fail(err, errlen, "channel selection: out of memory"); break; }
            ++last;
        }
        if (rc == 0) rc = accumulate(cands + first, last - first, orig, o, n_images, err, errlen);
        for (int k = first; k < last && rc == 0; ++k) {
            legr_choose_group r;
            rc = choose_group(&cands[k], orig, g, m, ridge, &r, err, errlen);
            if (rc == 0 && report) report[nr] = r;
            if (rc == 0) ++nr;
        }
        for (int k = first; k < last; ++k) { free(cands[k].G); cands[k].G = NULL; }
        first = last;
    }
    if (n_report) *n_report = nr;
    free(cands);
    return rc;
}
