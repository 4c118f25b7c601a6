/* search_run.c: the `legr search` pipeline (see search_run.h). */
#include "search_run.h"
#include "bench.h"
#include "cluster.h"
#include "cfgcheck.h"
#include "guard.h"
#include "latency.h"
#include "report.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/statvfs.h>

/* --- the log, ranking and checkpoint after each candidate ---------------- */

typedef struct {
    const char *out, *cfg, *csv, *ckpt, *settings, *extra;
    const legr_graph *g;
    double start;
    int resumed_from;
    char *log;              /* the CSV log, rewritten whole (atomically) after each candidate */
    size_t log_len, log_cap;
} search_report;

static const char LOG_HEADER[] = "candidate,fitness,best,elapsed_s\n";

static int log_append(search_report *r, const char *text)
{
    size_t n = strlen(text);
    if (r->log_len + n + 1 > r->log_cap) {
        size_t cap = r->log_cap ? 2 * r->log_cap : 4096;
        while (cap < r->log_len + n + 1) cap *= 2;
        char *p = realloc(r->log, cap);
        if (!p) return -1;
        r->log = p;
        r->log_cap = cap;
    }
    memcpy(r->log + r->log_len, text, n + 1);
    r->log_len += n;
    return 0;
}

/* The log a resumed search continues: the rows of the candidates the
 * checkpoint holds (rows written after its last save are dropped: those
 * candidates run again).  A missing log starts afresh. */
static int log_resume(search_report *r, int done, char *err, size_t errlen)
{
    if (log_append(r, LOG_HEADER) != 0) return legr_fail(err, errlen, "out of memory");
    if (done == 0 || access(r->csv, F_OK) != 0) return 0;
    int n;
    char **lines = legr_read_lines(r->csv, &n);
    if (!lines) return legr_fail(err, errlen, "%s: cannot read the log to continue it", r->csv);
    int rc = 0;
    for (int i = 1; i < n && rc == 0; ++i) {
        int cand;
        if (sscanf(lines[i], "%d,", &cand) != 1 || cand < 1) {
            rc = legr_fail(err, errlen, "%s:%d: not a row of a legr search log", r->csv, i + 1);
            break;
        }
        if (cand > done) continue;
        if (log_append(r, lines[i]) != 0 || log_append(r, "\n") != 0) rc = legr_fail(err, errlen, "out of memory");
    }
    legr_free_strings(lines, n);
    return rc;
}

static int log_write(const search_report *r, char *err, size_t errlen)
{
    char *tmp;
    FILE *fp = legr_open_temp(r->csv, &tmp, err, errlen);
    if (!fp) return -1;
    int ok = fwrite(r->log, 1, r->log_len, fp) == r->log_len;
    return legr_commit_temp(fp, tmp, r->csv, ok, err, errlen);
}

/* After each candidate: progress line, CSV row, ranking + checkpoint, each
 * file replaced whole (a full disk leaves the previous version). */
static int search_progress(void *vctx, const legr_evo *e, int index, double fit,
                           int batch_done, char *err, size_t errlen)
{
    search_report *r = vctx;
    double el = what_time_is_it_now() - r->start;
    int new_done = e->done - r->resumed_from;
    double eta = new_done ? el / new_done * (e->o.evals - e->done) : 0;
    char a[32], b[32];
    printf("[%4d/%d] fitness %.4f  best %.4f (#%d)  elapsed %s  eta %s\n", index + 1, e->o.evals,
           fit, e->best_fit, e->best_index + 1, legr_fmt_duration(el, a, sizeof a),
           legr_fmt_duration(eta, b, sizeof b));
    fflush(stdout);
    char row[128];
    snprintf(row, sizeof row, "%d,%.6f,%.6f,%.1f\n", index + 1, fit, e->best_fit, el);
    if (log_append(r, row) != 0) return legr_fail(err, errlen, "out of memory");
    char extra[2048];
    snprintf(extra, sizeof extra, "%s\nevaluations: %d of %d, best fitness %.6f (candidate %d)",
             r->extra, e->done, e->o.evals, e->best_fit, e->best_index + 1);
    if (legr_ranking_write(r->out, r->cfg, r->g, &e->best, extra, err, errlen) != 0) return -1;
    if (log_write(r, err, errlen) != 0) return -1;
    return batch_done ? legr_evo_save(e, r->ckpt, r->settings, err, errlen) : 0;
}

/* --- set-up -------------------------------------------------------------- */

/* Each candidate's pruned cfg/weights pass through a private directory,
 * legr-search-<pid>-XXXXXX: in memory (/dev/shm) when it has room for every
 * worker's pair, else /tmp. */
static int make_workdir(char *dir, size_t len, size_t weights_bytes, int workers)
{
    struct statvfs sv;
    double need = 2.0 * (double)weights_bytes * (workers > 0 ? workers : 1) + (64 << 20);
    int shm = statvfs("/dev/shm", &sv) == 0 && (double)sv.f_bavail * sv.f_bsize > need &&
              access("/dev/shm", W_OK) == 0;
    long pid = (long)getpid();      /* in the name: whose directory it is */
    snprintf(dir, len, "%s/legr-search-%ld-XXXXXX", shm ? "/dev/shm" : "/tmp", pid);
    if (mkdtemp(dir)) return 0;
    snprintf(dir, len, "/tmp/legr-search-%ld-XXXXXX", pid);
    return mkdtemp(dir) ? 0 : -1;
}

/* 0 when every -target budget is reachable with the -min floors: the
 * smallest network (every group at its floor) is the same whatever the
 * ranking, so the plain L2 one tells. */
static int check_reachable(legr_model *m, const legr_norms *nr, const legr_fitness_ctx *fc, float min_frac,
                           char *err, size_t errlen)
{
    legr_affine id;
    char why[512];
    if (legr_affine_identity(&id, m->graph.n_groups) != 0) return legr_fail(err, errlen, "out of memory");
    int rc = 0;
    for (int t = 0; t < fc->n_targets && rc == 0; ++t) {
        legr_mask mk;
        long fl;
        if (legr_select_budget(m->net, &m->graph, nr, &id, fc->targets[t], min_frac, &fc->budget, &mk, &fl,
                               why, sizeof why) != 0)
            rc = legr_fail(err, errlen, "-target: %s", why);
        else legr_mask_free(&mk);
    }
    legr_affine_free(&id);
    return rc;
}

/* The search's cost before it starts: the original's forward time at batch
 * 1 (measured here) times the image passes of a candidate (fitness.c). */
static void print_search_cost(legr_model *m, const legr_fitness_ctx *fc, int left, int workers)
{
    legr_bench_opts o = { 3, 1, 1, 5 };     /* each worker runs one thread */
    char err[256];
    double ms;
    if (legr_bench_median(m->net, &o, &ms, err, sizeof err) != 0) return;
    double passes, s = legr_fitness_cost(fc, ms, &passes);
    int w = workers > 0 ? workers : 1;
    char a[32], b[32];
    printf("cost projection: about %.0f s per candidate (%.0f image passes at %.1f ms, the original's "
           "forward here), %d candidates on %d worker%s: about %s",
           s, passes, ms, left, workers, workers > 1 ? "s" : "", legr_fmt_duration(s * left / w, a, sizeof a));
    if (fc->tau > 0) {
        /* the cheap alternative, measured against -tau 50 in the README */
        legr_fitness_ctx no_tuning = *fc;
        no_tuning.tau = 0;
        printf(" (with -tau 0: about %s)", legr_fmt_duration(legr_fitness_cost(&no_tuning, ms, NULL) * left / w, b, sizeof b));
    }
    printf("; the ETA after each batch replaces this\n");
}

/* The fitness kind: -fitness, or mAP for detectors and top-1 for classifiers. */
static int fitness_kind(const char *name, int detector, int *kind, char *err, size_t errlen)
{
    *kind = detector ? LEGR_FIT_MAP : LEGR_FIT_TOP1;
    if (!name) return 0;
    if (!strcmp(name, "loss")) *kind = LEGR_FIT_LOSS;
    else if (!strcmp(name, "top1") && !detector) *kind = LEGR_FIT_TOP1;
    else if (!strcmp(name, "map") && detector) *kind = LEGR_FIT_MAP;
    else return legr_fail(err, errlen, "-fitness must be map (detectors), top1 (classifiers) or loss");
    return 0;
}

static const char *fitness_name(int kind)
{
    return kind == LEGR_FIT_MAP ? "mAP@0.5" : kind == LEGR_FIT_TOP1 ? "top-1" : "-loss";
}

/* A testing cfg (batch=1): the candidates are written, and fine-tuned, at
 * 16 or -batch, with a warning.  Returns the batch to fine-tune at. */
static int training_batch(legr_model *m, const legr_search_args *a, char *err, size_t errlen)
{
    int batch = a->batch;
    if (a->tau > 0 && m->net->batch == 1 && batch != 1) {
        char b[16];
        if (batch == 0)
            fprintf(stderr, "legr: warning: %s has batch=1 (a testing cfg): candidates fine-tune at batch 16 "
                    "(choose with -batch)\n", a->cfg);
        batch = batch ? batch : 16;
        snprintf(b, sizeof b, "%d", batch);
        if (legr_cfg_set(&m->cfg, 0, "batch", b) || legr_cfg_set(&m->cfg, 0, "subdivisions", "1"))
            return legr_fail(err, errlen, "out of memory");
    }
    return batch > 0 && (batch < m->net->batch || m->net->batch == 1) ? batch : m->net->batch;
}

/* --- the pipeline -------------------------------------------------------- */

/* Everything the search holds, freed on every path. */
typedef struct {
    legr_model m;
    legr_datafile d;
    legr_norms nr;
    legr_latency lt;
    legr_trainset ts;
    legr_valset vs, bs;
    legr_evo e;
    search_report r;
    char *ckpt, *csv;
    char workdir[64];
    char settings[2048], extra[2048], targets[160];
} search_state;

static void state_free(search_state *s)
{
    if (*s->workdir) legr_remove_dir(s->workdir);
    legr_evo_free(&s->e);
    free(s->r.log);
    legr_valset_free(&s->vs);
    legr_valset_free(&s->bs);
    legr_trainset_free(&s->ts);
    legr_norms_free(&s->nr);
    legr_latency_free(&s->lt);
    legr_model_free(&s->m);
    legr_datafile_free(&s->d);
    free(s->ckpt);
    free(s->csv);
}

/* The data: training list (every image and label checked by
 * legr_trainset_load), validation
 * images, and the images for BN re-estimation and reconstruction. */
static int load_search_data(const legr_search_args *a, search_state *s, const char *datacfg, legr_fitness_ctx *fc,
                     int mpi_rank, char *err, size_t errlen)
{
    char why[512];
    if (legr_trainset_load(datacfg, s->m.net, &s->ts, why, sizeof why) != 0)
        return legr_fail(err, errlen, "%s (pass -data <file.data> with train= and valid= lists)", why);
    if (mpi_rank == 0) printf("decoding validation images of %s...\n", datacfg);
    if (legr_valset_load(datacfg, "valid", s->m.net, a->val_n, &s->vs, why, sizeof why) != 0)
        return legr_fail(err, errlen, "%s (pass -data <file.data> with train= and valid= lists)", why);
    if (s->vs.n_images == 0) return legr_fail(err, errlen, "%s: the valid= list %s is empty", datacfg, s->d.valid);
    int fb = fc->batch;
    int bn_batches = a->bn_images > 0 ? (a->bn_images + fb - 1) / fb : 0;
    int n_bs = bn_batches * fb > a->recover ? bn_batches * fb : a->recover;
    if (n_bs && legr_valset_load(datacfg, "train", s->m.net, n_bs, &s->bs, err, errlen) != 0) return -1;
    fc->train = &s->ts;
    fc->val = &s->vs;
    fc->bnset = n_bs ? &s->bs : NULL;
    fc->bn_batches = bn_batches;
    return 0;
}

/* The settings a -resume must match (the checkpoint's fingerprint) and the
 * description written into the ranking file. */
static void describe(const legr_search_args *a, search_state *s, const char *datacfg, const legr_fitness_ctx *fc)
{
    const legr_evo_opts *eo = &a->evo;
    for (int t = 0; t < a->n_targets; ++t)
        snprintf(s->targets + strlen(s->targets), sizeof s->targets - strlen(s->targets), "%s%g",
                 t ? "," : "", a->targets[t]);
    uint64_t wsum = legr_fnv1a(s->m.w.data, s->m.w.n_floats * sizeof(float), 0);
    const char *budget_kind = a->by_latency ? "latency" : "flops";
    snprintf(s->settings, sizeof s->settings,
             "settings cfg=%s weights-fnv1a=%016llx data=%s target=%s tau=%d lr=%g batch=%d pool=%d "
             "sample=%d mutate=%g fitness=%d val=%d bn-batches=%d recover=%d round=%d budget=%s min=%g seed=%llu workers=%d%s%s",
             a->cfg, (unsigned long long)wsum, datacfg, s->targets, a->tau, a->lr, fc->batch, eo->pool, eo->sample,
             eo->mutate, fc->kind, s->vs.n_images, fc->bn_batches, a->recover, a->round, budget_kind, a->min_frac,
             (unsigned long long)eo->seed, eo->batch, a->same_data ? " same-data" : "", a->reselect ? " reselect" : "");
    snprintf(s->extra, sizeof s->extra,
             "weights: %s (fnv1a %016llx)\ntarget: %s%s\nfitness: %s on %d images of %s\n"
             "tau: %d, lr: %g, batch: %d, bn batches: %d, recover: %d images%s%s\nevolution: evals %d, pool %d, sample %d, mutate %g, workers %d\nseed: %llu",
             a->weights, (unsigned long long)wsum, s->targets, a->n_targets > 1 ? " (fitness: the mean over these budgets)" : "",
             fitness_name(fc->kind), s->vs.n_images, datacfg, a->tau, a->lr > 0 ? a->lr : s->m.net->learning_rate,
             fc->batch, fc->bn_batches, a->recover, a->reselect ? " (filters re-chosen: -reselect)" : "",
             a->same_data ? ", same fine-tuning data for every candidate" : "",
             eo->evals, eo->pool, eo->sample, eo->mutate, eo->batch, (unsigned long long)eo->seed);
}

static int write_summary(const legr_search_args *a, search_state *s, const char *datacfg,
                         const legr_fitness_ctx *fc, char *err, size_t errlen)
{
    int n = fc->index - s->r.resumed_from;
    if (n > 0)
        printf("per candidate: prune+build %.3f s, reconstruction %.3f s, fine-tune %.3f s, BN %.3f s, score %.3f s\n",
               fc->t.prune / n, fc->t.recover / n, fc->t.finetune / n, fc->t.bn / n, fc->t.eval / n);
    if (s->e.best_index >= 0)
        printf("best fitness %.4f (candidate %d); ranking written to %s\n", s->e.best_fit, s->e.best_index + 1, a->out);
    else
        printf("no candidate scored; no ranking written\n");
    if (!a->json) return 0;
    double k = n > 0 ? 1.0 / n : 0;
    legr_search_summary sum = { a->cfg, a->weights, datacfg, a->out, s->csv, a->by_latency ? "latency" : "flops",
                                fitness_name(fc->kind), a->targets, a->n_targets, a->tau, a->evo.evals,
                                s->e.done, a->evo.seed, s->e.best_index, s->e.best_fit,
                                what_time_is_it_now() - s->r.start,
                                fc->t.prune * k, fc->t.recover * k, fc->t.finetune * k, fc->t.bn * k, fc->t.eval * k };
    return legr_report_search_json(a->json, &sum, err, errlen);
}

int legr_run_search(const legr_search_args *a, char *err, size_t errlen)
{
    search_state *s = legr_calloc(1, sizeof *s);
    if (!s) return legr_fail(err, errlen, "out of memory");
    legr_evo_opts eo = a->evo;
    legr_fitness_ctx fc = {0};
    int rc = -1, mpi_rank = 0, mpi_size = 1, mpi_started = 0;
    memcpy(fc.targets, a->targets, sizeof fc.targets);
    fc.n_targets = a->n_targets;
    fc.budget.round = a->round;
    legr_inputs in = {{0}, 0};
    if (legr_input_file(&in, a->cfg, err, errlen) || legr_input_file(&in, a->weights, err, errlen)) goto done;

    /* Removes the work directory once this process and its workers are gone,
     * however they end; forked before MPI and before any model is loaded. */
    int janitor = legr_janitor_start();
    if (a->use_mpi) {
        if (legr_mpi_start(&mpi_rank, &mpi_size, err, errlen) != 0) goto done;
        mpi_started = 1;
        if (mpi_size < 2) {
            legr_fail(err, errlen, "-mpi needs at least 2 ranks: mpirun -np K ./darknet legr search ... -mpi (K-1 evaluators)");
            goto done;
        }
        eo.batch = mpi_size - 1;
    }
    legr_model *m = &s->m;
    if (legr_model_load(a->cfg, a->weights, m, err, errlen) != 0) goto done;
    legr_cfg_print_warnings(&m->cfg);
    int detector = legr_network_is_detector(m->net);
    const char *datacfg = a->datacfg;
    if (!datacfg) {
        if (!(detector && legr_network_classes(m->net) == 80)) {
            legr_fail(err, errlen, "no -data given: pass -data <file.data> naming train= and valid= lists");
            goto done;
        }
        datacfg = "cfg/coco.data";
    }
    if (fitness_kind(a->fitness, detector, &fc.kind, err, errlen) != 0) goto done;
    if (legr_graph_prunable(&m->graph) == 0) {
        legr_fail(err, errlen, "this network has no prunable groups (see 'darknet legr flops -v')");
        goto done;
    }
    if ((fc.batch = training_batch(m, a, err, errlen)) < 0) goto done;

    /* every output against every input before anything is written */
    if (legr_input_data(&in, datacfg, "train,valid", &s->d, err, errlen) != 0) goto done;
    s->ckpt = legr_fmt("%s.ckpt", a->out);
    s->csv = legr_fmt("%s.csv", a->out);
    if (!s->ckpt || !s->csv) { legr_fail(err, errlen, "out of memory"); goto done; }
    if (mpi_rank == 0 && (legr_output_check(a->out, &in, err, errlen) || legr_output_check(s->ckpt, &in, err, errlen) ||
                          legr_output_check(s->csv, &in, err, errlen) ||
                          (a->json && legr_output_check(a->json, &in, err, errlen))))
        goto done;
    const char *outs[] = { a->out, s->ckpt, s->csv };
    if (a->json && legr_output_distinct(a->json, outs, 3, err, errlen) != 0) goto done;

    if (legr_norms_compute(m->net, &m->graph, &s->nr) != 0) { legr_fail(err, errlen, "out of memory"); goto done; }
    if (a->by_latency) {
        if (legr_latency_announce(m, &s->lt, err, errlen) != 0) goto done;
        fc.budget.latency = &s->lt;
    }
    if (check_reachable(m, &s->nr, &fc, a->min_frac, err, errlen) != 0) goto done;
    if (load_search_data(a, s, datacfg, &fc, mpi_rank, err, errlen) != 0) goto done;
    describe(a, s, datacfg, &fc);

    search_report *r = &s->r;
    *r = (search_report){ a->out, a->cfg, s->csv, s->ckpt, s->settings, s->extra, &m->graph, 0, 0, NULL, 0, 0 };
    if (mpi_rank == 0) {
        if (legr_evo_init(&s->e, &m->graph, &s->nr, &eo) != 0) { legr_fail(err, errlen, "out of memory"); goto done; }
        if (a->resume && legr_evo_load(&s->e, s->ckpt, s->settings, err, errlen) != 0) goto done;
        if (log_resume(r, s->e.done, err, errlen) != 0) goto done;
        r->resumed_from = s->e.done;
    }

    /* the last thing set up: from here on every path removes it */
    if (make_workdir(s->workdir, sizeof s->workdir, m->w.n_floats * sizeof(float), eo.batch) != 0) {
        *s->workdir = 0;
        legr_fail(err, errlen, "cannot create a temporary directory in /dev/shm or /tmp");
        goto done;
    }
    legr_janitor_watch(janitor, s->workdir);
    fc.model = m;
    fc.norms = &s->nr;
    fc.min_frac = a->min_frac;
    fc.tau = a->tau;
    fc.lr = a->lr;
    fc.recover = a->recover;
    fc.reselect = a->reselect;
    fc.workdir = s->workdir;
    fc.seed = eo.seed;
    fc.same_data = a->same_data;
    fc.workers = eo.batch;
#ifdef GPU
    /* a forked child cannot use its parent's CUDA context: with a GPU the
     * candidates of a batch are evaluated one after another, in this process */
    if (gpu_index >= 0) fc.workers = 1;
#endif
    if (mpi_rank > 0) {                 /* an evaluator: no files, no output */
        rc = legr_mpi_serve(&fc, err, errlen);
        goto done;
    }
    fc.index = s->e.done;
    r->start = what_time_is_it_now();
    printf("LeGR search: %d prunable groups, target %s, tau %d, %d evaluations (pool %d, sample %d), %d %s, seed %llu%s\n",
           legr_graph_prunable(&m->graph), s->targets, a->tau, eo.evals, eo.pool, eo.sample, eo.batch,
           a->use_mpi ? "MPI evaluator ranks" : "workers", (unsigned long long)eo.seed, s->e.done ? " (resumed)" : "");
#ifdef GPU
    if (gpu_index >= 0 && eo.batch > 1 && !a->use_mpi)
        printf("GPU %d: the %d candidates of each batch are evaluated one after another\n", gpu_index, eo.batch);
#endif
    printf("fitness: %s on %d validation images; ranking -> %s (checkpoint %s, log %s)\n",
           fitness_name(fc.kind), s->vs.n_images, a->out, s->ckpt, s->csv);
    print_search_cost(m, &fc, eo.evals - s->e.done, eo.batch);
    rc = legr_evo_run(&s->e, a->use_mpi ? legr_mpi_fitness : legr_candidates_fitness, &fc,
                      search_progress, r, err, errlen);
    if (a->use_mpi) legr_mpi_stop(mpi_size);
    if (rc == 0) rc = write_summary(a, s, datacfg, &fc, err, errlen);
done:
    if (mpi_started) legr_mpi_finish();
    state_free(s);
    free(s);
    return rc;
}
