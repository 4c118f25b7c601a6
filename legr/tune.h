/* tune.h: `legr finetune`: one command from a pruned pair to a fine-tuned
 * pair.  It sets its own schedule (no burn-in, the cfg's learning rate or
 * -lr, constant, then tenfold drops over the last 20% of the iterations
 * (one by default, lr_steps of them evenly spaced), the cfg's batch),
 * trains with Darknet's own forward/backward/update, and with a teacher
 * (the original model) distils on the heads' inputs on top of Darknet's
 * loss, or instead of it with nolabels (unlabelled images: the teacher's
 * outputs are the only target).  Snapshots are written atomically
 * with a state file, so a run can be resumed. */
#ifndef LEGR_TUNE_H
#define LEGR_TUNE_H

#include <stddef.h>

typedef struct {
    const char *datacfg;        /* train= (labels beside the images unless nolabels) */
    const char *cfg, *weights;  /* the student */
    const char *teacher_cfg, *teacher_weights;  /* NULL: no distillation */
    const char *images;         /* nolabels: an image list instead of train= (may be NULL) */
    const char *out;            /* output prefix: <out>.cfg, <out>.weights, <out>.state */
    int iters;                  /* > 0 */
    float lr;                   /* <= 0: the cfg's learning_rate */
    int lr_steps;               /* tenfold drops over the last 20% (<= 0: 1) */
    float distill;              /* distillation weight (> 0) */
    int nolabels;
    float augment;              /* nolabels: random views, zoom up to this (0: flips only; augment.h) */
    int batch;                  /* images per sub-batch, <= the cfg's (<= 0: the cfg's) */
    int snapshot;               /* iterations between snapshots (<= 0: iters / 10) */
    int resume;
    int freeze_bn;              /* BN statistics frozen while training (bnfreeze.h) */
    unsigned seed;
} legr_tune_opts;

/* The learning rate of iteration it (0-based) of iters: lr0 for the first
 * 80%, then lr0 / 10, lr0 / 100, ... in lr_steps equal parts of the rest. */
float legr_tune_lr_at(float lr0, int it, int iters, int lr_steps);

/* Runs the fine-tuning.  Returns 0, or -1 with err set (nothing is left
 * half-written: outputs are renamed into place when complete). */
int legr_tune_run(const legr_tune_opts *o, char *err, size_t errlen);

#endif
