/* augment.h: random views of a prepared network input, for label-free
 * distillation (legr finetune -nolabels -augment J).  The teacher sees the
 * same view as the student, so no label has to follow the geometry, and a
 * few hundred unlabelled images become many different inputs.
 *
 * A view is the input zoomed in or out by up to J (each side scaled by a
 * factor in [1/(1+J), 1+J], the two sides apart, so the aspect changes too),
 * placed at a random offset (what falls outside the image is 0.5 grey, as
 * Darknet's letterbox bars), resampled bilinearly, mirrored left-right half
 * the time, then its exposure (all channels) and saturation (the distance
 * of each pixel from its grey) multiplied by factors in [1/E, E] and
 * [1/S, S] (E or S below 1 count as 1/E, 1/S, as in Darknet), clamped to
 * [0, 1].  All draws from the caller's legr_rng. */
#ifndef LEGR_AUGMENT_H
#define LEGR_AUGMENT_H

#include "rng.h"

typedef struct {
    float jitter;       /* J >= 0: 0 keeps the geometry (flips only) */
    float exposure;     /* E >= 1 ([net] exposure=) */
    float saturation;   /* S >= 1 ([net] saturation=); only for 3 channels */
} legr_augment;

/* One view of src (w*h*c floats, channel planes) into dst (same size; not
 * src). */
void legr_augment_view(const float *src, float *dst, int w, int h, int c,
                       const legr_augment *a, legr_rng *r);

#endif
