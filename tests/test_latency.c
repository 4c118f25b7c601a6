/* test_latency.c: pruning to a latency budget (legr/latency.c, prune and
 * search -budget latency).  The latency model is measured once per cfg and
 * cached ($LEGR_CACHE here, a temporary directory): a second run reads the
 * cache, a damaged cache file is measured again, never trusted.  The model's
 * predictions are structural facts only (non-negative per-layer lines, a
 * thinner network predicted faster); how well they match measured time is
 * a benchmark's question (make bench), not a test's.  A bad -budget is one
 * legr: line. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "latency.h"
#include "model.h"
#include "rank.h"
#include "flops.h"

static char *g_dir;

static int setup(void **state)
{
    g_dir = tu_mkdtemp("latency");
    return g_dir ? 0 : -1;
}

static int teardown(void **state)
{
    tu_rmtree(g_dir);
    free(g_dir);
    return 0;
}

static char *prune_latency(const char *cache, const char *extra, int *rc)
{
    char *cmd = tu_fmt("LEGR_CACHE=%s " TU_OUR_DARKNET " legr prune cfg/fashion-det.cfg "
                       "models/fashion-det.weights 0.5 -budget latency -out %s/p %s",
                       cache, g_dir, extra);
    char *out = NULL, *err = NULL;
    *rc = tu_run(cmd, &out, &err);
    if (*rc != 0) printf("%s\n%s\n", out, err);
    free(cmd);
    free(err);
    return out;
}

static void test_prune_latency_budget(void **state)
{
    char *cache = tu_path(g_dir, "cache");
    int rc;
    char *out = prune_latency(cache, "", &rc);
    assert_int_equal(rc, 0);
    printf("%s", out);
    assert_non_null(strstr(out, "latency model (one thread): measured now"));
    char *line = NULL;
    assert_int_equal(tu_count_lines_with_prefix(out, "  predicted latency ", &line), 1);
    const char *of = strstr(line, "(");
    assert_non_null(of);
    double ratio = atof(of + 1);
    assert_true(ratio > 0 && ratio <= 0.5);     /* the budget, as predicted (printed to 3 places) */
    char *names = NULL;
    assert_int_equal(tu_dir_entries(cache, &names), 1);
    assert_non_null(strstr(names, "latency-"));
    free(out); free(line);

    /* the second run reads it */
    out = prune_latency(cache, "", &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "latency model (one thread): cached"));
    free(out);

    /* a damaged cache is measured again and rewritten */
    char *file = tu_fmt("%s/%.*s", cache, (int)strcspn(names, "\n"), names);
    char *good = tu_read_file(file, NULL);
    char *row0 = strstr(good, "\n0 ");
    assert_non_null(row0);
    char *rest = strchr(row0 + 1, '\n');
    *row0 = 0;
    char *bad = tu_fmt("%s\n0 nan 1%s", good, rest);     /* the layer count still right */
    assert_int_equal(tu_write_text(file, bad), 0);
    free(good); free(bad);
    out = prune_latency(cache, "", &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "latency model (one thread): measured now"));
    char *text = tu_read_file(file, NULL);
    assert_non_null(strstr(text, "\ncpu "));
    free(text); free(out); free(file); free(names); free(cache);
}

static void test_model_predictions(void **state)
{
    char *cfg = tu_path(g_dir, "tiny.cfg"), *w = tu_path(g_dir, "tiny.weights");
    char *cache = tu_path(g_dir, "cache2");
    assert_int_equal(tu_cfg_copy(TU_STOCK_CFG "/yolov3-tiny.cfg", cfg, 160, 160), 0);
    assert_int_equal(tu_random_weights(cfg, w, 3), 0);
    setenv("LEGR_CACHE", cache, 1);
    legr_model m;
    char err[512];
    tu_quiet_begin();
    int rc = legr_model_load(cfg, w, &m, err, sizeof err);
    tu_quiet_end();
    if (rc != 0) fail_msg("%s", err);
    legr_latency lt;
    int cached = -1;
    if (legr_latency_get(&m, 1, 5, &lt, &cached, err, sizeof err) != 0) fail_msg("%s", err);
    assert_int_equal(cached, 0);
    assert_int_equal(lt.n_layers, m.net->n);
    for (int i = 0; i < lt.n_layers; ++i) assert_true(lt.a[i] >= 0 && lt.b[i] >= 0);
    legr_norms nr;
    legr_affine id;
    assert_int_equal(legr_norms_compute(m.net, &m.graph, &nr), 0);
    assert_int_equal(legr_affine_identity(&id, m.graph.n_groups), 0);
    legr_budget b = { 1, &lt };
    legr_mask mk;
    long flops;
    if (legr_select_budget(m.net, &m.graph, &nr, &id, 0.5f, 0.1f, &b, &mk, &flops, err, sizeof err) != 0)
        fail_msg("%s", err);
    double full = legr_latency_network(&lt, m.net, &m.graph, NULL);
    double half = legr_latency_network(&lt, m.net, &m.graph, &mk);
    printf("  yolov3-tiny 160: predicted %.2f ms, at -budget latency 0.5 %.2f ms (FLOPs %.3f)\n",
           full, half, (double)flops / legr_network_flops(m.net, &m.graph, NULL));
    assert_true(full > 0);
    assert_true(half < 0.5 * full);
    legr_mask_free(&mk);
    legr_latency_free(&lt);
    /* the same cfg, CPU and threads: from the cache now */
    assert_int_equal(legr_latency_get(&m, 1, 5, &lt, &cached, err, sizeof err), 0);
    assert_int_equal(cached, 1);
    legr_latency_free(&lt);
    legr_affine_free(&id);
    legr_norms_free(&nr);
    legr_model_free(&m);
    unsetenv("LEGR_CACHE");
    free(cfg); free(w); free(cache);
}

static void test_bad_budget(void **state)
{
    char *cmd = tu_fmt(TU_OUR_DARKNET " legr prune cfg/fashion-det.cfg models/fashion-det.weights "
                       "0.5 -budget speed -out %s/bad", g_dir);
    char *out = NULL, *err = NULL, *first = NULL;
    int rc = tu_run(cmd, &out, &err);
    assert_int_equal(rc, 1);
    assert_int_equal(tu_count_lines_with_prefix(err, "legr:", &first), 1);
    assert_non_null(strstr(first, "-budget"));
    char *p = tu_fmt("%s/bad-50.cfg", g_dir);
    assert_false(tu_exists(p));
    free(p); free(first); free(cmd); free(out); free(err);
}

int main(void)
{
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prune_latency_budget),
        cmocka_unit_test(test_model_predictions),
        cmocka_unit_test(test_bad_budget),
    };
    return cmocka_run_group_tests_name("latency", tests, setup, teardown);
}
