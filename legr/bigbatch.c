/* bigbatch.c: a training-mode forward of a large batch computed layer by
 * layer, a few images at a time (see bigbatch.h). */
#include "bigbatch.h"
#include "util.h"
#include "blas.h"

#include <stdlib.h>
#include <string.h>

void legr_bn_acc_add(legr_bn_acc *a, const float *mean, const float *var, int channels, double count)
{
    double n = a->count + count;
    for (int c = 0; c < channels; ++c) {
        double d = mean[c] - a->mean[c];
        a->mean[c] += d * count / n;
        a->m2[c] += (double)var[c] * (count - 1) + d * d * a->count * count / n;
    }
    a->count = n;
}

/* The statistics of a as Darknet keeps them (variance over count - 1). */
static void bn_acc_result(const legr_bn_acc *a, int channels, float *mean, float *var)
{
    for (int c = 0; c < channels; ++c) {
        mean[c] = (float)a->mean[c];
        var[c] = (float)(a->count > 1 ? a->m2[c] / (a->count - 1) : 0);
    }
}

static int has_bn(const layer *l)
{
    return l->rolling_mean && l->mean;      /* BN convs, BN connected, [batchnorm] */
}

int legr_bigbatch_acc_init(legr_bigbatch_acc *a, const network *net, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    a->n_layers = net->n;
    a->bn = legr_calloc(net->n, sizeof *a->bn);
    if (!a->bn) return legr_fail(err, errlen, "out of memory");
    for (int i = 0; i < net->n; ++i) {
        const layer *l = &net->layers[i];
        a->n_cost += l->cost != NULL;
        if (!has_bn(l)) continue;
        a->bn[i].mean = legr_calloc(l->out_c, sizeof(double));
        a->bn[i].m2 = legr_calloc(l->out_c, sizeof(double));
        if (!a->bn[i].mean || !a->bn[i].m2) {
            legr_bigbatch_acc_free(a);
            return legr_fail(err, errlen, "out of memory");
        }
    }
    return 0;
}

void legr_bigbatch_acc_free(legr_bigbatch_acc *a)
{
    for (int i = 0; a->bn && i < a->n_layers; ++i) {
        free(a->bn[i].mean);
        free(a->bn[i].m2);
    }
    free(a->bn);
    memset(a, 0, sizeof *a);
}

void legr_bigbatch_apply_bn(const legr_bigbatch_acc *a, network *net)
{
    for (int i = 0; i < net->n && i < a->n_layers; ++i) {
        layer *l = &net->layers[i];
        if (!a->bn[i].mean) continue;
        bn_acc_result(&a->bn[i], l->out_c, l->rolling_mean, l->rolling_variance);
#ifdef GPU
        if (net->gpu_index >= 0) {
            cuda_push_array(l->rolling_mean_gpu, l->rolling_mean, l->out_c);
            cuda_push_array(l->rolling_variance_gpu, l->rolling_variance, l->out_c);
        }
#endif
    }
}

/* --- the CPU sweep ---------------------------------------------------- */

/* The layers run in segments: a BN layer and the layers after it up to the
 * next BN layer.  A segment's BN statistics need its first layer's input
 * for the whole batch; then each chunk of images runs through the whole
 * segment at once, layer after layer in Darknet's own buffers, and only
 * the outputs some later segment reads are kept for the batch. */
typedef struct {
    network *net;
    int n, fb, truth;
    float *input, *truths;  /* the batch's images and their truth */
    float **out;            /* per layer: its outputs for the batch, while a later segment reads them */
    float **own;            /* per layer: Darknet's output buffer */
    int *last;              /* per layer: the last layer reading its output (-1: none) */
    int seg0, seg1;         /* the segment running: layers [seg0, seg1) */
    float *mean, *var;      /* one chunk's BN statistics (largest out_c) */
} sweep;

/* Which layer reads each layer's output last: the next layer reads it as
 * its input, except a [route], which reads its listed layers only; a
 * [shortcut] also reads its `from` layer. */
static void find_readers(const network *net, int *last)
{
    for (int i = 0; i < net->n; ++i) last[i] = -1;
    for (int i = 0; i < net->n; ++i) {
        const layer *l = &net->layers[i];
        if (l->type == ROUTE) {
            for (int j = 0; j < l->n; ++j) last[l->input_layers[j]] = i;
        } else if (i > 0) {
            last[i - 1] = i;
        }
        if (l->type == SHORTCUT) last[l->index] = i;
    }
}

/* Layer k's outputs for the chunk of images from off on: in its own
 * buffer when it ran in this segment, else kept for the batch. */
static float *chunk_output(const sweep *s, int k, int off)
{
    if (k >= s->seg0 && k < s->seg1) return s->own[k];
    return s->out[k] ? s->out[k] + (size_t)off * s->net->layers[k].outputs : NULL;
}

/* Points the layers that layer i reads (other than its input) at their
 * outputs for the chunk, or (back = 1) at their own buffers again. */
static void redirect_sources(sweep *s, int i, int off, int back)
{
    layer *ls = s->net->layers;
    const layer *l = &ls[i];
    int n = l->type == ROUTE ? l->n : l->type == SHORTCUT ? 1 : 0;
    for (int j = 0; j < n; ++j) {
        int k = l->type == ROUTE ? l->input_layers[j] : l->index;
        ls[k].output = back ? s->own[k] : chunk_output(s, k, off);
    }
}

/* Runs layer i on the nb images of the chunk at off (train: in training
 * mode, with their truth), into its own buffer. */
static void run_chunk(sweep *s, int i, int off, int nb, int train)
{
    network *net = s->net;
    redirect_sources(s, i, off, 0);
    network n = *net;
    n.index = i;
    n.train = train;
    n.delta = 0;
    n.input = i == 0 ? s->input + (size_t)off * net->inputs : chunk_output(s, i - 1, off);
    n.truth = train ? s->truths + (size_t)off * net->truths : 0;
    layer l = net->layers[i];
    l.forward(l, n);
    redirect_sources(s, i, off, 1);
}

/* Makes BN layer i (the segment's first) normalise by its input's
 * statistics over the whole batch, also added to a; the rolling statistics
 * it had go to saved_mean, saved_var. */
static void use_batch_stats(sweep *s, int i, legr_bn_acc *g, legr_bn_acc *a,
                            float *saved_mean, float *saved_var)
{
    layer *l = &s->net->layers[i];
    int spatial = l->out_h * l->out_w;
    for (int off = 0; off < s->n; off += s->fb) {
        int nb = s->n - off < s->fb ? s->n - off : s->fb;
        set_batch_network(s->net, nb);
        run_chunk(s, i, off, nb, 0);
        /* l->x: the values BN normalises, copied in both modes */
        mean_cpu(l->x, nb, l->out_c, spatial, s->mean);
        variance_cpu(l->x, s->mean, nb, l->out_c, spatial, s->var);
        legr_bn_acc_add(g, s->mean, s->var, l->out_c, (double)nb * spatial);
        legr_bn_acc_add(a, s->mean, s->var, l->out_c, (double)nb * spatial);
    }
    memcpy(saved_mean, l->rolling_mean, l->out_c * sizeof(float));
    memcpy(saved_var, l->rolling_variance, l->out_c * sizeof(float));
    bn_acc_result(g, l->out_c, l->rolling_mean, l->rolling_variance);
}

/* Every chunk through the segment's layers; the outputs later segments
 * read kept, the cost layers' costs added to a->cost. */
static void run_segment(sweep *s, legr_bigbatch_acc *a)
{
    layer *ls = s->net->layers;
    for (int off = 0; off < s->n; off += s->fb) {
        int nb = s->n - off < s->fb ? s->n - off : s->fb;
        set_batch_network(s->net, nb);
        for (int i = s->seg0; i < s->seg1; ++i) {
            int train = s->truth && ls[i].cost;
            run_chunk(s, i, off, nb, train);
            if (train) a->cost += ls[i].cost[0];
            if (s->out[i])
                memcpy(s->out[i] + (size_t)off * ls[i].outputs, s->own[i],
                       (size_t)nb * ls[i].outputs * sizeof(float));
        }
    }
}

/* The segment [seg0, seg1) over the batch. */
static int sweep_segment(sweep *s, legr_bigbatch_acc *a)
{
    network *net = s->net;
    for (int i = s->seg0; i < s->seg1; ++i) {
        if (s->last[i] < s->seg1) continue;
        s->out[i] = malloc((size_t)s->n * net->layers[i].outputs * sizeof(float));
        if (!s->out[i]) return -1;
    }
    layer *l = &net->layers[s->seg0];
    float *saved_mean = NULL, *saved_var = NULL;
    if (a->bn[s->seg0].mean) {
        double *gm = legr_calloc(l->out_c, sizeof(double)), *gv = legr_calloc(l->out_c, sizeof(double));
        saved_mean = malloc(l->out_c * sizeof(float));
        saved_var = malloc(l->out_c * sizeof(float));
        if (gm && gv && saved_mean && saved_var) {
            legr_bn_acc g = { 0, gm, gv };
            use_batch_stats(s, s->seg0, &g, &a->bn[s->seg0], saved_mean, saved_var);
        }
        free(gm);
        free(gv);
        if (!gm || !gv || !saved_mean || !saved_var) { free(saved_mean); free(saved_var); return -1; }
    }
    run_segment(s, a);
    if (saved_mean) {
        memcpy(l->rolling_mean, saved_mean, l->out_c * sizeof(float));
        memcpy(l->rolling_variance, saved_var, l->out_c * sizeof(float));
    }
    free(saved_mean);
    free(saved_var);
    /* what no later segment reads */
    for (int k = 0; k < s->seg1; ++k)
        if (s->out[k] && s->last[k] < s->seg1) { free(s->out[k]); s->out[k] = NULL; }
    return 0;
}

/* The batch's images (and truth) from vs. */
static int sweep_inputs(sweep *s, const legr_valset *vs, int first, char *err, size_t errlen)
{
    network *net = s->net;
    s->input = malloc((size_t)s->n * net->inputs * sizeof(float));
    s->truths = s->truth ? legr_calloc((size_t)s->n * net->truths, sizeof(float)) : NULL;
    if (!s->input || (s->truth && !s->truths)) return legr_fail(err, errlen, "out of memory");
    for (int k = 0; k < s->n; ++k) {
        int i = (first + k) % vs->n_images;
        float *dst = s->input + (size_t)k * net->inputs;
        const float *px = legr_valset_image(vs, i, dst, err, errlen);
        if (!px) return -1;
        if (px != dst) memcpy(dst, px, (size_t)net->inputs * sizeof(float));
        if (s->truth) legr_valset_truth(vs, i, s->truths + (size_t)k * net->truths, net->truths);
    }
    return 0;
}

/* The layers a sweep must run: all of them for the cost, else up to the
 * last BN layer. */
static int sweep_end(const network *net, int truth)
{
    if (truth) return net->n;
    int end = 0;
    for (int i = 0; i < net->n; ++i)
        if (has_bn(&net->layers[i])) end = i + 1;
    return end;
}

static int cpu_forward(network *net, const legr_valset *vs, int first, int n, int fb, int truth,
                       legr_bigbatch_acc *a, char *err, size_t errlen)
{
    sweep s;
    memset(&s, 0, sizeof s);
    s.net = net;
    s.n = n;
    s.fb = fb < 1 ? 1 : fb > net->batch ? net->batch : fb;
    s.truth = truth;
    int maxc = 1, batch = net->batch, rc = 0;
    for (int i = 0; i < net->n; ++i)
        if (net->layers[i].out_c > maxc) maxc = net->layers[i].out_c;
    s.out = legr_calloc(net->n, sizeof(float *));
    s.own = legr_calloc(net->n, sizeof(float *));
    s.last = legr_calloc(net->n, sizeof(int));
    s.mean = legr_calloc(maxc, sizeof(float));
    s.var = legr_calloc(maxc, sizeof(float));
    if (!s.out || !s.own || !s.last || !s.mean || !s.var) rc = legr_fail(err, errlen, "out of memory");
    if (rc == 0) rc = sweep_inputs(&s, vs, first, err, errlen);
    if (rc == 0) {
        find_readers(net, s.last);
        for (int i = 0; i < net->n; ++i) s.own[i] = net->layers[i].output;
        int end = sweep_end(net, truth);
        int muted = legr_mute_stdout();     /* the cost layers' progress lines */
        for (s.seg0 = 0; s.seg0 < end && rc == 0; s.seg0 = s.seg1) {
            s.seg1 = s.seg0 + 1;
            while (s.seg1 < end && !has_bn(&net->layers[s.seg1])) s.seg1++;
            if (sweep_segment(&s, a) != 0)
                rc = legr_fail(err, errlen, "layers %d-%d: out of memory for a batch of %d", s.seg0, s.seg1 - 1, n);
            free(s.input);                  /* layer 0 alone reads the images */
            s.input = NULL;
        }
        legr_unmute_stdout(muted);
        set_batch_network(net, batch);
    }
    for (int i = 0; s.out && i < net->n; ++i) free(s.out[i]);
    free(s.out); free(s.own); free(s.last); free(s.mean); free(s.var);
    free(s.input); free(s.truths);
    return rc;
}

/* --- with a GPU: Darknet's own training-mode forward ----------------- */

#ifdef GPU
/* The forward's batch mean and variance of layer l's BN input (x_gpu) into
 * l->mean and l->variance, as the CPU defines them (Darknet's
 * fast_mean/variance kernels: variance over batch*spatial - 1; with cuDNN,
 * l->variance_gpu would hold an inverse deviation instead). */
static void pull_batch_stats(layer *l)
{
    int spatial = l->out_h * l->out_w;
    fast_mean_gpu(l->x_gpu, l->batch, l->out_c, spatial, l->mean_gpu);
    fast_variance_gpu(l->x_gpu, l->mean_gpu, l->batch, l->out_c, spatial, l->variance_gpu);
    cuda_pull_array(l->mean_gpu, l->mean, l->out_c);
    cuda_pull_array(l->variance_gpu, l->variance, l->out_c);
}

static int gpu_forward(network *net, const legr_valset *vs, int first, int n, int truth,
                       legr_bigbatch_acc *a, char *err, size_t errlen)
{
    if (n > net->batch) return legr_fail(err, errlen, "a batch of %d images on a network of batch %d", n, net->batch);
    int batch = net->batch;
    set_batch_network(net, n);
    int rc = legr_valset_fill(net, vs, first, 1, err, errlen);
    if (rc == 0) {
        int muted = legr_mute_stdout();
        network orig = *net;
        net->train = 1;
        net->delta = 0;
        forward_network(net);
        *net = orig;
        legr_unmute_stdout(muted);
        for (int i = 0; i < net->n; ++i) {
            layer *l = &net->layers[i];
            if (truth && l->cost) a->cost += l->cost[0];
            if (!a->bn[i].mean) continue;
            pull_batch_stats(l);
            legr_bn_acc_add(&a->bn[i], l->mean, l->variance, l->out_c, (double)n * l->out_h * l->out_w);
        }
    }
    set_batch_network(net, batch);
    return rc;
}
#endif

int legr_bigbatch_forward(network *net, const legr_valset *vs, int first, int n, int fb, int truth,
                          legr_bigbatch_acc *a, char *err, size_t errlen)
{
    if (n <= 0 || vs->n_images == 0) return 0;
#ifdef GPU
    if (net->gpu_index >= 0) return gpu_forward(net, vs, first, n, truth, a, err, errlen);
#endif
    return cpu_forward(net, vs, first, n, fb, truth, a, err, errlen);
}
