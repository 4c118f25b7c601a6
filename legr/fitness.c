/* fitness.c: one candidate's fitness (see fitness.h). */
#include "fitness.h"
#include "measure.h"
#include "choose.h"
#include "recover.h"
#include "surgery.h"
#include "util.h"
#include "compat.h"
#include "gemm.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <string.h>

static void add_times(legr_fitness_times *sum, const legr_fitness_times *t)
{
    sum->prune += t->prune;
    sum->recover += t->recover;
    sum->finetune += t->finetune;
    sum->bn += t->bn;
    sum->eval += t->eval;
}

/* One candidate at one budget, in this process; index seeds its fine-tuning
 * unless c->same_data. */
static int budget_fitness(legr_fitness_ctx *c, const legr_affine *a, float target, int index,
                          double *fitness, char *err, size_t errlen)
{
    legr_model *m = c->model;
    double t0 = what_time_is_it_now();
    legr_mask mask;
    long flops;
    if (legr_select_budget(m->net, &m->graph, c->norms, a, target, c->min_frac, &c->budget,
                           &mask, &flops, err, errlen) != 0)
        return -1;
    legr_recover_opts ro = { c->bnset, c->recover, 0, -1 };
    if (c->reselect && c->recover > 0 && c->bnset &&
        legr_choose_by_error(m->net, &m->graph, &mask, &ro, NULL, NULL, err, errlen) != 0) {
        legr_mask_free(&mask);
        return -1;
    }
    network *net = legr_build_pruned(m, &mask, c->workdir, index, err, errlen);
    double t_rec = 0;          /* reconstruction's share of t1 - t0 */
    if (net && c->recover > 0 && c->bnset) {
        double tr = what_time_is_it_now();
        if (legr_reconstruct(m->net, net, &m->graph, &mask, &ro, NULL, NULL, err, errlen) != 0) {
            legr_free_network(net);
            net = NULL;
        }
        t_rec = what_time_is_it_now() - tr;
    }
    legr_mask_free(&mask);
    if (!net) return -1;
    if (c->batch > 0 && c->batch < net->batch) set_batch_network(net, c->batch);
    double t1 = what_time_is_it_now();
    unsigned ft_seed = (unsigned)c->seed + (c->same_data ? 0u : 7919u * (unsigned)index);
    legr_finetune(net, c->train, c->tau, c->lr, ft_seed);
    double t2 = what_time_is_it_now();
    legr_measure_opts mo = legr_measure_defaults(c->val);
    mo.metrics = c->kind != LEGR_FIT_LOSS;
    mo.loss = c->kind == LEGR_FIT_LOSS;
    mo.bnset = c->bnset;
    mo.bn_batches = c->bn_batches;
    legr_measured ms;
    *fitness = -INFINITY;
    int rc = legr_measure(net, &mo, &ms, err, errlen);
    if (rc == 0) {
        const legr_stage_score *f = legr_measured_final(&ms);
        *fitness = c->kind == LEGR_FIT_LOSS ? -f->loss : legr_stage_accuracy(f, c->val);
        legr_measured_free(&ms);
    }
    if (!legr_finite(*fitness)) *fitness = -INFINITY;  /* a diverged candidate never wins */
    legr_free_network(net);
    legr_fitness_times spent = { t1 - t0 - t_rec, t_rec, t2 - t1, ms.t_bn, ms.t_eval };
    add_times(&c->t, &spent);
    return rc;
}

/* One candidate: the mean of its fitness at every target budget (each
 * budget fine-tunes from the same seed). */
static int one_fitness(legr_fitness_ctx *c, const legr_affine *a, int index, double *fitness,
                       char *err, size_t errlen)
{
    double sum = 0;
    for (int t = 0; t < c->n_targets; ++t) {
        double f;
        if (budget_fitness(c, a, c->targets[t], index, &f, err, errlen) != 0) return -1;
        sum += f;
    }
    *fitness = sum / c->n_targets;
    return 0;
}

void legr_fitness_work(const legr_fitness_ctx *c, const legr_affine *a, int index,
                       legr_fitness_result *r)
{
    /* one BLAS thread (with more, oneDNN's OpenMP would hang in a child
     * forked after the parent ran a parallel region) */
    gemm_cpu_set_threads(1);
    memset(r, 0, sizeof *r);
    legr_fitness_ctx mine = *c;
    memset(&mine.t, 0, sizeof mine.t);
    r->rc = one_fitness(&mine, a, index, &r->fitness, r->err, sizeof r->err);
    r->t = mine.t;
}

int legr_fitness_take(legr_fitness_ctx *c, const legr_fitness_result *r, double *fitness,
                      char *err, size_t errlen)
{
    if (r->rc != 0) return legr_fail(err, errlen, "%s", r->err);
    *fitness = r->fitness;
    add_times(&c->t, &r->t);
    return 0;
}

static int forked_fitness(legr_fitness_ctx *c, const legr_affine *cands, int n,
                          double *fitness, char *err, size_t errlen)
{
    pid_t *pid = legr_calloc(n, sizeof(pid_t));
    int *fd = legr_calloc(n, sizeof(int));
    int rc = pid && fd ? 0 : legr_fail(err, errlen, "out of memory");
    fflush(stdout);
    fflush(stderr);
    for (int i = 0; rc == 0 && i < n; ++i) {
        int p[2];
        if (pipe(p) != 0) { rc = legr_fail(err, errlen, "pipe: %s", strerror(errno)); break; }
        pid[i] = fork();
        if (pid[i] < 0) { rc = legr_fail(err, errlen, "fork: %s", strerror(errno)); close(p[0]); close(p[1]); break; }
        if (pid[i] == 0) {                      /* worker */
            close(p[0]);
            legr_fitness_result r;
            legr_fitness_work(c, &cands[i], c->index + i, &r);
            ssize_t w = write(p[1], &r, sizeof r);
            _exit(w == (ssize_t)sizeof r ? 0 : 1);
        }
        close(p[1]);
        fd[i] = p[0];
    }
    for (int i = 0; i < n && pid && fd; ++i) {
        if (pid[i] <= 0) continue;
        legr_fitness_result r;
        ssize_t got = read(fd[i], &r, sizeof r);
        close(fd[i]);
        int status;
        waitpid(pid[i], &status, 0);
        if (rc != 0) continue;
        if (got != (ssize_t)sizeof r)
            rc = legr_fail(err, errlen, "candidate %d: worker process %s %d", c->index + i + 1,
                           WIFSIGNALED(status) ? "killed by signal" : "exited with status",
                           WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        else
            rc = legr_fitness_take(c, &r, &fitness[i], err, errlen);
    }
    free(pid);
    free(fd);
    return rc;
}

double legr_fitness_cost(const legr_fitness_ctx *c, double fwd_ms, double *passes)
{
    double n = 0, bn = c->bnset ? (double)c->bn_batches * c->batch : 0;
    /* Calibrated on Yolo-Fastest (README): a BN image costs about two passes
     * (a training-mode forward); reconstruction re-fits the dense convs one
     * by one, each after a forward of both networks up to it, plus the
     * normal equations: about a pass per dense conv and image */
    int dense = 0;
    for (int i = 0; i < c->model->graph.n_layers; ++i) dense += c->model->graph.role[i] == LEGR_PRODUCER;
    for (int t = 0; t < c->n_targets; ++t) {
        double r = c->targets[t];
        n += r * (3.0 * c->tau * c->batch + 2.0 * bn + c->val->n_images) + (1 + r) * c->recover * dense;
    }
    if (passes) *passes = n;
    return n * fwd_ms / 1e3;
}

int legr_candidates_fitness(void *vctx, const legr_affine *cands, int n, double *fitness,
                            char *err, size_t errlen)
{
    legr_fitness_ctx *c = vctx;
    int rc = 0;
    if (c->workers > 1 && n > 1) {
        rc = forked_fitness(c, cands, n, fitness, err, errlen);
    } else {
        for (int i = 0; rc == 0 && i < n; ++i)
            rc = one_fitness(c, &cands[i], c->index + i, &fitness[i], err, errlen);
    }
    c->index += n;
    return rc;
}
