/* test_json.c: every JSON the tool writes (flops, eval, prune and search
 * -json) parsed with a real parser (jansson), from a directory whose name
 * holds a double quote and a single quote, so that escaping is
 * tested too; the figures in it agree with the text output, and the names
 * in it are the files written.  prune -eval's plot goes through gnuplot's
 * stdin with that directory in its file names. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <jansson.h>

#include "testutil.h"

static char *g_dir, *g_cfg, *g_weights, *g_data;


static int setup(void **state)
{
    char *base = tu_mkdtemp("json");
    g_dir = tu_path(base, "a\"quoted\"dir's");   /* no space: Darknet strips them from .data lines */
    free(base);
    if (mkdir(g_dir, 0755) != 0 || !tu_exists(TU_OUR_DARKNET)) return -1;
    g_cfg = tu_path(g_dir, "det.cfg");
    g_weights = tu_path(g_dir, "det.weights");
    g_data = tu_path(g_dir, "det.data");
    if (tu_write_text(g_cfg, TU_TINY_DET_CFG) || tu_random_weights(g_cfg, g_weights, 5)) return -1;
    char *imgdir = tu_path(g_dir, "images"), *labdir = tu_path(g_dir, "labels");
    mkdir(imgdir, 0755);
    mkdir(labdir, 0755);
    char *list = strdup("");
    for (int i = 0; i < 4; ++i) {
        char *img = tu_fmt("%s/im%d.jpg", imgdir, i), *lab = tu_fmt("%s/im%d.txt", labdir, i);
        if (tu_copy_file(TU_DOG_JPG, img) || tu_write_text(lab, "0 0.5 0.5 0.3 0.3\n1 0.2 0.2 0.1 0.1\n")) return -1;
        char *l = tu_fmt("%s%s\n", list, img);
        free(list);
        list = l;
        free(img);
        free(lab);
    }
    char *lst = tu_path(g_dir, "list.txt"), *names = tu_path(g_dir, "names.txt");
    char *data = tu_fmt("classes=2\ntrain=%s\nvalid=%s\nnames=%s\n", lst, lst, names);
    int rc = tu_write_text(lst, list) || tu_write_text(names, "a\nb\n") || tu_write_text(g_data, data);
    free(list); free(lst); free(names); free(data); free(imgdir); free(labdir);
    return rc ? -1 : 0;
}

static int teardown(void **state)
{
    char *base = strdup(g_dir);
    *strrchr(base, '/') = 0;
    tu_rmtree(base);
    free(base);
    free(g_dir); free(g_cfg); free(g_weights); free(g_data);
    return 0;
}

/* Runs ./darknet with args (paths already quoted); fails the test unless it
 * exits 0.  Returns stdout (caller frees). */
static char *run_ok(const char *args)
{
    char *cmd = tu_fmt("%s %s", TU_OUR_DARKNET, args), *out = NULL, *err = NULL;
    int rc = tu_run(cmd, &out, &err);
    if (rc != 0) fail_msg("%s: exit %d\n%s\n%s", cmd, rc, out, err);
    free(cmd);
    free(err);
    return out;
}

/* The file parsed by jansson; fails the test with jansson's message if it
 * is not valid JSON. */
static json_t *parse(const char *path)
{
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    if (!j) fail_msg("%s: not valid JSON: line %d: %s", path, e.line, e.text);
    return j;
}

static double num(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_number(v)) fail_msg("\"%s\" is not a number", key);
    return json_number_value(v);
}

static const char *str(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v)) fail_msg("\"%s\" is not a string", key);
    return json_string_value(v);
}

static void test_flops_json(void **state)
{
    char *json = tu_path(g_dir, "flops.json"), *qj = tu_quote(json), *qc = tu_quote(g_cfg);
    char *args = tu_fmt("legr flops %s -json %s", qc, qj);
    char *out = run_ok(args), *line = NULL;
    json_t *j = parse(json);
    assert_string_equal(str(j, "cfg"), g_cfg);
    assert_int_equal(tu_count_lines_with_prefix(out, "Floating Point Operations: ", &line) >= 1, 1);
    long text_flops = atol(line + strlen("Floating Point Operations: "));
    printf("  flops: JSON %.0f, text %ld\n", num(j, "flops"), text_flops);
    assert_true(num(j, "flops") == (double)text_flops && text_flops > 0);
    json_t *layers = json_object_get(j, "layers"), *groups = json_object_get(j, "groups");
    assert_int_equal(json_array_size(layers), 5);
    assert_true(json_array_size(groups) >= 2);
    double sum = 0;
    for (size_t i = 0; i < json_array_size(layers); ++i) sum += num(json_array_get(layers, i), "flops");
    assert_true(sum == num(j, "flops"));
    json_decref(j);
    free(json); free(qj); free(qc); free(args); free(out); free(line);
}

static void test_eval_json(void **state)
{
    char *json = tu_path(g_dir, "eval.json"), *qj = tu_quote(json);
    char *qd = tu_quote(g_data), *qc = tu_quote(g_cfg), *qw = tu_quote(g_weights);
    char *args = tu_fmt("legr eval %s %s %s -bn 1 -loss -json %s", qd, qc, qw, qj);
    char *out = run_ok(args);
    json_t *j = parse(json);
    assert_string_equal(str(j, "cfg"), g_cfg);
    assert_string_equal(str(j, "weights"), g_weights);
    json_t *plain = json_object_get(j, "plain"), *bn = json_object_get(j, "bn_reestimated");
    assert_non_null(plain);
    assert_non_null(bn);
    double m = num(plain, "map50");
    printf("  eval: map50 %.4f, after BN %.4f, loss %.4f, %d images\n", m, num(bn, "map50"), num(j, "loss"),
           (int)num(plain, "images"));
    assert_true(m >= 0 && m <= 1);
    assert_int_equal((int)num(plain, "images"), 4);
    assert_true(num(j, "latency_ms") > 0);
    char *want = tu_fmt("eval: mAP@0.5 %.4f", m);
    assert_non_null(strstr(out, want));
    json_decref(j);
    free(want); free(json); free(qj); free(qd); free(qc); free(qw); free(args); free(out);
}

static void test_prune_json(void **state)
{
    char *pfx = tu_path(g_dir, "p"), *json = tu_path(g_dir, "prune.json");
    char *qp = tu_quote(pfx), *qj = tu_quote(json), *qd = tu_quote(g_data), *qc = tu_quote(g_cfg),
         *qw = tu_quote(g_weights);
    char *args = tu_fmt("legr prune %s %s 0.7 0.5 -out %s -eval %s -bn 1 -json %s", qc, qw, qp, qd, qj);
    char *out = run_ok(args);
    json_t *j = parse(json);
    json_t *models = json_object_get(j, "models");
    assert_int_equal(json_array_size(models), 3);
    assert_string_equal(str(json_array_get(models, 0), "cfg"), g_cfg);
    const double want[] = { 1, 0.7, 0.5 };
    for (int i = 0; i < 3; ++i) {
        json_t *m = json_array_get(models, i);
        printf("  prune: ratio %.2f -> FLOP ratio %.3f, accuracy %.4f, %s\n", num(m, "ratio"), num(m, "flop_ratio"),
               num(m, "accuracy"), str(m, "cfg"));
        assert_true(num(m, "ratio") > want[i] - 1e-6 && num(m, "ratio") < want[i] + 1e-6);
        assert_true(num(m, "flop_ratio") <= want[i] + 1e-6);
        assert_true(tu_exists(str(m, "cfg")) && tu_exists(str(m, "weights")));
        assert_true(json_is_number(json_object_get(m, "accuracy_bn")));
        assert_true(json_is_null(json_object_get(m, "accuracy_recovered")));    /* no -recover */
    }
    /* the plot: gnuplot read the quoted names from its stdin */
    char *png = tu_fmt("%s.png", pfx);
    assert_true(tu_file_size(png) > 0);
    assert_non_null(strstr(out, "plot: "));
    json_decref(j);
    free(png); free(pfx); free(json); free(qp); free(qj); free(qd); free(qc); free(qw); free(args); free(out);
}

static void test_search_json(void **state)
{
    char *rank = tu_path(g_dir, "s.ranking"), *json = tu_path(g_dir, "search.json");
    char *qr = tu_quote(rank), *qj = tu_quote(json), *qd = tu_quote(g_data), *qc = tu_quote(g_cfg),
         *qw = tu_quote(g_weights);
    char *args = tu_fmt("legr search %s %s -data %s -evals 3 -pool 2 -sample 2 -tau 0 -val 4 -bn-images 0 "
                        "-workers 1 -target 0.7,0.5 -out %s -json %s", qc, qw, qd, qr, qj);
    char *out = run_ok(args);
    json_t *j = parse(json);
    assert_string_equal(str(j, "ranking"), rank);
    assert_int_equal((int)num(j, "done"), 3);
    assert_int_equal((int)num(j, "evaluations"), 3);
    assert_int_equal(json_array_size(json_object_get(j, "targets")), 2);
    double best = num(j, "best_fitness");
    char *line = tu_fmt("best fitness %.4f (candidate %d)", best, (int)num(j, "best_candidate"));
    printf("  search: %s\n", line);
    assert_non_null(strstr(out, line));
    assert_true(tu_exists(rank) && tu_exists(str(j, "log")));
    /* seconds per candidate, by step: no -recover and -tau 0, so those two are 0 */
    json_t *pc = json_object_get(j, "per_candidate");
    const char *steps[] = { "prune_s", "recover_s", "finetune_s", "bn_s", "score_s" };
    for (int i = 0; i < 5; ++i) assert_true(num(pc, steps[i]) >= 0);
    printf("  per candidate: recover %g s, finetune %g s\n", num(pc, "recover_s"), num(pc, "finetune_s"));
    assert_true(num(pc, "recover_s") == 0 && num(pc, "finetune_s") < 0.01);
    assert_true(num(pc, "score_s") > 0);
    json_decref(j);
    free(line); free(rank); free(json); free(qr); free(qj); free(qd); free(qc); free(qw); free(args); free(out);
}

int main(void)
{
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flops_json),
        cmocka_unit_test(test_eval_json),
        cmocka_unit_test(test_prune_json),
        cmocka_unit_test(test_search_json),
    };
    return cmocka_run_group_tests_name("json", tests, setup, teardown);
}
