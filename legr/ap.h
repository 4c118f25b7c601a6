/* ap.h: average precision of detections against ground truth.  Pure
 * functions over plain arrays, so they can be checked against hand-computed
 * answers.  Boxes are (center x, center y, width, height) in any one unit
 * per image (IoU does not depend on the unit). */
#ifndef LEGR_AP_H
#define LEGR_AP_H

typedef struct {
    float x, y, w, h;
    int cls;
} legr_box;

typedef struct {
    int image;
    int cls;
    float score;
    legr_box box;
} legr_det;

float legr_iou(const legr_box *a, const legr_box *b);

/* VOC-style AP of class cls at IoU threshold iou_thr: detections in
 * descending score, each matched to the ground-truth box of highest IoU in
 * its image (the first on ties), a hit when IoU > iou_thr and that box is not
 * matched yet (a duplicate is a false positive); all-point interpolated
 * precision envelope.  *n_gt receives the
 * number of ground-truth boxes of the class; AP is 0 when it is 0. */
double legr_ap_voc(const legr_det *dets, int n_dets, const legr_box *const *truth,
                   const int *n_truth, int n_images, int cls, float iou_thr, int *n_gt);

/* COCO-style AP of class cls at one IoU threshold: greedy matching of each
 * detection (descending score) to the still-unmatched box of highest IoU
 * >= iou_thr (the last on ties, as pycocotools does), precision
 * envelope sampled at the 101 recall points 0, 0.01, ..., 1. */
double legr_ap_coco(const legr_det *dets, int n_dets, const legr_box *const *truth,
                    const int *n_truth, int n_images, int cls, float iou_thr, int *n_gt);

#endif
