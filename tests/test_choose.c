/* test_choose.c: channel selection by reconstruction error (choose.c).
 *   - the error the elimination reports for a subset (chosen or given)
 *     equals the error of solving that subset's ridge least squares
 *     directly (LAPACK), for 1x1 (k2 = 1) and 2x2 (k2 = 4) consumers;
 *   - a planted case: the consumer reads only channels 1, 3 and 5, the
 *     others are louder; the elimination keeps exactly 1, 3, 5 at no error
 *     (the L2 norm would keep the loud ones);
 *   - `legr prune -recover -reselect` on a random-weight yolov3-tiny: it
 *     re-chooses some layers, never raising their next conv's error and
 *     lowering it in at least one; the cfg is byte for byte the one without
 *     -reselect (the same counts), the weights the same size, and stock
 *     Darknet runs the pair as ours does;
 *   - a count out of range and kernels over 9 x 9 are refused with a reason;
 *   - -reselect without -recover is refused. */
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "choose.h"
#include "rng.h"

/* A random normal matrix: S samples of n channels x k2 rows (channel c's
 * rows scaled by scale[c]) plus the constant; G = sum x x^T (d x d). */
static double *random_gram(int n, int k2, int S, const double *scale, legr_rng *r, float **xs)
{
    int d = n * k2 + 1;
    float *x = calloc((size_t)S * d, sizeof(float));
    double *G = calloc((size_t)d * d, sizeof(double));
    assert_non_null(x);
    assert_non_null(G);
    for (int s = 0; s < S; ++s) {
        for (int j = 0; j < d - 1; ++j)
            x[(size_t)s * d + j] = (float)(legr_rng_normal(r, 1) * (scale ? scale[j / k2] : 1) + 0.3);
        x[(size_t)s * d + d - 1] = 1;
        for (int i = 0; i < d; ++i)
            for (int j = 0; j < d; ++j) G[(size_t)i * d + j] += (double)x[(size_t)s * d + i] * x[(size_t)s * d + j];
    }
    *xs = x;
    return G;
}

/* The relative ridge least-squares error of fitting y = w x from the
 * channels `keep` (and the constant), solved directly. */
static double direct_error(const double *G, int n, int k2, const float *w, int o,
                           const unsigned char *keep, float ridge)
{
    int d = n * k2 + 1, m = 0;
    int *rows = calloc(d, sizeof(int));
    for (int c = 0; c < n; ++c)
        for (int r = 0; keep[c] && r < k2; ++r) rows[m++] = c * k2 + r;
    rows[m++] = d - 1;
    double mean_diag = 0;
    for (int j = 0; j < d - 1; ++j) mean_diag += G[(size_t)j * d + j];
    double lambda = ridge * mean_diag / (d - 1);
    double *A = calloc((size_t)m * m, sizeof(double)), *H = calloc((size_t)m * o, sizeof(double));
    double *h = calloc((size_t)m * o, sizeof(double));
    double yy = 0;
    for (int a = 0; a < m; ++a) {
        for (int b = 0; b < m; ++b) A[(size_t)a * m + b] = G[(size_t)rows[a] * d + rows[b]];
        if (a < m - 1) A[(size_t)a * m + a] += lambda;
        for (int t = 0; t < o; ++t)
            for (int j = 0; j < d - 1; ++j) h[(size_t)a * o + t] += G[(size_t)rows[a] * d + j] * w[(size_t)t * (d - 1) + j];
    }
    for (int t = 0; t < o; ++t)
        for (int i = 0; i < d - 1; ++i)
            for (int j = 0; j < d - 1; ++j)
                yy += (double)w[(size_t)t * (d - 1) + i] * G[(size_t)i * d + j] * w[(size_t)t * (d - 1) + j];
    memcpy(H, h, (size_t)m * o * sizeof(double));
    assert_int_equal(LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', m, o, A, m, H, o), 0);
    double e = yy;
    for (int a = 0; a < m; ++a)
        for (int t = 0; t < o; ++t) {
            double f = H[(size_t)a * o + t];
            e -= f * h[(size_t)a * o + t] + (a < m - 1 ? lambda * f * f : 0);
        }
    free(rows); free(A); free(H); free(h);
    return e / yy;
}

static void check_errors_match(int n, int k2, int want, unsigned seed)
{
    legr_rng r;
    legr_rng_seed(&r, seed);
    int o = 5, S = 400, d = n * k2 + 1;
    float *x;
    double *G = random_gram(n, k2, S, NULL, &r, &x);
    float *w = calloc((size_t)o * (d - 1), sizeof(float));
    for (size_t t = 0; t < (size_t)o * (d - 1); ++t) w[t] = (float)legr_rng_normal(&r, 1);
    unsigned char keep[16], given[16];
    for (int c = 0; c < n; ++c) given[c] = c < want;     /* any subset of `want` */
    double e_chosen, e_given;
    char err[256];
    float ridge = 1e-3f;
    assert_int_equal(legr_choose_channels(G, n, k2, w, o, want, ridge, keep, given, &e_chosen, &e_given,
                                          err, sizeof err), 0);
    int kept = 0;
    for (int c = 0; c < n; ++c) kept += keep[c];
    assert_int_equal(kept, want);
    double d_chosen = direct_error(G, n, k2, w, o, keep, ridge), d_given = direct_error(G, n, k2, w, o, given, ridge);
    printf("n %d k2 %d keep %d: chosen %.6f (direct %.6f), first %d %.6f (direct %.6f)\n",
           n, k2, want, e_chosen, d_chosen, want, e_given, d_given);
    assert_true(fabs(e_chosen - d_chosen) < 1e-6 + 1e-6 * d_chosen);
    assert_true(fabs(e_given - d_given) < 1e-6 + 1e-6 * d_given);
    assert_true(e_chosen > 0);
    free(G); free(x); free(w);
}

static void test_errors_match_direct_fit(void **state)
{
    check_errors_match(8, 1, 4, 1);
    check_errors_match(8, 1, 1, 2);
    check_errors_match(6, 4, 3, 3);
}

static void test_planted_channels(void **state)
{
    legr_rng r;
    legr_rng_seed(&r, 9);
    int n = 7, o = 3, S = 300;
    double scale[7] = { 5, 1, 5, 1, 5, 1, 5 };
    float *x;
    double *G = random_gram(n, 1, S, scale, &r, &x);
    float w[3 * 7] = {0};
    for (int t = 0; t < o; ++t)
        for (int c = 1; c < n; c += 2) w[t * n + c] = (float)legr_rng_normal(&r, 1);
    unsigned char keep[7];
    double e;
    char err[256];
    assert_int_equal(legr_choose_channels(G, n, 1, w, o, 3, 1e-8f, keep, NULL, &e, NULL, err, sizeof err), 0);
    for (int c = 0; c < n; ++c) assert_int_equal(keep[c], c % 2);
    printf("planted: error %.3g\n", e);
    assert_true(e < 1e-6);
    free(G); free(x);
}

/* Counts it cannot keep, and kernels over 9 x 9, are refused with a reason. */
static void test_refusals(void **state)
{
    double G[4] = { 2, 1, 1, 2 };
    float w[1] = { 1 };
    unsigned char keep[1];
    double e;
    char err[256] = "";
    assert_int_equal(legr_choose_channels(G, 1, 1, w, 1, 2, 1e-4f, keep, NULL, &e, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot keep 2 of 1"));
    assert_int_equal(legr_choose_channels(G, 1, 100, w, 1, 1, 1e-4f, keep, NULL, &e, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "9 x 9"));
}

/* The "(L2's choice) -> " figures of one budget's -reselect line. */
static void reselect_figures(const char *out, double *e_l2, double *e_new, int *layers)
{
    const char *p = strstr(out, "filters re-chosen in ");
    assert_non_null(p);
    *layers = atoi(p + strlen("filters re-chosen in "));
    p = strstr(p, "mean relative error ");
    assert_non_null(p);
    *e_l2 = atof(p + strlen("mean relative error "));
    p = strstr(p, "-> ");
    assert_non_null(p);
    *e_new = atof(p + 3);
}

static void test_prune_reselect(void **state)
{
    char *dir = tu_mkdtemp("choose-cli");
    char *cfg = tu_path(dir, "tiny.cfg"), *wts = tu_path(dir, "tiny.weights"), *list = tu_path(dir, "images.txt");
    assert_int_equal(tu_cfg_copy("/usr/share/darknet/cfg/yolov3-tiny.cfg", cfg, 96, 96), 0);
    assert_int_equal(tu_random_weights(cfg, wts, 5), 0);
    assert_int_equal(tu_write_text(list, "/usr/share/darknet/data/dog.jpg\n/usr/share/darknet/data/horses.jpg\n"
                                         "/usr/share/darknet/data/person.jpg\n/usr/share/darknet/data/kite.jpg\n"), 0);
    char *plain = tu_path(dir, "plain"), *sel = tu_path(dir, "sel");
    char *cmd = tu_fmt("./darknet legr prune %s %s 0.5 -out %s -recover 4 -images %s", cfg, wts, plain, list);
    char *out = NULL, *err = NULL;
    assert_int_equal(tu_run(cmd, &out, &err), 0);
    free(cmd); free(out); free(err);
    cmd = tu_fmt("./darknet legr prune %s %s 0.5 -out %s -recover 4 -reselect -images %s -v", cfg, wts, sel, list);
    assert_int_equal(tu_run(cmd, &out, &err), 0);
    double e_l2, e_new;
    int layers;
    reselect_figures(out, &e_l2, &e_new, &layers);
    printf("re-chosen in %d layers: next conv's error %.4f -> %.4f\n", layers, e_l2, e_new);
    assert_true(layers >= 3);
    assert_true(e_new < e_l2);
    /* every group's line: never worse than L2's choice */
    int groups = 0;
    for (const char *p = strstr(out, "\n    group "); p; p = strstr(p + 1, "\n    group ")) {
        const char *q = strstr(p, "next conv's error ");
        assert_non_null(q);
        double a = atof(q + strlen("next conv's error ")), b = atof(strstr(q, "-> ") + 3);
        assert_true(b <= a);
        ++groups;
    }
    assert_int_equal(groups, layers);
    free(cmd); free(out); free(err);
    char *pc = tu_fmt("%s-50.cfg", plain), *sc = tu_fmt("%s-50.cfg", sel);
    char *pw = tu_fmt("%s-50.weights", plain), *sw = tu_fmt("%s-50.weights", sel);
    size_t lpc, lsc;
    char *tp = tu_read_file(pc, &lpc), *ts = tu_read_file(sc, &lsc);
    assert_true(lpc == lsc && memcmp(tp, ts, lpc) == 0);
    assert_int_equal(tu_file_size(pw), tu_file_size(sw));
    size_t lw;
    char *bp = tu_read_file(pw, &lw), *bs = tu_read_file(sw, &lw);
    assert_true(memcmp(bp, bs, lw) != 0);
    tu_assert_stock_forward_matches(sc, sw, dir, 1e-3);
    /* -reselect needs -recover */
    cmd = tu_fmt("./darknet legr prune %s %s 0.5 -out %s/x -reselect -images %s", cfg, wts, dir, list);
    assert_int_not_equal(tu_run(cmd, &out, &err), 0);
    assert_int_equal(tu_count_lines_with_prefix(err, "legr: ", NULL), 1);
    assert_non_null(strstr(err, "-reselect needs -recover"));
    char *xc = tu_fmt("%s/x-50.cfg", dir);
    assert_false(tu_exists(xc));
    free(xc);
    free(cmd); free(out); free(err);
    free(tp); free(ts); free(bp); free(bs);
    free(pc); free(sc); free(pw); free(sw);
    free(plain); free(sel); free(cfg); free(wts); free(list);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors_match_direct_fit),
        cmocka_unit_test(test_planted_channels),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_prune_reselect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
