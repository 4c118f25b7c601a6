/* bench.c: forward latency.  Each timed pass runs the layers as Darknet's
 * network_predict does (patches/inference-without-delta-bookkeeping.patch:
 * forward_layer_inference, no delta zeroing), with a clock around
 * every layer, so the whole-pass and per-layer figures come from the
 * same passes.  Several networks are timed side by side, in short turns
 * (bench.h), so that a busy spell of the machine hits them alike.
 * Medians, not means: a pass that the machine interrupts moves the mean,
 * not the median. */
#include "bench.h"
#include "gemm.h"
#include "threads.h"
#include "util.h"
#include "compat.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

legr_bench_opts legr_bench_defaults(void)
{
    legr_bench_opts o = { 20, 3, 1, 5 };
    return o;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One forward pass; layer_ms[i] receives layer i's time. */
static double timed_pass(network *net, const float *input, double *layer_ms)
{
    double start = now_ms();
    network n = *net;
    memcpy(net->input, input, (size_t)net->inputs * sizeof(float));
    n.input = net->input;
    n.train = 0;
    n.delta = 0;
    for (int i = 0; i < n.n; ++i) {
        double t = now_ms();
        n.index = i;
        layer l = n.layers[i];
        forward_layer_inference(l, n);
        n.input = l.output;
        if (l.truth) n.truth = l.output;
        layer_ms[i] = now_ms() - t;
    }
    return now_ms() - start;
}

static int is_detector(const network *net)
{
    for (int i = 0; i < net->n; ++i)
        if (net->layers[i].type == YOLO || net->layers[i].type == REGION ||
            net->layers[i].type == DETECTION) return 1;
    return 0;
}

/* Boxes and NMS as `detector test` does them, for the last pass's output. */
static double timed_decode(network *net)
{
    double t = now_ms();
    int nboxes = 0;
    detection *d = get_network_boxes(net, net->w, net->h, .25f, .5f, 0, 1, &nboxes);
    layer l = net->layers[net->n - 1];
    if (nboxes && l.classes > 0) do_nms_sort(d, nboxes, l.classes, .45f);
    free_detections(d, nboxes);
    return now_ms() - t;
}

/* Per network: the input, and every pass's figures. */
typedef struct { float *input; double *layers, *pass, *decode; int detector, batch; } samples;

static void free_samples(samples *s)
{
    free(s->input); free(s->layers); free(s->pass); free(s->decode);
}

static int alloc_samples(samples *s, network *net, int runs)
{
    memset(s, 0, sizeof(*s));
    s->input = legr_calloc(net->inputs, sizeof(float));
    s->layers = legr_calloc((size_t)runs * net->n, sizeof(double));
    s->pass = legr_calloc(runs, sizeof(double));
    s->decode = legr_calloc(runs, sizeof(double));
    if (!s->input || !s->layers || !s->pass || !s->decode) return -1;
    for (int i = 0; i < net->inputs; ++i) s->input[i] = (float)(((unsigned)i * 7919u) % 256u) / 255.f;
    s->detector = is_detector(net);
    return 0;
}

static int summarise(const samples *s, const network *net, int runs, int threads,
                     legr_bench_result *r)
{
    int n = net->n;
    double *col = legr_calloc(runs, sizeof(double));
    r->layer_ms = legr_calloc(n, sizeof(double));
    if (!col || !r->layer_ms) { free(col); return -1; }
    for (int i = 0; i < n; ++i) {
        for (int k = 0; k < runs; ++k) col[k] = s->layers[(size_t)k * n + i];
        r->layer_ms[i] = median(col, runs);
    }
    r->n_layers = n;
    r->decode_ms = median(s->decode, runs);
    r->median_ms = median(s->pass, runs);       /* sorts pass */
    r->min_ms = s->pass[0];
    r->max_ms = s->pass[runs - 1];
    r->threads = threads;
    free(col);
    return 0;
}

int legr_bench_forward(network **nets, int n_nets, const legr_bench_opts *o,
                       legr_bench_result *r, char *err, size_t errlen)
{
    memset(r, 0, n_nets * sizeof(*r));
    if (o->runs < 1 || o->warmup < 0 || o->threads < 0 || o->turn < 1)
        return legr_fail(err, errlen, "bench: runs >= 1, warmup >= 0, threads >= 0 and turn >= 1");
    samples *s = legr_calloc(n_nets, sizeof(samples));
    int rc = s ? 0 : -1;
    for (int j = 0; j < n_nets && rc == 0; ++j) {
        rc = alloc_samples(&s[j], nets[j], o->runs);
        s[j].batch = nets[j]->batch;
        set_batch_network(nets[j], 1);
    }
    if (rc == 0) {
        int before = legr_threads_current();     /* put back after timing */
        if (o->threads > 0) gemm_cpu_set_threads(o->threads);
        for (int k = 0; k < o->warmup; ++k)
            for (int j = 0; j < n_nets; ++j) timed_pass(nets[j], s[j].input, s[j].layers);
        for (int k0 = 0; k0 < o->runs; k0 += o->turn)
            for (int j = 0; j < n_nets; ++j) {
                network *net = nets[j];
                int end = k0 + o->turn < o->runs ? k0 + o->turn : o->runs;
                /* untimed: back to this network's data in the caches (its
                 * figures are overwritten by the first timed pass) */
                if (n_nets > 1 && o->turn > 1) timed_pass(net, s[j].input, s[j].layers + (size_t)k0 * net->n);
                for (int k = k0; k < end; ++k) {
                    s[j].pass[k] = timed_pass(net, s[j].input, s[j].layers + (size_t)k * net->n);
                    s[j].decode[k] = s[j].detector ? timed_decode(net) : 0;
                }
            }
        if (o->threads > 0) gemm_cpu_set_threads(before);
        for (int j = 0; j < n_nets && rc == 0; ++j)
            rc = summarise(&s[j], nets[j], o->runs, o->threads > 0 ? o->threads : before, &r[j]);
    }
    /* back to the batch each was built with (its buffers' size) */
    for (int j = 0; s && j < n_nets; ++j) {
        if (s[j].batch > 0) set_batch_network(nets[j], s[j].batch);
        free_samples(&s[j]);
    }
    free(s);
    if (rc != 0) {
        for (int j = 0; j < n_nets; ++j) legr_bench_free(&r[j]);
        return legr_fail(err, errlen, "bench: out of memory");
    }
    return 0;
}

void legr_bench_free(legr_bench_result *r)
{
    free(r->layer_ms);
    memset(r, 0, sizeof(*r));
}

int legr_bench_median(network *net, const legr_bench_opts *o, double *ms, char *err, size_t errlen)
{
    legr_bench_result r;
    if (legr_bench_forward(&net, 1, o, &r, err, errlen) != 0) return -1;
    *ms = r.median_ms;
    legr_bench_free(&r);
    return 0;
}
