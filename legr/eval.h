/* eval.h: validation through Darknet's own prediction path.
 *
 * A legr_valset is a fixed list of images decoded and prepared for one
 * network input size once (letterboxed for detectors, center-cropped for
 * classifiers, exactly as `detector valid` / `classifier valid` prepare them),
 * with their ground truth, so that scoring a network costs forward passes
 * only.  The same set serves mAP/top-k, validation loss and BN
 * re-estimation. */
#ifndef LEGR_EVAL_H
#define LEGR_EVAL_H

#include <stddef.h>
#include "darknet.h"
#include "ap.h"

typedef struct {
    int n_images;
    char **paths;
    float **pixels;         /* prepared network input, w*h*c floats each */
    int *orig_w, *orig_h;
    legr_box **truth;       /* detectors: boxes relative to the original image */
    int *n_truth;
    int *label;             /* classifiers: class index, -1 when none matched */
    int w, h, c;            /* network input size the pixels were made for */
    int classes;
    int is_detector;
    double decode_s;        /* time spent decoding and preparing */
} legr_valset;

typedef struct {
    int n_images;
    int n_truth;            /* ground-truth boxes (detectors) */
    int n_dets;             /* detections above thresh after NMS */
    int classes_with_gt;
    double map50;           /* VOC all-point mAP@0.5 over classes with ground truth */
    double map5095;         /* COCO 101-point mAP@[.5:.95] */
    double *ap50;           /* per class (classes entries), caller frees */
    int *gt_per_class;      /* per class, caller frees */
    double top1, top5;      /* classifiers */
    double forward_s;       /* total forward time */
    double score_s;         /* total box decoding + NMS + AP time */
} legr_metrics;

/* Loads the `valid=` list of datacfg (first max_images when > 0), for
 * network net.  kind: "valid", "train" or "test" picks the list key.
 * Returns 0 or -1 with err set. */
int legr_valset_load(const char *datacfg, const char *list_key, const network *net,
                     int max_images, legr_valset *vs, char *err, size_t errlen);
void legr_valset_free(legr_valset *vs);

/* Loads the images of any list file (one path a line), without labels, for
 * network net: for BN re-estimation, reconstruction and distillation. */
int legr_imageset_load(const char *listfile, const network *net, int max_images,
                       legr_valset *vs, char *err, size_t errlen);

/* Decodes the image at path (3 channels, its own size) into *im, as
 * Darknet's loader would, but refusing what Darknet would replace by a blank
 * image: returns 0, or -1 with err "<path>: cannot read image: <why>" or
 * "<path>: cannot decode image", plus " (listed in <listfile>)" when listfile
 * is given.  The decoders' own messages are not shown. */
int legr_image_decode(const char *path, const char *listfile, image *im, char *err, size_t errlen);

/* 0 when each of the n paths decodes (legr_image_decode), else -1 with err
 * naming the first that does not: for lists Darknet's trainer loads. */
int legr_images_check(char *const *paths, int n, const char *listfile, char *err, size_t errlen);

/* Fills net->input (and net->truth when truth != 0) with images
 * first..first+net->batch-1 of vs (wrapping around). */
void legr_valset_fill(network *net, const legr_valset *vs, int first, int truth);

/* Reads a YOLO-format label file; a missing file is no objects.  Returns the
 * number of boxes (>= 0) or -1 with err naming the file and line. */
int legr_read_labels(const char *path, int classes, legr_box **boxes, char *err, size_t errlen);

/* 1 when the network ends in [yolo]/[region]/[detection] heads. */
int legr_network_is_detector(const network *net);

/* Classes the network's head expects (see eval.c); -1 if heads disagree. */
int legr_network_classes(const network *net);

/* Scores net (batch 1 forward per image) on vs.  Returns 0 or -1. */
int legr_evaluate(network *net, const legr_valset *vs, float thresh, float iou,
                  legr_metrics *m, char *err, size_t errlen);
void legr_metrics_free(legr_metrics *m);

/* Darknet's training cost averaged over the set, from forward passes in
 * training mode without weight updates (BN rolling statistics are restored
 * afterwards).  Returns the loss per image, or a negative value on error. */
double legr_validation_loss(network *net, const legr_valset *vs);

/* Re-estimates every batch-normalised layer's rolling mean and variance as
 * exact averages of the batch statistics of up to n_batches batches of the
 * set's images (forward in training mode, no weight update). */
void legr_bn_reestimate(network *net, const legr_valset *vs, int n_batches);

#endif
