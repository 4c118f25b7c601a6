/* test_recover.c: recovery of pruned models.
 *   - reconstruction (recover.c) lowers every re-fitted layer's output error
 *     against plain surgery, measured on held-out real images (Debian's
 *     darknet sample pictures), with seeded random weights;
 *   - an exact case: a removed channel that is a linear combination of kept
 *     ones; after reconstruction the pruned network computes what the
 *     original computes, to float tolerance;
 *   - `legr prune -recover -bn` writes a pair of the exact size whose
 *     weights differ from plain surgery, that stock Darknet runs as ours does;
 *   - `legr finetune -teacher -nolabels`: 20 label-free distillation
 *     iterations lower the distillation loss; the output loads in stock
 *     Darknet; -resume continues from the state file; -augment's random
 *     views train to other weights, which stock Darknet runs;
 *   - frozen BN (bnfreeze.c): a training pass leaves the rolling statistics
 *     as they are, computes what inference computes, and its gradients
 *     (weights, BN scale and bias, the input) match finite differences;
 *     `finetune -freeze-bn` writes the input's statistics unchanged;
 *   - the fine-tuning schedule (legr_tune_lr_at): constant, then tenfold
 *     drops over the last 20%;
 *   - bad input: one `legr:` line, non-zero exit, nothing written. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "model.h"
#include "rank.h"
#include "surgery.h"
#include "recover.h"
#include "eval.h"
#include "bnfreeze.h"
#include "tune.h"
#include "convolutional_layer.h"

#define SAMPLES "/usr/share/darknet/data/"

/* A small detector-like stack at 64x64: BN convs, a maxpool, a 1x1, a
 * linear head conv. */
static const char *SMALL_CFG =
    "[net]\nbatch=4\nsubdivisions=1\nwidth=64\nheight=64\nchannels=3\nlearning_rate=0.001\n"
    "momentum=0.9\ndecay=0.0005\n\n"
    "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n"
    "[convolutional]\nbatch_normalize=1\nfilters=32\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n"
    "[maxpool]\nsize=2\nstride=2\n\n"
    "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=1\nstride=1\npad=1\nactivation=leaky\n\n"
    "[convolutional]\nbatch_normalize=1\nfilters=32\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n"
    "[convolutional]\nfilters=10\nsize=1\nstride=1\npad=1\nactivation=linear\n";

static char *write_list(const char *dir, const char *name, const char *const *imgs, int n)
{
    char *path = tu_path(dir, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    for (int i = 0; i < n; ++i) fprintf(fp, SAMPLES "%s\n", imgs[i]);
    fclose(fp);
    return path;
}

/* The model, its plain-L2 mask at `ratio`, and the pruned pair loaded. */
typedef struct {
    legr_model m;
    legr_mask mask;
    char *pcfg, *pweights;
} pruned_case;

static void make_case(const char *dir, const char *cfgtext, float ratio, unsigned seed, pruned_case *pc)
{
    char *cfg = tu_path(dir, "net.cfg"), *w = tu_path(dir, "net.weights");
    assert_int_equal(tu_write_text(cfg, cfgtext), 0);
    assert_int_equal(tu_random_weights(cfg, w, seed), 0);
    char err[512];
    assert_int_equal(legr_model_load(cfg, w, &pc->m, err, sizeof err), 0);
    legr_norms nr;
    legr_affine a;
    assert_int_equal(legr_norms_compute(pc->m.net, &pc->m.graph, &nr), 0);
    assert_int_equal(legr_affine_identity(&a, pc->m.graph.n_groups), 0);
    long flops;
    assert_int_equal(legr_select(pc->m.net, &pc->m.graph, &nr, &a, ratio, 0.1f, &pc->mask, &flops,
                                 err, sizeof err), 0);
    pc->pcfg = tu_path(dir, "p.cfg");
    pc->pweights = tu_path(dir, "p.weights");
    assert_int_equal(legr_write_pruned(&pc->m.cfg, pc->m.net, &pc->m.graph, &pc->m.w, &pc->mask,
                                       pc->pcfg, pc->pweights, err, sizeof err), 0);
    legr_norms_free(&nr);
    legr_affine_free(&a);
    free(cfg);
    free(w);
}

static void free_case(pruned_case *pc)
{
    legr_mask_free(&pc->mask);
    legr_model_free(&pc->m);
    free(pc->pcfg);
    free(pc->pweights);
}

static void test_reconstruction_lowers_error(void **state)
{
    char *dir = tu_mkdtemp("recover");
    pruned_case pc;
    make_case(dir, SMALL_CFG, 0.5f, 7, &pc);
    const char *fit_imgs[] = { "dog.jpg", "horses.jpg", "person.jpg", "giraffe.jpg" };
    const char *test_imgs[] = { "eagle.jpg", "kite.jpg", "scream.jpg" };
    char *fit_list = write_list(dir, "fit.txt", fit_imgs, 4);
    char *test_list = write_list(dir, "test.txt", test_imgs, 3);
    char err[512];
    legr_valset fit, test;
    assert_int_equal(legr_imageset_load(fit_list, pc.m.net, 0, &fit, err, sizeof err), 0);
    assert_int_equal(legr_imageset_load(test_list, pc.m.net, 0, &test, err, sizeof err), 0);

    network *plain = tu_load(pc.pcfg, pc.pweights), *rec = tu_load(pc.pcfg, pc.pweights);
    int nl = legr_recover_layers(pc.m.net, &pc.m.graph, &pc.mask, NULL, 0);
    assert_true(nl >= 3);       /* layers 1, 3, 4 and the head lost inputs */
    legr_recover_opts o = { &fit, 0, 1024, -1 };
    legr_recover_layer rep[16];
    int nr;
    assert_int_equal(legr_reconstruct(pc.m.net, rec, &pc.m.graph, &pc.mask, &o, rep, &nr, err, sizeof err), 0);
    assert_int_equal(nr, nl);

    double e_plain[16], e_rec[16];
    legr_recover_opts t = { &test, 0, 1024, -1 };
    assert_int_equal(legr_recover_errors(pc.m.net, plain, &pc.m.graph, &pc.mask, &t, e_plain, err, sizeof err), 0);
    assert_int_equal(legr_recover_errors(pc.m.net, rec, &pc.m.graph, &pc.mask, &t, e_rec, err, sizeof err), 0);
    for (int k = 0; k < nl; ++k) {
        printf("layer %d: held-out relative error %.4f plain, %.4f reconstructed (fit %.4f -> %.4f)\n",
               rep[k].layer, e_plain[k], e_rec[k], rep[k].err_before, rep[k].err_after);
        assert_true(e_rec[k] < e_plain[k]);
        assert_true(rep[k].err_after <= rep[k].err_before);
    }
    legr_free_network(plain);
    legr_free_network(rec);
    legr_valset_free(&fit);
    legr_valset_free(&test);
    free_case(&pc);
    free(fit_list);
    free(test_list);
    tu_rmtree(dir);
    free(dir);
}

/* conv0 (3x3, linear, 4 filters) -> conv1 (3x3, linear) -> conv2 (1x1):
 * filter 3 of conv0 is filter 0 + 2 * filter 1, so removing it loses
 * nothing that conv1 cannot rebuild from channels 0 and 1. */
static const char *EXACT_CFG =
    "[net]\nbatch=2\nsubdivisions=1\nwidth=32\nheight=32\nchannels=3\n\n"
    "[convolutional]\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=linear\n\n"
    "[convolutional]\nfilters=6\nsize=3\nstride=1\npad=1\nactivation=linear\n\n"
    "[convolutional]\nfilters=5\nsize=1\nstride=1\npad=0\nactivation=linear\n";

static void test_exact_linear_combination(void **state)
{
    char *dir = tu_mkdtemp("recover-exact");
    char *cfg = tu_path(dir, "net.cfg"), *w = tu_path(dir, "net.weights");
    assert_int_equal(tu_write_text(cfg, EXACT_CFG), 0);
    assert_int_equal(tu_random_weights(cfg, w, 3), 0);
    network *net = tu_load(cfg, w);
    layer *l0 = &net->layers[0];
    for (int c = 0; c < 27; ++c) l0->weights[3 * 27 + c] = l0->weights[0 * 27 + c] + 2 * l0->weights[1 * 27 + c];
    l0->biases[3] = l0->biases[0] + 2 * l0->biases[1];
    tu_quiet_begin();
    save_weights(net, w);
    tu_quiet_end();
    legr_free_network(net);

    char err[512];
    legr_model m;
    assert_int_equal(legr_model_load(cfg, w, &m, err, sizeof err), 0);
    legr_mask mask;
    assert_int_equal(legr_mask_init(&mask, &m.graph), 0);
    int g0 = m.graph.out[0][0];
    mask.keep[g0][3] = 0;
    mask.kept[g0]--;
    char *pcfg = tu_path(dir, "p.cfg"), *pw = tu_path(dir, "p.weights");
    assert_int_equal(legr_write_pruned(&m.cfg, m.net, &m.graph, &m.w, &mask, pcfg, pw, err, sizeof err), 0);
    const char *imgs[] = { "dog.jpg", "horses.jpg" };
    char *list = write_list(dir, "fit.txt", imgs, 2);
    legr_valset vs;
    assert_int_equal(legr_imageset_load(list, m.net, 0, &vs, err, sizeof err), 0);
    network *pn = tu_load(pcfg, pw);
    legr_recover_opts o = { &vs, 0, 0, 1e-9f };
    legr_recover_layer rep[4];
    int nr;
    assert_int_equal(legr_reconstruct(m.net, pn, &m.graph, &mask, &o, rep, &nr, err, sizeof err), 0);
    assert_int_equal(nr, 2);            /* conv1 lost an input; conv2 follows a pruned layer */
    assert_int_equal(rep[0].layer, 1);
    assert_int_equal(rep[1].layer, 2);
    printf("conv1 relative error %.3g -> %.3g, conv2 %.3g -> %.3g\n", rep[0].err_before,
           rep[0].err_after, rep[1].err_before, rep[1].err_after);
    assert_true(rep[0].err_before > 1e-3);
    assert_true(rep[0].err_after < 1e-5);     /* squared, relative: float GEMMs build G */
    assert_true(rep[1].err_after < 1e-6);     /* float rounding: it was 6e-8 before */

    /* the whole network on an image it was not fitted on */
    legr_valset other;
    const char *held[] = { "eagle.jpg" };
    char *hl = write_list(dir, "held.txt", held, 1);
    assert_int_equal(legr_imageset_load(hl, m.net, 0, &other, err, sizeof err), 0);
    set_batch_network(m.net, 1);
    set_batch_network(pn, 1);
    size_t n = m.net->outputs;
    float *a = malloc(n * sizeof(float));
    memcpy(a, network_predict(m.net, other.pixels[0]), n * sizeof(float));
    float *b = network_predict(pn, other.pixels[0]);
    assert_true(tu_close("exact reconstruction, network output", a, b, n, 1e-4));
    free(a);
    legr_free_network(pn);
    legr_valset_free(&vs);
    legr_valset_free(&other);
    legr_mask_free(&mask);
    legr_model_free(&m);
    free(cfg); free(w); free(pcfg); free(pw); free(list); free(hl);
    tu_rmtree(dir);
    free(dir);
}

/* A yolov3-tiny at 96x96 with random weights, a list of sample images and a
 * .data file naming it as train= (no label files exist: -nolabels). */
typedef struct { char *dir, *cfg, *weights, *list, *data; } det_case;

static void make_det(det_case *d, const char *tag)
{
    d->dir = tu_mkdtemp(tag);
    d->cfg = tu_path(d->dir, "tiny.cfg");
    d->weights = tu_path(d->dir, "tiny.weights");
    assert_int_equal(tu_cfg_copy("/usr/share/darknet/cfg/yolov3-tiny.cfg", d->cfg, 96, 96), 0);
    assert_int_equal(tu_random_weights(d->cfg, d->weights, 5), 0);
    const char *imgs[] = { "dog.jpg", "horses.jpg", "person.jpg", "kite.jpg" };
    d->list = write_list(d->dir, "images.txt", imgs, 4);
    d->data = tu_path(d->dir, "x.data");
    char *text = tu_fmt("classes=80\ntrain=%s\nvalid=%s\nnames=/usr/share/darknet/data/coco.names\n",
                        d->list, d->list);
    assert_int_equal(tu_write_text(d->data, text), 0);
    free(text);
}

static void free_det(det_case *d)
{
    tu_rmtree(d->dir);
    free(d->dir); free(d->cfg); free(d->weights); free(d->list); free(d->data);
}

/* Prunes d's model to 0.5 with plain L2: <dir>/p-50.cfg and .weights. */
static void prune_half(const det_case *d, char **pcfg, char **pw)
{
    char *cmd = tu_fmt("./darknet legr prune %s %s 0.5 -out %s/p", d->cfg, d->weights, d->dir);
    char *out = NULL, *err = NULL;
    assert_int_equal(tu_run(cmd, &out, &err), 0);
    free(cmd); free(out); free(err);
    *pcfg = tu_fmt("%s/p-50.cfg", d->dir);
    *pw = tu_fmt("%s/p-50.weights", d->dir);
}

static void test_prune_recover_writes_recovered_pair(void **state)
{
    det_case d;
    make_det(&d, "recover-cli");
    char *plain = tu_path(d.dir, "plain"), *rec = tu_path(d.dir, "rec");
    char *cmd = tu_fmt("./darknet legr prune %s %s 0.5 -out %s", d.cfg, d.weights, plain);
    char *out = NULL, *err = NULL;
    assert_int_equal(tu_run(cmd, &out, &err), 0);
    free(cmd); free(out); free(err);
    cmd = tu_fmt("./darknet legr prune %s %s 0.5 -out %s -recover 4 -bn 1 -images %s -v",
                 d.cfg, d.weights, rec, d.list);
    assert_int_equal(tu_run(cmd, &out, &err), 0);
    assert_non_null(strstr(out, "reconstruction: "));
    free(cmd); free(out); free(err);
    char *pw = tu_fmt("%s-50.weights", plain), *rw = tu_fmt("%s-50.weights", rec);
    char *pc = tu_fmt("%s-50.cfg", plain), *rc = tu_fmt("%s-50.cfg", rec);
    /* the same cfg and size, other floats */
    size_t lp, lr, cp, cr;
    char *bp = tu_read_file(pw, &lp), *br = tu_read_file(rw, &lr);
    char *tp = tu_read_file(pc, &cp), *tr = tu_read_file(rc, &cr);
    assert_int_equal(lp, lr);
    assert_true(cp == cr && memcmp(tp, tr, cp) == 0);
    assert_true(memcmp(bp, br, lp) != 0);
    assert_int_equal(memcmp(bp, br, 20), 0);     /* header 0.2.0, seen 0 */
    network *net = tu_parse(rc);
    assert_int_equal((long)lr, 20 + 4 * tu_weight_floats(net));
    free_network(net);
    tu_assert_stock_forward_matches(rc, rw, d.dir, 1e-3);
    /* nothing left behind but the outputs */
    char *names;
    assert_true(tu_dir_entries(d.dir, &names) > 0);
    assert_null(strstr(names, ".prune."));
    assert_null(strstr(names, ".tmp."));
    free(names);
    free(bp); free(br); free(tp); free(tr);
    free(pw); free(rw); free(pc); free(rc); free(plain); free(rec);
    free_det(&d);
}

/* The "distill X" figure of the progress line for iteration `it`. */
static double distill_at(const char *out, int it, int iters)
{
    char *key = tu_fmt("iteration %d/%d ", it, iters);
    const char *p = strstr(out, key);
    free(key);
    if (!p) return -1;
    p = strstr(p, "distill ");
    return p ? atof(p + 8) : -1;
}

/* Runs cmd and asserts: exit != 0, one stderr line starting "legr: ",
 * containing `says`, and no new file in dir. */
static void assert_refused(const char *dir, const char *cmd, const char *says)
{
    char *before, *after;
    tu_dir_entries(dir, &before);
    char *out = NULL, *err = NULL;
    int rc = tu_run(cmd, &out, &err);
    printf("%s\n  -> rc %d: %s", cmd, rc, err);
    assert_int_not_equal(rc, 0);
    assert_int_equal(tu_count_lines_with_prefix(err, "legr: ", NULL), 1);
    assert_non_null(strstr(err, says));
    tu_dir_entries(dir, &after);
    assert_string_equal(after, before);
    free(before);
    free(after);
    free(out);
    free(err);
}

/* Writes "legr-finetune-state <fields>" as ft's state and asserts that the
 * 20-iteration run with `opts` resumes from it. */
static void assert_old_state_resumes(const det_case *d, const char *pcfg, const char *pw, const char *list,
                                     const char *ft, const char *fields, const char *opts)
{
    char *fs = tu_fmt("%s.state", ft), *text = tu_fmt("legr-finetune-state %s\n", fields);
    assert_int_equal(tu_write_text(fs, text), 0);
    char *cmd = tu_fmt("./darknet legr finetune %s %s %s -teacher %s %s -nolabels -images %s -iters 20 "
                       "-lr 0.001 %s -out %s -resume", d->data, pcfg, pw, d->cfg, d->weights, list, opts, ft);
    char *out = NULL, *err = NULL;
    assert_int_equal(tu_run(cmd, &out, &err), 0);
    assert_non_null(strstr(out, "resuming from iteration 20"));
    free(out); free(err); free(cmd); free(text); free(fs);
}

static void test_finetune_nolabels_distillation(void **state)
{
    det_case d;
    make_det(&d, "finetune");
    char *pcfg, *pw, *ft = tu_path(d.dir, "ft"), *cmd, *out = NULL, *err = NULL;
    prune_half(&d, &pcfg, &pw);
    /* one image, so every iteration sees the same input (up to a flip) */
    const char *one[] = { "dog.jpg" };
    char *list1 = write_list(d.dir, "one.txt", one, 1);
    cmd = tu_fmt("./darknet legr finetune %s %s %s -teacher %s %s -nolabels -images %s -iters 20 "
                 "-lr 0.001 -snapshot 10 -out %s", d.data, pcfg, pw, d.cfg, d.weights, list1, ft);
    int rc = tu_run(cmd, &out, &err);
    if (rc != 0) fprintf(stderr, "%s\n%s\n", out, err);
    assert_int_equal(rc, 0);
    double first = distill_at(out, 1, 20), last = distill_at(out, 20, 20);
    printf("distillation loss: iteration 1 %.4f, iteration 20 %.4f\n", first, last);
    assert_true(first > 0 && last >= 0);
    assert_true(last < 0.8 * first);
    assert_non_null(strstr(out, "no burn-in"));
    free(out); free(err);
    char *fcfg = tu_fmt("%s.cfg", ft), *fw = tu_fmt("%s.weights", ft), *fs = tu_fmt("%s.state", ft);
    assert_true(tu_exists(fcfg) && tu_exists(fw) && tu_exists(fs));
    network *net = tu_parse(fcfg);
    assert_int_equal(tu_file_size(fw), 20 + 4 * tu_weight_floats(net));
    free_network(net);
    tu_assert_stock_forward_matches(fcfg, fw, d.dir, 1e-3);
    /* -resume of a finished run rewrites the same outputs without training */
    free(cmd);
    cmd = tu_fmt("./darknet legr finetune %s %s %s -teacher %s %s -nolabels -images %s -iters 20 "
                 "-lr 0.001 -out %s -resume", d.data, pcfg, pw, d.cfg, d.weights, list1, ft);
    size_t l1, l2;
    char *before = tu_read_file(fw, &l1);
    assert_int_equal(tu_run(cmd, &out, &err), 0);
    assert_non_null(strstr(out, "resuming from iteration 20"));
    char *after = tu_read_file(fw, &l2);
    assert_true(l1 == l2 && memcmp(before, after, l1) == 0);
    free(after); free(out); free(err); free(cmd);
    /* ... but not with another schedule: the state records -lr, -lr-steps, the
     * batch, -augment, -distill and -seed (the pruned cfg's is 1, so a state that says 3 stands for a cfg whose
     * batch was edited); the weights and the state stay as they are */
    const char *other[][3] = { { "-lr 0.002", "that run had -lr 0.001, not 0.002", NULL },
                               { "-lr 0.001 -lr-steps 2", "that run had -lr-steps 1, not 2", NULL },
                               { "-lr 0.001", "that run had a batch of 3, not 1", "batch 3 augment 0 distill 1 seed 1\n" },
                               { "-lr 0.001 -augment 0.3", "that run had -augment 0, not 0.3", NULL },
                               { "-lr 0.001 -distill 2", "that run had -distill 1, not 2", NULL },
                               { "-lr 0.001 -seed 7", "that run had -seed 1, not 7", NULL } };
    size_t ls1, ls2;
    char *state_before = tu_read_file(fs, &ls1);
    assert_non_null(strstr(state_before, " batch 1 augment 0 distill 1 seed 1\n"));
    for (size_t k = 0; k < sizeof other / sizeof *other; ++k) {
        cmd = tu_fmt("./darknet legr finetune %s %s %s -teacher %s %s -nolabels -images %s -iters 20 "
                     "%s -out %s -resume", d.data, pcfg, pw, d.cfg, d.weights, list1, other[k][0], ft);
        char *state = state_before;
        if (other[k][2]) {      /* the state's last field replaced */
            state = tu_fmt("%.*s%s", (int)(strstr(state_before, " batch ") + 1 - state_before),
                           state_before, other[k][2]);
            assert_int_equal(tu_write_text(fs, state), 0);
        }
        assert_refused(d.dir, cmd, other[k][1]);
        after = tu_read_file(fw, &l2);
        assert_true(l1 == l2 && memcmp(before, after, l1) == 0);
        free(after);
        after = tu_read_file(fs, &ls2);
        assert_true(ls2 == strlen(state) && memcmp(state, after, ls2) == 0);
        free(after); free(cmd);
        if (state != state_before) {
            free(state);
            assert_int_equal(tu_write_file(fs, state_before, ls1), 0);
        }
    }
    /* a version 2 state (before -augment was recorded) resumes as -augment 0;
     * so does a version 3 state (before -distill and -seed), with any -seed */
    assert_old_state_resumes(&d, pcfg, pw, list1, ft, "2 iteration 20 of 20 lr 0.001 lr-steps 1 batch 1", "");
    assert_old_state_resumes(&d, pcfg, pw, list1, ft, "3 iteration 20 of 20 lr 0.001 lr-steps 1 batch 1 augment 0",
                             "-seed 7");
    free(before); free(state_before);
    /* -augment: the same run on random views of the one image trains to
     * other weights, which stock Darknet runs as ours does */
    char *fta = tu_fmt("%s-aug", ft), *fwa = tu_fmt("%s-aug.weights", ft), *fca = tu_fmt("%s-aug.cfg", ft);
    cmd = tu_fmt("./darknet legr finetune %s %s %s -teacher %s %s -nolabels -images %s -iters 20 "
                 "-lr 0.001 -augment 0.3 -out %s", d.data, pcfg, pw, d.cfg, d.weights, list1, fta);
    assert_int_equal(tu_run(cmd, &out, &err), 0);
    assert_non_null(strstr(out, "random views: zoom up to 0.3"));
    before = tu_read_file(fw, &l1);
    after = tu_read_file(fwa, &l2);
    assert_true(l1 == l2 && memcmp(before, after, l1) != 0);
    tu_assert_stock_forward_matches(fca, fwa, d.dir, 1e-3);
    free(before); free(after); free(out); free(err); free(cmd); free(fta); free(fwa); free(fca);
    /* a learning rate that diverges: stopped with one legr: line, not a crash */
    cmd = tu_fmt("./darknet legr finetune %s %s %s -teacher %s %s -nolabels -images %s -iters 20 "
                 "-lr 9 -out %s-div", d.data, pcfg, pw, d.cfg, d.weights, list1, ft);
    rc = tu_run(cmd, &out, &err);
    printf("-lr 9: rc %d, %s", rc, err);
    assert_int_equal(rc, 1);
    assert_int_equal(tu_count_legr_errors(err, NULL), 1);       /* the batch=1 warning aside */
    assert_int_equal(tu_count_lines_with_prefix(err, "legr: warning: ", NULL), 1);
    assert_non_null(strstr(err, "NaN or infinite"));
    free(out); free(err); free(cmd);
    free(fcfg); free(fw); free(fs); free(pcfg); free(pw); free(ft); free(list1);
    free_det(&d);
}

/* L = 0.5 * |output of the last layer - target|^2 after a frozen-BN
 * forward in training mode. */
static double frozen_loss(network *net, const float *x, const float *target)
{
    memcpy(net->input, x, sizeof(float) * net->inputs * net->batch);
    net->train = 1;
    forward_network(net);
    layer *l = &net->layers[net->n - 1];
    double L = 0;
    for (int i = 0; i < l->outputs * l->batch; ++i) L += 0.5 * (l->output[i] - target[i]) * (l->output[i] - target[i]);
    return L;
}

/* Darknet's updates are minus the gradient (delta = -dL/dy); each checked
 * entry against a central difference of L (linear activations: L is
 * quadratic in every parameter, so the difference is exact but for float
 * rounding; the activations' own gradients are Darknet's). */
static void check_grad(network *net, float *param, const float *update, int n, const float *x,
                       const float *target, const char *what, int *checked)
{
    for (int j = 0; j < n; j += n / 5 + 1) {
        float keep = param[j], h = 1e-2f * (fabsf(keep) > 1 ? fabsf(keep) : 1);
        param[j] = keep + h;
        double lp = frozen_loss(net, x, target);
        param[j] = keep - h;
        double lm = frozen_loss(net, x, target);
        param[j] = keep;
        double num = (lp - lm) / (2 * h), ana = -update[j];
        printf("  %s[%d]: analytic %.5g, finite difference %.5g\n", what, j, ana, num);
        assert_true(fabs(ana - num) <= 0.02 * fabs(num) + 1e-3);
        ++*checked;
    }
}

static void test_frozen_bn_gradients(void **state)
{
    char *dir = tu_mkdtemp("recover-frozen");
    char *cfg = tu_path(dir, "net.cfg"), *w = tu_path(dir, "net.weights");
    assert_int_equal(tu_write_text(cfg,
        "[net]\nbatch=2\nsubdivisions=1\nwidth=12\nheight=12\nchannels=3\n\n"
        "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=linear\n\n"
        "[convolutional]\nbatch_normalize=1\nfilters=4\ngroups=4\nsize=3\nstride=2\npad=1\nactivation=linear\n\n"
        "[convolutional]\nbatch_normalize=1\nfilters=3\nsize=1\nstride=1\npad=0\nactivation=linear\n"), 0);
    assert_int_equal(tu_random_weights(cfg, w, 5), 0);
    network *net = tu_load(cfg, w);
    /* statistics a trained network would have */
    for (int i = 0; i < net->n; ++i)
        for (int f = 0; f < net->layers[i].n; ++f) {
            net->layers[i].rolling_mean[f] = 0.1f * (f - 1);
            net->layers[i].rolling_variance[f] = 0.5f + 0.3f * f;
            net->layers[i].scales[f] = 0.8f + 0.1f * f;
            net->layers[i].biases[f] = 0.05f * f;
        }
    int n_in = net->inputs * net->batch, n_out = net->layers[net->n - 1].outputs * net->batch;
    float *x = calloc(n_in, sizeof(float)), *t = calloc(n_out, sizeof(float));
    for (int i = 0; i < n_in; ++i) x[i] = (float)((i * 37) % 23) / 23.f - 0.4f;
    for (int i = 0; i < n_out; ++i) t[i] = (float)((i * 11) % 7) / 7.f;

    /* inference output, then training with frozen BN: the same output, the
     * same statistics */
    memcpy(net->input, x, sizeof(float) * n_in);
    float *pred = network_predict(net, x);
    float *ref = calloc(n_out, sizeof(float));
    memcpy(ref, pred, sizeof(float) * n_out);
    float rm = net->layers[0].rolling_mean[2], rv = net->layers[0].rolling_variance[2];
    assert_int_equal(legr_bn_freeze(net), 3);
    frozen_loss(net, x, t);
    layer *last = &net->layers[net->n - 1];
    for (int i = 0; i < n_out; ++i) assert_true(fabsf(last->output[i] - ref[i]) <= 1e-5f * (1 + fabsf(ref[i])));
    assert_true(net->layers[0].rolling_mean[2] == rm && net->layers[0].rolling_variance[2] == rv);

    /* the gradients of L at these weights */
    for (int i = 0; i < net->n; ++i) {
        layer *l = &net->layers[i];
        memset(l->weight_updates, 0, l->nweights * sizeof(float));
        memset(l->bias_updates, 0, l->n * sizeof(float));
        memset(l->scale_updates, 0, l->n * sizeof(float));
    }
    float *dx = calloc(n_in, sizeof(float));
    frozen_loss(net, x, t);
    for (int i = 0; i < n_out; ++i) last->delta[i] = t[i] - last->output[i];
    net->delta = dx;
    backward_network(net);
    net->delta = 0;
    int checked = 0;
    for (int i = 0; i < net->n; ++i) {
        layer *l = &net->layers[i];
        char what[64];
        snprintf(what, sizeof what, "layer %d weights", i);
        check_grad(net, l->weights, l->weight_updates, l->nweights, x, t, what, &checked);
        snprintf(what, sizeof what, "layer %d BN scales", i);
        check_grad(net, l->scales, l->scale_updates, l->n, x, t, what, &checked);
        snprintf(what, sizeof what, "layer %d BN biases", i);
        check_grad(net, l->biases, l->bias_updates, l->n, x, t, what, &checked);
    }
    check_grad(net, x, dx, n_in, x, t, "input", &checked);
    printf("frozen BN: %d gradient entries checked\n", checked);
    legr_bn_thaw(net);
    assert_true(net->layers[0].forward == forward_convolutional_layer);
    legr_free_network(net);
    free(x); free(t); free(ref); free(dx); free(cfg); free(w);
    tu_rmtree(dir);
    free(dir);
}

/* `legr finetune -freeze-bn` end to end: the written pair keeps the input's
 * BN statistics exactly, while its weights moved. */
static void test_finetune_freeze_bn_keeps_statistics(void **state)
{
    det_case d;
    make_det(&d, "freeze");
    char *pcfg, *pw, *ft = tu_path(d.dir, "fz"), *out = NULL, *err = NULL;
    prune_half(&d, &pcfg, &pw);
    const char *one[] = { "dog.jpg" };
    char *list1 = write_list(d.dir, "one.txt", one, 1);
    /* a small rate: this model's weights are random and its statistics
     * Darknet's initial 0 / 1, so without batch statistics its outputs
     * are large (lr 0.001 diverged in 3 iterations) */
    char *cmd = tu_fmt("./darknet legr finetune %s %s %s -teacher %s %s -nolabels -images %s -iters 5 "
                       "-lr 0.00001 -freeze-bn -out %s", d.data, pcfg, pw, d.cfg, d.weights, list1, ft);
    int rc = tu_run(cmd, &out, &err);
    if (rc != 0) fprintf(stderr, "%s\n%s\n", out, err);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "BN statistics frozen"));
    char *fcfg = tu_fmt("%s.cfg", ft), *fw = tu_fmt("%s.weights", ft);
    network *a = tu_load(pcfg, pw), *b = tu_load(fcfg, fw);
    int bn = 0, moved = 0;
    for (int i = 0; i < a->n; ++i) {
        layer *la = &a->layers[i], *lb = &b->layers[i];
        if (la->type != CONVOLUTIONAL) continue;
        for (int k = 0; k < la->nweights; ++k) moved += la->weights[k] != lb->weights[k];
        if (!la->batch_normalize) continue;
        ++bn;
        assert_memory_equal(la->rolling_mean, lb->rolling_mean, la->n * sizeof(float));
        assert_memory_equal(la->rolling_variance, lb->rolling_variance, la->n * sizeof(float));
    }
    printf("-freeze-bn: %d BN layers with their statistics unchanged, %d weights moved\n", bn, moved);
    assert_true(bn > 0 && moved > 0);
    legr_free_network(a);
    legr_free_network(b);
    free(out); free(err); free(cmd); free(fcfg); free(fw); free(pcfg); free(pw); free(ft); free(list1);
    free_det(&d);
}

static void test_bad_input(void **state)
{
    det_case d;
    make_det(&d, "recover-bad");
    char *pcfg, *pw, *o = tu_path(d.dir, "o"), *pfx = tu_path(d.dir, "p");
    prune_half(&d, &pcfg, &pw);
    /* a teacher whose heads differ: yolov2-tiny-voc's [region] head */
    char *other = tu_path(d.dir, "other.cfg"), *ow = tu_path(d.dir, "other.weights");
    assert_int_equal(tu_cfg_copy("/usr/share/darknet/cfg/yolov3-tiny.cfg", other, 128, 128), 0);
    assert_int_equal(tu_random_weights(other, ow, 1), 0);
    char *empty = tu_path(d.dir, "empty.txt"), *missing = tu_path(d.dir, "missing.txt");
    assert_int_equal(tu_write_text(empty, ""), 0);
    assert_int_equal(tu_write_text(missing, "/nonexistent/a.jpg\n"), 0);
    char *c;
    c = tu_fmt("./darknet legr finetune %s %s %s -teacher %s %s -nolabels -images %s -iters 2 -out %s",
               d.data, pcfg, pw, other, ow, d.list, o);
    assert_refused(d.dir, c, "teacher");
    free(c);
    c = tu_fmt("./darknet legr finetune %s %s %s -teacher %s %s -nolabels -iters 0 -out %s",
               d.data, pcfg, pw, d.cfg, d.weights, o);
    assert_refused(d.dir, c, "-iters");
    free(c);
    c = tu_fmt("./darknet legr finetune %s %s %s -teacher %s %s -nolabels -images %s -out %s",
               d.data, pcfg, pw, d.cfg, d.weights, empty, o);
    assert_refused(d.dir, c, "empty");
    free(c);
    c = tu_fmt("./darknet legr finetune %s %s %s -teacher %s %s -nolabels -images %s -out %s",
               d.data, pcfg, pw, d.cfg, d.weights, missing, o);
    assert_refused(d.dir, c, "does not exist");
    free(c);
    c = tu_fmt("./darknet legr finetune %s %s %s -nolabels -out %s", d.data, pcfg, pw, o);
    assert_refused(d.dir, c, "-nolabels needs -teacher");
    free(c);
    /* -out p-50 would write p-50.cfg and p-50.weights: the inputs */
    c = tu_fmt("./darknet legr finetune %s %s %s -teacher %s %s -nolabels -out %s-50", d.data, pcfg, pw,
               d.cfg, d.weights, pfx);
    assert_refused(d.dir, c, "refusing to overwrite");
    free(c);
    c = tu_fmt("./darknet legr prune %s %s 0.5 -out %s -recover 4 -images %s", d.cfg, d.weights, o, empty);
    assert_refused(d.dir, c, "empty");
    free(c);
    c = tu_fmt("./darknet legr prune %s %s 0.5 -out %s -recover 4", d.cfg, d.weights, o);
    assert_refused(d.dir, c, "need images");
    free(c);
    c = tu_fmt("./darknet legr prune %s %s 0.5 -out %s -recover 4 -images %s", d.cfg, d.weights, o, missing);
    assert_refused(d.dir, c, "does not exist");
    free(c);
    /* every new flag's bad values */
    const char *prune_bad[][2] = {
        { "-recover -1 -images LIST", "-recover must be >= 0" },
        { "-recover 4 -images LIST -ridge nan", "-ridge" },
        { "-recover 4 -images LIST -ridge 2", "-ridge" },
        { "-recover 4 -images LIST -ridge -1", "-ridge" },
        { "-recover 4 -images LIST -data DATA", "either -images or -data" },
        { "-recover 4 -data /nonexistent.data", "/nonexistent.data" },
        { "-bn 2 -data /nonexistent.data", "/nonexistent.data" },
        { "-bn -1 -images LIST", "must be >= 0" },
    };
    for (size_t k = 0; k < sizeof prune_bad / sizeof *prune_bad; ++k) {
        char *a = tu_fmt("%s", prune_bad[k][0]), *t;
        if ((t = strstr(a, "LIST"))) { *t = 0; t = tu_fmt("%s%s%s", a, d.list, t + 4); free(a); a = t; }
        if ((t = strstr(a, "DATA"))) { *t = 0; t = tu_fmt("%s%s%s", a, d.data, t + 4); free(a); a = t; }
        c = tu_fmt("./darknet legr prune %s %s 0.5 -out %s %s", d.cfg, d.weights, o, a);
        assert_refused(d.dir, c, prune_bad[k][1]);
        free(c);
        free(a);
    }
    /* an output that is an input other than the cfg/weights: the image list */
    char *clash = tu_path(d.dir, "clash-50.cfg"), *clash_pfx = tu_path(d.dir, "clash");
    assert_int_equal(tu_copy_file(d.list, clash), 0);
    c = tu_fmt("./darknet legr prune %s %s 0.5 -out %s -recover 2 -images %s", d.cfg, d.weights, clash_pfx, clash);
    assert_refused(d.dir, c, "refusing to overwrite");
    free(c);
    /* ... and the .csv of -eval onto the .data file */
    char *ecsv = tu_path(d.dir, "e.csv"), *epfx = tu_path(d.dir, "e");
    assert_int_equal(tu_copy_file(d.data, ecsv), 0);
    c = tu_fmt("./darknet legr prune %s %s 0.5 -out %s -eval %s", d.cfg, d.weights, epfx, ecsv);
    assert_refused(d.dir, c, "e.csv: refusing to overwrite");
    free(c);
    free(ecsv);
    free(epfx);
    const char *ft_bad[][2] = {
        { "-lr nan", "-lr" }, { "-lr 20", "-lr" }, { "-lr -1", "-lr" },
        { "-distill 0", "-distill" }, { "-distill nan", "-distill" }, { "-distill -2", "-distill" },
        { "-batch -1", "-batch" }, { "-snapshot -1", "-snapshot" },
        { "-resume", "no state to resume from" },
    };
    for (size_t k = 0; k < sizeof ft_bad / sizeof *ft_bad; ++k) {
        c = tu_fmt("./darknet legr finetune %s %s %s -teacher %s %s -nolabels -images %s -iters 2 -out %s %s",
                   d.data, pcfg, pw, d.cfg, d.weights, d.list, o, ft_bad[k][0]);
        assert_refused(d.dir, c, ft_bad[k][1]);
        free(c);
    }
    c = tu_fmt("./darknet legr finetune %s %s %s -images %s -iters 2 -out %s", d.data, pcfg, pw, d.list, o);
    assert_refused(d.dir, c, "-images goes with -nolabels");
    free(c);
    c = tu_fmt("./darknet legr finetune %s %s %s -iters 2 -out %s -teacher %s", d.data, pcfg, pw, o, d.cfg);
    assert_refused(d.dir, c, "-teacher needs <cfg> <weights>");
    free(c);
    c = tu_fmt("./darknet legr finetune %s %s %s -teacher %s /nonexistent.weights -nolabels -images %s -out %s",
               d.data, pcfg, pw, d.cfg, d.list, o);
    assert_refused(d.dir, c, "/nonexistent.weights");
    free(c);
    /* -out onto the image list: q.state would be the list */
    char *qstate = tu_path(d.dir, "q.state"), *q = tu_path(d.dir, "q");
    assert_int_equal(tu_copy_file(d.list, qstate), 0);
    c = tu_fmt("./darknet legr finetune %s %s %s -teacher %s %s -nolabels -images %s -iters 2 -out %s",
               d.data, pcfg, pw, d.cfg, d.weights, qstate, q);
    assert_refused(d.dir, c, "refusing to overwrite");
    free(c);
    free(clash); free(clash_pfx); free(qstate); free(q);
    free(pcfg); free(pw); free(o); free(other); free(ow); free(empty); free(missing); free(pfx);
    free_det(&d);
}

/* legr_tune_lr_at: lr0 for the first 80%, then one tenfold drop, or with
 * 2 steps lr0/10 for the first half of the last 20% and lr0/100 after. */
static void test_tune_schedule(void **state)
{
    (void)state;
    assert_float_equal(legr_tune_lr_at(0.002f, 0, 1600, 1), 0.002f, 1e-9);
    assert_float_equal(legr_tune_lr_at(0.002f, 1279, 1600, 1), 0.002f, 1e-9);
    assert_float_equal(legr_tune_lr_at(0.002f, 1280, 1600, 1), 0.0002f, 1e-9);
    assert_float_equal(legr_tune_lr_at(0.002f, 1599, 1600, 1), 0.0002f, 1e-9);
    assert_float_equal(legr_tune_lr_at(0.002f, 1280, 1600, 2), 0.0002f, 1e-9);
    assert_float_equal(legr_tune_lr_at(0.002f, 1439, 1600, 2), 0.0002f, 1e-9);
    assert_float_equal(legr_tune_lr_at(0.002f, 1440, 1600, 2), 0.00002f, 1e-10);
    assert_float_equal(legr_tune_lr_at(0.002f, 1599, 1600, 3), 0.000002f, 1e-11);
    assert_float_equal(legr_tune_lr_at(0.002f, 3, 4, 1), 0.002f, 1e-9);   /* iters/5 = 0: no decay */
    assert_float_equal(legr_tune_lr_at(0.002f, 0, 1600, 0), 0.002f, 1e-9);
}

int main(void)
{
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reconstruction_lowers_error),
        cmocka_unit_test(test_exact_linear_combination),
        cmocka_unit_test(test_prune_recover_writes_recovered_pair),
        cmocka_unit_test(test_finetune_nolabels_distillation),
        cmocka_unit_test(test_frozen_bn_gradients),
        cmocka_unit_test(test_finetune_freeze_bn_keeps_statistics),
        cmocka_unit_test(test_tune_schedule),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests_name("recover", tests, NULL, NULL);
}
