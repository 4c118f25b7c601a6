/* distill.h: knowledge distillation on the heads of a Darknet network.
 * A head is a [yolo] or [softmax] layer; its input (the output of the layer
 * before it) has the same shape in a pruned network and in its original, so
 * the original can teach the pruned one there.  The gradient is written into
 * the head's delta, where Darknet's own loss puts its own. */
#ifndef LEGR_DISTILL_H
#define LEGR_DISTILL_H

#include <stddef.h>
#include "darknet.h"

#define LEGR_MAX_HEADS 8

typedef struct {
    int n;
    int layer[LEGR_MAX_HEADS];     /* head layer indices, in network order */
} legr_heads;

/* Finds net's heads.  Returns 0, or -1 with err set when it has none, more
 * than LEGR_MAX_HEADS, or a head type distillation does not handle
 * ([region], [detection]). */
int legr_heads_find(const network *net, legr_heads *h, char *err, size_t errlen);

/* 0 when teacher's heads have the same types and input shapes as student's,
 * else -1 with err naming the first difference. */
int legr_heads_match(const network *student, const legr_heads *hs, const network *teacher,
                     const legr_heads *ht, char *err, size_t errlen);

/* After a training-mode forward of student and an inference forward of
 * teacher on the same input: adds w times the distillation gradient to each
 * student head's delta (replacing Darknet's own delta first when replace),
 * and returns the distillation loss summed over the batch.
 *   [yolo]: objectness by binary cross-entropy against the teacher's
 *   probability; x, y and class probabilities likewise, and w, h by squared
 *   error, each weighted by the teacher's objectness at that anchor.
 *   [softmax]: cross-entropy against the teacher's softmax (KL). */
double legr_distill(network *student, const legr_heads *hs, const network *teacher,
                    const legr_heads *ht, float w, int replace);

#endif
