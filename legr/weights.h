/* weights.h: Darknet .weights files read and checked against their cfg,
 * byte for byte.  Darknet itself never checks a weights file's size. */
#ifndef LEGR_WEIGHTS_H
#define LEGR_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>
#include "darknet.h"

typedef struct {
    int major, minor, revision;
    uint64_t seen;
    size_t header_bytes;    /* 20, or 16 for files older than 0.2 */
    float *data;            /* every float after the header */
    size_t n_floats;
    size_t *offset;         /* per layer: index of its first float in data */
} legr_weights;

/* Floats layer l of a parsed network reads from a weights file (0 for layers
 * without weights), or -1 with err set for layers whose layout legr does not
 * handle (deconvolutional, local, rnn/gru/lstm/crnn, dontload, numload...). */
long legr_layer_weight_floats(const network *net, int i, char *err, size_t errlen);

/* Total floats the cfg implies, or -1 with err set. */
long legr_network_weight_floats(const network *net, char *err, size_t errlen);

/* Reads `path` for network net, refusing any size other than the exact one
 * its cfg implies.  Returns 0, or -1 with err set. */
int legr_weights_read(const char *path, const network *net, legr_weights *w,
                      char *err, size_t errlen);
void legr_weights_free(legr_weights *w);

/* Writes a 0.2.0 header with seen = 0 to an open file.  Returns 0 or -1. */
int legr_weights_write_header(FILE *fp);

/* Puts w's floats (read for net) back into net's buffers, undoing any
 * change made in memory (BN re-estimation, fine-tuning). */
void legr_weights_apply(const legr_weights *w, network *net);

/* Writes net's current weights (Darknet's save_weights: what fine-tuning,
 * reconstruction or BN re-estimation left in memory) to path through a
 * temporary name, with header 0.2.0 and seen = 0, after checking that the
 * file holds exactly the floats its cfg implies.  Returns 0 or -1. */
int legr_weights_save_network(network *net, const char *path, char *err, size_t errlen);

#ifdef GPU
/* GPU builds with a GPU (gpu_index >= 0) compute from the device copies:
 * pushes layer l's host weights and BN statistics after legr changed them. */
void legr_push_layer(const layer *l);
#endif

#endif
