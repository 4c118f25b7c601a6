/* ap.c: VOC all-point and COCO 101-point average precision (see ap.h). */
#include "ap.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

float legr_iou(const legr_box *a, const legr_box *b)
{
    float l = a->x - a->w / 2 > b->x - b->w / 2 ? a->x - a->w / 2 : b->x - b->w / 2;
    float r = a->x + a->w / 2 < b->x + b->w / 2 ? a->x + a->w / 2 : b->x + b->w / 2;
    float t = a->y - a->h / 2 > b->y - b->h / 2 ? a->y - a->h / 2 : b->y - b->h / 2;
    float d = a->y + a->h / 2 < b->y + b->h / 2 ? a->y + a->h / 2 : b->y + b->h / 2;
    if (r <= l || d <= t) return 0;
    float inter = (r - l) * (d - t);
    float uni = a->w * a->h + b->w * b->h - inter;
    return uni > 0 ? inter / uni : 0;
}

static int by_score_desc(const void *pa, const void *pb)
{
    const legr_det *a = *(const legr_det *const *)pa, *b = *(const legr_det *const *)pb;
    if (a->score > b->score) return -1;
    if (a->score < b->score) return 1;
    if (a->image != b->image) return a->image - b->image;
    return 0;
}

/* Marks each detection of class cls TP (1) or FP (0), in descending score.
 * coco: match only still-unmatched boxes.  Returns the number of detections
 * of the class (written to tp[]), or -1 on allocation failure. */
static int match(const legr_det *dets, int n_dets, const legr_box *const *truth,
                 const int *n_truth, int n_images, int cls, float iou_thr,
                 int coco, unsigned char *tp, int *n_gt)
{
    const legr_det **mine = legr_calloc(n_dets, sizeof(*mine));
    unsigned char **used = legr_calloc(n_images, sizeof(*used));
    int n = 0, rc = 0;
    *n_gt = 0;
    if (!mine || !used) rc = -1;
    for (int i = 0; rc == 0 && i < n_images; ++i) {
        used[i] = legr_calloc(n_truth[i], 1);
        if (!used[i]) rc = -1;
        for (int k = 0; k < n_truth[i]; ++k) *n_gt += truth[i][k].cls == cls;
    }
    for (int d = 0; rc == 0 && d < n_dets; ++d)
        if (dets[d].cls == cls) mine[n++] = &dets[d];
    if (rc == 0) qsort(mine, n, sizeof(*mine), by_score_desc);
    for (int d = 0; rc == 0 && d < n; ++d) {
        /* VOC: the first box of highest IoU, a hit if IoU > thr.  COCO: the
         * last unmatched box of highest IoU, a hit if IoU >= thr. */
        int im = mine[d]->image, best = -1;
        float best_iou = coco ? iou_thr : -1;
        for (int k = 0; k < n_truth[im]; ++k) {
            if (truth[im][k].cls != cls || (coco && used[im][k])) continue;
            float v = legr_iou(&mine[d]->box, &truth[im][k]);
            if (coco ? v >= best_iou : v > best_iou) { best_iou = v; best = k; }
        }
        if (!coco && best_iou <= iou_thr) best = -1;
        tp[d] = best >= 0 && !used[im][best];
        if (tp[d]) used[im][best] = 1;
    }
    for (int i = 0; used && i < n_images; ++i) free(used[i]);
    free(used);
    free(mine);
    return rc == 0 ? n : -1;
}

/* Fills precision/recall after each detection and makes precision
 * monotone non-increasing from the right (the envelope). */
static void pr_curve(const unsigned char *tp, int n, int n_gt, double *prec, double *rec)
{
    int ctp = 0;
    for (int d = 0; d < n; ++d) {
        ctp += tp[d];
        prec[d] = (double)ctp / (d + 1);
        rec[d] = (double)ctp / n_gt;
    }
    for (int d = n - 2; d >= 0; --d)
        if (prec[d] < prec[d + 1]) prec[d] = prec[d + 1];
}

static double ap_generic(const legr_det *dets, int n_dets, const legr_box *const *truth,
                         const int *n_truth, int n_images, int cls, float iou_thr,
                         int coco, int *n_gt)
{
    unsigned char *tp = legr_calloc(n_dets, 1);
    double *prec = legr_calloc(n_dets, sizeof(double)), *rec = legr_calloc(n_dets, sizeof(double));
    double ap = 0;
    int n = (tp && prec && rec) ? match(dets, n_dets, truth, n_truth, n_images, cls, iou_thr, coco, tp, n_gt) : -1;
    if (n > 0 && *n_gt > 0) {
        pr_curve(tp, n, *n_gt, prec, rec);
        if (coco) {
            int d = 0;
            for (int r = 0; r <= 100; ++r) {
                double target = r / 100.0;
                while (d < n && rec[d] < target - 1e-12) ++d;
                if (d < n) ap += prec[d];
            }
            ap /= 101;
        } else {
            double prev = 0;
            for (int d = 0; d < n; ++d) {
                ap += (rec[d] - prev) * prec[d];
                prev = rec[d];
            }
        }
    }
    free(tp); free(prec); free(rec);
    return ap;
}

double legr_ap_voc(const legr_det *dets, int n_dets, const legr_box *const *truth,
                   const int *n_truth, int n_images, int cls, float iou_thr, int *n_gt)
{
    return ap_generic(dets, n_dets, truth, n_truth, n_images, cls, iou_thr, 0, n_gt);
}

double legr_ap_coco(const legr_det *dets, int n_dets, const legr_box *const *truth,
                    const int *n_truth, int n_images, int cls, float iou_thr, int *n_gt)
{
    return ap_generic(dets, n_dets, truth, n_truth, n_images, cls, iou_thr, 1, n_gt);
}
