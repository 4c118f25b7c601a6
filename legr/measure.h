/* measure.h: the one measurement of a network's accuracy that eval, prune
 * -eval and the search share: score it on a validation set, optionally
 * re-estimate its BN statistics on unlabelled images, score it again. */
#ifndef LEGR_MEASURE_H
#define LEGR_MEASURE_H

#include <stddef.h>
#include "darknet.h"
#include "eval.h"

typedef struct {
    const legr_valset *val;     /* scored on */
    float thresh, iou;          /* detectors: detection threshold, IoU of a match */
    int metrics;                /* mAP / top-1 (legr_evaluate) */
    int loss;                   /* Darknet's training loss (legr_validation_loss) */
    int before;                 /* also score before BN re-estimation (always
                                 * when there is none) */
    const legr_valset *bnset;   /* BN re-estimated on it, or NULL */
    int bn_batches;             /* of the net's batch; 0: no re-estimation */
} legr_measure_opts;

/* The defaults eval and the search score with: thresh .005, IoU .5,
 * metrics on, nothing else. */
legr_measure_opts legr_measure_defaults(const legr_valset *val);

/* One stage's figures. */
typedef struct {
    int done;
    legr_metrics mt;            /* when metrics */
    double loss;                /* when loss */
} legr_stage_score;

typedef struct {
    legr_stage_score plain;     /* before re-estimation (opts.before) */
    legr_stage_score bn;        /* after it (bn_batches > 0 and bnset) */
    double t_bn, t_eval;        /* seconds spent re-estimating and scoring */
} legr_measured;

/* Measures net as o says (its BN statistics change when re-estimated).
 * 0, or -1 with err. */
int legr_measure(network *net, const legr_measure_opts *o, legr_measured *r,
                 char *err, size_t errlen);

/* The headline figure of a stage: mAP@0.5 for detectors, top-1 else. */
double legr_stage_accuracy(const legr_stage_score *s, const legr_valset *val);

/* The last stage measured (after BN when it was re-estimated). */
const legr_stage_score *legr_measured_final(const legr_measured *r);

void legr_measured_free(legr_measured *r);

#endif
