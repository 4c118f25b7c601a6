/* test_cli.c: the `./darknet legr` command line, run as a user would.
 *
 * Bad input must end with a non-zero exit status, exactly one stderr line
 * starting with "legr:" (naming the file at fault where there is one;
 * Darknet's own layer table may be on stderr too) and no file left behind in
 * the output directory, not even a temporary one: missing cfg, missing
 * weights, weights 4 bytes short (the message gives the expected and the
 * actual byte counts) or 4 bytes long, budgets 0, 1.5 and "abc", a line
 * without '=', an unknown section, a layer type legr does not handle, a
 * missing ranking file, and -out naming the input's own prefix (refused, the
 * input untouched), a budget the floors make unreachable, and search
 * -target lists with a budget out of (0, 1), not a number, or more than 8.  Weights with
 * the old 16-byte 0.1 header prune to the same output as their 0.2 twin.
 * Also: `legr` and `legr -h` list the subcommands,
 * `legr prune` without arguments prints its usage and fails, and a good run
 * writes exactly PREFIX-<pct>.cfg/.weights for each ratio. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdint.h>
#include <sys/stat.h>

#include "testutil.h"

static char *g_dir, *g_in, *g_out;
static char *g_cfg, *g_weights;   /* a good small model in g_in */

static const char *SMALL_CFG =
    "[net]\n"
    "batch=1\n"
    "subdivisions=1\n"
    "width=32\n"
    "height=32\n"
    "channels=3\n"
    "\n"
    "[convolutional]\n"
    "batch_normalize=1\n"
    "filters=16\n"
    "size=3\n"
    "stride=1\n"
    "pad=1\n"
    "activation=leaky\n"
    "\n"
    "[maxpool]\n"
    "size=2\n"
    "stride=2\n"
    "\n"
    "[convolutional]\n"
    "batch_normalize=1\n"
    "filters=32\n"
    "size=3\n"
    "stride=1\n"
    "pad=1\n"
    "activation=leaky\n"
    "\n"
    "[convolutional]\n"
    "filters=10\n"
    "size=1\n"
    "stride=1\n"
    "pad=1\n"
    "activation=linear\n"
    "\n"
    "[avgpool]\n"
    "\n"
    "[softmax]\n";

static int setup(void **state)
{
    g_dir = tu_mkdtemp("cli");
    g_in = tu_path(g_dir, "in");
    g_out = tu_path(g_dir, "out");
    if (mkdir(g_in, 0755) || mkdir(g_out, 0755)) return -1;
    g_cfg = tu_path(g_in, "net.cfg");
    g_weights = tu_path(g_in, "net.weights");
    if (tu_write_text(g_cfg, SMALL_CFG)) return -1;
    if (tu_random_weights(g_cfg, g_weights, 7)) return -1;
    if (!tu_exists(TU_OUR_DARKNET)) {
        fprintf(stderr, "%s not found: run the tests from the repository root after make\n",
                TU_OUR_DARKNET);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    tu_rmtree(g_dir);
    free(g_dir);
    free(g_in);
    free(g_out);
    free(g_cfg);
    free(g_weights);
    return 0;
}

/* Runs `./darknet <args>`; out and err receive its output. */
static int darknet(const char *args, char **out, char **err)
{
    char *cmd = tu_fmt("%s %s", TU_OUR_DARKNET, args);
    int rc = tu_run(cmd, out, err);
    free(cmd);
    return rc;
}

static void assert_out_empty(void)
{
    char *names = NULL;
    int n = tu_dir_entries(g_out, &names);
    if (n != 0) fail_msg("output directory not empty after a failed run:\n%s", names);
    free(names);
}

/* The run must fail with one "legr:" line on stderr containing each of the
 * NULL-terminated strings in `want`, and leave nothing in g_out. */
static void expect_failure(const char *what, const char *args, const char *const *want)
{
    char *out = NULL, *err = NULL, *line = NULL;
    int rc = darknet(args, &out, &err);
    int n = tu_count_lines_with_prefix(err, "legr:", &line);
    printf("  %-22s exit %d: %s\n", what, rc, line ? line : "(no legr: line)");
    if (rc == 0) fail_msg("%s: exit status 0\nstdout:\n%s\nstderr:\n%s", what, out, err);
    if (rc >= 128) fail_msg("%s: killed by signal %d\nstderr:\n%s", what, rc - 128, err);
    if (n != 1)
        fail_msg("%s: %d stderr lines start with \"legr:\", expected 1\nstderr:\n%s", what, n,
                 err);
    int lines = 0;
    for (const char *c = err; c && *c; ++c) lines += *c == '\n';
    if (lines != 1) fail_msg("%s: stderr has %d lines, expected the one legr: line\n%s", what, lines, err);
    for (; want && *want; ++want)
        if (!strstr(line, *want)) fail_msg("%s: \"%s\" does not mention \"%s\"", what, line, *want);
    assert_out_empty();
    free(line);
    free(out);
    free(err);
}

static char *prune_args(const char *cfg, const char *weights, const char *rest)
{
    char *qc = tu_quote(cfg), *qw = tu_quote(weights);
    char *prefix = tu_path(g_out, "p"), *qp = tu_quote(prefix);
    char *a = tu_fmt("legr prune %s %s %s -out %s", qc, qw, rest, qp);
    free(qc);
    free(qw);
    free(prefix);
    free(qp);
    return a;
}

/* ------------------------------------------------------------ good runs */

static void test_good_run(void **state)
{
    char *args = prune_args(g_cfg, g_weights, "0.7 0.5 -min 0.1");
    char *out = NULL, *err = NULL, *names = NULL;
    const char *files[] = {"p-70.cfg", "p-70.weights", "p-50.cfg", "p-50.weights"};
    int rc = darknet(args, &out, &err), i;
    long full, f70, f50;
    char *q, *cmd;

    if (rc != 0) fail_msg("`darknet %s` exited %d\n%s", args, rc, err);
    assert_int_equal(tu_count_lines_with_prefix(err, "legr:", NULL), 0);
    assert_int_equal(tu_dir_entries(g_out, &names), 4);
    for (i = 0; i < 4; ++i) {
        char *p = tu_path(g_out, files[i]);
        if (!tu_exists(p)) fail_msg("%s missing; the directory has:\n%s", files[i], names);
        assert_true(tu_file_size(p) > 0);
        free(p);
    }
    free(names);

    q = tu_quote(g_cfg);
    cmd = tu_fmt("%s legr flops %s", TU_OUR_DARKNET, q);
    full = tu_cmd_flops(cmd);
    free(cmd);
    free(q);
    q = tu_path(g_out, "p-70.cfg");
    cmd = tu_fmt("%s ops %s", TU_STOCK_DARKNET, q);
    f70 = tu_cmd_flops(cmd);
    free(cmd);
    free(q);
    q = tu_path(g_out, "p-50.cfg");
    cmd = tu_fmt("%s ops %s", TU_STOCK_DARKNET, q);
    f50 = tu_cmd_flops(cmd);
    free(cmd);
    free(q);
    printf("  full %ld, -70 %ld, -50 %ld FLOPs\n", full, f70, f50);
    assert_true(full > 0 && f70 > 0 && f50 > 0);
    assert_true((double)f70 < 0.7 * full);
    assert_true((double)f50 < 0.5 * full);

    /* the same run again, -v and one ratio: overwrites its own outputs */
    free(args);
    args = prune_args(g_cfg, g_weights, "0.7 -v");
    rc = darknet(args, &out, &err);
    if (rc != 0) fail_msg("`darknet %s` exited %d\n%s", args, rc, err);
    assert_int_equal(tu_dir_entries(g_out, NULL), 4);

    tu_rmtree(g_out);
    assert_int_equal(mkdir(g_out, 0755), 0);
    free(args);
    free(out);
    free(err);
}

static void test_help(void **state)
{
    const char *variants[] = {"legr", "legr -h"};
    int i;
    for (i = 0; i < 2; ++i) {
        char *out = NULL, *err = NULL, *all;
        int rc = darknet(variants[i], &out, &err);
        all = tu_fmt("%s%s", out, err);
        printf("  `darknet %s` exit %d\n", variants[i], rc);
        if (!strstr(all, "flops") || !strstr(all, "prune"))
            fail_msg("`darknet %s` does not list the subcommands:\n%s", variants[i], all);
        assert_true(rc < 128);
        free(all);
        free(out);
        free(err);
    }
    {
        char *out = NULL, *err = NULL, *all;
        int rc = darknet("legr prune", &out, &err);
        all = tu_fmt("%s%s", out, err);
        printf("  `darknet legr prune` exit %d\n", rc);
        assert_true(rc != 0 && rc < 128);
        if (!strcasestr(all, "usage") || !strstr(all, "prune"))
            fail_msg("`darknet legr prune` prints no usage:\n%s", all);
        free(all);
        free(out);
        free(err);
    }
    {
        char *out = NULL, *err = NULL;
        int rc = darknet("legr no-such-subcommand", &out, &err);
        assert_true(rc != 0 && rc < 128);
        free(out);
        free(err);
    }
}

/* ------------------------------------------------------------- failures */

static void test_missing_cfg(void **state)
{
    char *cfg = tu_path(g_in, "nope.cfg");
    char *args = prune_args(cfg, g_weights, "0.7");
    const char *want[] = {"nope.cfg", NULL};
    expect_failure("missing cfg", args, want);
    free(args);
    {
        char *q = tu_quote(cfg);
        args = tu_fmt("legr flops %s", q);
        expect_failure("flops: missing cfg", args, want);
        free(q);
    }
    free(args);
    free(cfg);
}

static void test_missing_weights(void **state)
{
    char *w = tu_path(g_in, "nope.weights");
    char *args = prune_args(g_cfg, w, "0.7");
    const char *want[] = {"nope.weights", NULL};
    expect_failure("missing weights", args, want);
    free(args);
    free(w);
}

static void test_truncated_weights(void **state)
{
    size_t len;
    char *data = tu_read_file(g_weights, &len);
    char *w = tu_path(g_in, "short.weights");
    char expected[32], actual[32];
    const char *want[] = {"short.weights", expected, actual, NULL};
    char *args;
    assert_non_null(data);
    assert_int_equal(tu_write_file(w, data, len - 4), 0);
    snprintf(expected, sizeof(expected), "%zu", len);
    snprintf(actual, sizeof(actual), "%zu", len - 4);
    args = prune_args(g_cfg, w, "0.7");
    expect_failure("weights 4 bytes short", args, want);
    free(args);
    free(w);
    free(data);
}

static void test_long_weights(void **state)
{
    size_t len;
    char *data = tu_read_file(g_weights, &len);
    char *w = tu_path(g_in, "long.weights");
    const char *want[] = {"long.weights", NULL};
    char *args;
    FILE *fp;
    assert_non_null(data);
    fp = fopen(w, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fwrite("\0\0\0\0", 1, 4, fp), 4);
    assert_int_equal(fclose(fp), 0);
    args = prune_args(g_cfg, w, "0.7");
    expect_failure("weights 4 bytes long", args, want);
    free(args);
    free(w);
    free(data);
}

static void test_bad_budgets(void **state)
{
    const char *budgets[] = {"0", "1.5", "abc", "-0.5"};
    size_t i;
    for (i = 0; i < sizeof(budgets) / sizeof(budgets[0]); ++i) {
        char *args = prune_args(g_cfg, g_weights, budgets[i]);
        char what[64];
        snprintf(what, sizeof(what), "budget %s", budgets[i]);
        expect_failure(what, args, NULL);
        free(args);
    }
    {
        /* a bad budget after a good one: nothing written for the good one */
        char *args = prune_args(g_cfg, g_weights, "0.7 1.5");
        expect_failure("budgets 0.7 1.5", args, NULL);
        free(args);
    }
}

/* legr search -target: each budget in (0, 1), at most 8 of them. */
static void test_bad_search_targets(void **state)
{
    const char *targets[] = {"1", "0", "abc", "0.7,1.5", "0.7,x",
                             "0.9,0.8,0.7,0.6,0.5,0.4,0.3,0.2,0.1"};
    const char *const want[] = {"-target", NULL};
    char *qc = tu_quote(g_cfg), *qw = tu_quote(g_weights), *prefix = tu_path(g_out, "s");
    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); ++i) {
        char *args = tu_fmt("legr search %s %s -target %s -out %s", qc, qw, targets[i], prefix);
        char what[64];
        snprintf(what, sizeof(what), "search -target %.12s", targets[i]);
        expect_failure(what, args, want);
        free(args);
    }
    free(qc); free(qw); free(prefix);
}

static void test_unreachable_budget(void **state)
{
    /* floors of 90% cannot get anywhere near 5% of the FLOPs */
    char *args = prune_args(g_cfg, g_weights, "0.05 -min 0.9");
    expect_failure("unreachable budget", args, NULL);
    free(args);
}

/* Weights with the old 0.1 header (32-bit seen, 16 bytes) are read; the
 * output has the 0.2.0 header and the same floats as from the 0.2 file. */
static void test_old_header(void **state)
{
    size_t len;
    char *data = tu_read_file(g_weights, &len);
    char *old = tu_path(g_in, "old.weights");
    char *args, *out = NULL, *err = NULL;
    char *a = tu_path(g_out, "p-70.weights"), *b = tu_path(g_dir, "new-70.weights");
    int32_t hdr[4] = {0, 1, 0, 0};
    FILE *fp;
    int rc;
    size_t la, lb;
    char *da, *db;

    assert_non_null(data);
    fp = fopen(old, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(hdr, sizeof(hdr), 1, fp), 1);
    assert_int_equal(fwrite(data + 20, 1, len - 20, fp), len - 20);
    assert_int_equal(fclose(fp), 0);

    /* the 0.2 file first, kept aside */
    args = prune_args(g_cfg, g_weights, "0.7");
    rc = darknet(args, &out, &err);
    if (rc != 0) fail_msg("`darknet %s` exited %d\n%s", args, rc, err);
    assert_int_equal(rename(a, b), 0);
    free(args); free(out); free(err);
    tu_rmtree(g_out);
    assert_int_equal(mkdir(g_out, 0755), 0);

    args = prune_args(g_cfg, old, "0.7");
    rc = darknet(args, &out, &err);
    printf("  0.1-header weights: exit %d\n", rc);
    if (rc != 0) fail_msg("`darknet %s` exited %d\n%s", args, rc, err);
    da = tu_read_file(a, &la);
    db = tu_read_file(b, &lb);
    assert_non_null(da);
    assert_non_null(db);
    assert_int_equal(la, lb);
    assert_memory_equal(da, db, la);
    tu_rmtree(g_out);
    assert_int_equal(mkdir(g_out, 0755), 0);
    free(da); free(db); free(a); free(b);
    free(args); free(out); free(err); free(old); free(data);
}

static void test_bad_cfgs(void **state)
{
    struct { const char *name, *text; } cases[] = {
        {"noeq.cfg", "[net]\nwidth=32\nheight=32\nchannels=3\n\n[convolutional]\nfilters 8\n"
                     "size=3\nactivation=leaky\n"},
        {"sam.cfg", "[net]\nwidth=32\nheight=32\nchannels=3\n\n[convolutional]\nfilters=8\n"
                    "size=3\nactivation=leaky\n\n[sam]\nfrom=-1\n"},
        {"before.cfg", "batch=1\n[net]\nwidth=32\nheight=32\nchannels=3\n"},
    };
    size_t i;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        char *cfg = tu_path(g_in, cases[i].name);
        char *args;
        const char *want[] = {cases[i].name, NULL};
        assert_int_equal(tu_write_text(cfg, cases[i].text), 0);
        args = prune_args(cfg, g_weights, "0.7");
        expect_failure(cases[i].name, args, want);
        free(args);
        free(cfg);
    }
}

/* [local] is a layer Darknet runs but whose weights legr does not lay out. */
static void test_unsupported_layer(void **state)
{
    char *cfg = tu_path(g_in, "local.cfg");
    char *w = tu_path(g_in, "local.weights");
    char *args;
    /* the message may name the cfg or the weights; it must name the layer */
    const char *want[] = {"[local]", NULL};
    network *net;
    assert_int_equal(tu_write_text(cfg,
        "[net]\nbatch=1\nsubdivisions=1\nwidth=16\nheight=16\nchannels=3\n\n"
        "[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=1\npad=1\n"
        "activation=leaky\n\n"
        "[local]\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n"
        "[connected]\noutput=10\nactivation=linear\n\n[softmax]\n"), 0);
    /* weights of the right size for stock Darknet: conv + local + connected */
    net = tu_parse(cfg);
    assert_non_null(net);
    tu_quiet_begin();
    save_weights(net, w);
    tu_quiet_end();
    free_network(net);
    args = prune_args(cfg, w, "0.7");
    expect_failure("[local] layer", args, want);
    free(args);
    free(cfg);
    free(w);
}

static void test_missing_ranking(void **state)
{
    char *r = tu_path(g_in, "nope.rank");
    char *qr = tu_quote(r);
    char *rest = tu_fmt("%s 0.7", qr);
    char *args = prune_args(g_cfg, g_weights, rest);
    const char *want[] = {"nope.rank", NULL};
    expect_failure("missing ranking file", args, want);
    free(args);
    free(rest);
    free(qr);
    free(r);
}

/* -out naming the input's prefix would write over the input: refused. */
/* A CRLF cfg (Darknet's own parser keeps the '\r' and aborts on it) is read
 * and pruned like its LF twin, the output is LF only, and errors stay one
 * line: nothing but "legr:" lines on stderr. */
static void test_crlf_cfg(void **state)
{
    char *text = tu_read_file(g_cfg, NULL), *crlf = tu_path(g_in, "crlf.cfg");
    size_t n = strlen(text);
    char *buf = malloc(2 * n + 1), *d = buf;
    for (size_t i = 0; i < n; ++i) {
        if (text[i] == '\n') *d++ = '\r';
        *d++ = text[i];
    }
    *d = 0;
    assert_int_equal(tu_write_text(crlf, buf), 0);
    char *q = tu_quote(crlf), *qw = tu_quote(g_weights), *pre = tu_path(g_out, "crlf");
    char *qp = tu_quote(pre);
    char *args = tu_fmt("legr prune %s %s 0.6 -out %s", q, qw, qp);
    char *out = NULL, *err = NULL;
    int rc = darknet(args, &out, &err);
    if (rc != 0) fail_msg("CRLF cfg: exit %d\n%s", rc, err);
    assert_true(err == NULL || *err == 0);          /* no layer table, no warnings */
    char *pruned = tu_fmt("%s-60.cfg", pre);
    char *ptext = tu_read_file(pruned, NULL);
    assert_non_null(ptext);
    assert_null(strchr(ptext, '\r'));
    free(ptext); free(pruned);
    char *pw = tu_fmt("%s-60.weights", pre);
    remove(pw);
    pruned = tu_fmt("%s-60.cfg", pre);
    remove(pruned);
    free(pw); free(pruned);
    free(args); free(out); free(err); free(q); free(qw); free(qp); free(pre);
    free(text); free(buf); free(crlf);
}

static void test_refuses_to_overwrite_input(void **state)
{
    char *cfg = tu_path(g_in, "net-70.cfg");
    char *w = tu_path(g_in, "net-70.weights");
    char *prefix = tu_path(g_in, "net");
    char *qc = tu_quote(cfg), *qw = tu_quote(w), *qp = tu_quote(prefix);
    char *args = tu_fmt("legr prune %s %s 0.7 -out %s", qc, qw, qp);
    char *before_names = NULL, *after_names = NULL;
    size_t lc0, lw0, lc1, lw1;
    char *c0, *w0, *c1, *w1;
    const char *want[] = {"net-70", NULL};
    char *out = NULL, *err = NULL, *line = NULL;
    int rc, n;

    assert_int_equal(tu_copy_file(g_cfg, cfg), 0);
    assert_int_equal(tu_copy_file(g_weights, w), 0);
    c0 = tu_read_file(cfg, &lc0);
    w0 = tu_read_file(w, &lw0);
    tu_dir_entries(g_in, &before_names);

    rc = darknet(args, &out, &err);
    n = tu_count_lines_with_prefix(err, "legr:", &line);
    printf("  %-22s exit %d: %s\n", "-out over the input", rc, line ? line : "(no legr: line)");
    if (rc == 0) fail_msg("-out over the input: exit status 0");
    assert_int_equal(n, 1);
    assert_non_null(strstr(line, want[0]));

    c1 = tu_read_file(cfg, &lc1);
    w1 = tu_read_file(w, &lw1);
    assert_non_null(c1);
    assert_non_null(w1);
    assert_int_equal(lc0, lc1);
    assert_int_equal(lw0, lw1);
    assert_memory_equal(c0, c1, lc0);
    assert_memory_equal(w0, w1, lw0);
    tu_dir_entries(g_in, &after_names);
    assert_string_equal(before_names, after_names);

    free(c0); free(w0); free(c1); free(w1);
    free(before_names); free(after_names);
    free(line); free(out); free(err);
    free(args); free(qc); free(qw); free(qp);
    free(cfg); free(w); free(prefix);
}

int main(void)
{
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_good_run),
        cmocka_unit_test(test_missing_cfg),
        cmocka_unit_test(test_missing_weights),
        cmocka_unit_test(test_truncated_weights),
        cmocka_unit_test(test_long_weights),
        cmocka_unit_test(test_bad_budgets),
        cmocka_unit_test(test_unreachable_budget),
        cmocka_unit_test(test_bad_search_targets),
        cmocka_unit_test(test_old_header),
        cmocka_unit_test(test_bad_cfgs),
        cmocka_unit_test(test_unsupported_layer),
        cmocka_unit_test(test_missing_ranking),
        cmocka_unit_test(test_refuses_to_overwrite_input),
        cmocka_unit_test(test_crlf_cfg),
    };
    return cmocka_run_group_tests_name("cli", tests, setup, teardown);
}
