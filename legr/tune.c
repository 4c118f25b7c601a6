/* tune.c: the `legr finetune` pipeline (see tune.h). */
#include "tune.h"
#include "model.h"
#include "finetune.h"
#include "distill.h"
#include "bnfreeze.h"
#include "augment.h"
#include "eval.h"
#include "guard.h"
#include "rng.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    network *teacher;
    legr_heads hs, ht;
    float weight;
    int replace;            /* nolabels: the teacher is the only target */
    double loss;            /* distillation loss summed over the iteration */
    int diverged;           /* a loss became NaN or infinite */
} distill_ctx;

/* Between the student's forward and backward: the teacher sees the same
 * input, and its head inputs pull the student's.  Stops the iteration when
 * a loss is NaN or infinite. */
static int distill_hook(network *net, void *vctx)
{
    distill_ctx *c = vctx;
    network *t = c->teacher;
    double loss = 0;
    if (t) {
        memcpy(t->input, net->input, (size_t)net->batch * net->inputs * sizeof(float));
        t->train = 0;
        forward_network(t);
        loss = legr_distill(net, &c->hs, t, &c->ht, c->weight, c->replace);
        c->loss += loss;
    }
    /* a diverged forward stops before its backward (see legr_train_hook) */
    c->diverged = !legr_finite(loss) || !legr_finite(*net->cost);
    return c->diverged;
}

/* One iteration of unlabelled images: random images of vs (drawn from r),
 * each flipped left-right at random, or with aug a random view of it
 * (augment.h), and empty truth. */
static data unlabelled_batch(const network *net, const legr_valset *vs, const legr_augment *aug, legr_rng *r)
{
    int rows = net->batch * net->subdivisions, w = vs->w, h = vs->h, ch = vs->c;
    data d = {0};
    d.X = make_matrix(rows, w * h * ch);
    d.y = make_matrix(rows, net->truths > 0 ? net->truths : 1);
    for (int row = 0; row < rows; ++row) {
        const float *src = vs->pixels[legr_rng_below(r, (uint32_t)vs->n_images)];
        float *dst = d.X.vals[row];
        if (aug) {
            legr_augment_view(src, dst, w, h, ch, aug, r);
        } else if (legr_rng_below(r, 2)) {
            for (int p = 0; p < ch * h; ++p)
                for (int x = 0; x < w; ++x) dst[p * w + x] = src[p * w + w - 1 - x];
        } else {
            memcpy(dst, src, (size_t)w * h * ch * sizeof(float));
        }
    }
    return d;
}

static char *out_path(const char *prefix, const char *ext)
{
    size_t n = strlen(prefix) + strlen(ext) + 1;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s%s", prefix, ext);
    return p;
}

/* What a run's schedule and data depend on: a resumed run must have the
 * same, or its second half would follow another schedule, or see other
 * inputs, than its first. */
typedef struct {
    int iters, lr_steps, batch;
    float lr0;
    float augment;          /* -augment J (0: off) */
    float distill;          /* -distill W with -teacher, 0 without */
    unsigned seed;          /* -seed: the draws of images, views and Darknet's */
} tune_schedule;

#define STATE_HEAD "legr-finetune-state"

/* The iteration a state file records, or -1 (also when the file records
 * another schedule than sc).  Version 1 files (before the schedule was
 * recorded) are checked on -iters alone; version 2 files (before -augment)
 * stand for -augment 0; versions 2 and 3 (before -distill and -seed) are
 * not checked on those two. */
static int read_state(const char *path, const tune_schedule *sc, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "r");
    if (!fp) return legr_fail(err, errlen, "%s: no state to resume from", path);
    int version = 0, it = -1, total = -1, steps = 0, batch = 0;
    float lr = 0, augment = 0, distill = sc->distill;
    unsigned seed = sc->seed;
    int ok = fscanf(fp, STATE_HEAD " %d iteration %d of %d", &version, &it, &total) == 3;
    int have_schedule = ok && version >= 2 && version <= 4 &&
                        fscanf(fp, " lr %g lr-steps %d batch %d", &lr, &steps, &batch) == 3 &&
                        (version == 2 || fscanf(fp, " augment %g", &augment) == 1) &&
                        (version < 4 || fscanf(fp, " distill %g seed %u", &distill, &seed) == 2);
    fclose(fp);
    if (!ok || (version != 1 && !have_schedule) || it < 0 || total <= 0 || it > total)
        return legr_fail(err, errlen, "%s: not a legr finetune state file", path);
    if (total != sc->iters)
        return legr_fail(err, errlen, "%s: that run had -iters %d, not %d", path, total, sc->iters);
    if (!have_schedule) return it;
    if (lr != sc->lr0)      /* %.9g round-trips a float exactly */
        return legr_fail(err, errlen, "%s: that run had -lr %g, not %g", path, lr, sc->lr0);
    if (steps != sc->lr_steps)
        return legr_fail(err, errlen, "%s: that run had -lr-steps %d, not %d", path, steps, sc->lr_steps);
    if (batch != sc->batch)
        return legr_fail(err, errlen, "%s: that run had a batch of %d, not %d (-batch or the cfg's batch=)", path, batch, sc->batch);
    if (augment != sc->augment)
        return legr_fail(err, errlen, "%s: that run had -augment %g, not %g", path, augment, sc->augment);
    if (distill != sc->distill)
        return legr_fail(err, errlen, "%s: that run had -distill %g, not %g (0: no -teacher)", path, distill, sc->distill);
    if (seed != sc->seed)
        return legr_fail(err, errlen, "%s: that run had -seed %u, not %u", path, seed, sc->seed);
    return it;
}

static int write_state(const char *path, int it, const tune_schedule *sc, char *err, size_t errlen)
{
    char *tmp;
    FILE *fp = legr_open_temp(path, &tmp, err, errlen);
    if (!fp) return -1;
    fprintf(fp, STATE_HEAD " 4 iteration %d of %d lr %.9g lr-steps %d batch %d augment %.9g distill %.9g seed %u\n",
            it, sc->iters, sc->lr0, sc->lr_steps, sc->batch, sc->augment, sc->distill, sc->seed);
    return legr_commit_temp(fp, tmp, path, 1, err, errlen);
}

/* Every output against every input, by inode. */
static int check_outputs(const legr_tune_opts *o, char *const *outs, int n_out, char *err, size_t errlen)
{
    const char *ins[] = { o->datacfg, o->cfg, o->weights, o->teacher_cfg, o->teacher_weights, o->images };
    for (int i = 0; i < n_out; ++i)
        if (legr_clobbers_input(outs[i], ins, sizeof ins / sizeof *ins))
            return legr_fail(err, errlen, "%s: refusing to overwrite an input file (choose another -out)", outs[i]);
    return 0;
}

typedef struct {
    legr_model student, teacher;
    int have_teacher;
    legr_trainset ts;
    legr_valset images;
    int have_ts, have_images;
    char *ocfg, *oweights, *ostate;
    tune_schedule sc;
} tune_state;

static void tune_free(tune_state *s)
{
    legr_model_free(&s->student);
    if (s->have_teacher) legr_model_free(&s->teacher);
    if (s->have_ts) legr_trainset_free(&s->ts);
    if (s->have_images) legr_valset_free(&s->images);
    free(s->ocfg); free(s->oweights); free(s->ostate);
}

static int tune_setup(const legr_tune_opts *o, tune_state *s, distill_ctx *dc, int *start,
                      char *err, size_t errlen)
{
    if (o->iters <= 0) return legr_fail(err, errlen, "-iters must be at least 1");
    if (!legr_finite(o->distill) || !(o->distill > 0 && o->distill < 1e6))
        return legr_fail(err, errlen, "-distill must be > 0 (and below 1e6)");
    if (!legr_finite(o->augment) || o->augment < 0 || o->augment > 1 ||
        (o->augment > 0 && o->augment < 0.01f))
        return legr_fail(err, errlen, "-augment must be 0 (off) or between 0.01 and 1");
    if (o->augment > 0 && !o->nolabels)
        return legr_fail(err, errlen, "-augment goes with -nolabels (labelled fine-tuning uses the cfg's jitter=, exposure=, saturation=)");
    if (o->nolabels && !o->teacher_cfg)
        return legr_fail(err, errlen, "-nolabels needs -teacher <cfg> <weights>: the teacher is the only target");
    s->ocfg = out_path(o->out, ".cfg");
    s->oweights = out_path(o->out, ".weights");
    s->ostate = out_path(o->out, ".state");
    if (!s->ocfg || !s->oweights || !s->ostate) return legr_fail(err, errlen, "out of memory");
    char *outs[] = { s->ocfg, s->oweights, s->ostate };
    if (check_outputs(o, outs, 3, err, errlen) != 0) return -1;
    if (legr_model_load(o->cfg, o->weights, &s->student, err, errlen) != 0) return -1;
    network *net = s->student.net;
    if (o->batch > 0 && o->batch < net->batch) set_batch_network(net, o->batch);
    s->sc.iters = o->iters;
    s->sc.lr_steps = o->lr_steps > 0 ? o->lr_steps : 1;
    s->sc.batch = net->batch;
    s->sc.lr0 = o->lr > 0 ? o->lr : net->learning_rate;
    s->sc.augment = o->augment;
    s->sc.distill = o->teacher_cfg ? o->distill : 0;
    s->sc.seed = o->seed;
    *start = 0;
    if (o->resume) {
        *start = read_state(s->ostate, &s->sc, err, errlen);
        if (*start < 0) return -1;
        legr_weights_free(&s->student.w);
        if (legr_weights_read(s->oweights, net, &s->student.w, err, errlen) != 0) return -1;
    }
    if (o->teacher_cfg) {
        if (legr_model_load(o->teacher_cfg, o->teacher_weights, &s->teacher, err, errlen) != 0) return -1;
        s->have_teacher = 1;
        dc->teacher = s->teacher.net;
        if (legr_heads_find(net, &dc->hs, err, errlen) != 0 ||
            legr_heads_find(dc->teacher, &dc->ht, err, errlen) != 0 ||
            legr_heads_match(net, &dc->hs, dc->teacher, &dc->ht, err, errlen) != 0) {
            char why[400];
            snprintf(why, sizeof why, "%s", err);
            return legr_fail(err, errlen, "%s: %s", o->teacher_cfg, why);
        }
        set_batch_network(dc->teacher, net->batch);
#ifdef GPU
        if (gpu_index >= 0)
            return legr_fail(err, errlen, "-teacher runs on the CPU build for now (run with -nogpu)");
#endif
    }
#ifdef GPU
    if (o->freeze_bn && gpu_index >= 0)
        return legr_fail(err, errlen, "-freeze-bn runs on the CPU build for now (run with -nogpu)");
#endif
    int rc;
    if (o->nolabels) {
        /* every image kept: unlabelled_batch reads vs->pixels */
        rc = o->images ? legr_imageset_load_cached(o->images, net, 0, SIZE_MAX, &s->images, err, errlen)
                       : legr_valset_load_cached(o->datacfg, "train", net, 0, SIZE_MAX, &s->images, err, errlen);
        s->have_images = rc == 0;
        if (rc == 0 && s->images.n_images == 0)
            rc = legr_fail(err, errlen, "%s: the image list is empty", o->images ? o->images : o->datacfg);
    } else {
        rc = legr_trainset_load(o->datacfg, net, &s->ts, err, errlen);
        s->have_ts = rc == 0;
    }
    return rc;
}

static int save_outputs(tune_state *s, int it, int final, char *err, size_t errlen)
{
    if (legr_weights_save_network(s->student.net, s->oweights, err, errlen) != 0) return -1;
    if (final) {
        char *tmp;
        FILE *fp = legr_open_temp(s->ocfg, &tmp, err, errlen);
        if (!fp) return -1;
        fclose(fp);
        if (legr_cfg_write(&s->student.cfg, tmp, NULL, NULL, err, errlen) != 0) { remove(tmp); free(tmp); return -1; }
        int rc = rename(tmp, s->ocfg) == 0 ? 0 : legr_fail(err, errlen, "%s: cannot rename into place", s->ocfg);
        if (rc != 0) remove(tmp);
        free(tmp);
        if (rc != 0) return -1;
    }
    return write_state(s->ostate, it, &s->sc, err, errlen);
}

/* Before anything is read: every input a regular file and no output one
 * of them.  (legr_trainset_load checks every image and label file of
 * train=, which Darknet's loader trusts.) */
static int check_io(const legr_tune_opts *o, char *err, size_t errlen)
{
    legr_inputs in = {{0}, 0};
    const char *files[] = { o->cfg, o->weights, o->teacher_cfg, o->teacher_weights, o->images };
    for (size_t k = 0; k < sizeof files / sizeof *files; ++k)
        if (legr_input_file(&in, files[k], err, errlen) != 0) return -1;
    legr_datafile d;
    if (legr_input_data(&in, o->datacfg, o->nolabels && o->images ? NULL : "train", &d, err, errlen) != 0) {
        legr_datafile_free(&d);
        return -1;
    }
    int rc = 0;
    const char *ext[] = { ".cfg", ".weights", ".state" };
    for (int k = 0; k < 3 && rc == 0; ++k) {
        char *p = legr_fmt("%s%s", o->out, ext[k]);
        rc = p ? legr_output_check(p, &in, err, errlen) : legr_fail(err, errlen, "out of memory");
        free(p);
    }
    legr_datafile_free(&d);
    return rc;
}

/* The first iteration (0-based) of the decayed last 20%. */
static int decay_start(int iters)
{
    return iters - iters / 5;
}

float legr_tune_lr_at(float lr0, int it, int iters, int lr_steps)
{
    int steps = lr_steps > 0 ? lr_steps : 1;
    int decay_at = decay_start(iters), tail = iters - decay_at;
    if (it < decay_at || tail <= 0) return lr0;
    int k = (int)((long)(it - decay_at) * steps / tail);
    float lr = lr0;
    for (int i = 0; i <= k && i < steps; ++i) lr /= 10;
    return lr;
}

int legr_tune_run(const legr_tune_opts *o, char *err, size_t errlen)
{
    if (check_io(o, err, errlen) != 0) return -1;
    tune_state s;
    memset(&s, 0, sizeof s);
    distill_ctx dc;
    memset(&dc, 0, sizeof dc);
    dc.weight = o->distill;
    dc.replace = o->nolabels;
    int start = 0;
    if (tune_setup(o, &s, &dc, &start, err, errlen) != 0) { tune_free(&s); return -1; }
    network *net = s.student.net;
    float lr0 = s.sc.lr0;
    int decay_at = decay_start(o->iters);
    int snap = o->snapshot > 0 ? o->snapshot : (o->iters >= 10 ? o->iters / 10 : o->iters);
    int per_iter = net->batch * net->subdivisions;
    legr_augment aug = { o->augment, net->exposure, net->saturation };
    net->policy = CONSTANT;
    net->burn_in = 0;
    printf("legr finetune: %d iterations x %d images (batch %d x subdivisions %d), lr %g, %g from "
           "iteration %d%s, no burn-in, momentum %g, decay %g\n", o->iters, per_iter, net->batch,
           net->subdivisions, lr0, lr0 / 10, decay_at + 1,
           s.sc.lr_steps > 1 ? " (then tenfold again at each of its equal parts)" : "", net->momentum, net->decay);
    if (o->freeze_bn) {
        int frozen = legr_bn_freeze(net);
        printf("  BN statistics frozen: %d BN convs normalise by their rolling mean and variance, "
               "which stay as they are\n", frozen);
    }
    printf("  %s%s; snapshots every %d iterations to %s (state %s)%s\n",
           o->teacher_cfg ? (o->nolabels ? "distillation only (no labels), teacher " : "Darknet's loss + distillation, teacher ")
                          : "Darknet's loss",
           o->teacher_cfg ? o->teacher_cfg : "", snap, s.oweights, s.ostate,
           start ? " [resumed]" : "");
    if (o->nolabels && o->augment > 0)
        printf("  random views: zoom up to %g, exposure %g, saturation %g (the cfg's), flips\n",
               aug.jitter, aug.exposure, aug.saturation);
    if (start) printf("  resuming from iteration %d\n", start);
    if (per_iter == 1)
        fprintf(stderr, "legr: warning: %s has batch=1 (a testing cfg): fine-tuning on one image per "
                "iteration; set batch= (and subdivisions=) in its [net] for more\n", o->cfg);
    fflush(stdout);
    double t0 = what_time_is_it_now(), last = 0;
    int rc = 0;
    for (int it = start; it < o->iters && rc == 0; ++it) {
        /* resumable: an iteration's data depend on its number alone.  srand
         * for Darknet's draws (load_data's augmentation, dropout), r for legr's */
        unsigned it_seed = o->seed + 7919u * (unsigned)it;
        srand(it_seed);
        legr_rng r;
        legr_rng_seed(&r, it_seed);
        data d;
        if (o->nolabels) d = unlabelled_batch(net, &s.images, o->augment > 0 ? &aug : NULL, &r);
        else legr_trainset_next(net, &s.ts, &d);
        net->learning_rate = legr_tune_lr_at(lr0, it, o->iters, s.sc.lr_steps);
        dc.loss = 0;
        int muted = legr_mute_stdout();
        float loss = legr_train_iteration(net, d, distill_hook, &dc);
        legr_unmute_stdout(muted);
        free_data(d);
        double now = what_time_is_it_now() - t0;
        int done = it + 1 - start;
        if (it == start || it + 1 == o->iters || now - last >= 5) {
            char eta[32];
            legr_fmt_duration(now / done * (o->iters - it - 1), eta, sizeof eta);
            printf("  iteration %d/%d  loss %s", it + 1, o->iters, o->nolabels ? "-" : "");
            if (!o->nolabels) printf("%.4f", loss);
            if (dc.teacher) printf("  distill %.4f", dc.loss / per_iter);
            printf("  lr %g  %.1f images/s  ETA %s\n", net->learning_rate, done * per_iter / now, eta);
            fflush(stdout);
            last = now;
        }
        if (dc.diverged)
            rc = legr_fail(err, errlen, "the loss became NaN or infinite at iteration %d (try a smaller -lr); "
                           "%s holds the last snapshot", it + 1, s.oweights);
        else if ((it + 1) % snap == 0 || it + 1 == o->iters)
            rc = save_outputs(&s, it + 1, it + 1 == o->iters, err, errlen);
    }
    if (rc == 0 && start == o->iters) rc = save_outputs(&s, o->iters, 1, err, errlen);
    if (rc == 0)
        printf("legr finetune: done in %.0f s: %s, %s\n", what_time_is_it_now() - t0, s.ocfg, s.oweights);
    tune_free(&s);
    return rc;
}
