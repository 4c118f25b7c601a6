/* test_memory.c: memory bounded (issue 15).
 *   - BN re-estimation computed a few images at a time (bigbatch.c) gives,
 *     at every BN layer, what Darknet's own training-mode forward of the
 *     whole batch gives, for forward batches of 1, 3 and 8 images; over two
 *     batches, the exact pooled mean and variance of both;
 *   - the validation loss likewise equals Darknet's cost of whole batches;
 *   - images kept in memory and images decoded on use score the same,
 *     detection for detection, and a file changed since it was read is an
 *     error naming it;
 *   - legr_finetune trains in smaller sub-batches on the same images per
 *     update and puts the network's batch and subdivisions back;
 *   - peak RSS: `legr eval -bn 2 -loss` on a cfg with batch=64 (a training
 *     forward of which takes about 1 GB in Darknet) and 300 validation images
 *     with a 16 MB image budget stays under 300 MB (the child's ru_maxrss
 *     from wait4). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "model.h"
#include "eval.h"
#include "trainstats.h"
#include "finetune.h"
#include "util.h"

#define SAMPLES "/usr/share/darknet/data/"

static const char *const IMAGES[] = { "dog", "eagle", "giraffe", "horses", "kite", "person", "scream" };
#define N_SAMPLES 7

/* BN convs, a maxpool, a dropout, a shortcut, an upsample, a route and a
 * one-class [yolo] head at 64x64, batch 8. */
static const char *NET_CFG =
    "[net]\nbatch=8\nsubdivisions=1\nwidth=64\nheight=64\nchannels=3\nlearning_rate=0.001\n"
    "momentum=0.9\ndecay=0.0005\n\n"
    "[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n"
    "[maxpool]\nsize=2\nstride=2\n\n"
    "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n"
    "[dropout]\nprobability=.2\n\n"
    "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=1\nstride=1\npad=1\nactivation=leaky\n\n"
    "[shortcut]\nfrom=-3\nactivation=linear\n\n"
    "[maxpool]\nsize=2\nstride=2\n\n"
    "[convolutional]\nbatch_normalize=1\nfilters=32\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n"
    "[upsample]\nstride=2\n\n"
    "[route]\nlayers=-1,-4\n\n"
    "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n"
    "[convolutional]\nfilters=18\nsize=1\nstride=1\npad=1\nactivation=linear\n\n"
    "[yolo]\nmask=0,1,2\nanchors=10,14, 23,27, 37,58\nclasses=1\nnum=3\njitter=.3\n"
    "ignore_thresh=.7\ntruth_thresh=1\nrandom=0\n";

/* A directory with images/<name>.jpg (the samples, cycled) and their
 * labels/<name>.txt (one box each), a list of n of them and a .data file
 * (classes=1) naming it as train= and valid=. */
typedef struct { char *dir, *cfg, *weights, *list, *data; } mem_case;

static void make_case(mem_case *c, const char *tag, const char *cfgtext, int n)
{
    c->dir = tu_mkdtemp(tag);
    char *im = tu_path(c->dir, "images"), *lb = tu_path(c->dir, "labels");
    assert_int_equal(mkdir(im, 0755), 0);
    assert_int_equal(mkdir(lb, 0755), 0);
    for (int i = 0; i < N_SAMPLES; ++i) {
        char *src = tu_fmt(SAMPLES "%s.jpg", IMAGES[i]), *dst = tu_fmt("%s/%s.jpg", im, IMAGES[i]);
        char *lab = tu_fmt("%s/%s.txt", lb, IMAGES[i]);
        char *box = tu_fmt("0 %.2f %.2f %.2f %.2f\n", .3 + .05 * i, .5, .2 + .04 * i, .3);
        assert_int_equal(tu_copy_file(src, dst), 0);
        assert_int_equal(tu_write_text(lab, box), 0);
        free(src); free(dst); free(lab); free(box);
    }
    c->list = tu_path(c->dir, "list.txt");
    FILE *fp = fopen(c->list, "w");
    assert_non_null(fp);
    for (int i = 0; i < n; ++i) fprintf(fp, "%s/%s.jpg\n", im, IMAGES[i % N_SAMPLES]);
    fclose(fp);
    c->data = tu_path(c->dir, "m.data");
    char *text = tu_fmt("classes=1\ntrain=%s\nvalid=%s\n", c->list, c->list);
    assert_int_equal(tu_write_text(c->data, text), 0);
    c->cfg = tu_path(c->dir, "net.cfg");
    c->weights = tu_path(c->dir, "net.weights");
    assert_int_equal(tu_write_text(c->cfg, cfgtext), 0);
    assert_int_equal(tu_random_weights(c->cfg, c->weights, 11), 0);
    free(text); free(im); free(lb);
}

static void free_case(mem_case *c)
{
    tu_rmtree(c->dir);
    free(c->dir); free(c->cfg); free(c->weights); free(c->list); free(c->data);
}

static int is_bn(const layer *l) { return l->rolling_mean && l->mean; }

/* Darknet's own training-mode forward of images first..first+batch-1 of vs
 * (dropout off): every BN layer's batch mean and variance into mean[i],
 * var[i] (malloc'd), and its cost. */
static double darknet_batch(network *net, const legr_valset *vs, int first, float **mean, float **var)
{
    char err[512];
    for (int i = 0; i < net->n; ++i)
        if (net->layers[i].type == DROPOUT) { net->layers[i].probability = 0; net->layers[i].scale = 1; }
    assert_int_equal(legr_valset_fill(net, vs, first, 1, err, sizeof err), 0);
    network orig = *net;
    net->train = 1;
    net->delta = 0;
    tu_quiet_begin();
    forward_network(net);
    tu_quiet_end();
    double cost = *net->cost;
    *net = orig;
    for (int i = 0; i < net->n; ++i) {
        layer *l = &net->layers[i];
        if (!is_bn(l)) continue;
        mean[i] = malloc(l->out_c * sizeof(float));
        var[i] = malloc(l->out_c * sizeof(float));
        memcpy(mean[i], l->mean, l->out_c * sizeof(float));
        memcpy(var[i], l->variance, l->out_c * sizeof(float));
    }
    return cost;
}

/* The worst difference between net's rolling statistics and mean/var: of
 * the means in standard deviations, of the variances relative. */
static double worst_bn_diff(const network *net, float **mean, float **var, int *n_bn)
{
    double worst = 0;
    *n_bn = 0;
    for (int i = 0; i < net->n; ++i) {
        const layer *l = &net->layers[i];
        if (!is_bn(l)) continue;
        ++*n_bn;
        for (int c = 0; c < l->out_c; ++c) {
            double sd = sqrt(var[i][c]) + 1e-6;
            double dm = fabs(l->rolling_mean[c] - mean[i][c]) / sd;
            double dv = fabs(l->rolling_variance[c] - var[i][c]) / (var[i][c] + 1e-12);
            if (dm > worst) worst = dm;
            if (dv > worst) worst = dv;
        }
    }
    return worst;
}

static void free_stats(const network *net, float **mean, float **var)
{
    for (int i = 0; i < net->n; ++i) { free(mean[i]); free(var[i]); }
}

static void test_bn_equals_one_big_batch(void **state)
{
    mem_case c;
    make_case(&c, "mem-bn", NET_CFG, 10);
    char err[512];
    network *ref = tu_load(c.cfg, c.weights);
    legr_valset vs;
    assert_int_equal(legr_imageset_load(c.list, ref, 0, &vs, err, sizeof err), 0);
    assert_int_equal(vs.n_images, 10);
    float *m1[32] = {0}, *v1[32] = {0}, *m2[32] = {0}, *v2[32] = {0};
    assert_true(ref->n <= 32);
    darknet_batch(ref, &vs, 0, m1, v1);
    int fbs[] = { 1, 3, 8 };
    for (int k = 0; k < 3; ++k) {
        network *net = tu_load(c.cfg, c.weights);
        assert_int_equal(legr_bn_reestimate_at(net, &vs, 1, fbs[k], err, sizeof err), 0);
        assert_int_equal(net->batch, 8);
        int n_bn;
        double w = worst_bn_diff(net, m1, v1, &n_bn);
        printf("one batch of 8, %d at a time: worst difference from Darknet's batch statistics %.2e (%d BN layers)\n",
               fbs[k], w, n_bn);
        assert_int_equal(n_bn, 5);
        assert_true(w < 1e-4);
        legr_free_network(net);
    }
    /* two batches (images 0-7, then 8, 9, 0-5): the pooled statistics */
    darknet_batch(ref, &vs, 8, m2, v2);
    for (int i = 0; i < ref->n; ++i) {
        if (!m1[i]) continue;
        for (int c2 = 0; c2 < ref->layers[i].out_c; ++c2) {
            double n = 8.0 * ref->layers[i].out_h * ref->layers[i].out_w, d = m1[i][c2] - m2[i][c2];
            double m2sum = (n - 1) * (v1[i][c2] + v2[i][c2]) + d * d * n / 2;
            m1[i][c2] = (m1[i][c2] + m2[i][c2]) / 2;
            v1[i][c2] = m2sum / (2 * n - 1);
        }
    }
    network *net = tu_load(c.cfg, c.weights);
    assert_int_equal(legr_bn_reestimate_at(net, &vs, 2, 3, err, sizeof err), 0);
    int n_bn;
    double w = worst_bn_diff(net, m1, v1, &n_bn);
    printf("two batches of 8, 3 at a time: worst difference from their pooled statistics %.2e\n", w);
    assert_true(w < 1e-4);
    legr_free_network(net);
    free_stats(ref, m1, v1);
    free_stats(ref, m2, v2);
    legr_free_network(ref);
    legr_valset_free(&vs);
    free_case(&c);
}

static void test_loss_equals_whole_batches(void **state)
{
    mem_case c;
    make_case(&c, "mem-loss", NET_CFG, 10);
    char err[512];
    network *ref = tu_load(c.cfg, c.weights);
    legr_valset vs;
    assert_int_equal(legr_valset_load(c.data, "valid", ref, 0, &vs, err, sizeof err), 0);
    float *m[32] = {0}, *v[32] = {0};
    double cost = darknet_batch(ref, &vs, 0, m, v);
    free_stats(ref, m, v);
    set_batch_network(ref, 2);
    cost += darknet_batch(ref, &vs, 8, m, v);
    free_stats(ref, m, v);
    double want = cost / 10;
    double loss;
    network *net = tu_load(c.cfg, c.weights);
    assert_int_equal(legr_validation_loss(net, &vs, &loss, err, sizeof err), 0);
    printf("validation loss %.6f, Darknet's cost of batches of 8 and 2 per image %.6f\n", loss, want);
    assert_true(want > 0);
    assert_true(fabs(loss - want) <= 1e-4 * want);
    /* the rolling statistics are as they were */
    network *fresh = tu_load(c.cfg, c.weights);
    for (int i = 0; i < net->n; ++i)
        if (is_bn(&net->layers[i]))
            assert_memory_equal(net->layers[i].rolling_variance, fresh->layers[i].rolling_variance,
                                net->layers[i].out_c * sizeof(float));
    legr_free_network(fresh);
    legr_free_network(net);
    legr_free_network(ref);
    legr_valset_free(&vs);
    free_case(&c);
}

static void test_lazy_images_score_the_same(void **state)
{
    mem_case c;
    make_case(&c, "mem-lazy", NET_CFG, 12);
    char err[512];
    network *net = tu_load(c.cfg, c.weights);
    legr_valset all, none, some;
    size_t per = (size_t)64 * 64 * 3 * sizeof(float);
    assert_int_equal(legr_valset_load_cached(c.data, "valid", net, 0, SIZE_MAX, &all, err, sizeof err), 0);
    assert_int_equal(legr_valset_load_cached(c.data, "valid", net, 0, 0, &none, err, sizeof err), 0);
    assert_int_equal(legr_valset_load_cached(c.data, "valid", net, 0, 5 * per + 1, &some, err, sizeof err), 0);
    assert_int_equal(all.n_cached, 12);
    assert_int_equal(none.n_cached, 0);
    assert_int_equal(some.n_cached, 5);
    float *buf = malloc(per);
    for (int i = 0; i < 12; ++i) {
        const float *p = legr_valset_image(&none, i, buf, err, sizeof err);
        assert_ptr_equal(p, buf);
        assert_memory_equal(p, all.pixels[i], per);
    }
    legr_metrics a, b, s;
    assert_int_equal(legr_evaluate(net, &all, .005f, .5f, &a, err, sizeof err), 0);
    assert_int_equal(legr_evaluate(net, &none, .005f, .5f, &b, err, sizeof err), 0);
    assert_int_equal(legr_evaluate(net, &some, .005f, .5f, &s, err, sizeof err), 0);
    printf("kept: mAP@0.5 %.6f, %d detections; decoded on use: %.6f, %d; 5 of 12 kept: %.6f, %d\n",
           a.map50, a.n_dets, b.map50, b.n_dets, s.map50, s.n_dets);
    assert_true(a.n_dets > 0);
    assert_int_equal(a.n_dets, b.n_dets);
    assert_int_equal(a.n_dets, s.n_dets);
    assert_true(a.map50 == b.map50 && a.map50 == s.map50 && a.map5095 == b.map5095);
    legr_metrics_free(&a); legr_metrics_free(&b); legr_metrics_free(&s);

    /* an image replaced after the load by one of another size */
    char *victim = tu_fmt("%s/images/dog.jpg", c.dir);
    assert_int_equal(tu_copy_file(SAMPLES "giraffe.jpg", victim), 0);
    legr_metrics x;
    assert_int_equal(legr_evaluate(net, &none, .005f, .5f, &x, err, sizeof err), -1);
    printf("after replacing %s: %s\n", victim, err);
    assert_non_null(strstr(err, victim));
    assert_non_null(strstr(err, "changed since it was read"));
    free(victim);
    free(buf);
    legr_valset_free(&all); legr_valset_free(&none); legr_valset_free(&some);
    legr_free_network(net);
    free_case(&c);
}

static void test_finetune_splits_and_restores(void **state)
{
    mem_case c;
    make_case(&c, "mem-ft", NET_CFG, 8);
    char err[512];
    legr_model m;
    assert_int_equal(legr_model_load(c.cfg, c.weights, &m, err, sizeof err), 0);
    legr_trainset ts;
    assert_int_equal(legr_trainset_load(c.data, m.net, &ts, err, sizeof err), 0);
    size_t seen = *m.net->seen;
    float w0 = m.net->layers[0].weights[0];
    float loss = legr_finetune(m.net, &ts, 2, 0.001f, 3);
    printf("2 iterations of 8 images: loss %.4f, seen %zu -> %zu\n", loss, seen, (size_t)*m.net->seen);
    assert_true(legr_finite(loss) && loss > 0);
    assert_int_equal(*m.net->seen - seen, 16);      /* the same images per iteration */
    assert_int_equal(m.net->batch, 8);
    assert_int_equal(m.net->subdivisions, 1);
    for (int i = 0; i < m.net->n; ++i) assert_int_equal(m.net->layers[i].batch, 8);
    assert_true(m.net->layers[0].weights[0] != w0);   /* updates were made */
    legr_trainset_free(&ts);
    legr_model_free(&m);
    free_case(&c);
}

/* A wider detector at 160x160 with batch=64. */
static const char *WIDE_CFG =
    "[net]\nbatch=64\nsubdivisions=1\nwidth=160\nheight=160\nchannels=3\nlearning_rate=0.001\n"
    "momentum=0.9\ndecay=0.0005\n\n"
    "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n"
    "[maxpool]\nsize=2\nstride=2\n\n"
    "[convolutional]\nbatch_normalize=1\nfilters=32\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n"
    "[maxpool]\nsize=2\nstride=2\n\n"
    "[convolutional]\nbatch_normalize=1\nfilters=64\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n"
    "[maxpool]\nsize=2\nstride=2\n\n"
    "[convolutional]\nbatch_normalize=1\nfilters=128\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n"
    "[convolutional]\nfilters=18\nsize=1\nstride=1\npad=1\nactivation=linear\n\n"
    "[yolo]\nmask=0,1,2\nanchors=10,14, 23,27, 37,58\nclasses=1\nnum=3\njitter=.3\n"
    "ignore_thresh=.7\ntruth_thresh=1\nrandom=0\n";

/* Runs cmd (/bin/sh -c, stdout and stderr to files in dir) and returns its
 * exit status; *maxrss_kb gets the peak resident set of the process. */
static int run_rss(const char *cmd, const char *dir, long *maxrss_kb)
{
    char *full = tu_fmt("exec %s >%s/out.txt 2>%s/err.txt", cmd, dir, dir);
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", full, (char *)NULL);
        _exit(127);
    }
    int status;
    struct rusage ru;
    assert_int_equal(wait4(pid, &status, 0, &ru), pid);
    free(full);
    *maxrss_kb = ru.ru_maxrss;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_eval_peak_rss_bounded(void **state)
{
    mem_case c;
    make_case(&c, "mem-rss", WIDE_CFG, 300);
    network *net = tu_parse(c.cfg);
    /* what Darknet's training-mode forward of the cfg's batch touches:
     * outputs and deltas, plus x and x_norm in BN layers */
    double full = 0;
    for (int i = 0; i < net->n; ++i)
        full += (double)net->layers[i].outputs * (2 + 2 * is_bn(&net->layers[i]));
    full *= net->batch * sizeof(float) / 1048576.0;
    double images = 300.0 * net->inputs * sizeof(float) / 1048576.0;
    legr_free_network(net);
    char *cmd = tu_fmt("env LEGR_IMAGE_CACHE_MB=16 OMP_NUM_THREADS=1 ./darknet legr eval %s %s %s -bn 2 -loss",
                       c.data, c.cfg, c.weights);
    long kb;
    int rc = run_rss(cmd, c.dir, &kb);
    char *out = tu_path(c.dir, "out.txt"), *text = tu_read_file(out, NULL);
    if (rc != 0) {
        char *ep = tu_path(c.dir, "err.txt"), *et = tu_read_file(ep, NULL);
        printf("%s\nstderr: %s\n", cmd, et ? et : "");
        free(ep); free(et);
    }
    assert_int_equal(rc, 0);
    assert_non_null(text);
    assert_non_null(strstr(text, "BN re-estimated (2 x 64 images)"));
    assert_non_null(strstr(text, "validation loss"));
    /* AddressSanitizer (make test SANITIZE=1) adds shadow memory and a
     * 256 MB quarantine of freed blocks */
    int asan = getenv("ASAN_OPTIONS") != NULL;
    double bound = asan ? 3 * 300 + 256 : 300;
    printf("legr eval -bn 2 -loss, batch=64, 300 images at 160x160: peak RSS %.0f MB (bound %.0f MB%s); "
           "a training forward of the batch would touch %.0f MB, the images kept decoded %.0f MB\n",
           kb / 1024.0, bound, asan ? ", sanitizer build" : "", full, images);
    assert_true(full + images > 2 * 300);      /* the bound means something */
    assert_true(kb / 1024.0 < bound);
    free(cmd); free(out); free(text);
    free_case(&c);
}

int main(void)
{
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bn_equals_one_big_batch),
        cmocka_unit_test(test_loss_equals_whole_batches),
        cmocka_unit_test(test_lazy_images_score_the_same),
        cmocka_unit_test(test_finetune_splits_and_restores),
        cmocka_unit_test(test_eval_peak_rss_bounded),
    };
    return cmocka_run_group_tests_name("memory", tests, NULL, NULL);
}
