/* test_augment.c: the random views of legr finetune -nolabels -augment
 * (legr/augment.c): with no jitter and no colour change a view is the input
 * or its mirror, exactly; a view stays in [0, 1]; zooming out brings in the
 * grey of Darknet's letterbox bars and never anything else; the same seed
 * gives the same view; on a ramp image (which bilinear sampling reproduces
 * exactly) each view's scale is within [1/(1+J), 1+J] per side and a view
 * zoomed in on both sides shows no grey; exposure scales a grey image;
 * saturation leaves grey pixels as they are and moves coloured ones from
 * their grey by one factor within [1/S, S]. */
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

/* Every pixel the colour rgb. */
static void constant_image(float *x, float r, float g, float b)
{
    const float rgb[C] = { r, g, b };
    for (int ch = 0; ch < C; ++ch)
        for (int i = 0; i < W * H; ++i) x[ch * W * H + i] = rgb[ch];
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
    constant_image(src, 0.2f, 0.2f, 0.2f);
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
    constant_image(src, 0.4f, 0.4f, 0.4f);
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

#define RW 32
#define RH 24
#define INSIDE(m) (fabsf((m) - 0.7f) < 1e-5f)  /* bilinear of a constant, up to rounding */

/* The scale a view of the ramp shows along one axis: the step of the ramp
 * plane between neighbouring pixels inside the image, all equal (one
 * scale per view); 0 when no two neighbours are inside. */
static float ramp_scale(const float *v, int plane, int dx, int dy, int n)
{
    const float *p = v + plane * RW * RH, *inside = v + 2 * RW * RH;
    float step = 0;
    for (int y = 0; y + dy < RH; ++y)
        for (int x = 0; x + dx < RW; ++x) {
            int a = y * RW + x, b = (y + dy) * RW + x + dx;
            if (!INSIDE(inside[a]) || !INSIDE(inside[b])) continue;
            float d = fabsf(p[b] - p[a]);
            if (step == 0) step = d;
            assert_float_equal(d, step, 1e-4);
        }
    return step > 0 ? 1 / (step * (n - 1)) : 0;
}

static void test_ramp_scales(void **state)
{
    static float src[RW * RH * 3], dst[RW * RH * 3];
    for (int y = 0; y < RH; ++y)
        for (int x = 0; x < RW; ++x) {
            src[y * RW + x] = (float)x / (RW - 1);
            src[RW * RH + y * RW + x] = (float)y / (RH - 1);
            src[2 * RW * RH + y * RW + x] = 0.7f;       /* marks the image's inside */
        }
    legr_augment a = { 0.3f, 1, 1 };
    legr_rng r;
    legr_rng_seed(&r, 21);
    int zoomed_in = 0, zoomed_out = 0;
    for (int k = 0; k < 200; ++k) {
        legr_augment_view(src, dst, RW, RH, 3, &a, &r);
        float kx = ramp_scale(dst, 0, 1, 0, RW), ky = ramp_scale(dst, 1, 0, 1, RH);
        assert_true(kx >= 1 / 1.3f - 1e-3f && kx <= 1.3f + 1e-3f);
        assert_true(ky >= 1 / 1.3f - 1e-3f && ky <= 1.3f + 1e-3f);
        int grey = 0;
        for (int i = 0; i < RW * RH; ++i) {
            float m = dst[2 * RW * RH + i];
            assert_true(INSIDE(m) || m == 0.5f);
            grey += m == 0.5f;
        }
        if (kx > 1.001f && ky > 1.001f) {
            ++zoomed_in;
            assert_int_equal(grey, 0);
        }
        zoomed_out += kx < 0.999f && ky < 0.999f && grey > 0;
    }
    assert_true(zoomed_in > 20 && zoomed_out > 20);
}

static void test_saturation_moves_colour(void **state)
{
    float src[N], dst[N];
    constant_image(src, 0.2f, 0.4f, 0.6f);         /* grey 0.4 */
    legr_augment a = { 0, 1, 2 };
    legr_rng r;
    legr_rng_seed(&r, 4);
    float lo = 9, hi = 0;
    for (int k = 0; k < 32; ++k) {
        legr_augment_view(src, dst, W, H, C, &a, &r);
        float sat = (dst[2 * W * H] - 0.4f) / 0.2f;
        assert_true(sat >= 0.5f - 1e-4f && sat <= 2 + 1e-4f);
        assert_float_equal(dst[W * H], 0.4f, 1e-5);                   /* the grey stays */
        assert_float_equal(dst[0], 0.4f - 0.2f * sat, 1e-5);          /* one factor */
        lo = sat < lo ? sat : lo;
        hi = sat > hi ? sat : hi;
    }
    assert_true(lo < 0.8f && hi > 1.4f);
}

int main(void)
{
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity_or_mirror),
        cmocka_unit_test(test_range_and_determinism),
        cmocka_unit_test(test_zoom_brings_grey_only),
        cmocka_unit_test(test_colour),
        cmocka_unit_test(test_ramp_scales),
        cmocka_unit_test(test_saturation_moves_colour),
    };
    return cmocka_run_group_tests_name("augment", tests, NULL, NULL);
}
