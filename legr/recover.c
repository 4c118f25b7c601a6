/* recover.c: least-squares reconstruction of a pruned network (see
 * recover.h).  For one layer, each sample is one output position of one
 * image: x = the pruned input patch (kept channels, k x k, plus a constant
 * 1), y = the original layer's output before BN at that position (kept
 * filters).  The normal equations G w = h (G = sum x x^T, h = sum x y^T)
 * are accumulated in double over all samples and solved by LAPACK's dposv
 * with a ridge term on the weights (not on the intercept). */
#include "recover.h"
#include "flops.h"
#include "util.h"
#include "gemm.h"
#include "compat.h"
#include "samples.h"
#ifdef GPU
#include "weights.h"
#endif

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One layer being measured or re-fitted. */
typedef struct {
    int layer;
    int n_in, n_out;        /* kept input channels / output filters */
    int *in_idx, *out_idx;  /* their indices in the original numbering */
    int k2, d;              /* k*k; unknowns per filter: n_in*k2 + 1 */
    float *w_orig;          /* original filters at out_idx (n_out x c*k2) */
    float *beff_orig;       /* original bias after the conv: bias, or -mean with BN */
    double *G, *H;          /* normal equations (d x d, d x n_out), or NULL */
    double yy;              /* sum of y^2 (the fit's constant term) */
    double num, den;        /* error before: sum (u_p - u_o)^2, sum u_o^2 */
} fit;

int legr_recover_layers(const network *orig, const legr_graph *g, const legr_mask *m,
                        int *out, int max)
{
    int n = 0, drift = 0;     /* drift: an earlier layer lost filters */
    for (int i = 0; i < orig->n; ++i) {
        const layer *l = &orig->layers[i];
        if (g->role[i] != LEGR_PRODUCER || l->type != CONVOLUTIONAL || l->groups != 1 ||
            l->binary || l->xnor)
            continue;
        int reduced = legr_layer_in_channels(orig, g, m, i) < l->c;
        if (!reduced && !drift) {
            if (legr_layer_out_channels(orig, g, m, i) < l->n) drift = 1;
            continue;
        }
        drift = 1;
        if (out && n < max) out[n] = i;
        ++n;
    }
    return n;
}

/* The bias a conv adds after its GEMM, as seen before the BN scale:
 * `bias` without BN, `-rolling_mean` with it. */
static float bias_after(const layer *l, int j)
{
    return l->batch_normalize ? -l->rolling_mean[j] : l->biases[j];
}

static void fit_free(fit *f)
{
    free(f->in_idx); free(f->out_idx); free(f->w_orig); free(f->beff_orig);
    free(f->G); free(f->H);
    memset(f, 0, sizeof *f);
}

static int fit_init(fit *f, const network *orig, const network *pruned, const legr_graph *g,
                    const legr_mask *m, int i, int normal_eq, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    const layer *lo = &orig->layers[i], *lp = &pruned->layers[i];
    f->layer = i;
    f->k2 = lo->size * lo->size;
    f->in_idx = legr_calloc(lo->c, sizeof(int));
    f->out_idx = legr_calloc(lo->n, sizeof(int));
    if (!f->in_idx || !f->out_idx) return legr_fail(err, errlen, "out of memory");
    f->n_in = legr_blocks_kept_index(g, m, g->in[i], g->n_in[i], f->in_idx);
    f->n_out = legr_blocks_kept_index(g, m, g->out[i], g->n_out[i], f->out_idx);
    if (lp->type != CONVOLUTIONAL || lp->c != f->n_in || lp->n != f->n_out ||
        lp->size != lo->size || lp->out_h != lo->out_h || lp->out_w != lo->out_w)
        return legr_fail(err, errlen, "layer %d: the pruned network does not match the mask", i);
    f->d = f->n_in * f->k2 + 1;
    size_t per = (size_t)lo->c * f->k2;
    f->w_orig = legr_calloc((size_t)f->n_out * per, sizeof(float));
    f->beff_orig = legr_calloc(f->n_out, sizeof(float));
    if (!f->w_orig || !f->beff_orig) return legr_fail(err, errlen, "out of memory");
    for (int o = 0; o < f->n_out; ++o) {
        memcpy(f->w_orig + o * per, lo->weights + (size_t)f->out_idx[o] * per, per * sizeof(float));
        f->beff_orig[o] = bias_after(lo, f->out_idx[o]);
    }
    if (normal_eq) {
        f->G = legr_calloc((size_t)f->d * f->d, sizeof(double));
        f->H = legr_calloc((size_t)f->d * f->n_out, sizeof(double));
        if (!f->G || !f->H) return legr_fail(err, errlen, "layer %d: out of memory for %d x %d normal equations", i, f->d, f->d);
    }
    return 0;
}

/* Scratch for one batch of samples of one layer. */
typedef struct { float *xp, *xo, *y, *z, *wp; size_t cap_xp, cap_xo, cap_y, cap_wp; } scratch;

static float *grow(float **p, size_t *cap, size_t n)
{
    if (n > *cap) {
        free(*p);
        *p = legr_calloc(n, sizeof(float));
        *cap = *p ? n : 0;
    }
    return *p;
}

/* Accumulates the samples of images [0, nb) of the current batch: the
 * error of pruned's current weights and, when f->G, the normal equations. */
static int accumulate(fit *f, const network *orig, const network *pruned, int nb, int first_image,
                      int positions, scratch *s)
{
    const layer *lo = &orig->layers[f->layer], *lp = &pruned->layers[f->layer];
    int hw = lo->out_h * lo->out_w;
    int per_img = legr_sample_count(hw, positions);
    int S = nb * per_img, d = f->d, co = lo->c * f->k2;
    float *xp = grow(&s->xp, &s->cap_xp, (size_t)d * S);
    float *xo = grow(&s->xo, &s->cap_xo, (size_t)co * S);
    float *y = grow(&s->y, &s->cap_y, (size_t)2 * f->n_out * S);
    float *wp = grow(&s->wp, &s->cap_wp, (size_t)f->n_out * d);
    if (!xp || !xo || !y || !wp) return -1;
    float *z = y + (size_t)f->n_out * S;
    for (int b = 0; b < nb; ++b) {
        const float *ip = legr_layer_input(pruned, f->layer, b), *io = legr_layer_input(orig, f->layer, b);
        for (int j = 0; j < per_img; ++j) {
            int sidx = b * per_img + j, p = legr_sample_position(hw, per_img, first_image + b, j);
            legr_gather_patch(lp, ip, NULL, f->n_in, p, xp + sidx, S);
            legr_gather_patch(lo, io, NULL, lo->c, p, xo + sidx, S);
            xp[(size_t)(d - 1) * S + sidx] = 1;
        }
    }
    /* y = original output before its bias; z = pruned output (bias relative
     * to the original's in the last column of wp) */
    gemm(0, 0, f->n_out, S, co, 1, f->w_orig, co, xo, S, 0, y, S);
    for (int o = 0; o < f->n_out; ++o) {
        memcpy(wp + (size_t)o * d, lp->weights + (size_t)o * (d - 1), (d - 1) * sizeof(float));
        wp[(size_t)o * d + d - 1] = bias_after(lp, o) - f->beff_orig[o];
    }
    gemm(0, 0, f->n_out, S, d, 1, wp, d, xp, S, 0, z, S);
    for (int o = 0; o < f->n_out; ++o)
        for (int t = 0; t < S; ++t) {
            double yo = y[(size_t)o * S + t], e = z[(size_t)o * S + t] - yo, u = yo + f->beff_orig[o];
            f->num += e * e;
            f->den += u * u;
            f->yy += yo * yo;
        }
    if (!f->G) return 0;
    /* G += xp xp^T, H += xp y^T, through float GEMMs of this batch */
    float *g = grow(&s->xo, &s->cap_xo, (size_t)d * (d > f->n_out ? d : f->n_out));
    if (!g) return -1;
    gemm(0, 1, d, d, S, 1, xp, S, xp, S, 0, g, d);
    for (size_t t = 0; t < (size_t)d * d; ++t) f->G[t] += g[t];
    gemm(0, 1, d, f->n_out, S, 1, xp, S, y, S, 0, g, f->n_out);
    for (size_t t = 0; t < (size_t)d * f->n_out; ++t) f->H[t] += g[t];
    return 0;
}

/* Forwards both networks over the images and accumulates every fit in
 * fits[0..nf) (all layers before `end`). */
static int run_images(fit *fits, int nf, network *orig, network *pruned, const legr_recover_opts *o,
                      int n_images, int end, scratch *s, char *err, size_t errlen)
{
    /* the forwards run on the CPU, GPU build or not */
    int B = LEGR_FORWARD_BATCH;
    if (orig->batch < B) B = orig->batch;
    if (pruned->batch < B) B = pruned->batch;
    int bo = orig->batch, bp = pruned->batch;
    set_batch_network(orig, B);
    set_batch_network(pruned, B);
    int rc = 0;
    for (int first = 0; first < n_images && rc == 0; first += B) {
        int nb = n_images - first < B ? n_images - first : B;
        if (legr_valset_fill(orig, o->images, first, 0, err, errlen) != 0) { rc = -1; break; }
        memcpy(pruned->input, orig->input, (size_t)B * orig->inputs * sizeof(float));
        legr_forward_upto(orig, end);
        legr_forward_upto(pruned, end);
        for (int k = 0; k < nf && rc == 0; ++k)
            if (accumulate(&fits[k], orig, pruned, nb, first, o->positions, s) != 0)
                rc = legr_fail(err, errlen, "layer %d: out of memory for the samples", fits[k].layer);
    }
    set_batch_network(orig, bo);
    set_batch_network(pruned, bp);
    return rc;
}

static void scratch_free(scratch *s)
{
    free(s->xp); free(s->xo); free(s->y); free(s->wp);
}

/* Solves (G + ridge) w = H and writes w into pruned's layer.  Returns the
 * error after the fit (relative), or -1 when G is singular even with a
 * larger ridge (the layer is then left as it is). */
static double solve_and_apply(fit *f, network *pruned, float ridge)
{
    int d = f->d, n = f->n_out;
    double mean_diag = 0;
    for (int j = 0; j < d - 1; ++j) mean_diag += f->G[(size_t)j * d + j];
    mean_diag = d > 1 ? mean_diag / (d - 1) : 1;
    if (!(mean_diag > 0)) mean_diag = 1;
    double *A = legr_calloc((size_t)d * d, sizeof(double)), *W = legr_calloc((size_t)d * n, sizeof(double));
    double result = -1;
    for (int attempt = 0; attempt < 4 && A && W && result < 0; ++attempt) {
        double lambda = ridge * mean_diag * pow(100, attempt);
        memcpy(A, f->G, (size_t)d * d * sizeof(double));
        memcpy(W, f->H, (size_t)d * n * sizeof(double));
        for (int j = 0; j < d - 1; ++j) A[(size_t)j * d + j] += lambda;
        if (LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', d, n, A, d, W, n) != 0) continue;
        /* the error after, from the normal equations: with (G + R) w = h,
         * sum (w.x - y)^2 = yy - w.h - w^T R w */
        double e = f->yy;
        for (int j = 0; j < d; ++j)
            for (int o = 0; o < n; ++o) {
                double wj = W[(size_t)j * n + o];
                e -= wj * f->H[(size_t)j * n + o] + (j < d - 1 ? lambda * wj * wj : 0);
            }
        if (!legr_finite(e)) continue;
        layer *l = &pruned->layers[f->layer];
        for (int o = 0; o < n; ++o) {
            for (int j = 0; j < d - 1; ++j)
                l->weights[(size_t)o * (d - 1) + j] = (float)W[(size_t)j * n + o];
            float c = (float)W[(size_t)(d - 1) * n + o] + f->beff_orig[o];
            if (l->batch_normalize) l->rolling_mean[o] = -c;
            else l->biases[o] = c;
        }
#ifdef GPU
        legr_push_layer(l);
#endif
        result = f->den > 0 ? (e > 0 ? e : 0) / f->den : 0;
    }
    free(A);
    free(W);
    return result;
}

static int check_opts(const network *orig, const network *pruned, const legr_recover_opts *o,
                      int *n_images, char *err, size_t errlen)
{
    if (!o->images || o->images->n_images == 0)
        return legr_fail(err, errlen, "reconstruction needs at least one image");
    if (o->images->w != orig->w || o->images->h != orig->h || o->images->c != orig->c ||
        pruned->w != orig->w || pruned->h != orig->h)
        return legr_fail(err, errlen, "reconstruction images were prepared for another input size");
    *n_images = o->n_images > 0 && o->n_images < o->images->n_images ? o->n_images : o->images->n_images;
    return 0;
}

int legr_reconstruct(network *orig, network *pruned, const legr_graph *g, const legr_mask *m,
                     const legr_recover_opts *o, legr_recover_layer *report, int *n_report,
                     char *err, size_t errlen)
{
    int n_images = 0;
    if (n_report) *n_report = 0;
    if (check_opts(orig, pruned, o, &n_images, err, errlen) != 0) return -1;
    int nl = legr_recover_layers(orig, g, m, NULL, 0);
    int *layers = legr_calloc(nl ? nl : 1, sizeof(int));
    if (!layers) return legr_fail(err, errlen, "out of memory");
    legr_recover_layers(orig, g, m, layers, nl);
    float ridge = o->ridge >= 0 ? o->ridge : 1e-4f;
    scratch s = {0};
    int rc = 0;
    for (int k = 0; k < nl && rc == 0; ++k) {
        fit f;
        rc = fit_init(&f, orig, pruned, g, m, layers[k], 1, err, errlen);
        if (rc == 0) rc = run_images(&f, 1, orig, pruned, o, n_images, layers[k], &s, err, errlen);
        if (rc == 0) {
            double before = f.den > 0 ? f.num / f.den : 0;
            double after = solve_and_apply(&f, pruned, ridge);
            if (report) report[k] = (legr_recover_layer){ layers[k], before, after < 0 ? before : after };
            if (n_report) *n_report = k + 1;
        }
        fit_free(&f);
    }
    scratch_free(&s);
    free(layers);
    return rc;
}

int legr_recover_errors(network *orig, network *pruned, const legr_graph *g, const legr_mask *m,
                        const legr_recover_opts *o, double *errs, char *err, size_t errlen)
{
    int n_images = 0;
    if (check_opts(orig, pruned, o, &n_images, err, errlen) != 0) return -1;
    int nl = legr_recover_layers(orig, g, m, NULL, 0);
    fit *fits = legr_calloc(nl ? nl : 1, sizeof(fit));
    int *layers = legr_calloc(nl ? nl : 1, sizeof(int));
    int rc = fits && layers ? 0 : legr_fail(err, errlen, "out of memory");
    if (rc == 0) legr_recover_layers(orig, g, m, layers, nl);
    int made = 0;
    for (; rc == 0 && made < nl; ++made)
        rc = fit_init(&fits[made], orig, pruned, g, m, layers[made], 0, err, errlen);
    scratch s = {0};
    if (rc == 0) rc = run_images(fits, nl, orig, pruned, o, n_images, orig->n, &s, err, errlen);
    for (int k = 0; k < nl && rc == 0; ++k) errs[k] = fits[k].den > 0 ? fits[k].num / fits[k].den : 0;
    for (int k = 0; k < made; ++k) fit_free(&fits[k]);
    scratch_free(&s);
    free(fits);
    free(layers);
    return rc;
}
