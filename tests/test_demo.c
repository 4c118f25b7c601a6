/* test_demo.c: a shortened `make demo` (scripts/demo.sh with a tiny search
 * budget) on the embedded default, as a new user would run it: it must
 * finish, print the Pareto table with the three budgets, and leave pruned
 * pairs that stock Darknet ran (the script fails otherwise).  It writes to a
 * temporary directory (OUT=), never to the repository's out/demo/. */
#include "testutil.h"

#include <string.h>

static void test_short_demo(void **state)
{
    char *out = NULL, *err = NULL;
    char *dir = tu_mkdtemp("demo"), *q = tu_quote(dir);
    char *cmd = tu_fmt("OUT=%s EVALS=3 TAU=2 VAL=20 FT_ITERS=4 ./scripts/demo.sh", q);
    int rc = tu_run(cmd, &out, &err);
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
    const char *files[] = { "fashion-det.ranking", "fashion-det.csv",
                            "fashion-det-50.cfg", "fashion-det-50.weights" };
    for (int i = 0; i < 4; ++i) {
        char *f = tu_path(dir, files[i]);
        assert_true(tu_exists(f));
        free(f);
    }
    tu_rmtree(dir);
    free(dir); free(q); free(cmd);
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
