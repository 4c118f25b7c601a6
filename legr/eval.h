/* eval.h: validation through Darknet's own prediction path.
 *
 * A legr_valset is a fixed list of images prepared for one network input
 * size (letterboxed for detectors, center-cropped for classifiers, exactly as
 * `detector valid` / `classifier valid` prepare them), with their ground
 * truth.  Every image is decoded once when the set is loaded (a bad file is
 * an error before any work); the prepared pixels of the first ones are kept,
 * up to a byte budget, and the others are decoded again, the same way, each
 * time they are used, so that a set of thousands of images costs no more
 * memory than the budget.  The same set serves mAP/top-k, validation loss
 * and BN re-estimation.
 *
 * Memory: Darknet's buffers are allocated for the cfg's batch, but only
 * what a forward touches becomes resident.  BN re-estimation and the
 * validation loss compute what a training-mode forward of a whole batch
 * gives, layer by layer a few images at a time (bigbatch.h), and
 * reconstruction forwards LEGR_FORWARD_BATCH images at a time. */
#ifndef LEGR_EVAL_H
#define LEGR_EVAL_H

#include <stddef.h>
#include <stdint.h>
#include "darknet.h"
#include "ap.h"

/* Images a forward takes at once on the CPU in BN re-estimation, the
 * validation loss and reconstruction (the results do not depend on it), and
 * the sub-batch of the search's fine-tuning (Darknet's training-mode
 * buffers: about 110 MB an image on Yolo-Fastest at 320x320). */
#define LEGR_FORWARD_BATCH 4

/* Prepared pixels a set keeps in memory by default (416x416: 2 MB an
 * image, so 128 images); the rest are decoded on use.  The environment
 * variable LEGR_IMAGE_CACHE_MB sets another budget (0: decode every image
 * on use; a large one keeps them all, as before). */
#define LEGR_VALSET_CACHE_BYTES ((size_t)256 << 20)

typedef struct {
    int n_images;
    char **paths;
    float **pixels;         /* prepared network input, w*h*c floats each, for
                             * images 0..n_cached-1; NULL for the others (see
                             * legr_valset_image) */
    int n_cached;
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
 * Keeps the prepared pixels of the first LEGR_VALSET_CACHE_BYTES worth of
 * images.  Returns 0 or -1 with err set. */
int legr_valset_load(const char *datacfg, const char *list_key, const network *net,
                     int max_images, legr_valset *vs, char *err, size_t errlen);
/* The same keeping the pixels of at most cache_bytes worth of images
 * (0: none, SIZE_MAX: all). */
int legr_valset_load_cached(const char *datacfg, const char *list_key, const network *net,
                            int max_images, size_t cache_bytes, legr_valset *vs,
                            char *err, size_t errlen);
void legr_valset_free(legr_valset *vs);

/* Loads the images of any list file (one path a line), without labels, for
 * network net: for BN re-estimation, reconstruction and distillation. */
int legr_imageset_load(const char *listfile, const network *net, int max_images,
                       legr_valset *vs, char *err, size_t errlen);
int legr_imageset_load_cached(const char *listfile, const network *net, int max_images,
                              size_t cache_bytes, legr_valset *vs, char *err, size_t errlen);

/* The budget legr_valset_load and legr_imageset_load keep: $LEGR_IMAGE_CACHE_MB
 * megabytes, else LEGR_VALSET_CACHE_BYTES.  0, or -1 with err set when the
 * variable is not a number. */
int legr_image_cache_bytes(size_t *bytes, char *err, size_t errlen);

/* The prepared pixels of image i (w*h*c floats): the kept copy, or the
 * image decoded and prepared again into buf (w*h*c floats), as the load did.
 * NULL with err set when the file no longer decodes to the size it had. */
const float *legr_valset_image(const legr_valset *vs, int i, float *buf, char *err, size_t errlen);

/* Decodes the image at path (3 channels, its own size) into *im, as
 * Darknet's loader would, but refusing what Darknet would replace by a blank
 * image: returns 0, or -1 with err "<path>: cannot read image: <why>" or
 * "<path>: cannot decode image", plus " (listed in <listfile>)" when listfile
 * is given.  The decoders' own messages are not shown. */
int legr_image_decode(const char *path, const char *listfile, image *im, char *err, size_t errlen);

/* Fills net->input (and net->truth when truth != 0) with images
 * first..first+net->batch-1 of vs (wrapping around).  0, or -1 with err
 * set (legr_valset_image). */
int legr_valset_fill(network *net, const legr_valset *vs, int first, int truth,
                     char *err, size_t errlen);

/* Image i's ground truth as Darknet's trainer lays it out (truths floats:
 * boxes x y w h class in letterboxed coordinates, or a one-hot class). */
void legr_valset_truth(const legr_valset *vs, int i, float *t, int truths);

/* The images a BN re-estimation or validation-loss forward (and a
 * fine-tuning sub-batch) takes at once: LEGR_FORWARD_BATCH, or net->batch
 * when smaller; net->batch with a GPU (device memory, and throughput wants
 * the whole batch). */
int legr_forward_batch(const network *net);

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


#endif
