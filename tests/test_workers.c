/* test_workers.c: the real `legr search` on the embedded default detector,
 * evaluated in parallel: the same seed and -workers 2 give the same ranking
 * twice, `mpirun -np 3 ... -mpi` (rank 0 drives, two evaluator ranks, over
 * loopback) gives exactly the ranking and fitness log of -workers 2, a search
 * resumed from its checkpoint ends as an uninterrupted one, and the
 * -mpi misuses fail with one clear line, with -same-data a candidate's
 * fitness does not depend on its number, and with several -target budgets
 * it is the mean of its fitness at each; at -tau 0 (BN only, and with
 * reconstruction) the fitness log and ranking do not depend on -workers;
 * -reselect reaches every candidate and the ranking's header.
 * A tiny search (4 candidates, tau 2,
 * 20 validation images) keeps each run to seconds. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

static char *g_dir;

static const char *SEARCH =
    "%s legr search cfg/fashion-det.cfg models/fashion-det.weights "
    "-data data/fashion-det/fashion-det.data -pool 2 -sample 2 -tau 2 "
    "-val 20 -bn-images 0 -seed 7 -target 0.3 -out %s/%s.ranking %s";

/* Open MPI refuses root unless told, and wants --oversubscribe for more ranks
 * than cores; shared memory and self only, no network. */
static const char *MPIRUN =
    "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
    "mpirun -np 3 --oversubscribe --mca btl self,vader "
    "--mca btl_vader_single_copy_mechanism none";

static int setup(void **state)
{
    char *out = NULL, *err = NULL;
    int rc = tu_run("./scripts/make-data.sh", &out, &err);
    if (rc != 0) fprintf(stderr, "make-data.sh failed:\n%s\n%s\n", out, err);
    free(out);
    free(err);
    g_dir = tu_mkdtemp("workers");
    return rc == 0 && g_dir ? 0 : -1;
}

static int teardown(void **state)
{
    tu_rmtree(g_dir);
    free(g_dir);
    return 0;
}

/* The search's CSV log cut in place to candidate,fitness,best of every row
 * (the other columns are times). */
static char *fitness_columns(char *text)
{
    char *o = text;
    for (char *p = text; *p; ) {
        int commas = 0;
        while (*p && *p != '\n') {
            if (*p == ',') ++commas;
            if (commas < 3) *o++ = *p;
            ++p;
        }
        if (*p) *o++ = *p++;
    }
    *o = 0;
    return text;
}

/* Runs one search (prefix: a launcher such as mpirun, or ""); returns the
 * ranking file's text and the CSV log without its elapsed-time column. */
static void search(const char *prefix, const char *name, const char *extra,
                   char **ranking, char **log)
{
    char *all = tu_fmt("%s -evals 4", extra);
    char *cmd = tu_fmt(SEARCH, prefix, g_dir, name, all);
    char *out = NULL, *err = NULL;
    int rc = tu_run(cmd, &out, &err);
    if (rc != 0) fail_msg("%s: exit %d\n%s\n%s", cmd, rc, out, err);
    assert_non_null(strstr(out, "[   4/4] fitness"));
    free(all);
    char *path = tu_fmt("%s/%s.ranking", g_dir, name);
    *ranking = tu_read_file(path, NULL);
    assert_non_null(*ranking);
    char *csv = tu_fmt("%s.csv", path);
    char *text = tu_read_file(csv, NULL);
    assert_non_null(text);
    *log = fitness_columns(text);
    free(csv);
    free(path);
    free(cmd);
    free(out);
    free(err);
}

static void test_workers_reproducible(void **state)
{
    char *r1, *l1, *r2, *l2;
    search("./darknet", "w2a", "-workers 2", &r1, &l1);
    search("./darknet", "w2b", "-workers 2", &r2, &l2);
    assert_string_equal(l1, l2);
    assert_string_equal(r1, r2);
    /* the fitness log is not degenerate: 4 candidates, one of which scored */
    assert_int_equal(tu_count_lines_with_prefix(l1, "4,", NULL), 1);
    free(r1); free(l1); free(r2); free(l2);
}

static void test_mpi_equals_workers(void **state)
{
    char *out = NULL;
    int have = tu_run("command -v mpirun && ldd ./darknet | grep -q libmpi", &out, NULL) == 0;
    free(out);
    if (!have) {
        printf("SKIP: mpirun or an MPI build of ./darknet is missing (make installs "
               "openmpi-bin and libopenmpi-dev and builds with MPI when it can)\n");
        skip();
    }
    char *rw, *lw, *rm, *lm;
    search("./darknet", "w2", "-workers 2", &rw, &lw);
    char *launcher = tu_fmt("%s ./darknet", MPIRUN);
    search(launcher, "mpi3", "-mpi", &rm, &lm);
    assert_string_equal(lw, lm);
    assert_string_equal(rw, rm);
    free(launcher);
    free(rw); free(lw); free(rm); free(lm);
}

/* A search stopped after 2 candidates and resumed to 4 equals one run of 4
 * (the resumed candidates are numbered, and so seeded, as in the full run). */
static void test_resume_real_search(void **state)
{
    char *r1, *l1, *r2, *l2;
    search("./darknet", "full", "-workers 2", &r1, &l1);
    char *cmd = tu_fmt(SEARCH, "./darknet", g_dir, "part", "-workers 2 -evals 2");
    char *out = NULL, *err = NULL;
    int rc = tu_run(cmd, &out, &err);
    if (rc != 0) fail_msg("%s: exit %d\n%s\n%s", cmd, rc, out, err);
    assert_null(strstr(out, "[   3/"));
    search("./darknet", "part", "-workers 2 -resume", &r2, &l2);
    assert_string_equal(l1, l2);
    assert_string_equal(r1, r2);
    free(cmd); free(out); free(err);
    free(r1); free(l1); free(r2); free(l2);
}

/* -mpi alone (one rank) and -mpi with -workers fail with one legr: line. */
static void test_mpi_misuse(void **state)
{
    const char *cases[][2] = {
        { "-mpi", "at least 2 ranks" },
        { "-mpi -workers 2", "exclude each other" },
    };
    for (int i = 0; i < 2; ++i) {
        char *args = tu_fmt("%s -evals 4", cases[i][0]);
        char *cmd = tu_fmt(SEARCH, "./darknet", g_dir, "bad", args);
        free(args);
        char *out = NULL, *err = NULL, *line = NULL;
        int rc = tu_run(cmd, &out, &err);
        int n = tu_count_lines_with_prefix(err, "legr:", &line);
        printf("  %-18s exit %d: %s\n", cases[i][0], rc, line ? line : "(no legr: line)");
        assert_true(rc > 0 && rc < 128);
        assert_int_equal(n, 1);
        /* built without MPI, -mpi says how to get it instead */
        if (!strstr(line, "built without MPI")) assert_non_null(strstr(line, cases[i][1]));
        char *ranking = tu_fmt("%s/bad.ranking", g_dir);
        assert_false(tu_exists(ranking));
        free(ranking);
        free(cmd); free(out); free(err); free(line);
    }
}

/* The fitness that candidate `row` got in a `-workers 1` search of `evals`
 * candidates with -pool evals (so the last is the plain-L2 candidate). */
static char *l2_fitness(const char *name, int evals, const char *extra)
{
    const char *fmt =
        "./darknet legr search cfg/fashion-det.cfg models/fashion-det.weights "
        "-data data/fashion-det/fashion-det.data -pool %d -sample 2 -tau 2 -val 20 "
        "-bn-images 0 -seed 7 -evals %d -workers 1 %s -out %s/%s.ranking";
    char *all = tu_fmt("%s%s", extra, strstr(extra, "-target") ? "" : " -target 0.3");
    char *cmd = tu_fmt(fmt, evals, evals, all, g_dir, name);
    free(all);
    char *out = NULL, *err = NULL;
    int rc = tu_run(cmd, &out, &err);
    if (rc != 0) fail_msg("%s: exit %d\n%s\n%s", cmd, rc, out, err);
    char *csv = tu_fmt("%s/%s.ranking.csv", g_dir, name);
    char *text = tu_read_file(csv, NULL);
    assert_non_null(text);
    char *prefix = tu_fmt("%d,", evals), *line = NULL;
    assert_int_equal(tu_count_lines_with_prefix(text, prefix, &line), 1);
    char *fit = strdup(line + strlen(prefix));
    char *comma = strchr(fit, ',');
    assert_non_null(comma);
    *comma = 0;
    free(prefix); free(line); free(text); free(csv); free(cmd); free(out); free(err);
    return fit;
}

/* -same-data: the plain-L2 candidate scores the same as candidate 2 of a
 * pool of 2 and as candidate 3 of a pool of 3 (without it, its number seeds
 * its fine-tuning data, so the two usually differ). */
static void test_same_data_fitness(void **state)
{
    char *a = l2_fitness("sd2", 2, "-same-data"), *b = l2_fitness("sd3", 3, "-same-data");
    char *c = l2_fitness("nd2", 2, ""), *d = l2_fitness("nd3", 3, "");
    printf("  L2 candidate's fitness: -same-data %s and %s; without %s and %s\n", a, b, c, d);
    assert_string_equal(a, b);
    assert_true(atof(a) > 0);
    assert_string_not_equal(c, d);      /* the control: numbers seed the data */
    free(a); free(b); free(c); free(d);
}

/* -target 0.7,0.3: the L2 candidate's fitness is the mean of its fitness in
 * a -target 0.7 search and in a -target 0.3 search (-same-data makes each
 * budget fine-tune on the same images in all three). */
static void test_multi_target_fitness(void **state)
{
    char *both = l2_fitness("mt-both", 2, "-same-data -target 0.7,0.3");
    char *hi = l2_fitness("mt-hi", 2, "-same-data -target 0.7");
    char *lo = l2_fitness("mt-lo", 2, "-same-data -target 0.3");
    printf("  L2 candidate's fitness: at 0.7 %s, at 0.3 %s, at 0.7,0.3 %s\n", hi, lo, both);
    assert_true(atof(hi) > atof(lo));           /* the budgets really differ */
    assert_float_equal(atof(both), (atof(hi) + atof(lo)) / 2, 2e-6);
    char *path = tu_fmt("%s/mt-both.ranking", g_dir);
    char *text = tu_read_file(path, NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "# target: 0.7,0.3 (fitness: the mean over these budgets)"));
    free(path); free(text); free(both); free(hi); free(lo);
}

/* -tau 0 (no fine-tuning; BN re-estimated on 32 train= images, and with
 * -recover reconstructed on 8): the fitness log and the ranking are the
 * same twice at -workers 2 and the same at -workers 1, each candidate at one
 * thread.  (-workers 1 evaluates at OMP_NUM_THREADS threads, and oneDNN
 * splits a GEMM's sums by the thread count: at 2 threads the -recover
 * fitness of a poor candidate differed in the third decimal.) */
static void test_tau0_independent_of_workers(void **state)
{
    const char *modes[] = { "", "-recover 8" };
    for (int m = 0; m < 2; ++m) {
        char *r[3], *l[3];
        const char *workers[3] = { "-workers 1", "-workers 2", "-workers 2" };
        for (int k = 0; k < 3; ++k) {
            char *name = tu_fmt("t0-%d-%d", m, k);
            char *cmd = tu_fmt("OMP_NUM_THREADS=1 ./darknet legr search cfg/fashion-det.cfg models/fashion-det.weights "
                               "-data data/fashion-det/fashion-det.data -pool 3 -sample 2 -tau 0 -val 20 "
                               "-bn-images 32 %s -seed 7 -evals 5 -target 0.5 %s -out %s/%s.ranking",
                               modes[m], workers[k], g_dir, name);
            char *out = NULL, *err = NULL;
            int rc = tu_run(cmd, &out, &err);
            if (rc != 0) fail_msg("%s: exit %d\n%s\n%s", cmd, rc, out, err);
            char *path = tu_fmt("%s/%s.ranking", g_dir, name), *csv = tu_fmt("%s.csv", path);
            r[k] = tu_read_file(path, NULL);
            char *text = tu_read_file(csv, NULL);
            assert_non_null(r[k]);
            assert_non_null(text);
            l[k] = fitness_columns(text);
            free(name); free(cmd); free(out); free(err); free(path); free(csv);
        }
        printf("  -tau 0 %s: fitness log at -workers 1:\n%s", modes[m], l[0]);
        assert_string_equal(l[1], l[2]);
        assert_string_equal(l[0], l[1]);
        /* the header's "# evolution: ... workers N" line says how it ran */
        for (int k = 0; k < 3; ++k) {
            char *e = strstr(r[k], "# evolution:"), *end = e ? strchr(e, '\n') : NULL;
            assert_non_null(end);
            memmove(e, end + 1, strlen(end + 1) + 1);
        }
        assert_string_equal(r[0], r[1]);
        assert_string_equal(r[1], r[2]);
        for (int k = 0; k < 3; ++k) { free(r[k]); free(l[k]); }
    }
}

/* A testing cfg (batch=1) gets a warning and fine-tunes at batch 16; the
 * cost is projected before the first candidate; -recover and -round go
 * into the candidates and the ranking's header. */
static void test_search_options(void **state)
{
    char *cfg = tu_fmt("%s/det-b1.cfg", g_dir);
    assert_int_equal(tu_cfg_copy("cfg/fashion-det.cfg", cfg, 0, 0), 0);
    char *cmd = tu_fmt("./darknet legr search %s models/fashion-det.weights "
                       "-data data/fashion-det/fashion-det.data -pool 2 -sample 2 -tau 2 -val 20 "
                       "-bn-images 8 -recover 8 -round 8 -seed 7 -evals 2 -workers 1 -target 0.5 "
                       "-out %s/opt.ranking", cfg, g_dir);
    char *out = NULL, *err = NULL;
    int rc = tu_run(cmd, &out, &err);
    if (rc != 0) fail_msg("%s: exit %d\n%s\n%s", cmd, rc, out, err);
    printf("%s", err);
    assert_int_equal(tu_count_lines_with_prefix(err, "legr: warning:", NULL), 1);
    assert_non_null(strstr(err, "batch=1 (a testing cfg): candidates fine-tune at batch 16"));
    char *line = NULL;
    assert_int_equal(tu_count_lines_with_prefix(out, "cost projection: about ", &line), 1);
    printf("  %s\n", line);
    assert_non_null(strstr(out, "[   2/2] fitness"));
    char *path = tu_fmt("%s/opt.ranking", g_dir);
    char *text = tu_read_file(path, NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "batch: 16"));
    assert_non_null(strstr(text, "recover: 8 images"));
    free(path); free(text); free(line); free(cmd); free(out); free(err); free(cfg);
}

/* -reselect goes into every candidate (its fitness log differs from the
 * same search without it) and into the ranking's header; without -recover
 * it is refused. */
static void test_search_reselect(void **state)
{
    char *log[2];
    for (int m = 0; m < 2; ++m) {
        char *cmd = tu_fmt("OMP_NUM_THREADS=1 ./darknet legr search cfg/fashion-det.cfg models/fashion-det.weights "
                           "-data data/fashion-det/fashion-det.data -pool 3 -sample 2 -tau 0 -val 20 -bn-images 0 "
                           "-recover 8 %s -seed 7 -evals 3 -workers 1 -target 0.3 -out %s/sel-%d.ranking",
                           m ? "-reselect" : "", g_dir, m);
        char *out = NULL, *err = NULL;
        int rc = tu_run(cmd, &out, &err);
        if (rc != 0) fail_msg("%s: exit %d\n%s\n%s", cmd, rc, out, err);
        char *path = tu_fmt("%s/sel-%d.ranking", g_dir, m), *csv = tu_fmt("%s.csv", path);
        char *text = tu_read_file(path, NULL), *ctext = tu_read_file(csv, NULL);
        assert_non_null(text);
        assert_non_null(ctext);
        assert_int_equal(strstr(text, "recover: 8 images (filters re-chosen: -reselect)") != NULL, m);
        log[m] = fitness_columns(ctext);
        printf("  -recover 8 %s: fitness log:\n%s", m ? "-reselect" : "", log[m]);
        free(cmd); free(out); free(err); free(path); free(csv); free(text);    /* ctext is log[m] */
    }
    assert_string_not_equal(log[0], log[1]);
    free(log[0]); free(log[1]);
    /* resuming the search made without -reselect, with it: refused, files as they were */
    char *path = tu_fmt("%s/sel-0.ranking", g_dir), *ckpt = tu_fmt("%s.ckpt", path);
    char *before = tu_read_file(path, NULL), *ck_before = tu_read_file(ckpt, NULL);
    assert_non_null(before);
    assert_non_null(ck_before);
    char *cmd = tu_fmt("OMP_NUM_THREADS=1 ./darknet legr search cfg/fashion-det.cfg models/fashion-det.weights "
                       "-data data/fashion-det/fashion-det.data -pool 3 -sample 2 -tau 0 -val 20 -bn-images 0 "
                       "-recover 8 -reselect -seed 7 -evals 3 -workers 1 -target 0.3 -out %s -resume", path);
    char *out = NULL, *err = NULL;
    assert_int_not_equal(tu_run(cmd, &out, &err), 0);
    assert_int_equal(tu_count_lines_with_prefix(err, "legr: ", NULL), 1);
    assert_non_null(strstr(err, "made with no reselect, now reselect"));
    char *after = tu_read_file(path, NULL), *ck_after = tu_read_file(ckpt, NULL);
    assert_string_equal(before, after);
    assert_string_equal(ck_before, ck_after);
    free(cmd); free(out); free(err); free(before); free(after); free(ck_before); free(ck_after);
    free(path); free(ckpt);
    /* -reselect without -recover: refused before anything is written */
    char *x = tu_fmt("%s/x.ranking", g_dir);
    cmd = tu_fmt("./darknet legr search cfg/fashion-det.cfg models/fashion-det.weights "
                 "-data data/fashion-det/fashion-det.data -reselect -out %s", x);
    out = err = NULL;
    assert_int_not_equal(tu_run(cmd, &out, &err), 0);
    assert_int_equal(tu_count_lines_with_prefix(err, "legr: ", NULL), 1);
    assert_non_null(strstr(err, "-reselect needs -recover"));
    assert_false(tu_exists(x));
    free(cmd); free(out); free(err); free(x);
}

int main(void)
{
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_workers_reproducible),
        cmocka_unit_test(test_resume_real_search),
        cmocka_unit_test(test_mpi_equals_workers),
        cmocka_unit_test(test_mpi_misuse),
        cmocka_unit_test(test_same_data_fitness),
        cmocka_unit_test(test_multi_target_fitness),
        cmocka_unit_test(test_tau0_independent_of_workers),
        cmocka_unit_test(test_search_options),
        cmocka_unit_test(test_search_reselect),
    };
    return cmocka_run_group_tests_name("workers", tests, setup, teardown);
}
