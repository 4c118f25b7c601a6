/* test_ap.c: known-answer tests of legr's average precision (legr/ap.c) on
 * hand-made detections.  Every expected value is worked out by hand in the
 * comment next to it, not computed by the code under test. */
#include "testutil.h"
#include "ap.h"

#include <math.h>

#define BOX(x, y, w, h, c) ((legr_box){ (x), (y), (w), (h), (c) })
#define DET(im, c, s, b) ((legr_det){ (im), (c), (s), b })

static void test_iou_by_hand(void **state)
{
    legr_box a = BOX(0.5f, 0.5f, 0.2f, 0.2f, 0), b = BOX(0.6f, 0.5f, 0.2f, 0.2f, 0);
    /* overlap 0.1 x 0.2 = 0.02; union 0.04 + 0.04 - 0.02 = 0.06 -> 1/3 */
    assert_true(fabsf(legr_iou(&a, &b) - 1.0f / 3) < 1e-5);
    legr_box c = BOX(0.9f, 0.9f, 0.1f, 0.1f, 0);
    assert_true(legr_iou(&a, &c) == 0);
    assert_true(fabsf(legr_iou(&a, &a) - 1) < 1e-6);
}

/* Two images, class 0: one box in each.  Perfect detections -> AP 1. */
static void test_perfect(void **state)
{
    legr_box t0[] = { BOX(.3f, .3f, .2f, .2f, 0) }, t1[] = { BOX(.7f, .7f, .1f, .3f, 0) };
    const legr_box *truth[] = { t0, t1 };
    int nt[] = { 1, 1 }, ngt;
    legr_det d[] = { DET(0, 0, .9f, t0[0]), DET(1, 0, .8f, t1[0]) };
    assert_true(fabs(legr_ap_voc(d, 2, truth, nt, 2, 0, .5f, &ngt) - 1) < 1e-9);
    assert_int_equal(ngt, 2);
    assert_true(fabs(legr_ap_coco(d, 2, truth, nt, 2, 0, .95f, &ngt) - 1) < 1e-9);
}

/* One of two boxes never detected: recall stops at 0.5 with precision 1.
 * VOC all-point AP = 0.5 * 1 = 0.5.  COCO: recall points 0..0.50 (51 of
 * 101) have precision 1, the rest 0 -> 51/101. */
static void test_one_missed(void **state)
{
    legr_box t0[] = { BOX(.3f, .3f, .2f, .2f, 0) }, t1[] = { BOX(.7f, .7f, .2f, .2f, 0) };
    const legr_box *truth[] = { t0, t1 };
    int nt[] = { 1, 1 }, ngt;
    legr_det d[] = { DET(0, 0, .9f, t0[0]) };
    assert_true(fabs(legr_ap_voc(d, 1, truth, nt, 2, 0, .5f, &ngt) - 0.5) < 1e-9);
    assert_true(fabs(legr_ap_coco(d, 1, truth, nt, 2, 0, .5f, &ngt) - 51.0 / 101) < 1e-9);
}

/* A duplicate of a matched box is a false positive.  Order by score:
 * TP (p 1, r .5), FP duplicate (p .5, r .5), TP (p 2/3, r 1).
 * Envelope: p = 1 up to r .5, then 2/3 up to r 1 -> AP = .5 + .5 * 2/3. */
static void test_duplicate_is_false_positive(void **state)
{
    legr_box t0[] = { BOX(.3f, .3f, .2f, .2f, 0) }, t1[] = { BOX(.7f, .7f, .2f, .2f, 0) };
    const legr_box *truth[] = { t0, t1 };
    int nt[] = { 1, 1 }, ngt;
    legr_det d[] = { DET(0, 0, .9f, t0[0]), DET(0, 0, .8f, BOX(.31f, .3f, .2f, .2f, 0)),
                     DET(1, 0, .7f, t1[0]) };
    double want = 0.5 + 0.5 * 2.0 / 3;
    assert_true(fabs(legr_ap_voc(d, 3, truth, nt, 2, 0, .5f, &ngt) - want) < 1e-9);
}

/* Crowded: two boxes side by side, IoU between the detections and both
 * boxes above .5 for the first, the second detection fits box B best.
 * d1 (0.9) overlaps A with IoU 1 -> TP on A.  d2 (0.8) lies on B exactly
 * -> TP on B.  AP = 1 for both VOC and COCO at 0.5. */
/* Crowded: two overlapping boxes A and B of the same class (coordinates
 * are dyadic so every IoU is exact in float).  A spans x .25-.50, B spans
 * x .375-.625, both y .375-.625.
 * 1) Detections exactly on A (0.9) and on B (0.8): both TP, AP 1. */
static void test_crowded(void **state)
{
    legr_box t[] = { BOX(.375f, .5f, .25f, .25f, 0), BOX(.5f, .5f, .25f, .25f, 0) };
    const legr_box *truth[] = { t };
    int nt[] = { 2 }, ngt;
    legr_det d[] = { DET(0, 0, .9f, t[0]), DET(0, 0, .8f, t[1]) };
    assert_true(fabs(legr_ap_voc(d, 2, truth, nt, 1, 0, .5f, &ngt) - 1) < 1e-9);
    assert_true(fabs(legr_ap_coco(d, 2, truth, nt, 1, 0, .5f, &ngt) - 1) < 1e-9);
    /* 2) A tie: d1 spans x .3125-.5625, overlapping A and B by .1875 x .25
     * each: IoU .046875 / (.0625 + .0625 - .046875) = .6 with both; d2 lies
     * exactly on A.  VOC gives d1 the first best box (A); d2's best box is
     * A, already matched -> FP: AP = .5 (recall .5 at precision 1, then
     * precision .5).  COCO gives d1 the last best box (B); d2 then takes A
     * -> TP, AP 1. */
    legr_det e[] = { DET(0, 0, .9f, BOX(.4375f, .5f, .25f, .25f, 0)), DET(0, 0, .8f, t[0]) };
    assert_true(legr_iou(&e[0].box, &t[0]) == 0.6f);
    assert_true(legr_iou(&e[0].box, &t[1]) == 0.6f);
    assert_true(fabs(legr_ap_voc(e, 2, truth, nt, 1, 0, .5f, &ngt) - 0.5) < 1e-9);
    assert_true(fabs(legr_ap_coco(e, 2, truth, nt, 1, 0, .5f, &ngt) - 1) < 1e-9);
}

/* No ground truth of the class: AP 0 and n_gt 0 (the caller leaves the
 * class out of the mean).  Detections of another class do not count. */
static void test_empty_ground_truth(void **state)
{
    legr_box t0[] = { BOX(.3f, .3f, .2f, .2f, 1) };
    const legr_box *truth[] = { t0 };
    int nt[] = { 1 }, ngt = -1;
    legr_det d[] = { DET(0, 0, .9f, BOX(.3f, .3f, .2f, .2f, 0)) };
    assert_true(legr_ap_voc(d, 1, truth, nt, 1, 0, .5f, &ngt) == 0);
    assert_int_equal(ngt, 0);
    /* class 1 has a box but only a class-0 detection: AP 0, 1 box */
    assert_true(legr_ap_voc(d, 1, truth, nt, 1, 1, .5f, &ngt) == 0);
    assert_int_equal(ngt, 1);
}

/* A false positive ranked first: FP (p 0, r 0), TP (p .5, r 1).
 * Envelope at r 1 is .5 -> VOC AP .5; COCO: every recall point maps to the
 * TP's precision .5 -> .5. */
static void test_false_positive_first(void **state)
{
    legr_box t0[] = { BOX(.3f, .3f, .2f, .2f, 0) };
    const legr_box *truth[] = { t0 };
    int nt[] = { 1 }, ngt;
    legr_det d[] = { DET(0, 0, .95f, BOX(.8f, .8f, .1f, .1f, 0)), DET(0, 0, .5f, t0[0]) };
    assert_true(fabs(legr_ap_voc(d, 2, truth, nt, 1, 0, .5f, &ngt) - 0.5) < 1e-9);
    assert_true(fabs(legr_ap_coco(d, 2, truth, nt, 1, 0, .5f, &ngt) - 0.5) < 1e-9);
}

int main(void)
{
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iou_by_hand),
        cmocka_unit_test(test_perfect),
        cmocka_unit_test(test_one_missed),
        cmocka_unit_test(test_duplicate_is_false_positive),
        cmocka_unit_test(test_crowded),
        cmocka_unit_test(test_empty_ground_truth),
        cmocka_unit_test(test_false_positive_first),
    };
    return cmocka_run_group_tests_name("ap", tests, NULL, NULL);
}
