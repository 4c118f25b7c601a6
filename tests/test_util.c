/* test_util.c: the small helpers of legr/util.c that every command leans on:
 * the one duration format of progress lines and ETAs (search, finetune, the
 * image check), strict number parsing (what the CLI accepts as a number) and
 * the bitwise NaN/inf checks that survive -Ofast. */
#include "testutil.h"
#include "util.h"

#include <math.h>
#include <string.h>

static const char *dur(double s)
{
    static char buf[32];
    return legr_fmt_duration(s, buf, sizeof buf);
}

static void test_duration_format(void **state)
{
    (void)state;
    assert_string_equal(dur(0), "0s");
    assert_string_equal(dur(0.4), "0s");
    assert_string_equal(dur(42.6), "43s");
    assert_string_equal(dur(89.4), "89s");
    assert_string_equal(dur(90), "1m30s");
    assert_string_equal(dur(725), "12m05s");
    assert_string_equal(dur(5399), "89m59s");
    assert_string_equal(dur(5400), "1h30m");
    assert_string_equal(dur(3 * 3600 + 4 * 60 + 59), "3h04m");
    assert_string_equal(dur(100 * 3600), "100h00m");
}

static void test_duration_of_nonsense_is_zero(void **state)
{
    (void)state;
    assert_string_equal(dur(-5), "0s");
    assert_string_equal(dur(NAN), "0s");
    assert_string_equal(dur(INFINITY), "0s");
    assert_string_equal(dur(1e300), "0s");
}

static void test_duration_truncates_to_the_buffer(void **state)
{
    (void)state;
    char small[4];
    legr_fmt_duration(725, small, sizeof small);
    assert_string_equal(small, "12m");
}

static void test_parse_int_is_strict(void **state)
{
    (void)state;
    int v = 7;
    assert_int_equal(legr_parse_int("42", &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(legr_parse_int("-2147483648", &v), 0);
    assert_int_equal(v, -2147483647 - 1);
    const char *bad[] = { "", "3x", "1.5", " ", "2147483648", "99999999999999999999", "0x", NULL };
    for (int i = 0; bad[i]; ++i) {
        v = 7;
        assert_int_equal(legr_parse_int(bad[i], &v), -1);
        assert_int_equal(v, 7);     /* untouched on failure */
    }
}

static void test_parse_double_refuses_non_finite(void **state)
{
    (void)state;
    double v = 7;
    assert_int_equal(legr_parse_double("0.7", &v), 0);
    assert_true(fabs(v - 0.7) < 1e-15);
    assert_int_equal(legr_parse_double("1e-3", &v), 0);
    assert_true(fabs(v - 1e-3) < 1e-18);
    const char *bad[] = { "", "nan", "NaN", "inf", "-inf", "1e999", "3x", "0.7,", NULL };
    for (int i = 0; bad[i]; ++i) {
        v = 7;
        assert_int_equal(legr_parse_double(bad[i], &v), -1);
        assert_true(v == 7);
    }
}

static void test_finite_by_the_bits(void **state)
{
    (void)state;
    volatile double zero = 0;
    assert_true(legr_finite(1.0));
    assert_true(legr_finite(-1e308));
    assert_false(legr_finite(1 / zero));
    assert_false(legr_finite(zero / zero));
    assert_true(legr_isnan(zero / zero));
    assert_false(legr_isnan(1 / zero));
    assert_false(legr_isnan(0.0));
}

int main(void)
{
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration_format),
        cmocka_unit_test(test_duration_of_nonsense_is_zero),
        cmocka_unit_test(test_duration_truncates_to_the_buffer),
        cmocka_unit_test(test_parse_int_is_strict),
        cmocka_unit_test(test_parse_double_refuses_non_finite),
        cmocka_unit_test(test_finite_by_the_bits),
    };
    return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
