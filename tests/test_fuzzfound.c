/* test_fuzzfound.c: every reproducer `make fuzz` found (tests/fuzz/crashes-
 * found/, see its README.md; all found on the code before the model boundary
 * of legr/cfgcheck.c and the bad-input fixes) is now a clean refusal: each cfg through
 * `legr flops` and `legr prune` of the production binary (one legr: error
 * line, exit 1, no signal), the ranking and weights files through `legr
 * prune` of tests/fuzz/nets/det.cfg, the checkpoints through legr_evo_load
 * with the fuzz target's settings (refused, so no search runs on them), the
 * label file through legr_read_labels.  A new reproducer dropped into the
 * directory is picked up by its extension. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "eval.h"
#include "model.h"
#include "rank.h"
#include "search.h"

#define FOUND "tests/fuzz/crashes-found"
#define DET_CFG "tests/fuzz/nets/det.cfg"

static char *g_dir, *g_weights;

static int setup(void **state)
{
    g_dir = tu_mkdtemp("fuzzfound");
    g_weights = tu_path(g_dir, "det.weights");
    return g_dir && tu_random_weights(DET_CFG, g_weights, 1) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    tu_rmtree(g_dir);
    free(g_dir);
    free(g_weights);
    return 0;
}

/* Files of FOUND ending in ext, one per line (malloc'd), and their number. */
static int found(const char *ext, char **names)
{
    DIR *d = opendir(FOUND);
    assert_non_null(d);
    int n = 0;
    size_t len = 0;
    *names = calloc(1, 1);
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name), el = strlen(ext);
        if (l <= el || strcmp(e->d_name + l - el, ext)) continue;
        *names = realloc(*names, len + l + 2);
        memcpy(*names + len, e->d_name, l);
        len += l;
        (*names)[len++] = '\n';
        (*names)[len] = 0;
        ++n;
    }
    closedir(d);
    return n;
}

/* legr <args> must fail cleanly: exit 1, one legr: error line. */
static void refused(const char *what, const char *args)
{
    char *cmd = tu_fmt("timeout 60 " TU_OUR_DARKNET " legr %s", args), *out = NULL, *err = NULL;
    int rc = tu_run(cmd, &out, &err);
    char *first = NULL;
    int n = tu_count_legr_errors(err, &first);
    printf("  %-44s exit %d  %s\n", what, rc, first ? first : "");
    if (rc != 1 || n != 1) fail_msg("%s: exit %d, %d legr: lines\n%s", what, rc, n, err);
    free(cmd); free(out); free(err); free(first);
}

static void test_cfgs(void **state)
{
    char *names;
    int n = found(".cfg", &names);
    assert_true(n >= 12);
    for (char *name = strtok(names, "\n"); name; name = strtok(NULL, "\n")) {
        char *q = tu_quote(tu_fmt(FOUND "/%s", name)), *args = tu_fmt("flops %s", q);
        refused(name, args);
        free(args);
        args = tu_fmt("prune %s %s 0.5 -out %s/p", q, g_weights, g_dir);
        refused(name, args);
        free(args); free(q);
    }
    char *listing = NULL;
    tu_dir_entries(g_dir, &listing);
    assert_null(strstr(listing, "p-50"));
    free(listing); free(names);
}

static void test_rank_and_weights(void **state)
{
    char *args = tu_fmt("prune " DET_CFG " %s " FOUND "/rank-nan-inf-accepted.rank 0.5 -out %s/r",
                        g_weights, g_dir);
    refused("rank-nan-inf-accepted.rank", args);
    free(args);
    char *w = tu_path(g_dir, "version.weights");
    size_t len;
    char *bytes = tu_read_file(FOUND "/weights-header-version-overflow.fuzz", &len);
    assert_non_null(bytes);
    assert_int_equal(tu_write_file(w, bytes + 1, len - 1), 0);    /* byte 0 picks the net */
    args = tu_fmt("prune " DET_CFG " %s 0.5 -out %s/v", w, g_dir);
    refused("weights-header-version-overflow.fuzz", args);
    free(args); free(bytes); free(w);
}

static void test_checkpoints(void **state)
{
    legr_model m;
    legr_norms nr;
    char err[512];
    tu_quiet_begin();
    int rc = legr_model_load(DET_CFG, NULL, &m, err, sizeof err);
    tu_quiet_end();
    if (rc != 0) fail_msg("%s", err);
    assert_int_equal(legr_norms_compute(m.net, &m.graph, &nr), 0);
    const legr_evo_opts o = { 10, 4, 2, 0.5f, 7, 2 };       /* fuzz_ckpt.c's */
    char *names;
    int n = found(".ckpt", &names);
    assert_true(n >= 3);
    for (char *name = strtok(names, "\n"); name; name = strtok(NULL, "\n")) {
        char *path = tu_fmt(FOUND "/%s", name);
        legr_evo e;
        assert_int_equal(legr_evo_init(&e, &m.graph, &nr, &o), 0);
        err[0] = 0;
        rc = legr_evo_load(&e, path, "settings fuzz det.cfg evals=10 pool=4 sample=2 mutate=0.5 seed=7 batch=2",
                           err, sizeof err);
        printf("  %-44s %s\n", name, err);
        if (rc == 0) fail_msg("%s: accepted", name);
        legr_evo_free(&e);
        free(path);
    }
    free(names);
    legr_norms_free(&nr);
    legr_model_free(&m);
}

static void test_labels(void **state)
{
    legr_box *boxes = NULL;
    char err[512] = "";
    int n = legr_read_labels(FOUND "/labels-nan-inf-accepted.txt", 80, &boxes, err, sizeof err);
    printf("  labels-nan-inf-accepted.txt: %d, %s\n", n, err);
    assert_true(n < 0);
    assert_non_null(strstr(err, "labels-nan-inf-accepted.txt"));
}

int main(void)
{
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cfgs),
        cmocka_unit_test(test_rank_and_weights),
        cmocka_unit_test(test_checkpoints),
        cmocka_unit_test(test_labels),
    };
    return cmocka_run_group_tests_name("fuzzfound", tests, setup, teardown);
}
