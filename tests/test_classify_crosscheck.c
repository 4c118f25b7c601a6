/* test_classify_crosscheck.c: classifier top-1 of `darknet legr eval`
 * against stock Debian `darknet classifier valid` on a labelled set: a small
 * Fashion-MNIST classification set made by scripts/make-data.sh into a temp
 * dir, and a small conv classifier written here with `legr init` random
 * weights (a randomly initialised deep ResNet predicts one or two classes
 * for everything, too little to compare; both
 * tools see the same network, images, center crop and label rule, so their
 * top-1 must agree; random weights keep the test independent of training,
 * and the test checks first that they predict varied classes, so that the
 * agreement is not the trivial one of two constant predictors). */

#include "testutil.h"
#include "eval.h"

#include <stdlib.h>
#include <string.h>

/* Number of distinct classes the network predicts on the set. */
static int distinct_predictions(const char *cfg, const char *weights, const char *data)
{
    network *net = load_network((char *)cfg, (char *)weights, 0);
    legr_valset vs;
    char err[256];
    assert_int_equal(legr_valset_load(data, "valid", net, 0, &vs, err, sizeof err), 0);
    set_batch_network(net, 1);
    int seen[1000] = {0}, n = 0;
    for (int i = 0; i < vs.n_images; ++i) {
        float *p = network_predict(net, vs.pixels[i]);
        int best = 0;
        for (int k = 1; k < vs.classes; ++k) if (p[k] > p[best]) best = k;
        if (!seen[best]++) ++n;
    }
    legr_valset_free(&vs);
    free_network(net);
    return n;
}

/* The number after the last occurrence of `key` in text, or -1. */
static double last_number_after(const char *text, const char *key)
{
    const char *p = text, *hit = NULL;
    while ((p = strstr(p, key))) hit = p++;
    return hit ? atof(hit + strlen(key)) : -1;
}

static void test_top1_matches_stock(void **state)
{
    char *dir = tu_mkdtemp("cls-cross");
    char *cmd = tu_fmt("DATA_DIR=%s/data BACKUP_DIR=%s/backup DET_TRAIN=2 DET_VAL=2 DET_TEST=2 "
                       "CLS_TRAIN=20 CLS_VAL=300 CLS_TEST=20 ./scripts/make-data.sh", dir, dir);
    char *out = NULL, *err = NULL;
    int rc = tu_run(cmd, &out, &err);
    if (rc != 0) fprintf(stderr, "%s%s", out ? out : "", err ? err : "");
    assert_int_equal(rc, 0);
    free(cmd); free(out); free(err);

    char *data = tu_fmt("%s/data/fashion-cls/fashion-cls.data", dir);
    char *weights = tu_path(dir, "small.weights");
    char *cfg = tu_path(dir, "small.cfg");
    assert_int_equal(tu_write_text(cfg,
        "[net]\nbatch=1\nsubdivisions=1\nwidth=32\nheight=32\nchannels=3\n"
        "[convolutional]\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
        "[maxpool]\nsize=2\nstride=2\n"
        "[convolutional]\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
        "[convolutional]\nfilters=10\nsize=1\nstride=1\npad=1\nactivation=linear\n"
        "[avgpool]\n[softmax]\n"), 0);
    cmd = tu_fmt("./darknet legr init %s %s -seed 3", cfg, weights);
    assert_int_equal(tu_run(cmd, NULL, NULL), 0);
    free(cmd);

    int distinct = distinct_predictions(cfg, weights, data);
    printf("  the random network predicts %d distinct classes\n", distinct);
    assert_true(distinct >= 3);

    /* stock: prints "<i>: top 1: <acc>, top k: <acc>" after every image */
    cmd = tu_fmt("%s classifier valid %s %s %s", TU_STOCK_DARKNET, data, cfg, weights);
    assert_int_equal(tu_run(cmd, &out, NULL), 0);
    double stock = last_number_after(out, "top 1: ");
    free(cmd); free(out);

    cmd = tu_fmt("./darknet legr eval %s %s %s", data, cfg, weights);
    assert_int_equal(tu_run(cmd, &out, NULL), 0);
    double ours = last_number_after(out, "top-1 ");
    printf("  top-1 on 300 images: stock classifier valid %.4f, legr eval %.4f\n", stock, ours);
    assert_true(stock >= 0 && ours >= 0);
    assert_non_null(strstr(out, "(300 images)"));
    /* 1/300 allows one near-tie flipped by BLAS summation order */
    assert_true(ours > stock - 1.0 / 300 - 1e-6 && ours < stock + 1.0 / 300 + 1e-6);
    free(cmd); free(out);
    free(data); free(weights); free(cfg);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_top1_matches_stock),
    };
    return cmocka_run_group_tests_name("classify_crosscheck", tests, NULL, NULL);
}
