/* test_augment.c: the random views of legr finetune -nolabels -augment
 * (legr/augment.c): with no jitter and no colour change a view is the input
 * or its mirror, exactly; a view stays in [0, 1]; zooming out brings in the
 * grey of Darknet's letterbox bars and never anything else; the same seed
 * gives the same view; exposure scales a grey image; saturation leaves grey
 * pixels as they are. */
#include "testutil.h"
#include "augment.h"

#include <math.h>
#include <string.h>

#define W 13
#define H 9
#define C 3
#define N (W * H * C)

static void ramp(float *x)
{
    for (int i = 0; i < N; ++i) x[i] = (float)((i * 37) % 101) / 100;
}

static int is_mirror(const float *a, const float *b)
{
    for (int p = 0; p < C * H; ++p)
        for (int x = 0; x < W; ++x)
            if (a[p * W + x] != b[p * W + W - 1 - x]) return 0;
    return 1;
}

static void test_identity_or_mirror(void **state)
{
    float src[N], dst[N];
    ramp(src);
    legr_augment a = { 0, 1, 1 };
    legr_rng r;
    legr_rng_seed(&r, 5);
    int same = 0, mirrored = 0;
    for (int k = 0; k < 64; ++k) {
        legr_augment_view(src, dst, W, H, C, &a, &r);
        int s = !memcmp(src, dst, sizeof src), m = is_mirror(src, dst);
        assert_true(s || m);
        same += s;
        mirrored += m;
    }
    assert_true(same > 8 && mirrored > 8);
}

static void test_range_and_determinism(void **state)
{
    float src[N], a1[N], a2[N];
    ramp(src);
    legr_augment a = { 0.5f, 1.5f, 1.5f };
    legr_rng r1, r2;
    legr_rng_seed(&r1, 11);
    legr_rng_seed(&r2, 11);
    int differ = 0;
    for (int k = 0; k < 32; ++k) {
        legr_augment_view(src, a1, W, H, C, &a, &r1);
        legr_augment_view(src, a2, W, H, C, &a, &r2);
        assert_memory_equal(a1, a2, sizeof a1);
        for (int i = 0; i < N; ++i) assert_true(a1[i] >= 0 && a1[i] <= 1);
        differ += memcmp(a1, src, sizeof src) != 0 && !is_mirror(a1, src);
    }
    assert_true(differ >= 30);
}

/* A constant image of 0.2, no colour change: every pixel of a view is 0.2
 * (inside the image), 0.5 (outside) or between (its edge); zoomed-out views
 * show the grey. */
static void test_zoom_brings_grey_only(void **state)
{
    float src[N], dst[N];
    for (int i = 0; i < N; ++i) src[i] = 0.2f;
    legr_augment a = { 0.5f, 1, 1 };
    legr_rng r;
    legr_rng_seed(&r, 3);
    int grey = 0;
    for (int k = 0; k < 32; ++k) {
        legr_augment_view(src, dst, W, H, C, &a, &r);
        for (int i = 0; i < N; ++i) {
            assert_true(dst[i] >= 0.2f - 1e-6f && dst[i] <= 0.5f + 1e-6f);
            grey += dst[i] == 0.5f;
        }
    }
    assert_true(grey > 0);
}

static void test_colour(void **state)
{
    float src[N], dst[N];
    for (int i = 0; i < N; ++i) src[i] = 0.4f;
    legr_augment a = { 0, 2, 2 };
    legr_rng r;
    legr_rng_seed(&r, 8);
    int changed = 0;
    for (int k = 0; k < 16; ++k) {
        legr_augment_view(src, dst, W, H, C, &a, &r);
        float e = dst[0] / 0.4f;
        assert_true(e >= 0.5f - 1e-5f && e <= 2 + 1e-5f);
        for (int i = 0; i < N; ++i) assert_float_equal(dst[i], dst[0], 1e-6);  /* grey stays grey */
        changed += fabsf(e - 1) > 1e-3f;
    }
    assert_true(changed >= 14);
}

int main(void)
{
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity_or_mirror),
        cmocka_unit_test(test_range_and_determinism),
        cmocka_unit_test(test_zoom_brings_grey_only),
        cmocka_unit_test(test_colour),
    };
    return cmocka_run_group_tests_name("augment", tests, NULL, NULL);
}
