/* samples.h: where reconstruction and channel selection read a conv's input
 * from: an inference forward that stops before a layer, the input of a layer
 * for one image of the batch, which output positions are sampled, and the
 * k x k input patch at one of them (in Darknet's im2col order). */
#ifndef LEGR_SAMPLES_H
#define LEGR_SAMPLES_H

#include "darknet.h"

/* Runs layers [0, end) of net in inference mode, as network_predict does. */
void legr_forward_upto(network *net, int end);

/* The input of layer i for image b of the current batch. */
const float *legr_layer_input(const network *net, int i, int b);

/* Output positions sampled per image of a layer with hw positions when
 * `positions` are asked for (<= 0: 256): all of them, or every step-th. */
int legr_sample_count(int hw, int positions);

/* The j-th sampled position of image `image` (its global index: the offset
 * moves from image to image so that every position gets its turn). */
int legr_sample_position(int hw, int per_img, int image, int j);

/* Writes the k x k patch of channels idx[0..n) (all channels when idx is
 * NULL) at output position p of conv l into col[0], col[ld], col[2 ld]...,
 * in Darknet's im2col order (channel, row, column); zero outside the input. */
void legr_gather_patch(const layer *l, const float *in, const int *idx, int n, int p,
                       float *col, int ld);

#endif
