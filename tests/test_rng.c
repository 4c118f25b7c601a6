/* test_rng.c: legr's one random number generator (legr/rng.c): the
 * splitmix64 stream itself (reference values computed apart from this code),
 * determinism per seed, the ranges of every draw (also at the extreme
 * outputs, reached by inverting splitmix64's output function), and the
 * moments of the uniform and normal draws on 1e5 samples (loose bounds). */
#include "testutil.h"
#include "rng.h"

#include <math.h>

#define GAMMA 0x9e3779b97f4a7c15ull
#define DRAWS 100000

/* x such that x ^ (x >> k) == y */
static uint64_t unxorshift(uint64_t y, int k)
{
    uint64_t x = y;
    for (int i = 0; i < 64 / k + 1; ++i) x = y ^ (x >> k);
    return x;
}

/* The inverse of an odd number modulo 2^64 (Newton's iteration). */
static uint64_t inverse(uint64_t c)
{
    uint64_t x = c;
    for (int i = 0; i < 6; ++i) x *= 2 - c * x;
    return x;
}

/* A generator whose next output is `out`: splitmix64's output function is a
 * bijection of the incremented state, undone step by step. */
static legr_rng rng_giving(uint64_t out)
{
    uint64_t z = unxorshift(out, 31);
    z *= inverse(0x94d049bb133111ebull);
    z = unxorshift(z, 27);
    z *= inverse(0xbf58476d1ce4e5b9ull);
    z = unxorshift(z, 30);
    return (legr_rng){ z - GAMMA };
}

/* Seeds 0 and 1234567: the first outputs of splitmix64 as published with
 * its reference implementation (checked with an independent Python one). */
static void test_reference_stream(void **state)
{
    legr_rng r;
    legr_rng_seed(&r, 0);
    assert_true(legr_rng_next(&r) == 0xe220a8397b1dcdafull);
    assert_true(legr_rng_next(&r) == 0x6e789e6aa1b965f4ull);
    assert_true(legr_rng_next(&r) == 0x06c45d188009454full);
    legr_rng_seed(&r, 1234567);
    const uint64_t want[] = { 6457827717110365317ull, 3203168211198807973ull, 9817491932198370423ull,
                              4593380528125082431ull, 16408922859458223821ull };
    for (int i = 0; i < 5; ++i) assert_true(legr_rng_next(&r) == want[i]);
}

static void test_same_seed_same_draws(void **state)
{
    legr_rng a, b;
    legr_rng_seed(&a, 42);
    legr_rng_seed(&b, 42);
    for (int i = 0; i < 1000; ++i) {
        assert_true(legr_rng_next(&a) == legr_rng_next(&b));
        assert_true(legr_rng_double(&a) == legr_rng_double(&b));
        assert_true(legr_rng_normal(&a, 3) == legr_rng_normal(&b, 3));
        assert_int_equal(legr_rng_below(&a, 1000), legr_rng_below(&b, 1000));
    }
    assert_true(a.s == b.s);
}

static void test_seeds_differ(void **state)
{
    legr_rng a, b;
    legr_rng_seed(&a, 1);
    legr_rng_seed(&b, 2);
    int same = 0;
    for (int i = 0; i < 1000; ++i) same += legr_rng_next(&a) == legr_rng_next(&b);
    assert_int_equal(same, 0);
    /* neighbouring seeds are not one stream shifted by a draw either */
    legr_rng_seed(&a, 1);
    legr_rng_seed(&b, 2);
    uint64_t first_b = legr_rng_next(&b);
    for (int i = 0; i < 1000; ++i) assert_true(legr_rng_next(&a) != first_b);
}

static void test_inverse_reaches_extremes(void **state)
{
    const uint64_t outs[] = { 0, 1, UINT64_MAX, 0x8000000000000000ull, 0x123456789abcdefull };
    for (int i = 0; i < 5; ++i) {
        legr_rng r = rng_giving(outs[i]);
        assert_true(legr_rng_next(&r) == outs[i]);
    }
}

/* The largest output: every draw stays below its bound; the smallest: 0. */
static void test_ranges_at_the_extremes(void **state)
{
    legr_rng r = rng_giving(UINT64_MAX);
    assert_true(legr_rng_double(&r) < 1.0);
    r = rng_giving(UINT64_MAX);
    float f = legr_rng_float(&r);
    assert_true(f < 1.0f && f > 0.99999f);
    const uint32_t ns[] = { 1, 2, 7, 1000, 0x80000001u, UINT32_MAX };
    for (int i = 0; i < 6; ++i) {
        r = rng_giving(UINT64_MAX);
        assert_int_equal(legr_rng_below(&r, ns[i]), ns[i] - 1);
        r = rng_giving(0);
        assert_int_equal(legr_rng_below(&r, ns[i]), 0);
    }
    r = rng_giving(0);
    assert_true(legr_rng_double(&r) == 0.0);
    r = rng_giving(0);
    assert_true(legr_rng_float(&r) == 0.0f);
    r = rng_giving(12345);
    assert_int_equal(legr_rng_below(&r, 0), 0);
    /* a 0 output as the normal's first uniform: the logarithm stays finite */
    r = rng_giving(0);
    double x = legr_rng_normal(&r, 1);
    assert_true(isfinite(x));
    assert_true(fabs(x) < 10);
}

/* 1e5 uniform draws: all in [0, 1), reaching both ends, mean 1/2 (se 9e-4)
 * and variance 1/12 (se 2.4e-4); 1e4 integers below each n, all below n. */
static void test_uniform_draws(void **state)
{
    legr_rng r;
    legr_rng_seed(&r, 7);
    double lo = 1, hi = 0, s = 0, s2 = 0;
    for (int i = 0; i < DRAWS; ++i) {
        double d = legr_rng_double(&r);
        float f = legr_rng_float(&r);
        assert_true(d >= 0 && d < 1 && f >= 0 && f < 1);
        if (d < lo) lo = d;
        if (d > hi) hi = d;
        s += d;
        s2 += d * d;
    }
    assert_true(lo < 1e-3 && hi > 1 - 1e-3);
    double mean = s / DRAWS, var = s2 / DRAWS - mean * mean;
    assert_true(fabs(mean - 0.5) < 0.01);
    assert_true(fabs(var - 1.0 / 12) < 0.003);
    const uint32_t ns[] = { 1, 2, 3, 10, 1000, 0x80000001u, UINT32_MAX };
    for (int k = 0; k < 7; ++k)
        for (int i = 0; i < DRAWS / 10; ++i) assert_true(legr_rng_below(&r, ns[k]) < ns[k]);
}

/* 1e5 draws below 10: each value about 1e4 times (sd 95; bounds at +-6%). */
static void test_below_is_uniform(void **state)
{
    legr_rng r;
    legr_rng_seed(&r, 3);
    int count[10] = {0};
    for (int i = 0; i < DRAWS; ++i) count[legr_rng_below(&r, 10)]++;
    for (int v = 0; v < 10; ++v) assert_true(count[v] > 9400 && count[v] < 10600);
}

/* Normal, sd 2: mean 0 (se 0.0063), variance 4 (se 0.018), and 68.3% of the
 * draws within one sd (se 0.0015). */
static void test_normal_moments(void **state)
{
    legr_rng r;
    legr_rng_seed(&r, 5);
    double s = 0, s2 = 0;
    int within = 0;
    for (int i = 0; i < DRAWS; ++i) {
        double x = legr_rng_normal(&r, 2);
        assert_true(isfinite(x));
        s += x;
        s2 += x * x;
        within += fabs(x) < 2;
    }
    double mean = s / DRAWS, var = s2 / DRAWS - mean * mean;
    assert_true(fabs(mean) < 0.05);
    assert_true(fabs(var - 4) < 0.12);
    assert_true(fabs((double)within / DRAWS - 0.6827) < 0.01);
}

int main(void)
{
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_stream),
        cmocka_unit_test(test_same_seed_same_draws),
        cmocka_unit_test(test_seeds_differ),
        cmocka_unit_test(test_inverse_reaches_extremes),
        cmocka_unit_test(test_ranges_at_the_extremes),
        cmocka_unit_test(test_uniform_draws),
        cmocka_unit_test(test_below_is_uniform),
        cmocka_unit_test(test_normal_moments),
    };
    return cmocka_run_group_tests_name("rng", tests, NULL, NULL);
}
