/* bnfreeze.h: fine-tuning with frozen BN statistics.  Darknet's training
 * mode normalises each conv's output by the batch's own mean and variance
 * and moves the rolling statistics toward them; on a few hundred images
 * (a user's unlabelled domain, coco128) those statistics are worse than the
 * ones the network was trained with, and fine-tuning then loses accuracy it
 * should recover.  Frozen, a BN conv normalises by its rolling statistics in
 * training too, and they stay as they are; the BN scale and bias and the
 * conv's weights still learn (the gradient through a fixed affine map).
 *
 * It works by swapping the forward and backward functions of the BN
 * [convolutional] layers for legr's (CPU only): nothing in Darknet changes,
 * and the weights file keeps its layout. */
#ifndef LEGR_BNFREEZE_H
#define LEGR_BNFREEZE_H

#include "darknet.h"

/* Freezes the BN of every [convolutional] layer with batch_normalize=1
 * (binary and xnor convs excepted).  Returns how many. */
int legr_bn_freeze(network *net);

/* Puts Darknet's own functions back. */
void legr_bn_thaw(network *net);

#endif
