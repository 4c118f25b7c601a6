/* test_opencv.c: OpenCV's DNN module (cv::dnn::readNetFromDarknet, Debian's
 * libopencv-dnn 4.6) loads the pairs legr writes and computes what Darknet
 * computes on them.
 *
 * For yolov3-tiny (Debian's cfg at 160x160, random weights from
 * `darknet legr init`), the zoo's Yolo-Fastest 1.1 (320x320, real weights;
 * skipped when the zoo is absent) and the demo detector
 * (cfg/fashion-det.cfg + models/fashion-det.weights, 160x160), each pair
 *   - the original,
 *   - `legr prune <cfg> <weights> 0.5`,
 *   - `legr prune <cfg> <weights> 0.5 -recover 4 -bn 1 -images <4 images>`
 * is run by build/tests/opencv_forward (tests/opencv_forward.cpp, linked with
 * OpenCV only) and by our libdarknet on the same input: dog.jpg letterboxed
 * to the network's size as `darknet detector test` feeds network_predict,
 * written once to a file both read.  Compared:
 *   - every layer's output but the [yolo] ones (OpenCV with fusion off), in
 *     Darknet's CHW layout, which is OpenCV's NCHW; among them each [yolo]
 *     head's raw input, the linear conv before it;
 *   - every [yolo] output (OpenCV as a user runs it, fusion on), which OpenCV
 *     gives decoded: one row per cell and anchor, (col + sigmoid(tx)) / W,
 *     (row + sigmoid(ty)) / H, exp(tw) * anchor_w / net_w,
 *     exp(th) * anchor_h / net_h, sigmoid(obj), then class scores
 *     obj * sigmoid(class) zeroed below the [yolo]'s thresh= (0.2 by
 *     default) and by OpenCV's per-class NMS (nms_threshold=, 0.4).
 *     Darknet's [yolo] output is decoded the same way here (as get_yolo_box
 *     does); the class scores are checked as: every score OpenCV kept is
 *     Darknet's obj * p, and each class's best score over the head is the
 *     same on both sides (NMS never drops a class's best box).
 *
 * Tolerance: max |darknet - opencv| <= tol * max(1, max |darknet|,
 * max |opencv|) per layer output; decoded [yolo] values get what that
 * tolerance on their raw input lets through (compare_yolo).  Both compute in
 * float32 with different summation orders, and OpenCV's importer normalises
 * batch norm as (x - mean) / sqrt(var + 1e-6) where Darknet computes
 * (x - mean) / (sqrt(var) + 1e-6): a relative difference of about
 * 1e-6 / (2 var) per channel, 5e-4 on Yolo-Fastest's layer 5 (var 9e-4),
 * unbounded as var -> 0.  So each pair is run by OpenCV twice:
 *   - as written, tol REL_TOL = 3e-3 (measured worst: 8e-4, the
 *     recovered Yolo-Fastest, whose heads reach 600);
 *   - with each variance v rewritten to (sqrt(v) + 1e-6)^2 - 1e-6, which
 *     makes OpenCV's normalisation Darknet's exactly: tol REL_TOL_EPS = 1e-4
 *     (measured worst 1e-5), i.e. apart from that epsilon the two agree to
 *     float rounding on every layer.
 * Each pruned pair's final output differs from the original's beyond the
 * tolerance, so matching it is not matching the original twice. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define REL_TOL 3e-3
#define REL_TOL_EPS 1e-4
#define SAMPLES "/usr/share/darknet/data/"
/* OpenCV's default [yolo] thresh= (darknet_io.cpp); Darknet ignores the key */
#define YOLO_THRESH_DEFAULT 0.2

typedef struct {
    const char *name;
    const char *cfg;        /* a path, or relative to the zoo when zoo = 1 */
    const char *weights;    /* likewise; NULL: random, from `legr init` */
    int zoo;
    int size;               /* [net] width = height for the copy; 0: as it is */
    unsigned seed;
    const char *images;     /* -recover's images: a zoo folder, NULL: Debian's samples */
} ocv_model;

static const ocv_model YOLOV3_TINY = {
    "yolov3-tiny", TU_STOCK_CFG "/yolov3-tiny.cfg", NULL, 0, 160, 17, NULL};
/* Recovered on COCO images: on Debian's four sample pictures, the default
 * ridge (1e-4) gives Yolo-Fastest heads of 4e4 on dog.jpg (exp() of them
 * overflows on both sides), a fit that does not generalise, not an OpenCV
 * difference. */
static const ocv_model YOLO_FASTEST = {
    "yolo-fastest", "yolo-fastest-1.1-coco/yolo-fastest-1.1.cfg",
    "yolo-fastest-1.1-coco/yolo-fastest-1.1.weights", 1, 0, 0, "coco128-train/images/train2017"};
static const ocv_model FASHION_DET = {
    "fashion-det", "cfg/fashion-det.cfg", "models/fashion-det.weights", 0, 0, 0, NULL};

/* Worst relative difference (max|a-b| / max(1, max|a|, max|b|)) seen. */
typedef struct {
    double worst;
    char where[96];
} ocv_worst;

static double rel_diff(const float *a, const float *b, size_t n)
{
    double d = tu_max_abs_diff(a, b, n), ma = tu_max_abs(a, n), mb = tu_max_abs(b, n);
    double scale = ma > mb ? ma : mb;
    if (!isfinite(d) || !isfinite(scale)) return INFINITY;
    return d / (scale > 1 ? scale : 1);
}

static void note_worst(ocv_worst *w, double rel, int i, const char *kind)
{
    if (rel > w->worst || w->where[0] == 0) {
        w->worst = rel;
        snprintf(w->where, sizeof(w->where), "layer %d %s", i, kind);
    }
}

static const char *layer_kind(LAYER_TYPE t)
{
    switch (t) {
    case CONVOLUTIONAL: return "convolutional";
    case MAXPOOL: return "maxpool";
    case ROUTE: return "route";
    case SHORTCUT: return "shortcut";
    case UPSAMPLE: return "upsample";
    case DROPOUT: return "dropout";
    case YOLO: return "yolo";
    default: return "other";
    }
}

/* --------------------------------------------------------- opencv_forward */

/* One output as opencv_forward wrote it: pass 1 is the network as a user
 * runs it (fusion on; its unconnected outputs, the [yolo] heads), pass 2 one
 * output per Darknet layer with fusion off. */
typedef struct {
    int index;
    int pass;
    int count;
    const float *data;
} ocv_blob;

/* Parses out.bin into blobs[0..n) (pointing into buf); the count, or -1. */
static int parse_blobs(const char *buf, size_t len, ocv_blob *blobs, int max)
{
    size_t pos = 0;
    int n = 0;
    while (pos < len) {
        int32_t hdr[3];
        if (n == max || len - pos < sizeof(hdr)) return -1;
        memcpy(hdr, buf + pos, sizeof(hdr));
        pos += sizeof(hdr);
        if (hdr[2] < 0 || (len - pos) / sizeof(float) < (size_t)hdr[2]) return -1;
        blobs[n].index = hdr[0];
        blobs[n].pass = hdr[1];
        blobs[n].count = hdr[2];
        blobs[n].data = (const float *)(buf + pos);
        pos += (size_t)hdr[2] * sizeof(float);
        ++n;
    }
    return n;
}

/* Runs opencv_forward on cfg/weights with `in` as input, asking for every
 * layer's output; returns out.bin's bytes (malloc'd), failing the test with
 * OpenCV's message if it refuses the pair. */
static char *run_opencv(const char *cfg, const char *weights, const char *in,
                        const char *out, int n_layers, size_t *len)
{
    char *qc = tu_quote(cfg), *qw = tu_quote(weights), *qi = tu_quote(in), *qo = tu_quote(out);
    char *cmd = tu_fmt("%s %s %s %s %s", TU_OPENCV_FORWARD, qc, qw, qi, qo), *t;
    char *sout = NULL, *serr = NULL, *data;
    int i, rc;
    for (i = 0; i < n_layers; ++i) {
        t = tu_fmt("%s %d", cmd, i);
        free(cmd);
        cmd = t;
    }
    rc = tu_run(cmd, &sout, &serr);
    if (rc != 0) fail_msg("OpenCV cannot run %s + %s (exit %d):\n%s", cfg, weights, rc, serr);
    data = tu_read_file(out, len);
    assert_non_null(data);
    free(qc); free(qw); free(qi); free(qo); free(cmd); free(sout); free(serr);
    return data;
}

/* ------------------------------------------------------------------- [yolo] */

/* The [yolo] section's thresh= (OpenCV reads it, Darknet does not), from the
 * cfg's section for layer i. */
static double yolo_thresh(const char *cfg, int i)
{
    tu_cfg c;
    double t = YOLO_THRESH_DEFAULT;
    assert_int_equal(tu_cfg_parse(cfg, &c), 0);
    if (i + 1 < c.n) {
        const char *v = tu_cfg_get(&c.sec[i + 1], "thresh");
        assert_string_equal(c.sec[i + 1].type, "[yolo]");
        if (v) t = atof(v);
    }
    tu_cfg_free(&c);
    return t;
}

/* Largest |a - b| and largest |a - b| / tol over the pairs added. */
typedef struct {
    double diff;
    double ratio;
} ocv_gap;

static void gap_add(ocv_gap *g, double a, double b, double tol)
{
    double d = fabs(a - b);
    if (d != d) d = INFINITY;
    if (d > g->diff) g->diff = d;
    if (d / tol > g->ratio) g->ratio = d / tol;
}

/* Compares OpenCV's decoded rows `cv` for [yolo] layer l (index i) with
 * Darknet's output of it; prints one line (when `print`, or on a mismatch);
 * returns the number of failed checks.
 *
 * The decoded values are compared with what the tolerance on their raw
 * input (the conv before the [yolo], rel * max(1, max |raw|)) lets
 * through: a sigmoid moves at most 1/4 of its input's change, exp() by
 * a factor expm1(change).  So a network whose heads are large (a loosely
 * fitted reconstruction reaches 600) is judged by its raw outputs, and the
 * decoded check still catches anchors, masks or class offsets read wrongly
 * (errors of whole units or factors). */
static int compare_yolo(const network *net, int i, const float *cv, double thresh, double rel,
                        int print, double *worst_ratio)
{
    const layer *l = &net->layers[i];
    const int A = l->n, C = l->classes, W = l->w, H = l->h, cell = 5 + C, hw = W * H;
    const int rows = A * hw;
    const float *dn = l->output;
    const float *raw = net->layers[i - 1].output;
    double raw_max = tu_max_abs(raw, (size_t)l->outputs);
    double tol_raw = rel * (raw_max > 1 ? raw_max : 1);
    double tol_xy = rel + 0.25 * tol_raw / (W < H ? W : H);
    double tol_obj = rel + 0.25 * tol_raw, tol_cls = rel + 0.5 * tol_raw;
    double wh_max = 0;
    ocv_gap xy = {0, 0}, wh = {0, 0}, ob = {0, 0}, cls = {0, 0};
    int bad = 0, kept = 0, classes_seen = 0, x, y, a, j, r;
    float *dwh = malloc(sizeof(float) * 2 * rows);

    for (r = 0; r < rows; ++r) {
        int aa = r % A, yy = (r / A) / W, xx = (r / A) % W;
        const float *e = dn + (size_t)aa * cell * hw + yy * W + xx;
        dwh[2 * r] = expf(e[2 * hw]) * l->biases[2 * l->mask[aa]] / net->w;
        dwh[2 * r + 1] = expf(e[3 * hw]) * l->biases[2 * l->mask[aa] + 1] / net->h;
    }
    wh_max = tu_max_abs(dwh, 2 * (size_t)rows);
    if (!isfinite(wh_max)) {
        printf("    layer %3d yolo: Darknet's own w,h overflow (exp of a raw value up to %.3g): "
               "the pair is degenerate, which no comparison can judge\n", i, raw_max);
        ++bad;
    }
    for (y = 0; y < H; ++y)
        for (x = 0; x < W; ++x)
            for (a = 0; a < A; ++a) {
                int row = (y * W + x) * A + a;
                const float *e = dn + (size_t)a * cell * hw + y * W + x;   /* entry k: e[k*hw] */
                const float *o = cv + (size_t)row * cell;
                gap_add(&xy, (x + e[0]) / W, o[0], tol_xy);
                gap_add(&xy, (y + e[hw]) / H, o[1], tol_xy);
                for (j = 0; j < 2; ++j)
                    gap_add(&wh, dwh[2 * row + j], o[2 + j],
                            rel * (wh_max > 1 ? wh_max : 1) +
                            fabs(dwh[2 * row + j]) * expm1(tol_raw));
                gap_add(&ob, e[4 * hw], o[4], tol_obj);
                for (j = 0; j < C; ++j) {
                    if (o[5 + j] == 0) continue;   /* under thresh, or NMS */
                    ++kept;
                    gap_add(&cls, (double)e[4 * hw] * e[(5 + j) * hw], o[5 + j], tol_cls);
                }
            }
    /* each class's best score over the head: NMS never drops it */
    for (j = 0; j < C; ++j) {
        double dbest = 0, cbest = 0;
        for (r = 0; r < rows; ++r) {
            int aa = r % A, yy = (r / A) / W, xx = (r / A) % W;
            const float *e = dn + (size_t)aa * cell * hw + yy * W + xx;
            double p = (double)e[4 * hw] * e[(5 + j) * hw];
            if (p > dbest) dbest = p;
            if (cv[(size_t)r * cell + 5 + j] > cbest) cbest = cv[(size_t)r * cell + 5 + j];
        }
        if (fabs(dbest - thresh) <= tol_cls) continue;   /* too close to call */
        if (dbest > thresh) ++classes_seen;
        gap_add(&cls, dbest > thresh ? dbest : 0, cbest, tol_cls);
    }
    bad += !(xy.ratio <= 1) + !(wh.ratio <= 1) + !(ob.ratio <= 1) + !(cls.ratio <= 1);
    if (print || bad)
        printf("    layer %3d yolo %dx%dx%d%s: max|a-b| x,y %.2g  w,h %.2g  obj %.2g  "
               "class scores %.2g (%d kept by OpenCV, %d classes over thresh %.2g); "
               "worst %.2g of its tolerance %s\n",
               i, W, H, A, print ? "" : " (fusion off)", xy.diff, wh.diff, ob.diff, cls.diff,
               kept, classes_seen, thresh,
               fmax(fmax(xy.ratio, wh.ratio), fmax(ob.ratio, cls.ratio)),
               bad ? "MISMATCH" : "ok");
    *worst_ratio = fmax(*worst_ratio, fmax(fmax(xy.ratio, wh.ratio), fmax(ob.ratio, cls.ratio)));
    free(dwh);
    return bad;
}

/* -------------------------------------------------------------- one pair */

/* Writes `out`: the weights of cfg/weights with each batch-norm variance v
 * replaced by (sqrt(v) + 1e-6)^2 - 1e-6, so that OpenCV's normalisation,
 * (x - mean) / sqrt(v' + 1e-6), is Darknet's, (x - mean) / (sqrt(v) + 1e-6).
 * Returns the number of channels that cannot be matched (v below about
 * 1e-6, where v' would not be positive; they keep v). */
static int write_eps_matched(const char *cfg, const char *weights, const char *out)
{
    network *net = tu_load(cfg, weights);
    int i, j, unmatched = 0;
    assert_non_null(net);
    for (i = 0; i < net->n; ++i) {
        layer *l = &net->layers[i];
        if (!l->batch_normalize || l->type != CONVOLUTIONAL) continue;
        for (j = 0; j < l->n; ++j) {
            double s = sqrt((double)l->rolling_variance[j]) + 1e-6, v = s * s - 1e-6;
            if (v > 0) l->rolling_variance[j] = (float)v;
            else ++unmatched;
        }
    }
    tu_quiet_begin();
    save_weights(net, (char *)out);
    tu_quiet_end();
    free_network(net);
    assert_true(tu_exists(out));
    return unmatched;
}

/* Compares OpenCV's outputs (out.bin's bytes) with Darknet's, already run
 * on net; prints the heads (when `print`), mismatches and one summary line.
 * Returns the number of failed checks. */
static int compare_outputs(const network *net, const char *cfg, const char *data, size_t len,
                           double rel, int print, const char *what)
{
    ocv_worst worst = {0, ""}, rest = {0, ""};
    ocv_blob *blobs;
    double decoded = 0;
    int n, i, b, heads = 0, bad = 0, others = 0;

    for (i = 0; i < net->n; ++i) heads += net->layers[i].type == YOLO;
    blobs = malloc(sizeof(ocv_blob) * (size_t)(net->n + heads));
    n = parse_blobs(data, len, blobs, net->n + heads);
    if (n != net->n + heads)
        fail_msg("%s: opencv_forward wrote %d outputs, expected %d [yolo] heads + %d layers",
                 cfg, n, heads, net->n);
    for (b = 0; b < n; ++b) {
        const ocv_blob *o = &blobs[b];
        const layer *l;
        double r;
        i = o->index;
        /* the heads first (pass 1), then layer 0, 1, ... (pass 2) */
        if (o->pass != (b < heads ? 1 : 2) || (b >= heads && i != b - heads) || i < 0 ||
            i >= net->n || (b < heads && net->layers[i].type != YOLO))
            fail_msg("%s: opencv_forward's output %d is layer %d (pass %d), not what was asked",
                     cfg, b, i, o->pass);
        l = &net->layers[i];
        if (o->count != l->outputs)
            fail_msg("%s layer %d (%s): OpenCV's output has %d floats, Darknet's %d", cfg, i,
                     layer_kind(l->type), o->count, l->outputs);
        if (l->type == YOLO) {
            if (o->pass == 2) ++others;
            bad += compare_yolo(net, i, o->data, yolo_thresh(cfg, i), rel, print && o->pass == 1,
                                &decoded);
            continue;
        }
        r = rel_diff(l->output, o->data, (size_t)l->outputs);
        if (i + 1 < net->n && net->layers[i + 1].type == YOLO) {
            if (print || !(r <= rel))
                printf("    layer %3d %s (raw [yolo] input) %d floats: max|a|=%.4g "
                       "max|a-b| rel %.2g %s\n", i, layer_kind(l->type), l->outputs,
                       tu_max_abs(l->output, l->outputs), r, r <= rel ? "ok" : "MISMATCH");
            note_worst(&worst, r, i, layer_kind(l->type));
        } else {
            ++others;
            note_worst(&rest, r, i, layer_kind(l->type));
            if (!(r <= rel) || getenv("LEGR_TEST_VERBOSE"))
                printf("    layer %3d %s: max|a|=%.4g max|a-b| rel %.3g %s\n", i,
                       layer_kind(l->type), tu_max_abs(l->output, l->outputs), r,
                       r <= rel ? "ok" : "MISMATCH");
        }
        bad += !(r <= rel);
    }
    printf("    %s, tolerance %.0e: raw [yolo] inputs worst %.2g (%s); decoded [yolo] worst "
           "%.2g of their tolerance; %d other layers (fusion off) worst %.2g (%s) %s\n",
           what, rel, worst.worst, worst.where, decoded, others, rest.worst, rest.where,
           bad ? "MISMATCH" : "ok");
    free(blobs);
    return bad;
}

/* Runs cfg/weights through our Darknet and through OpenCV on dog.jpg, OpenCV
 * once with the weights as they are and once with the batch-norm epsilon
 * matched (see the top of the file), and compares every layer.  Returns a
 * malloc'd copy of Darknet's final output (*n_final floats). */
static float *assert_opencv_matches(const char *dir, const char *tag, const char *cfg,
                                    const char *weights, size_t *n_final)
{
    const char *slash = strrchr(cfg, '/');
    char *base = strndup(slash ? slash + 1 : cfg, strcspn(slash ? slash + 1 : cfg, "."));
    char *in = tu_fmt("%s/%s-in.bin", dir, base), *out = tu_fmt("%s/%s-opencv.bin", dir, base);
    char *mw = tu_fmt("%s/%s-eps-matched.weights", dir, base);
    char *mout = tu_fmt("%s/%s-eps-matched-opencv.bin", dir, base);
    network *net = tu_load(cfg, weights);
    float *x, *final;
    char *data, *mdata;
    size_t len = 0, mlen = 0;
    int bad, unmatched;

    assert_non_null(net);
    set_batch_network(net, 1);
    x = tu_letterbox_input(TU_DOG_JPG, net->w, net->h);
    assert_non_null(x);
    assert_int_equal(tu_write_chw(in, x, net->c, net->h, net->w), 0);
    data = run_opencv(cfg, weights, in, out, net->n, &len);
    unmatched = write_eps_matched(cfg, weights, mw);
    mdata = run_opencv(cfg, mw, in, mout, net->n, &mlen);
    network_predict(net, x);
    printf("  %s (%s, %dx%d): OpenCV loads it\n", tag, cfg, net->w, net->h);
    bad = compare_outputs(net, cfg, data, len, REL_TOL, 1, "as written");
    bad += compare_outputs(net, cfg, mdata, mlen, REL_TOL_EPS, 0, "BN epsilon matched");
    if (unmatched) {
        printf("    %d batch-norm channels have a variance below 1e-6 (OpenCV cannot match "
               "Darknet's epsilon there)\n", unmatched);
        ++bad;
    }
    *n_final = (size_t)net->outputs;
    final = malloc(sizeof(float) * (size_t)net->outputs);
    memcpy(final, net->output, sizeof(float) * (size_t)net->outputs);
    assert_true(tu_max_abs(final, *n_final) > 0);
    free_network(net);
    free(data); free(mdata); free(x); free(in); free(out); free(mw); free(mout); free(base);
    if (bad) fail_msg("OpenCV's forward pass on %s differs from Darknet's (%d checks)", cfg, bad);
    return final;
}

/* ------------------------------------------------------------- the models */

static void run_ok(const char *cmd)
{
    char *out = NULL, *err = NULL;
    int rc = tu_run(cmd, &out, &err);
    if (rc != 0) fail_msg("`%s` exited %d:\n%s", cmd, rc, err);
    free(out);
    free(err);
}

/* Four unlabelled images for -recover, listed in dir/images.txt. */
static char *image_list(const char *dir, const ocv_model *m)
{
    static const char *const samples[] = {"eagle.jpg", "giraffe.jpg", "horses.jpg", "person.jpg"};
    static const char *const coco[] = {"000000000009.jpg", "000000000025.jpg",
                                       "000000000030.jpg", "000000000034.jpg"};
    char *path = tu_path(dir, "images.txt");
    FILE *fp = fopen(path, "w");
    size_t i;
    assert_non_null(fp);
    for (i = 0; i < 4; ++i) {
        char *img;
        if (m->images) {
            char *rel = tu_fmt("%s/%s", m->images, coco[i]);
            img = tu_zoo_file(rel);
            free(rel);
            assert_non_null(img);
        } else {
            img = tu_fmt(SAMPLES "%s", samples[i]);
        }
        fprintf(fp, "%s\n", img);
        free(img);
    }
    assert_int_equal(fclose(fp), 0);
    return path;
}

/* The pruned pair's final output is not the original's (within tolerance). */
static void assert_differs(const char *what, const float *orig, const float *pruned, size_t n)
{
    double r = rel_diff(orig, pruned, n);
    printf("  %s vs original, final output: max|a-b| rel %.3g (must exceed %.0e)\n", what, r,
           REL_TOL);
    assert_true(r > REL_TOL);
}

/* `legr prune <cfg> <weights> 0.5 -out dir/<name> <extra>`, then the
 * OpenCV comparison of the pair written; Darknet's final output returned. */
static float *prune_and_compare(const char *dir, const char *cfg, const char *weights,
                                const char *name, const char *extra, const char *tag,
                                size_t *n_final)
{
    char *qc = tu_quote(cfg), *qw = tu_quote(weights), *qd = tu_quote(dir);
    char *cmd = tu_fmt("%s legr prune %s %s 0.5 -out %s/%s %s", TU_OUR_DARKNET, qc, qw, qd,
                       name, extra);
    char *pc = tu_fmt("%s/%s-50.cfg", dir, name), *pw = tu_fmt("%s/%s-50.weights", dir, name);
    float *f;
    run_ok(cmd);
    f = assert_opencv_matches(dir, tag, pc, pw, n_final);
    free(qc); free(qw); free(qd); free(cmd); free(pc); free(pw);
    return f;
}

static void check_model(const ocv_model *m)
{
    char *src = m->zoo ? tu_zoo_file(m->cfg) : strdup(m->cfg);
    char *srcw = NULL, *dir, *cfg, *w, *list, *ql, *extra;
    float *f_orig, *f_prune, *f_rec;
    size_t n0, n1, n2;

    if (m->weights) srcw = m->zoo ? (src ? tu_zoo_file(m->weights) : NULL) : strdup(m->weights);
    if (!src || (m->weights && !srcw)) {
        printf("SKIP: %s needs the test zoo\n", m->name);
        free(src);
        skip();
        return;
    }
    dir = tu_mkdtemp("opencv");
    cfg = tu_fmt("%s/%s.cfg", dir, m->name);
    assert_int_equal(tu_cfg_copy(src, cfg, m->size, m->size), 0);   /* batch=1 */
    w = srcw ? strdup(srcw) : tu_fmt("%s/%s.weights", dir, m->name);
    if (!srcw) {
        char *qc = tu_quote(cfg), *qw = tu_quote(w);
        char *cmd = tu_fmt("%s legr init %s %s -seed %u", TU_OUR_DARKNET, qc, qw, m->seed);
        run_ok(cmd);
        free(qc); free(qw); free(cmd);
    }
    f_orig = assert_opencv_matches(dir, "original", cfg, w, &n0);
    f_prune = prune_and_compare(dir, cfg, w, "pruned", "", "pruned-50", &n1);
    list = image_list(dir, m);
    ql = tu_quote(list);
    extra = tu_fmt("-recover 4 -bn 1 -images %s", ql);
    f_rec = prune_and_compare(dir, cfg, w, "recovered", extra, "recovered-50 (-recover 4 -bn 1)",
                              &n2);
    assert_int_equal(n0, n1);
    assert_int_equal(n0, n2);
    assert_differs("pruned-50", f_orig, f_prune, n0);
    assert_differs("recovered-50", f_orig, f_rec, n0);

    tu_rmtree(dir);
    free(f_orig); free(f_prune); free(f_rec);
    free(src); free(srcw); free(dir); free(cfg); free(w); free(list); free(ql); free(extra);
}

static void test_yolov3_tiny(void **state) { check_model(&YOLOV3_TINY); }
static void test_yolo_fastest(void **state) { check_model(&YOLO_FASTEST); }
static void test_fashion_det(void **state) { check_model(&FASHION_DET); }

/* A cfg OpenCV must refuse (a [deconvolutional] layer, which Darknet has and
 * OpenCV's importer does not): opencv_forward says so on one line, exits 1
 * and writes nothing, so a refusal of one of our pairs is reported as such. */
static void test_refusal_reported(void **state)
{
    char *dir = tu_mkdtemp("opencv-bad");
    char *cfg = tu_path(dir, "bad.cfg"), *in = tu_path(dir, "in.bin"), *out = tu_path(dir, "out.bin");
    char *cmd, *sout = NULL, *serr = NULL;
    float x[3 * 32 * 32] = {0};
    int rc;
    assert_int_equal(tu_write_text(cfg,
        "[net]\nwidth=32\nheight=32\nchannels=3\n\n"
        "[deconvolutional]\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=leaky\n"), 0);
    assert_int_equal(tu_write_chw(in, x, 3, 32, 32), 0);
    cmd = tu_fmt("%s %s %s %s %s", TU_OPENCV_FORWARD, cfg, "/dev/null", in, out);
    rc = tu_run(cmd, &sout, &serr);
    printf("  `opencv_forward` on a [deconvolutional] cfg: exit %d, %s", rc, serr);
    assert_int_equal(rc, 1);
    assert_int_equal(tu_count_lines_with_prefix(serr, "opencv_forward: ", NULL), 1);
    assert_false(tu_exists(out));
    tu_rmtree(dir);
    free(dir); free(cfg); free(in); free(out); free(cmd); free(sout); free(serr);
}

int main(void)
{
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusal_reported),
        cmocka_unit_test(test_yolov3_tiny),
        cmocka_unit_test(test_yolo_fastest),
        cmocka_unit_test(test_fashion_det),
    };
    return cmocka_run_group_tests_name("opencv", tests, NULL, NULL);
}
