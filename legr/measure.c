/* measure.c: score, re-estimate BN, score (see measure.h). */
#include "measure.h"
#include "trainstats.h"
#include "util.h"

#include <string.h>

legr_measure_opts legr_measure_defaults(const legr_valset *val)
{
    legr_measure_opts o = { val, .005f, .5f, 1, 0, 0, NULL, 0 };
    return o;
}

static int score_stage(network *net, const legr_measure_opts *o, legr_stage_score *s,
                       char *err, size_t errlen)
{
    if (o->metrics && legr_evaluate(net, o->val, o->thresh, o->iou, &s->mt, err, errlen) != 0) return -1;
    if (o->loss && legr_validation_loss(net, o->val, &s->loss, err, errlen) != 0) return -1;
    s->done = 1;
    return 0;
}

int legr_measure(network *net, const legr_measure_opts *o, legr_measured *r,
                 char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    int bn = o->bnset && o->bn_batches > 0;
    double t0 = what_time_is_it_now();
    if ((o->before || !bn) && score_stage(net, o, &r->plain, err, errlen) != 0) return -1;
    double t1 = what_time_is_it_now();
    if (bn && legr_bn_reestimate(net, o->bnset, o->bn_batches, err, errlen) != 0) {
        legr_measured_free(r);
        return -1;
    }
    double t2 = what_time_is_it_now();
    if (bn && score_stage(net, o, &r->bn, err, errlen) != 0) {
        legr_measured_free(r);
        return -1;
    }
    r->t_bn = t2 - t1;
    r->t_eval = (t1 - t0) + (what_time_is_it_now() - t2);
    return 0;
}

double legr_stage_accuracy(const legr_stage_score *s, const legr_valset *val)
{
    return val->is_detector ? s->mt.map50 : s->mt.top1;
}

const legr_stage_score *legr_measured_final(const legr_measured *r)
{
    return r->bn.done ? &r->bn : &r->plain;
}

void legr_measured_free(legr_measured *r)
{
    legr_metrics_free(&r->plain.mt);
    legr_metrics_free(&r->bn.mt);
}
