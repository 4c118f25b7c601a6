/* test_prune.c: end-to-end pruning correctness, the main test of legr.
 *
 * For Debian's yolov3-tiny (ratios 0.7 and 0.5), yolov3 (160x160),
 * yolov2-tiny, darknet19 and resnet18 (96x96), all with seeded random
 * weights, and the zoo's Yolo-Fastest (0.7) and Tiny Darknet (0.5, a weights
 * file with the old 16-byte 0.1 header) with their real weights:
 *   (a) weights: random but sane values written by Darknet's save_weights;
 *   (b) selection: legr_norms_compute + legr_affine_identity + legr_select
 *       at min 0.1 -> the mask reaches FLOPs < ratio * full (and not far
 *       below), prunable groups keep >= legr_floor(n, 0.1), fixed groups keep
 *       everything, the norms equal the squared filter norms computed here,
 *       and no removed filter outranks a kept one of a group above its floor;
 *   (c) surgery: legr_write_pruned -> the .weights file is exactly
 *       20 + 4 * (floats its cfg implies) bytes with a 0.2.0 header and
 *       seen = 0; the .cfg keeps every section and key in order, only
 *       filters=/groups= differ, and they match the mask; stock `darknet ops`
 *       on it prints the FLOPs legr_select reported;
 *   (d) masked forward: the original network with legr_mask_zero_network
 *       applied computes what the pruned pair computes: every [yolo]/[region]
 *       output and the final output agree within 1e-3 relative, and so does
 *       every intermediate layer on its kept channels;
 *   (e) stock compatibility: stock /usr/bin/darknet runs the pruned pair
 *       (`detector test` or `classifier predict`), and stock Darknet's
 *       forward pass on it (build/tests/stock_forward) matches ours.
 * Also: legr_floor's values, and ranking files (legr_ranking_write/read)
 * round-trip a non-trivial affine ranking that legr_select then follows,
 * with `./darknet legr prune` writing byte for byte the library's pair. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"
#include "model.h"
#include "flops.h"
#include "mask.h"
#include "rank.h"
#include "surgery.h"
#include "weights.h"

#define MIN_FRAC 0.1f
#define REL_TOL 1e-3

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double g_t0;

/* Prints how long the step just done took. */
static void step(const char *what)
{
    double t = now();
    printf("  [%5.1fs] %s\n", t - g_t0, what);
    g_t0 = t;
}

typedef struct {
    const char *name;
    const char *cfg;        /* Debian cfg, or a path relative to the zoo */
    const char *weights;    /* zoo weights (relative), NULL: random weights */
    int size;               /* [net] width/height for the copy; 0: unchanged */
    int classifier;         /* 1: classifier predict; 0: detector test */
    float ratios[2];
    int n_ratios;
    unsigned seed;
} prune_case;

static const prune_case CASES[] = {
    {"yolov3-tiny", TU_STOCK_CFG "/yolov3-tiny.cfg", NULL, 320, 0, {0.7f, 0.5f}, 2, 11},
    {"yolov3", TU_STOCK_CFG "/yolov3.cfg", NULL, 160, 0, {0.7f}, 1, 12},
    {"yolov2-tiny", TU_STOCK_CFG "/yolov2-tiny.cfg", NULL, 320, 0, {0.7f}, 1, 13},
    {"darknet19", TU_STOCK_CFG "/darknet19.cfg", NULL, 96, 1, {0.7f}, 1, 14},
    {"resnet18", TU_STOCK_CFG "/resnet18.cfg", NULL, 96, 1, {0.7f}, 1, 15},
    {"yolo-fastest", "yolo-fastest-1.1-coco/yolo-fastest-1.1.cfg",
     "yolo-fastest-1.1-coco/yolo-fastest-1.1.weights", 0, 0, {0.7f}, 1, 0},
    /* real weights with an old 0.1 header (16 bytes, 32-bit seen) */
    {"tiny-darknet", "tiny-darknet-imagenet/tiny.cfg", "tiny-darknet-imagenet/tiny.weights",
     0, 1, {0.5f}, 1, 0},
};

/* ----------------------------------------------------------- (b) selection */

static void check_norms(const network *net, const legr_graph *g, const legr_norms *nr)
{
    int k, j, p, bad = 0;
    assert_int_equal(nr->n_groups, g->n_groups);
    for (k = 0; k < g->n_groups; ++k) {
        const legr_group *gr = &g->groups[k];
        if (gr->fixed) continue;
        assert_non_null(nr->norm[k]);
        for (j = 0; j < gr->n; ++j) {
            double want = 0;
            for (p = 0; p < gr->n_producers; ++p) {
                const layer *l = &net->layers[gr->producers[p]];
                long per = (long)(l->c / l->groups) * l->size * l->size, t;
                const float *w = l->weights + (long)j * per;
                for (t = 0; t < per; ++t) want += (double)w[t] * w[t];
            }
            if (fabs(nr->norm[k][j] - want) > 1e-4 * (want > 1 ? want : 1)) {
                if (bad++ < 5)
                    printf("  group %d filter %d: norm %g, expected %g\n", k, j,
                           (double)nr->norm[k][j], want);
            }
        }
    }
    if (bad) fail_msg("%d filter norms differ from the squared L2 norms of the producers' "
                      "weights", bad);
}

/* scores: alpha_g * norm + kappa_g (a == NULL: the norms themselves) */
static void check_mask(const network *net, const legr_graph *g, const legr_norms *nr,
                       const legr_affine *a, const legr_mask *m, float ratio, long flops)
{
    long full = legr_network_flops(net, g, NULL);
    long f = legr_network_flops(net, g, m);
    int k, j;
    double max_removed = -INFINITY, min_kept = INFINITY;
    int removed = 0;

    printf("  ratio %.2f: %ld of %ld FLOPs (%.4f)\n", ratio, flops, full, (double)flops / full);
    assert_int_equal(f, flops);
    if (!((double)flops < (double)ratio * (double)full))
        fail_msg("FLOPs %ld not below %.2f x %ld", flops, ratio, full);
    if (!((double)flops >= (double)(ratio - 0.05f) * (double)full))
        fail_msg("FLOPs %ld far below the budget %.2f x %ld: pruned too much", flops, ratio,
                 full);
    assert_int_equal(m->n_groups, g->n_groups);
    for (k = 0; k < g->n_groups; ++k) {
        const legr_group *gr = &g->groups[k];
        int sum = 0, fl;
        for (j = 0; j < gr->n; ++j) sum += m->keep[k][j] ? 1 : 0;
        assert_int_equal(sum, m->kept[k]);
        if (gr->fixed) {
            if (m->kept[k] != gr->n)
                fail_msg("fixed group %d (%s) keeps %d of %d", k, gr->why, m->kept[k], gr->n);
            continue;
        }
        fl = legr_floor(gr->n, MIN_FRAC);
        if (m->kept[k] < fl || m->kept[k] > gr->n)
            fail_msg("group %d keeps %d of %d, floor %d", k, m->kept[k], gr->n, fl);
        removed += gr->n - m->kept[k];
        for (j = 0; j < gr->n; ++j) {
            double s = a ? (double)a->alpha[k] * nr->norm[k][j] + a->kappa[k] : nr->norm[k][j];
            if (!m->keep[k][j]) { if (s > max_removed) max_removed = s; }
            else if (m->kept[k] > fl && s < min_kept) min_kept = s;
        }
    }
    printf("  %d filters removed; highest removed score %g, lowest kept score (groups above "
           "their floor) %g\n", removed, max_removed, min_kept);
    assert_true(removed > 0);
    /* global ranking: deletion goes lowest score first */
    if (max_removed > min_kept)
        fail_msg("a removed filter (score %g) outranks a kept one (score %g) of a group "
                 "above its floor", max_removed, min_kept);
}

static void test_floor(void **state)
{
    int n;
    for (n = 2; n <= 1024; ++n) {
        int f = legr_floor(n, MIN_FRAC);
        double want = ceil(MIN_FRAC * (double)n);
        if (want < 2) want = 2;
        /* ceil(0.1 n) may land either side of an exact multiple in float */
        if (f < 2 || f > n || fabs(f - want) > 1 ||
            (n % 10 != 0 && f != (int)want))
            fail_msg("legr_floor(%d, 0.1) = %d, expected %g", n, f, want);
    }
    assert_int_equal(legr_floor(64, 0.5f), 32);
    assert_int_equal(legr_floor(3, 0.5f), 2);
    assert_int_equal(legr_floor(100, 0.25f), 25);
}

/* -------------------------------------------------------------- (c) surgery */

static void check_weights_file(const char *path, const network *pn)
{
    long size = tu_file_size(path);
    char err[1024] = "";
    long lf = legr_network_weight_floats(pn, err, sizeof(err));
    long mine = tu_weight_floats(pn);
    size_t len;
    unsigned char *d = (unsigned char *)tu_read_file(path, &len);
    int32_t v[3];
    uint64_t seen;

    assert_true(lf > 0);
    assert_int_equal(lf, mine);
    printf("  %s: %ld bytes = 20 + 4 x %ld\n", path, size, mine);
    assert_int_equal(size, 20 + 4 * mine);
    assert_non_null(d);
    memcpy(v, d, sizeof(v));
    memcpy(&seen, d + 12, sizeof(seen));
    assert_int_equal(v[0], 0);
    assert_int_equal(v[1], 2);
    assert_int_equal(v[2], 0);
    assert_int_equal(seen, 0);
    free(d);
}

/* The pruned cfg has the input's sections and keys in order; only filters=
 * and groups= of convolutional layers differ, and those match the pruned
 * network Darknet parsed from it. */
static void check_cfg_structure(const char *in, const char *out, const network *pn)
{
    tu_cfg a, b;
    int i, j, changed = 0;
    assert_int_equal(tu_cfg_parse(in, &a), 0);
    assert_int_equal(tu_cfg_parse(out, &b), 0);
    assert_int_equal(a.n, b.n);
    assert_int_equal(a.n, pn->n + 1);
    for (i = 0; i < a.n; ++i) {
        assert_string_equal(a.sec[i].type, b.sec[i].type);
        if (a.sec[i].n != b.sec[i].n)
            fail_msg("%s section %d %s: %d keys, input has %d", out, i, a.sec[i].type,
                     b.sec[i].n, a.sec[i].n);
        for (j = 0; j < a.sec[i].n; ++j) {
            const char *k = a.sec[i].key[j];
            assert_string_equal(k, b.sec[i].key[j]);
            if (i > 0 && pn->layers[i - 1].type == CONVOLUTIONAL &&
                (!strcmp(k, "filters") || !strcmp(k, "groups"))) {
                int want = !strcmp(k, "filters") ? pn->layers[i - 1].n : pn->layers[i - 1].groups;
                assert_int_equal(atoi(b.sec[i].value[j]), want);
                if (strcmp(a.sec[i].value[j], b.sec[i].value[j])) ++changed;
            } else if (strcmp(a.sec[i].value[j], b.sec[i].value[j])) {
                fail_msg("%s section %d %s: %s=%s, input has %s", out, i, a.sec[i].type, k,
                         b.sec[i].value[j], a.sec[i].value[j]);
            }
        }
    }
    printf("  %s: same %d sections and keys as the input, %d filters/groups values changed\n",
           out, a.n, changed);
    assert_true(changed > 0);
    tu_cfg_free(&a);
    tu_cfg_free(&b);
}

static void check_shapes(const network *net, const legr_graph *g, const legr_mask *m,
                         const network *pn)
{
    int i;
    int *filters = malloc(sizeof(int) * net->n), *groups = malloc(sizeof(int) * net->n);
    legr_pruned_shape(net, g, m, filters, groups);
    assert_int_equal(pn->n, net->n);
    for (i = 0; i < net->n; ++i) {
        const layer *o = &net->layers[i], *p = &pn->layers[i];
        assert_int_equal(p->type, o->type);
        if (o->type != CONVOLUTIONAL) continue;
        assert_int_equal(p->n, legr_layer_out_channels(net, g, m, i));
        assert_int_equal(p->c, legr_layer_in_channels(net, g, m, i));
        assert_int_equal(p->out_w, o->out_w);
        assert_int_equal(p->out_h, o->out_h);
        assert_int_equal(filters[i], p->n);
        if (g->role[i] == LEGR_DEPTHWISE) {
            assert_int_equal(groups[i], p->n);
            assert_int_equal(p->groups, p->n);
            assert_int_equal(p->c, p->n);
        } else {
            assert_int_equal(p->groups, o->groups);
            if (groups[i] >= 0) assert_int_equal(groups[i], o->groups);
        }
        {
            /* a conv whose output groups are all fixed keeps all its filters */
            int k, all_fixed = g->n_out[i] > 0;
            for (k = 0; k < g->n_out[i]; ++k)
                if (!g->groups[g->out[i][k]].fixed) all_fixed = 0;
            if (all_fixed || g->role[i] == LEGR_FIXED_CONV) assert_int_equal(p->n, o->n);
        }
    }
    free(filters);
    free(groups);
}

/* ------------------------------------------------------- (d) masked forward */

/* Compares, after both nets ran on the same input, every layer of the
 * masked original (on its kept channels) with the pruned network. */
static int compare_layers(const network *net, const legr_graph *g, const legr_mask *m,
                          const network *pn)
{
    int i, bad = 0, compared = 0;
    for (i = 0; i < net->n; ++i) {
        const layer *o = &net->layers[i], *p = &pn->layers[i];
        int full = legr_blocks_channels(g, NULL, g->out[i], g->n_out[i]);
        long hw = (long)o->out_h * o->out_w;
        float *a = NULL;
        long n;
        int ok;
        char label[96];
        if (g->n_out[i] > 0 && full == o->out_c && (long)o->out_c * hw == o->outputs &&
            hw > 0) {
            int *idx = malloc(sizeof(int) * full);
            int kept = legr_blocks_kept_index(g, m, g->out[i], g->n_out[i], idx), c;
            if ((long)kept * hw != p->outputs) {
                printf("  layer %d (%s): pruned output has %d floats, expected %d x %ld\n", i,
                       legr_layer_name(o->type), p->outputs, kept, hw);
                free(idx);
                ++bad;
                continue;
            }
            a = malloc(sizeof(float) * p->outputs);
            for (c = 0; c < kept; ++c)
                memcpy(a + (long)c * hw, o->output + (long)idx[c] * hw, sizeof(float) * hw);
            free(idx);
            n = p->outputs;
        } else if (o->outputs == p->outputs) {
            a = malloc(sizeof(float) * o->outputs);
            memcpy(a, o->output, sizeof(float) * o->outputs);
            n = o->outputs;
        } else {
            printf("  layer %d (%s): %d outputs, pruned %d, and no channel map\n", i,
                   legr_layer_name(o->type), o->outputs, p->outputs);
            ++bad;
            continue;
        }
        snprintf(label, sizeof(label), "layer %d %s", i, legr_layer_name(o->type));
        {
            double d = tu_max_abs_diff(a, p->output, (size_t)n);
            double s = fmax(tu_max_abs(a, (size_t)n), tu_max_abs(p->output, (size_t)n));
            ok = d <= REL_TOL * fmax(1.0, s);
        }
        if (!ok) {
            tu_close(label, a, p->output, (size_t)n, REL_TOL);
            ++bad;
        }
        ++compared;
        free(a);
    }
    printf("  %d layers compared on their kept channels, %d differ\n", compared, bad);
    return bad;
}

static void masked_forward(const char *cfg, const char *weights, const legr_graph *g,
                           const legr_mask *m, const char *pcfg, const char *pweights,
                           int classifier)
{
    network *orig = tu_load(cfg, weights);
    network *pn = tu_load(pcfg, pweights);
    size_t na = 0, nb = 0;
    float *a, *b;
    int bad, i, heads = 0;

    assert_non_null(orig);
    assert_non_null(pn);
    legr_mask_zero_network(orig, g, m);
    a = tu_forward_dump(orig, &na);
    b = tu_forward_dump(pn, &nb);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(na, nb);
    /* final output, then each head (or a classifier's logits) */
    bad = tu_compare_dumps(orig, a, b, REL_TOL);
    for (i = 0; i < orig->n; ++i)
        if (tu_dumped(orig, i)) ++heads;
    assert_true(heads > 0);
    /* a non-trivial output: not all equal */
    assert_true(tu_max_abs(a, na) > 0);
    bad += compare_layers(orig, g, m, pn);
    free(a);
    free(b);
    free_network(orig);
    free_network(pn);
    if (bad) fail_msg("masked forward of the original differs from the pruned network's "
                      "forward (%d mismatches)", bad);
}

/* -------------------------------------------------------- (e) stock Darknet */

static char *stock_predict(const char *cfg, const char *weights, const char *dir,
                           const char *tag, int classifier, int print)
{
    char *qc = tu_quote(cfg), *qw = tu_quote(weights);
    char *pred = tu_fmt("%s/pred-%s", dir, tag), *qp = tu_quote(pred);
    char *cmd, *out = NULL, *err = NULL;
    int rc;
    if (classifier)
        cmd = tu_fmt("%s classifier predict %s %s %s %s", TU_STOCK_DARKNET, TU_IMAGENET_DATA,
                     qc, qw, TU_DOG_JPG);
    else
        cmd = tu_fmt("%s detector test %s %s %s %s -out %s", TU_STOCK_DARKNET, TU_COCO_DATA,
                     qc, qw, TU_DOG_JPG, qp);
    rc = tu_run(cmd, &out, &err);
    /* (detector test prints "Predicted in" on stdout, classifier predict on
     * stderr) */
    if (rc != 0 || (!strstr(out, "Predicted in") && !strstr(err, "Predicted in"))) {
        printf("  `%s` -> exit %d\n  stdout:\n%.3000s\n  stderr (tail):\n%s\n", cmd, rc, out,
               strlen(err) > 3000 ? err + strlen(err) - 3000 : err);
        fail_msg("stock darknet could not run %s + %s", cfg, weights);
    }
    if (!classifier) {
        char *jpg = tu_fmt("%s.jpg", pred);
        assert_true(tu_file_size(jpg) > 0);
        free(jpg);
    }
    {
        int lines = 0;
        const char *p;
        for (p = out; *p; ++p) if (*p == '\n') ++lines;
        printf("  stock darknet ran %s: exit 0, %d lines of output\n", cfg, lines);
    }
    if (print) printf("%s", out);
    free(cmd);
    free(err);
    free(qc);
    free(qw);
    free(qp);
    free(pred);
    return out;
}

/* ------------------------------------------------ ranking files and the CLI */

static int files_equal(const char *a, const char *b)
{
    size_t la, lb;
    char *da = tu_read_file(a, &la), *db = tu_read_file(b, &lb);
    int eq = da && db && la == lb && memcmp(da, db, la) == 0;
    free(da);
    free(db);
    return eq;
}

/* Runs `./darknet legr prune cfg weights [rank] 0.7 -min 0.1 -out prefix` and
 * checks its pair is byte for byte the one the library writes for `mask`. */
static void cli_matches_library(const legr_model *m, const legr_mask *mask, const char *dir,
                                const char *cfg, const char *weights, const char *rank,
                                const char *tag)
{
    char err[1024] = "";
    char *lib_cfg = tu_fmt("%s/lib-%s.cfg", dir, tag), *lib_w = tu_fmt("%s/lib-%s.weights", dir, tag);
    char *prefix = tu_fmt("%s/cli-%s", dir, tag);
    char *cli_cfg = tu_fmt("%s-70.cfg", prefix), *cli_w = tu_fmt("%s-70.weights", prefix);
    char *qc = tu_quote(cfg), *qw = tu_quote(weights), *qp = tu_quote(prefix);
    char *qr = rank ? tu_quote(rank) : strdup("");
    char *cmd = tu_fmt("%s legr prune %s %s %s 0.7 -min 0.1 -out %s", TU_OUR_DARKNET, qc, qw, qr, qp);
    char *out = NULL, *cerr = NULL;
    int rc;

    if (legr_write_pruned(&m->cfg, m->net, &m->graph, &m->w, mask, lib_cfg, lib_w, err,
                          sizeof(err)) != 0)
        fail_msg("legr_write_pruned: %s", err);
    rc = tu_run(cmd, &out, &cerr);
    if (rc != 0) fail_msg("`%s` exited %d:\n%s", cmd, rc, cerr);
    printf("  `darknet legr prune%s%s` writes the library's pair: ", rank ? " ... " : "",
           rank ? "<ranking>" : "");
    if (!files_equal(lib_cfg, cli_cfg) || !files_equal(lib_w, cli_w)) {
        printf("NO\n");
        fail_msg("%s/%s differ from %s/%s", cli_cfg, cli_w, lib_cfg, lib_w);
    }
    printf("yes\n");
    free(lib_cfg); free(lib_w); free(prefix); free(cli_cfg); free(cli_w);
    free(qc); free(qw); free(qp); free(qr); free(cmd); free(out); free(cerr);
}

/* legr_ranking_write/read round trip with a non-trivial affine ranking;
 * legr_select ranks by alpha * norm + kappa; the CLI, given the ranking file
 * (or none), writes exactly what the library writes. */
static void test_ranking_affine(void **state)
{
    char *dir = tu_mkdtemp("ranking");
    char *cfg = tu_path(dir, "yolov3-tiny.cfg"), *w = tu_path(dir, "yolov3-tiny.weights");
    char *rank = tu_path(dir, "yolov3-tiny.rank");
    char err[1024] = "";
    legr_model m;
    legr_norms nr;
    legr_affine a, b, id;
    legr_mask mask;
    long flops;
    unsigned seed = 12345;
    int k, lines = 0, rc;
    char *text, *p;

    memset(&m, 0, sizeof(m));
    memset(&nr, 0, sizeof(nr));
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    memset(&id, 0, sizeof(id));
    assert_int_equal(tu_cfg_copy(TU_STOCK_CFG "/yolov3-tiny.cfg", cfg, 320, 320), 0);
    assert_int_equal(tu_random_weights(cfg, w, 31), 0);
    tu_quiet_begin();
    rc = legr_model_load(cfg, w, &m, err, sizeof(err));
    tu_quiet_end();
    if (rc != 0) fail_msg("legr_model_load: %s", err);
    assert_int_equal(legr_norms_compute(m.net, &m.graph, &nr), 0);

    /* alpha in [0.5, 2], kappa in [-0.5, 0.5] */
    assert_int_equal(legr_affine_identity(&a, m.graph.n_groups), 0);
    for (k = 0; k < m.graph.n_groups; ++k) {
        double u1, u2;
        seed = seed * 1103515245u + 12345u; u1 = (seed >> 8) / 16777216.0;
        seed = seed * 1103515245u + 12345u; u2 = (seed >> 8) / 16777216.0;
        a.alpha[k] = (float)(0.5 + 1.5 * u1);
        a.kappa[k] = (float)(u2 - 0.5);
    }
    if (legr_ranking_write(rank, cfg, &m.graph, &a, "written by test_prune\nsecond line", err,
                           sizeof(err)) != 0)
        fail_msg("legr_ranking_write: %s", err);

    /* the file: "# " header lines, then one line per prunable group */
    text = tu_read_file(rank, NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "# written by test_prune"));
    assert_non_null(strstr(text, "# second line"));
    for (p = text; p && *p; ) {
        char *e = strchr(p, '\n');
        if (*p != '#' && *p != '\n') {
            int grp, layer, ch;
            float al, ka;
            assert_int_equal(sscanf(p, "%d %d %d %f %f", &grp, &layer, &ch, &al, &ka), 5);
            assert_true(grp >= 0 && grp < m.graph.n_groups);
            assert_false(m.graph.groups[grp].fixed);
            assert_int_equal(layer, m.graph.groups[grp].producers[0]);
            assert_int_equal(ch, m.graph.groups[grp].n);
            ++lines;
        }
        p = e ? e + 1 : NULL;
    }
    assert_int_equal(lines, legr_graph_prunable(&m.graph));
    free(text);

    if (legr_ranking_read(rank, &m.graph, &b, err, sizeof(err)) != 0)
        fail_msg("legr_ranking_read: %s", err);
    assert_int_equal(b.n_groups, m.graph.n_groups);
    for (k = 0; k < m.graph.n_groups; ++k) {
        if (m.graph.groups[k].fixed) continue;
        assert_true(fabsf(a.alpha[k] - b.alpha[k]) <= 1e-6f * fabsf(a.alpha[k]));
        assert_true(fabsf(a.kappa[k] - b.kappa[k]) <= 1e-6f);
    }

    /* selection by the affine scores */
    memset(&mask, 0, sizeof(mask));
    assert_int_equal(legr_mask_init(&mask, &m.graph), 0);
    if (legr_select(m.net, &m.graph, &nr, &b, 0.7f, MIN_FRAC, &mask, &flops, err,
                    sizeof(err)) != 0)
        fail_msg("legr_select: %s", err);
    check_mask(m.net, &m.graph, &nr, &b, &mask, 0.7f, flops);
    cli_matches_library(&m, &mask, dir, cfg, w, rank, "affine");
    legr_mask_free(&mask);

    /* and without a ranking file: plain L2 */
    assert_int_equal(legr_affine_identity(&id, m.graph.n_groups), 0);
    memset(&mask, 0, sizeof(mask));
    assert_int_equal(legr_mask_init(&mask, &m.graph), 0);
    if (legr_select(m.net, &m.graph, &nr, &id, 0.7f, MIN_FRAC, &mask, &flops, err,
                    sizeof(err)) != 0)
        fail_msg("legr_select: %s", err);
    cli_matches_library(&m, &mask, dir, cfg, w, NULL, "l2");
    legr_mask_free(&mask);

    legr_affine_free(&a);
    legr_affine_free(&b);
    legr_affine_free(&id);
    legr_norms_free(&nr);
    legr_model_free(&m);
    tu_rmtree(dir);
    free(dir);
    free(cfg);
    free(w);
    free(rank);
}

/* -round N: every pruned group keeps a multiple of N filters (groups with
 * fewer than N stay whole), the budget is still met, and -round 1 is the
 * plain selection; on a network with [shortcut] groups too. */
static void round_case(const char *src, int size, float ratio)
{
    char *dir = tu_mkdtemp("round");
    char *cfg = tu_path(dir, "net.cfg"), *w = tu_path(dir, "net.weights");
    char err[1024] = "";
    legr_model m;
    legr_norms nr;
    legr_affine id;
    assert_int_equal(tu_cfg_copy(src, cfg, size, size), 0);
    assert_int_equal(tu_random_weights(cfg, w, 5), 0);
    tu_quiet_begin();
    int rc = legr_model_load(cfg, w, &m, err, sizeof(err));
    tu_quiet_end();
    if (rc != 0) fail_msg("legr_model_load: %s", err);
    assert_int_equal(legr_norms_compute(m.net, &m.graph, &nr), 0);
    assert_int_equal(legr_affine_identity(&id, m.graph.n_groups), 0);
    long full = legr_network_flops(m.net, &m.graph, NULL);
    for (int uniform = 0; uniform < 2; ++uniform) {
        legr_mask r1, r8, plain;
        long f1, f8, fp;
        legr_budget b8 = { 8, NULL }, b1 = { 1, NULL };
        rc = uniform ? legr_select_uniform(m.net, &m.graph, &nr, ratio, MIN_FRAC, &b8, &r8, &f8, err, sizeof err)
                     : legr_select_budget(m.net, &m.graph, &nr, &id, ratio, MIN_FRAC, &b8, &r8, &f8, err, sizeof err);
        if (rc != 0) fail_msg("round 8: %s", err);
        rc = uniform ? legr_select_uniform(m.net, &m.graph, &nr, ratio, MIN_FRAC, &b1, &r1, &f1, err, sizeof err)
                     : legr_select_budget(m.net, &m.graph, &nr, &id, ratio, MIN_FRAC, &b1, &r1, &f1, err, sizeof err);
        if (rc != 0) fail_msg("round 1: %s", err);
        int pruned = 0;
        for (int k = 0; k < m.graph.n_groups; ++k) {
            int n = m.graph.groups[k].n, kept = r8.kept[k];
            if (m.graph.groups[k].fixed) { assert_int_equal(kept, n); continue; }
            if (kept != n && kept % 8) fail_msg("%s group %d: %d of %d kept, not a multiple of 8", src, k, kept, n);
            if (n < 8) assert_int_equal(kept, n);
            pruned += kept < n;
        }
        assert_true(pruned > 0);
        assert_true(f8 < (double)ratio * full);
        assert_int_equal(legr_network_flops(m.net, &m.graph, &r8), f8);
        if (!uniform) {
            assert_int_equal(legr_select(m.net, &m.graph, &nr, &id, ratio, MIN_FRAC, &plain, &fp, err, sizeof err), 0);
            assert_int_equal(fp, f1);
            for (int k = 0; k < m.graph.n_groups; ++k)
                assert_memory_equal(plain.keep[k], r1.keep[k], m.graph.groups[k].n);
            legr_mask_free(&plain);
        }
        printf("  %s %s at %g: FLOPs %.3f (-round 1: %.3f) of the original\n", src,
               uniform ? "uniform" : "l2", ratio, (double)f8 / full, (double)f1 / full);
        legr_mask_free(&r1);
        legr_mask_free(&r8);
    }
    legr_affine_free(&id);
    legr_norms_free(&nr);
    legr_model_free(&m);
    tu_rmtree(dir);
    free(dir); free(cfg); free(w);
}

static void test_round(void **state)
{
    round_case(TU_STOCK_CFG "/yolov3-tiny.cfg", 160, 0.5f);
    round_case(TU_STOCK_CFG "/resnet18.cfg", 96, 0.5f);
    round_case("cfg/fashion-det.cfg", 160, 0.3f);
}

/* -------------------------------------------------------------- one model */

static void run_case(void **state)
{
    const prune_case *pc = (const prune_case *)*state;
    char *dir, *cfg, *weights, *src;
    char err[1024] = "";
    legr_model m;
    legr_norms nr;
    legr_affine aff;
    int r, rc;

    memset(&m, 0, sizeof(m));
    memset(&nr, 0, sizeof(nr));
    memset(&aff, 0, sizeof(aff));
    if (pc->weights) {
        src = tu_zoo_file(pc->cfg);
        if (!src) { skip(); return; }
        weights = tu_zoo_file(pc->weights);
        if (!weights) { free(src); skip(); return; }
    } else {
        src = strdup(pc->cfg);
        weights = NULL;
    }
    g_t0 = now();
    dir = tu_mkdtemp(pc->name);
    cfg = tu_fmt("%s/%s.cfg", dir, pc->name);
    assert_int_equal(tu_cfg_copy(src, cfg, pc->size, pc->size), 0);
    if (!weights) {
        /* (a) */
        weights = tu_fmt("%s/%s.weights", dir, pc->name);
        assert_int_equal(tu_random_weights(cfg, weights, pc->seed), 0);
        step("random weights");
    }
    printf("  %s: %s (+ %s)\n", pc->name, cfg, weights);

    /* (b) */
    tu_quiet_begin();
    rc = legr_model_load(cfg, weights, &m, err, sizeof(err));
    tu_quiet_end();
    if (rc != 0) fail_msg("legr_model_load: %s", err);
    assert_non_null(m.w.data);
    assert_int_equal(m.w.n_floats, tu_weight_floats(m.net));
    {
        /* Darknet's rule: a 64-bit seen from version 0.2 on */
        int32_t v[3];
        FILE *fp = fopen(weights, "rb");
        size_t want_header;
        assert_non_null(fp);
        assert_int_equal(fread(v, sizeof(int32_t), 3, fp), 3);
        fclose(fp);
        want_header = (v[0] * 10 + v[1] >= 2 && v[0] < 1000 && v[1] < 1000) ? 20 : 16;
        printf("  weights version %d.%d.%d: %zu-byte header\n", v[0], v[1], v[2], want_header);
        assert_int_equal(m.w.header_bytes, want_header);
        assert_int_equal(m.w.major, v[0]);
        assert_int_equal(m.w.minor, v[1]);
        assert_int_equal(m.w.revision, v[2]);
        assert_int_equal(tu_file_size(weights), (long)(want_header + 4 * m.w.n_floats));
    }
    step("legr_model_load");
    assert_int_equal(legr_norms_compute(m.net, &m.graph, &nr), 0);
    check_norms(m.net, &m.graph, &nr);
    assert_int_equal(legr_affine_identity(&aff, m.graph.n_groups), 0);
    assert_int_equal(aff.n_groups, m.graph.n_groups);

    for (r = 0; r < pc->n_ratios; ++r) {
        float ratio = pc->ratios[r];
        legr_mask mask;
        long flops = -1, stock;
        char pct[32], *pcfg, *pweights, *qcfg, *cmd, *names = NULL;
        network *pn;
        int before;

        snprintf(pct, sizeof(pct), "%g", ratio * 100);
        memset(&mask, 0, sizeof(mask));
        assert_int_equal(legr_mask_init(&mask, &m.graph), 0);
        err[0] = 0;
        if (legr_select(m.net, &m.graph, &nr, &aff, ratio, MIN_FRAC, &mask, &flops, err,
                        sizeof(err)) != 0)
            fail_msg("legr_select(%g): %s", ratio, err);
        step("legr_select");
        check_mask(m.net, &m.graph, &nr, NULL, &mask, ratio, flops);

        /* (c) */
        pcfg = tu_fmt("%s/pruned-%s.cfg", dir, pct);
        pweights = tu_fmt("%s/pruned-%s.weights", dir, pct);
        before = tu_dir_entries(dir, NULL);
        if (legr_write_pruned(&m.cfg, m.net, &m.graph, &m.w, &mask, pcfg, pweights, err,
                              sizeof(err)) != 0)
            fail_msg("legr_write_pruned: %s", err);
        /* exactly the two files, no temporary left behind */
        if (tu_dir_entries(dir, &names) != before + 2)
            fail_msg("directory after legr_write_pruned:\n%s", names);
        free(names);
        step("legr_write_pruned");
        pn = tu_parse(pcfg);
        assert_non_null(pn);
        check_weights_file(pweights, pn);
        check_shapes(m.net, &m.graph, &mask, pn);
        check_cfg_structure(cfg, pcfg, pn);
        assert_int_equal(tu_ops(pn), flops);
        {
            /* legr's own reader accepts what its writer wrote */
            legr_weights w2;
            memset(&w2, 0, sizeof(w2));
            if (legr_weights_read(pweights, pn, &w2, err, sizeof(err)) != 0)
                fail_msg("legr_weights_read(pruned): %s", err);
            assert_int_equal(w2.header_bytes, 20);
            assert_int_equal(w2.seen, 0);
            assert_int_equal(w2.n_floats, tu_weight_floats(pn));
            legr_weights_free(&w2);
        }
        free_network(pn);
        qcfg = tu_quote(pcfg);
        cmd = tu_fmt("%s ops %s", TU_STOCK_DARKNET, qcfg);
        stock = tu_cmd_flops(cmd);
        printf("  stock darknet ops on the pruned cfg: %ld\n", stock);
        assert_int_equal(stock, flops);
        free(cmd);
        free(qcfg);

        step("checks of the pruned files");

        /* (d) */
        masked_forward(cfg, weights, &m.graph, &mask, pcfg, pweights, pc->classifier);
        step("masked forward");

        /* (e) */
        {
            char *out = stock_predict(pcfg, pweights, dir, pct, pc->classifier,
                                      pc->weights != NULL);
            free(out);
            if (pc->weights) {
                printf("  (unpruned, for comparison:)\n");
                out = stock_predict(cfg, weights, dir, "full", pc->classifier, 1);
                free(out);
            }
        }
        step("stock darknet runs");
        tu_assert_stock_forward_matches(pcfg, pweights, dir, REL_TOL);
        step("stock forward");

        legr_mask_free(&mask);
        free(pcfg);
        free(pweights);
    }
    legr_affine_free(&aff);
    legr_norms_free(&nr);
    legr_model_free(&m);
    tu_rmtree(dir);
    free(dir);
    free(cfg);
    free(weights);
    free(src);
}

int main(void)
{
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_floor),
        cmocka_unit_test(test_ranking_affine),
        cmocka_unit_test(test_round),
        {"prune_yolov3_tiny", run_case, NULL, NULL, (void *)&CASES[0]},
        {"prune_yolov3_160", run_case, NULL, NULL, (void *)&CASES[1]},
        {"prune_yolov2_tiny", run_case, NULL, NULL, (void *)&CASES[2]},
        {"prune_darknet19_96", run_case, NULL, NULL, (void *)&CASES[3]},
        {"prune_resnet18_96", run_case, NULL, NULL, (void *)&CASES[4]},
        {"prune_yolo_fastest", run_case, NULL, NULL, (void *)&CASES[5]},
        {"prune_tiny_darknet", run_case, NULL, NULL, (void *)&CASES[6]},
    };
    return cmocka_run_group_tests_name("prune", tests, NULL, NULL);
}
