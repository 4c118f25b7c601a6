/* labelpath.h: the label file Darknet reads for an image of a detection
 * set.  Darknet's trainer and `detector valid` derive it from the image path
 * by fixed rewrites (fill_truth_detection); legr checks and reads that file,
 * and scripts/fashion-gen.c checks that the sets it writes keep to the rule. */
#ifndef LEGR_LABELPATH_H
#define LEGR_LABELPATH_H

#include <stddef.h>

/* out = image_path with, in Darknet's order, the first "images",
 * "JPEGImages" and "raw" replaced by "labels" and the first ".jpg", ".png",
 * ".JPG" and ".JPEG" by ".txt", cut to outlen - 1 bytes. */
void legr_label_path(const char *image_path, char *out, size_t outlen);

#endif
