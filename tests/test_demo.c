/* test_demo.c: a shortened `make demo` (scripts/demo.sh with a tiny search
 * budget) on the embedded default, as a new user would run it: it must
 * finish, print the Pareto table with the three budgets, and leave pruned
 * pairs that stock Darknet ran (the script fails otherwise). */
#include "testutil.h"

#include <string.h>

static void test_short_demo(void **state)
{
    char *out = NULL, *err = NULL;
    int rc = tu_run("EVALS=3 TAU=2 VAL=20 FT_ITERS=4 ./scripts/demo.sh", &out, &err);
    if (rc != 0) fprintf(stderr, "%s\n%s\n", out ? out : "", err ? err : "");
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "Floating Point Operations:"));
    assert_non_null(strstr(out, "[   3/3] fitness"));
    assert_non_null(strstr(out, "mAP@0.5"));
    assert_non_null(strstr(out, "+recover"));
    assert_non_null(strstr(out, "reconstruction: "));
    assert_non_null(strstr(out, "legr finetune: done"));
    const char *budgets[] = { "\n0.7 ", "\n0.5 ", "\n0.3 " };
    for (int i = 0; i < 3; ++i) assert_non_null(strstr(out, budgets[i]));
    assert_non_null(strstr(out, "fashion-det-30: loaded and ran in stock darknet"));
    const char *files[] = { "out/demo/fashion-det.ranking", "out/demo/fashion-det.csv",
                            "out/demo/fashion-det-50.cfg", "out/demo/fashion-det-50.weights" };
    for (int i = 0; i < 4; ++i) assert_true(tu_exists(files[i]));
    free(out);
    free(err);
}

int main(void)
{
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_short_demo),
    };
    return cmocka_run_group_tests_name("demo", tests, NULL, NULL);
}
