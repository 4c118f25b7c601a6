/* test_cfgfile.c: legr_cfg_read / legr_cfg_write (legr/cfgfile.h).
 *
 * Checks that a CRLF cfg reads exactly like its LF twin; that writing keeps
 * every section and key in order, replaces filters=/groups= only where asked
 * and writes LF only, through a temporary name that is not left behind; and
 * that malformed files are refused with -1 and a message naming the file
 * (and the line): missing file, option before any section, line without '=',
 * unknown section type, first section not [net], empty file.  Real cfgs (the
 * Debian ones and the zoo's Yolo-Fastest, with its AlexeyAB-only keys) read
 * and round-trip unchanged, compared with an independent parser
 * (tu_cfg_parse). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "testutil.h"
#include "cfgfile.h"

static char *g_dir;

static int setup(void **state)
{
    g_dir = tu_mkdtemp("cfgfile");
    return 0;
}

static int teardown(void **state)
{
    tu_rmtree(g_dir);
    free(g_dir);
    return 0;
}

/* A small but realistic cfg; LF line ends.  Line numbers matter below. */
static const char *SMALL_CFG =
    "[net]\n"                       /* 1 */
    "# a comment\n"                 /* 2 */
    "batch=1\n"                     /* 3 */
    "width = 64\n"                  /* 4 */
    "height=64\n"                   /* 5 */
    "channels=3\n"                  /* 6 */
    "saturation = 1.5\n"            /* 7 */
    "\n"                            /* 8 */
    "[convolutional]\n"             /* 9 */
    "batch_normalize=1\n"           /* 10 */
    "filters=16\n"                  /* 11 */
    "size=3\n"                      /* 12 */
    "stride=1\n"                    /* 13 */
    "pad=1\n"                       /* 14 */
    "activation=leaky\n"            /* 15 */
    "\n"                            /* 16 */
    "; another comment\n"           /* 17 */
    "[maxpool]\n"                   /* 18 */
    "size=2\n"                      /* 19 */
    "stride=2\n"                    /* 20 */
    "\n"                            /* 21 */
    "[convolutional]\n"             /* 22 */
    "filters=16\n"                  /* 23 */
    "groups=16\n"                   /* 24 */
    "size=3\n"                      /* 25 */
    "pad=1\n"                       /* 26 */
    "activation=linear\n"           /* 27 */
    "\n"                            /* 28 */
    "[convolutional]\n"             /* 29 */
    "filters=10\n"                  /* 30 */
    "size=1\n"                      /* 31 */
    "activation=linear\n"           /* 32 */
    "\n"                            /* 33 */
    "[avgpool]\n"                   /* 34 */
    "\n"                            /* 35 */
    "[softmax]\n";                  /* 36 */

static char *to_crlf(const char *s)
{
    size_t n = strlen(s), i, j = 0;
    char *r = malloc(2 * n + 1);
    for (i = 0; i < n; ++i) {
        if (s[i] == '\n') r[j++] = '\r';
        r[j++] = s[i];
    }
    r[j] = 0;
    return r;
}

static char *write_tmp(const char *name, const char *text)
{
    char *p = tu_path(g_dir, name);
    assert_int_equal(tu_write_text(p, text), 0);
    return p;
}

/* Darknet strips every blank from a cfg line, so values that differ only in
 * blanks ("10,14,  23,27") mean the same; compare them that way. */
static int same_nows(const char *a, const char *b)
{
    for (;;) {
        while (*a == ' ' || *a == '\t') ++a;
        while (*b == ' ' || *b == '\t') ++b;
        if (*a != *b) return 0;
        if (!*a) return 1;
        ++a;
        ++b;
    }
}

#define assert_same_nows(a, b) do { \
        const char *a_ = (a), *b_ = (b); \
        if (!a_ || !b_ || !same_nows(a_, b_)) \
            fail_msg("\"%s\" != \"%s\"", a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
    } while (0)

/* Fails the test unless a and b hold the same sections, keys and values. */
static void assert_same_cfg(const legr_cfg *a, const legr_cfg *b, int check_lines)
{
    int i, j;
    assert_int_equal(a->n_sec, b->n_sec);
    for (i = 0; i < a->n_sec; ++i) {
        assert_string_equal(a->sec[i].type, b->sec[i].type);
        assert_int_equal(a->sec[i].n_kv, b->sec[i].n_kv);
        if (check_lines) assert_int_equal(a->sec[i].line, b->sec[i].line);
        for (j = 0; j < a->sec[i].n_kv; ++j) {
            assert_string_equal(a->sec[i].kv[j].key, b->sec[i].kv[j].key);
            assert_string_equal(a->sec[i].kv[j].value, b->sec[i].kv[j].value);
            if (check_lines) assert_int_equal(a->sec[i].kv[j].line, b->sec[i].kv[j].line);
        }
    }
}

/* Fails the test unless legr's reading of a file matches our own parser's. */
static void assert_matches_tu(const legr_cfg *a, const tu_cfg *t)
{
    int i, j;
    assert_int_equal(a->n_sec, t->n);
    for (i = 0; i < t->n; ++i) {
        assert_string_equal(a->sec[i].type, t->sec[i].type);
        assert_int_equal(a->sec[i].n_kv, t->sec[i].n);
        for (j = 0; j < t->sec[i].n; ++j) {
            assert_same_nows(a->sec[i].kv[j].key, t->sec[i].key[j]);
            assert_same_nows(a->sec[i].kv[j].value, t->sec[i].value[j]);
        }
    }
}

static void test_read_small(void **state)
{
    char err[512] = "";
    char *p = write_tmp("small.cfg", SMALL_CFG);
    legr_cfg c;
    memset(&c, 0, sizeof(c));
    assert_int_equal(legr_cfg_read(p, &c, err, sizeof(err)), 0);
    assert_int_equal(c.n_sec, 7);
    assert_string_equal(c.sec[0].type, "[net]");
    assert_string_equal(c.sec[1].type, "[convolutional]");
    assert_string_equal(c.sec[2].type, "[maxpool]");
    assert_string_equal(c.sec[5].type, "[avgpool]");
    assert_string_equal(c.sec[6].type, "[softmax]");
    assert_int_equal(c.sec[0].line, 1);
    assert_int_equal(c.sec[1].line, 9);
    assert_int_equal(c.sec[2].line, 18);
    assert_int_equal(c.sec[6].line, 36);
    assert_int_equal(c.sec[0].n_kv, 5);
    assert_int_equal(c.sec[5].n_kv, 0);
    assert_string_equal(c.sec[0].kv[0].key, "batch");
    assert_int_equal(c.sec[0].kv[0].line, 3);
    assert_string_equal(c.sec[0].kv[1].key, "width");
    assert_string_equal(c.sec[0].kv[1].value, "64");
    assert_int_equal(c.sec[0].kv[4].line, 7);
    assert_string_equal(legr_cfg_value(&c.sec[0], "saturation"), "1.5");
    assert_string_equal(legr_cfg_value(&c.sec[1], "filters"), "16");
    assert_string_equal(legr_cfg_value(&c.sec[3], "groups"), "16");
    assert_null(legr_cfg_value(&c.sec[1], "groups"));
    assert_null(legr_cfg_value(&c.sec[2], "filters"));
    assert_non_null(strstr(c.path, "small.cfg"));
    legr_cfg_free(&c);
    free(p);
}

static void test_crlf_reads_like_lf(void **state)
{
    char err[512] = "";
    char *crlf_text = to_crlf(SMALL_CFG);
    char *lf = write_tmp("lf.cfg", SMALL_CFG);
    char *crlf = write_tmp("crlf.cfg", crlf_text);
    legr_cfg a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    assert_int_equal(legr_cfg_read(lf, &a, err, sizeof(err)), 0);
    assert_int_equal(legr_cfg_read(crlf, &b, err, sizeof(err)), 0);
    assert_same_cfg(&a, &b, 1);
    /* no value may keep a stray '\r' */
    {
        int i, j;
        for (i = 0; i < b.n_sec; ++i) {
            assert_null(strchr(b.sec[i].type, '\r'));
            for (j = 0; j < b.sec[i].n_kv; ++j) {
                assert_null(strchr(b.sec[i].kv[j].key, '\r'));
                assert_null(strchr(b.sec[i].kv[j].value, '\r'));
            }
        }
    }
    legr_cfg_free(&a);
    legr_cfg_free(&b);
    free(lf);
    free(crlf);
    free(crlf_text);
}

/* Writing with nothing replaced keeps every section and key, in order, with
 * LF line ends, and leaves only the output file in the directory. */
static void roundtrip(const char *in, const char *outname)
{
    char err[512] = "";
    char *sub = tu_path(g_dir, "rt");
    char *out;
    char *names = NULL;
    size_t len;
    char *text;
    legr_cfg a, b;
    tu_cfg t_in, t_out;
    int *filters, *groups, i;

    tu_rmtree(sub);
    assert_int_equal(mkdir(sub, 0755), 0);
    out = tu_path(sub, outname);
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    if (legr_cfg_read(in, &a, err, sizeof(err)) != 0)
        fail_msg("legr_cfg_read(%s): %s", in, err);
    filters = malloc(sizeof(int) * (a.n_sec));
    groups = malloc(sizeof(int) * (a.n_sec));
    for (i = 0; i < a.n_sec; ++i) filters[i] = groups[i] = -1;
    if (legr_cfg_write(&a, out, filters, groups, err, sizeof(err)) != 0)
        fail_msg("legr_cfg_write(%s): %s", out, err);
    assert_int_equal(tu_dir_entries(sub, &names), 1);
    free(names);
    text = tu_read_file(out, &len);
    assert_non_null(text);
    assert_null(memchr(text, '\r', len));
    assert_true(len > 0 && text[len - 1] == '\n');
    free(text);

    /* legr's reading of the copy equals its reading of the input ... */
    assert_int_equal(legr_cfg_read(out, &b, err, sizeof(err)), 0);
    assert_same_cfg(&a, &b, 0);
    /* ... and an independent parser agrees on both files */
    assert_int_equal(tu_cfg_parse(in, &t_in), 0);
    assert_int_equal(tu_cfg_parse(out, &t_out), 0);
    assert_matches_tu(&a, &t_in);
    assert_matches_tu(&b, &t_out);
    tu_cfg_free(&t_in);
    tu_cfg_free(&t_out);

    /* NULL arrays: the same */
    if (legr_cfg_write(&a, out, NULL, NULL, err, sizeof(err)) != 0)
        fail_msg("legr_cfg_write(%s, NULL, NULL): %s", out, err);
    legr_cfg_free(&b);
    memset(&b, 0, sizeof(b));
    assert_int_equal(legr_cfg_read(out, &b, err, sizeof(err)), 0);
    assert_same_cfg(&a, &b, 0);

    legr_cfg_free(&a);
    legr_cfg_free(&b);
    free(filters);
    free(groups);
    free(out);
    tu_rmtree(sub);
    free(sub);
}

static void test_roundtrip_small_and_crlf(void **state)
{
    char *crlf_text = to_crlf(SMALL_CFG);
    char *lf = write_tmp("rt-lf.cfg", SMALL_CFG);
    char *crlf = write_tmp("rt-crlf.cfg", crlf_text);
    roundtrip(lf, "out.cfg");
    roundtrip(crlf, "out.cfg");
    free(lf);
    free(crlf);
    free(crlf_text);
}

static void test_roundtrip_real_cfgs(void **state)
{
    const char *names[] = {"yolov3-tiny.cfg", "yolov3.cfg", "yolov2-tiny.cfg",
                           "darknet19.cfg", "resnet18.cfg", "tiny.cfg"};
    size_t i;
    char *yf;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); ++i) {
        char *p = tu_path(TU_STOCK_CFG, names[i]);
        printf("  round trip %s\n", p);
        roundtrip(p, names[i]);
        free(p);
    }
    yf = tu_zoo_file("yolo-fastest-1.1-coco/yolo-fastest-1.1.cfg");
    if (yf) {
        printf("  round trip %s\n", yf);
        roundtrip(yf, "yf.cfg");
        free(yf);
    }
}

static void test_write_replaces_only_asked(void **state)
{
    char err[512] = "";
    char *in = write_tmp("rep.cfg", SMALL_CFG);
    char *out = tu_path(g_dir, "rep-out.cfg");
    legr_cfg a;
    tu_cfg t_in, t_out;
    int filters[6] = {-1, -1, -1, -1, -1, -1};
    int groups[6] = {-1, -1, -1, -1, -1, -1};
    int i, j;

    memset(&a, 0, sizeof(a));
    assert_int_equal(legr_cfg_read(in, &a, err, sizeof(err)), 0);
    assert_int_equal(a.n_sec, 7);   /* 6 layers */
    filters[0] = 7;                 /* first conv: 16 -> 7 */
    filters[2] = 9;                 /* depthwise conv: 16 -> 9 ... */
    groups[2] = 9;                  /* ... and its groups */
    /* layer 3 (the 1x1 conv) keeps filters=10 */
    if (legr_cfg_write(&a, out, filters, groups, err, sizeof(err)) != 0)
        fail_msg("legr_cfg_write: %s", err);
    assert_int_equal(tu_cfg_parse(in, &t_in), 0);
    assert_int_equal(tu_cfg_parse(out, &t_out), 0);
    assert_int_equal(t_in.n, t_out.n);
    for (i = 0; i < t_in.n; ++i) {
        assert_string_equal(t_in.sec[i].type, t_out.sec[i].type);
        assert_int_equal(t_in.sec[i].n, t_out.sec[i].n);
        for (j = 0; j < t_in.sec[i].n; ++j) {
            const char *k = t_in.sec[i].key[j];
            const char *want = t_in.sec[i].value[j];
            char buf[32];
            assert_string_equal(k, t_out.sec[i].key[j]);
            if (i >= 1 && !strcmp(k, "filters") && filters[i - 1] >= 0) {
                snprintf(buf, sizeof(buf), "%d", filters[i - 1]);
                want = buf;
            } else if (i >= 1 && !strcmp(k, "groups") && groups[i - 1] >= 0) {
                snprintf(buf, sizeof(buf), "%d", groups[i - 1]);
                want = buf;
            }
            assert_same_nows(t_out.sec[i].value[j], want);
        }
    }
    assert_string_equal(tu_cfg_get(&t_out.sec[1], "filters"), "7");
    assert_string_equal(tu_cfg_get(&t_out.sec[3], "filters"), "9");
    assert_string_equal(tu_cfg_get(&t_out.sec[3], "groups"), "9");
    assert_string_equal(tu_cfg_get(&t_out.sec[4], "filters"), "10");
    /* the in-memory cfg itself is not changed by writing */
    assert_string_equal(legr_cfg_value(&a.sec[1], "filters"), "16");
    tu_cfg_free(&t_in);
    tu_cfg_free(&t_out);
    legr_cfg_free(&a);
    free(in);
    free(out);
}

static void test_write_to_missing_dir_fails(void **state)
{
    char err[512] = "";
    char *in = write_tmp("wr.cfg", SMALL_CFG);
    char *out = tu_path(g_dir, "no-such-dir/out.cfg");
    legr_cfg a;
    memset(&a, 0, sizeof(a));
    assert_int_equal(legr_cfg_read(in, &a, err, sizeof(err)), 0);
    err[0] = 0;
    assert_int_equal(legr_cfg_write(&a, out, NULL, NULL, err, sizeof(err)), -1);
    printf("  message: %s\n", err);
    assert_non_null(strstr(err, "no-such-dir"));
    assert_false(tu_exists(out));
    legr_cfg_free(&a);
    free(in);
    free(out);
}

/* legr_cfg_read must return -1, with a message naming the file and, when
 * given, containing ":<line>:". */
static void expect_read_error(const char *name, const char *text, int line)
{
    char err[512];
    char *p = text ? write_tmp(name, text) : tu_path(g_dir, name);
    legr_cfg c;
    memset(&c, 0, sizeof(c));
    memset(err, 0, sizeof(err));
    if (legr_cfg_read(p, &c, err, sizeof(err)) != -1)
        fail_msg("legr_cfg_read accepted %s", name);
    printf("  %-16s -> %s\n", name, err);
    if (!strstr(err, p)) fail_msg("message \"%s\" does not name %s", err, p);
    if (line > 0) {
        char want[32];
        snprintf(want, sizeof(want), ":%d:", line);
        if (!strstr(err, want))
            fail_msg("message \"%s\" does not give line %d", err, line);
    }
    assert_null(strchr(err, '\n'));
    free(p);
}

static void test_errors(void **state)
{
    expect_read_error("missing.cfg", NULL, 0);
    expect_read_error("before.cfg",
                      "# leading comment\n"
                      "batch=1\n"
                      "[net]\nwidth=32\nheight=32\nchannels=3\n", 2);
    expect_read_error("noeq.cfg",
                      "[net]\nwidth=32\nheight=32\nchannels=3\n\n"
                      "[convolutional]\nfilters 16\nsize=3\n", 7);
    expect_read_error("sam.cfg",
                      "[net]\nwidth=32\nheight=32\nchannels=3\n\n"
                      "[convolutional]\nfilters=16\nsize=3\n\n[sam]\nfrom=-1\n", 10);
    expect_read_error("notnet.cfg",
                      "\n[convolutional]\nfilters=16\nsize=3\n\n"
                      "[net]\nwidth=32\nheight=32\n", 2);
    expect_read_error("empty.cfg", "", 0);
    expect_read_error("comments.cfg", "# nothing but\n; comments\n\n", 0);
}

static void test_error_crlf_line_numbers(void **state)
{
    /* the same line number whatever the line ends */
    char *t = to_crlf("[net]\nwidth=32\nheight=32\n\n[maxpool]\nsize 2\n");
    expect_read_error("noeq-crlf.cfg", t, 6);
    free(t);
}

int main(void)
{
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_small),
        cmocka_unit_test(test_crlf_reads_like_lf),
        cmocka_unit_test(test_roundtrip_small_and_crlf),
        cmocka_unit_test(test_roundtrip_real_cfgs),
        cmocka_unit_test(test_write_replaces_only_asked),
        cmocka_unit_test(test_write_to_missing_dir_fails),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_error_crlf_line_numbers),
    };
    return cmocka_run_group_tests_name("cfgfile", tests, setup, teardown);
}
