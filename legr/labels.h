/* labels.h: checks a training list before Darknet's loader reads it.
 * Darknet's trainer (load_data in its own threads) trusts its inputs: a
 * missing label file ends the process with status 0, a FIFO blocks it, a
 * class id beyond the head's classes writes out of bounds and a NaN
 * coordinate poisons the weights.  legr checks every listed image and label
 * file first, with the rules of legr_read_labels (eval.h). */
#ifndef LEGR_LABELS_H
#define LEGR_LABELS_H

#include <stddef.h>

/* Every path in paths[0..n) must be a regular file; for detectors, its
 * label file (legr_label_path) must exist, be regular and hold valid lines
 * (class in 0..classes-1, x y w h finite in [0, 1]).  listname names the list
 * in messages.  Returns 0, or -1 with err naming the file at fault. */
int legr_trainlist_check(const char *listname, char *const *paths, int n, int classes,
                         int detector, char *err, size_t errlen);

#endif
