/* fitness.c: one candidate's fitness (see fitness.h). */
#include "fitness.h"
#include "surgery.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

network *legr_build_pruned(legr_model *m, const legr_mask *mask, const char *workdir,
                           char *err, size_t errlen)
{
    size_t len = strlen(workdir) + 32;
    char *cfg = malloc(len), *weights = malloc(len);
    snprintf(cfg, len, "%s/candidate.cfg", workdir);
    snprintf(weights, len, "%s/candidate.weights", workdir);
    network *net = NULL;
    if (legr_write_pruned(&m->cfg, m->net, &m->graph, &m->w, mask, cfg, weights, err, errlen) == 0) {
        int muted = legr_mute_fd(2);        /* Darknet's layer table */
        net = load_network(cfg, weights, 0);
        legr_unmute_fd(2, muted);
    }
    remove(cfg);
    remove(weights);
    free(cfg);
    free(weights);
    return net;
}

int legr_candidate_fitness(void *vctx, const legr_affine *a, double *fitness,
                           char *err, size_t errlen)
{
    legr_fitness_ctx *c = vctx;
    legr_model *m = c->model;
    double t0 = what_time_is_it_now();
    legr_mask mask;
    long flops;
    if (legr_select(m->net, &m->graph, c->norms, a, c->target, c->min_frac, &mask, &flops,
                    err, errlen) != 0)
        return -1;
    network *net = legr_build_pruned(m, &mask, c->workdir, err, errlen);
    legr_mask_free(&mask);
    if (!net) return -1;
    if (c->batch > 0 && c->batch < net->batch) set_batch_network(net, c->batch);
    double t1 = what_time_is_it_now();
    legr_finetune(net, c->train, c->tau, c->lr, (unsigned)(c->seed + 7919u * (unsigned)c->index));
    double t2 = what_time_is_it_now();
    if (c->bnset && c->bn_batches > 0) legr_bn_reestimate(net, c->bnset, c->bn_batches);
    double t3 = what_time_is_it_now();
    int rc = 0;
    if (c->kind == LEGR_FIT_LOSS) {
        *fitness = -legr_validation_loss(net, c->val);
    } else {
        legr_metrics mt;
        rc = legr_evaluate(net, c->val, .005f, .5f, &mt, err, errlen);
        *fitness = c->kind == LEGR_FIT_TOP1 ? mt.top1 : mt.map50;
        legr_metrics_free(&mt);
    }
    double t4 = what_time_is_it_now();
    free_network(net);
    c->t_prune += t1 - t0;
    c->t_finetune += t2 - t1;
    c->t_bn += t3 - t2;
    c->t_eval += t4 - t3;
    c->index++;
    return rc;
}
