/* augment.c: random views of a prepared network input (see augment.h). */
#include "augment.h"

#include <math.h>
#include <stddef.h>

/* A factor in [1/m, m], uniform in its logarithm (m < 1 as 1/m, as
 * Darknet's rand_scale; m == 1 or not finite and positive: 1). */
static float log_uniform(legr_rng *r, float m)
{
    if (m > 0 && m < 1) m = 1 / m;
    if (!(m > 1) || !isfinite(m)) return 1;
    float l = logf(m);
    return expf((2 * legr_rng_float(r) - 1) * l);
}

/* Where a view of scale k places its left (or top) edge, for a side of n
 * pixels (centres 0 .. n-1): the image's edge may go anywhere the scaled
 * side still covers (zoomed in) or lies within (zoomed out) the view. */
static float offset(legr_rng *r, int n, float k)
{
    float room = (n - 1) * (1 - k);    /* < 0 when zoomed in */
    return room * legr_rng_float(r);
}

/* Bilinear sample of plane p (w x h) at (x, y); grey outside. */
static float sample(const float *p, int w, int h, float x, float y)
{
    if (!(x >= 0 && y >= 0 && x <= w - 1 && y <= h - 1)) return 0.5f;     /* NaN too */
    int x0 = (int)x, y0 = (int)y;
    int x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
    float fx = x - x0, fy = y - y0;
    float top = p[y0 * w + x0] * (1 - fx) + p[y0 * w + x1] * fx;
    float bot = p[y1 * w + x0] * (1 - fx) + p[y1 * w + x1] * fx;
    return top * (1 - fy) + bot * fy;
}

static void resample(const float *src, float *dst, int w, int h, int c,
                     const legr_augment *a, legr_rng *r)
{
    float kx = log_uniform(r, 1 + a->jitter), ky = log_uniform(r, 1 + a->jitter);
    float ox = offset(r, w, kx), oy = offset(r, h, ky);
    int flip = legr_rng_below(r, 2);
    for (int ch = 0; ch < c; ++ch) {
        const float *p = src + (size_t)ch * w * h;
        float *q = dst + (size_t)ch * w * h;
        for (int y = 0; y < h; ++y) {
            float sy = (y - oy) / ky;
            for (int x = 0; x < w; ++x) {
                float sx = ((flip ? w - 1 - x : x) - ox) / kx;
                q[y * w + x] = sample(p, w, h, sx, sy);
            }
        }
    }
}

static float clamp01(float v)
{
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

static void recolour(float *dst, int w, int h, int c, const legr_augment *a, legr_rng *r)
{
    float e = log_uniform(r, a->exposure), s = log_uniform(r, a->saturation);
    size_t n = (size_t)w * h;
    for (size_t i = 0; i < n; ++i) {
        if (c == 3) {
            float g = (dst[i] + dst[n + i] + dst[2 * n + i]) / 3;
            for (int ch = 0; ch < 3; ++ch)
                dst[ch * n + i] = clamp01((s * dst[ch * n + i] + (1 - s) * g) * e);
        } else {
            for (int ch = 0; ch < c; ++ch) dst[ch * n + i] = clamp01(dst[ch * n + i] * e);
        }
    }
}

void legr_augment_view(const float *src, float *dst, int w, int h, int c,
                       const legr_augment *a, legr_rng *r)
{
    resample(src, dst, w, h, c, a, r);
    recolour(dst, w, h, c, a, r);
}
