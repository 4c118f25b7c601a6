/* eval_run.h: the `legr eval` pipeline (also `darknet detector map`):
 * accuracy of a pair on the valid= list of a .data through Darknet's own
 * prediction path, optionally after BN re-estimation, with its FLOPs,
 * parameters and latency, as text and JSON. */
#ifndef LEGR_EVAL_RUN_H
#define LEGR_EVAL_RUN_H

#include <stddef.h>

typedef struct {
    const char *datacfg, *cfg, *weights;
    int n;                      /* first N images (0: all) */
    float thresh, iou;
    int bn;                     /* BN re-estimation batches of train= (0: none) */
    int loss;                   /* also Darknet's training loss */
    const char *json;           /* or NULL */
    int verbose;
} legr_eval_args;

int legr_run_eval(const legr_eval_args *a, char *err, size_t errlen);

#endif
