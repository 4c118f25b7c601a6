/* test_cfgcheck.c: the model boundary (legr/cfgcheck.c), through the command
 * line a user runs.
 *
 * Each cfg that once crashed Darknet's layer constructors, made its parser
 * assert or exit, or made legr and Darknet read different networks (zero
 * strides and groups, [yolo] classes that do not match the conv before,
 * upsampling to nothing, sizes that overflow an int, a form feed before a
 * section, policy=steps without steps=, too many anchors, mask= beyond num=,
 * AlexeyAB-only keys and activations, NaN) must end with exactly one
 * "legr:" error line naming the file and line, a non-zero exit and no
 * signal, for `flops` and for `prune` (which must write nothing).  Keys this
 * Darknet ignores give a "legr: warning:" line and the command goes on.
 * Every stock Debian cfg legr accepts is one whose shapes Darknet builds as
 * legr computed them (legr checks that on every load). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

static char *g_dir;
static int g_prune_too;   /* also run `legr prune` on each refused cfg */

static const char *NET =
    "[net]\nbatch=1\nsubdivisions=1\nwidth=32\nheight=32\nchannels=3\n\n";
static const char *CONV =
    "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n";

static int setup(void **state)
{
    g_dir = tu_mkdtemp("cfgcheck");
    return g_dir ? 0 : -1;
}

static int teardown(void **state)
{
    tu_rmtree(g_dir);
    free(g_dir);
    return 0;
}

/* `legr flops` and `legr prune` on cfg text must fail cleanly with `want`
 * in the message. */
static void expect_refused(const char *name, const char *text, const char *want)
{
    char *cfg = tu_path(g_dir, name), *w = tu_path(g_dir, "any.weights");
    char *outdir = tu_path(g_dir, "out");
    assert_int_equal(tu_write_text(cfg, text), 0);
    assert_int_equal(tu_write_text(w, "not weights"), 0);
    tu_rmtree(outdir);
    assert_int_equal(mkdir(outdir, 0755), 0);
    char *q = tu_quote(cfg), *qw = tu_quote(w), *qo = tu_quote(outdir);
    const char *cmds[2] = { "flops %s", "prune %s %s 0.5 -out %s/p" };
    for (int k = 0; k < 1 + g_prune_too; ++k) {
        char *args = tu_fmt(cmds[k], q, qw, qo);
        char *cmd = tu_fmt("timeout 60 " TU_OUR_DARKNET " legr %s", args);
        char *out = NULL, *err = NULL, *first = NULL;
        int rc = tu_run(cmd, &out, &err);
        int n = tu_count_legr_errors(err, &first);
        printf("  %-14s %-6s rc=%d  %s\n", name, k ? "prune" : "flops", rc, first ? first : "(no legr: line)");
        if (rc == 0 || rc >= 124)
            fail_msg("%s: `legr %s` exit %d (want a clean failure)\n%s", name, args, rc, err);
        if (n != 1) fail_msg("%s: %d legr: error lines, want 1\n%s", name, n, err);
        if (!strstr(first, name)) fail_msg("%s: the message does not name the file: %s", name, first);
        if (!strstr(first, want)) fail_msg("%s: want \"%s\" in: %s", name, want, first);
        free(args); free(cmd); free(out); free(err); free(first);
    }
    char *names = NULL;
    if (tu_dir_entries(outdir, &names) != 0) fail_msg("%s: prune wrote:\n%s", name, names);
    free(names);
    free(q); free(qw); free(qo); free(cfg); free(w); free(outdir);
}

static char *with_net(const char *layers)
{
    return tu_fmt("%s%s%s", NET, CONV, layers);
}

static void refuse_layers(const char *name, const char *layers, const char *want)
{
    char *t = with_net(layers);
    expect_refused(name, t, want);
    free(t);
}

/* Also through `prune` (the same loader; prune must write nothing). */
static void test_constructor_crashes(void **state)
{
    g_prune_too = 1;
    refuse_layers("maxpool-s0.cfg", "[maxpool]\nsize=2\nstride=0\n", "stride");
    refuse_layers("softmax-g0.cfg", "[avgpool]\n\n[softmax]\ngroups=0\n", "groups=0");
    refuse_layers("reorg-s0.cfg", "[reorg]\nstride=0\n", "stride=0");
    refuse_layers("yolo-classes.cfg", "[yolo]\nclasses=80\nnum=3\nmask=0,1,2\n", "input channels");
    refuse_layers("upsample-0.cfg", "[upsample]\nstride=-64\n", "to nothing");
    refuse_layers("upsample-1000.cfg", "[upsample]\nstride=1000\n", "stride=1000");
    refuse_layers("filters-1e8.cfg", "[convolutional]\nfilters=100000000\nsize=1\nactivation=linear\n",
                  "filters");
    refuse_layers("kernel-big.cfg", "[convolutional]\nfilters=8\nsize=40\nactivation=linear\n",
                  "does not fit");
    refuse_layers("groups-odd.cfg", "[convolutional]\nfilters=9\ngroups=3\nsize=1\nactivation=linear\n",
                  "groups=3");
    refuse_layers("route-size.cfg", "[maxpool]\nsize=2\nstride=2\n\n[route]\nlayers=-1,-2\n",
                  "differ in size");
    refuse_layers("shortcut-size.cfg",
                  "[crop]\ncrop_width=32\ncrop_height=8\n\n"
                  "[shortcut]\nfrom=-2\n", "not the same size");
    refuse_layers("dropout-p1.cfg", "[dropout]\nprobability=1\n", "probability");
    refuse_layers("crop-big.cfg", "[crop]\ncrop_width=64\ncrop_height=64\n", "must fit");
    expect_refused("dropout-first.cfg", "[net]\nwidth=8\nheight=8\nchannels=3\n\n[dropout]\n",
                   "first layer");
    expect_refused("width-1e6.cfg",
                   "[net]\nbatch=1\nwidth=1000000\nheight=32\nchannels=3\n\n[convolutional]\nfilters=4\nsize=1\nactivation=linear\n",
                   "width");
    expect_refused("batch-1e8.cfg",
                   "[net]\nbatch=100000000\nwidth=32\nheight=32\nchannels=3\n\n[convolutional]\nfilters=4\nsize=1\nactivation=linear\n",
                   "batch");
    /* each tensor fits an int, the whole would not fit the machine */
    expect_refused("huge-total.cfg",
                   "[net]\nbatch=16\nwidth=1024\nheight=1024\nchannels=3\n\n"
                   "[convolutional]\nfilters=120\nsize=1\nactivation=linear\n\n"
                   "[convolutional]\nfilters=120\nsize=1\nactivation=linear\n\n"
                   "[convolutional]\nfilters=120\nsize=1\nactivation=linear\n",
                   "GB");
    g_prune_too = 0;
}

static void test_parser_aborts(void **state)
{
    expect_refused("steps-nosteps.cfg",
                   "[net]\nwidth=32\nheight=32\nchannels=3\npolicy=steps\n\n"
                   "[convolutional]\nfilters=4\nsize=1\nactivation=linear\n", "steps=");
    expect_refused("steps-count.cfg",
                   "[net]\nwidth=32\nheight=32\nchannels=3\npolicy=steps\nsteps=10,20\nscales=.1\n\n"
                   "[convolutional]\nfilters=4\nsize=1\nactivation=linear\n", "scales=");
    refuse_layers("anchors-many.cfg",
                  "[convolutional]\nfilters=255\nsize=1\nactivation=linear\n\n"
                  "[yolo]\nclasses=80\nnum=3\nmask=0,1,2\nanchors=1,2,3,4,5,6,7,8,9,10,11,12\n",
                  "anchors");
    refuse_layers("mask-beyond.cfg",
                  "[convolutional]\nfilters=255\nsize=1\nactivation=linear\n\n"
                  "[yolo]\nclasses=80\nnum=3\nmask=0,1,5\n", "below num=3");
    refuse_layers("map-missing.cfg",
                  "[convolutional]\nfilters=255\nsize=1\nactivation=linear\n\n"
                  "[yolo]\nclasses=80\nnum=3\nmask=0,1,2\nmap=/nonexistent/map.txt\n", "map=");
    refuse_layers("cost-type.cfg", "[avgpool]\n\n[softmax]\n\n[cost]\ntype=hinge\n", "type=hinge");
    expect_refused("policy.cfg",
                   "[net]\nwidth=32\nheight=32\nchannels=3\npolicy=cosine\n\n"
                   "[convolutional]\nfilters=4\nsize=1\nactivation=linear\n", "policy=cosine");
    expect_refused("two-nets.cfg",
                   "[net]\nwidth=32\nheight=32\nchannels=3\n\n[convolutional]\nfilters=4\nsize=1\n"
                   "activation=linear\n\n[net]\nwidth=8\n", "[net]");
    refuse_layers("dontload.cfg", "[convolutional]\nfilters=8\nsize=1\nactivation=linear\ndontload=1\n",
                  "dontload");
}

static void test_read_as_darknet_reads(void **state)
{
    char *t = tu_fmt("%s\v%s", NET, CONV);
    expect_refused("vtab.cfg", t, "control character 0x0b");
    free(t);
    t = tu_fmt("%s%s\f[maxpool]\nsize=2\nstride=2\n", NET, CONV);
    expect_refused("formfeed.cfg", t, "control character 0x0c");
    free(t);
    expect_refused("atoi-wrap.cfg",
                   "[net]\nwidth=32\nheight=4294967456\nchannels=3\n\n"
                   "[convolutional]\nfilters=4\nsize=1\nactivation=linear\n", "height=4294967456");
    refuse_layers("float-junk.cfg", "[convolutional]\nfilters=8\nsize=1\nactivation=linear\n"
                  "learning_rate=0.1x\n", "learning_rate=0.1x");
    refuse_layers("int-junk.cfg", "[convolutional]\nfilters=8k\nsize=1\nactivation=linear\n", "filters=8k");
    refuse_layers("nan.cfg", "[dropout]\nprobability=nan\n", "probability=nan");
    refuse_layers("inf.cfg", "[shortcut]\nfrom=-1\nalpha=inf\n", "alpha=inf");
    refuse_layers("empty-value.cfg", "[convolutional]\nfilters=\nsize=1\n", "no value");
    refuse_layers("list-hole.cfg", "[route]\nlayers=-1,,-2\n", "layers=-1,,-2");
    refuse_layers("local.cfg", "[local]\nfilters=4\nsize=3\nactivation=leaky\n", "[local]");
    /* spaces and tabs anywhere are what Darknet's strip() removes: fine */
    char *cfg = tu_path(g_dir, "spaces.cfg");
    assert_int_equal(tu_write_text(cfg, "[net]\nwidth = 32\nheight\t=32\nchannels=3\n\n"
                                        "[convolutional]\nfil ters = 8\nsize=1\nactivation= lin ear\n"), 0);
    char *q = tu_quote(cfg), *cmd = tu_fmt(TU_OUR_DARKNET " legr flops %s", q), *out = NULL, *err = NULL;
    assert_int_equal(tu_run(cmd, &out, &err), 0);
    assert_non_null(strstr(out, "8"));
    free(q); free(cmd); free(out); free(err); free(cfg);
}

static void test_alexeyab_semantics(void **state)
{
    refuse_layers("route-groups.cfg", "[route]\nlayers=-1\ngroups=2\ngroup_id=1\n", "AlexeyAB");
    refuse_layers("mish.cfg", "[convolutional]\nfilters=8\nsize=1\nactivation=mish\n", "AlexeyAB");
    refuse_layers("swish.cfg", "[convolutional]\nfilters=8\nsize=1\nactivation=swish\n", "AlexeyAB");
    refuse_layers("unknown-act.cfg", "[convolutional]\nfilters=8\nsize=1\nactivation=frobnicate\n",
                  "activation=frobnicate");
    refuse_layers("scale-xy.cfg",
                  "[convolutional]\nfilters=255\nsize=1\nactivation=linear\n\n"
                  "[yolo]\nclasses=80\nnum=3\nmask=0,1,2\nscale_x_y=1.05\n", "scale_x_y=1.05");
    refuse_layers("dilation.cfg", "[convolutional]\nfilters=8\nsize=3\npad=1\ndilation=2\nactivation=leaky\n",
                  "dilation=2");
}

/* Ignored keys warn and go on; scale_x_y=1 means what this Darknet does. */
static void test_warnings(void **state)
{
    char *t = with_net("[convolutional]\nfilters=255\nsize=1\nactivation=linear\nfoo=bar\n\n"
                       "[yolo]\nclasses=80\nnum=3\nmask=0,1,2\nscale_x_y=1.0\niou_loss=ciou\n");
    char *cfg = tu_path(g_dir, "warn.cfg");
    assert_int_equal(tu_write_text(cfg, t), 0);
    char *q = tu_quote(cfg), *cmd = tu_fmt(TU_OUR_DARKNET " legr flops %s", q), *out = NULL, *err = NULL;
    int rc = tu_run(cmd, &out, &err);
    printf("%s", err);
    assert_int_equal(rc, 0);
    /* one line for the ignored keys, with the line each is first on */
    assert_int_equal(tu_count_lines_with_prefix(err, "legr: warning:", NULL), 1);
    assert_non_null(strstr(err, "[convolutional] foo (line 20)"));
    assert_non_null(strstr(err, "[yolo] scale_x_y (line 26)"));
    assert_non_null(strstr(err, "[yolo] iou_loss (line 27)"));
    free(q); free(cmd); free(out); free(err); free(cfg); free(t);
}

/* Debian's cfgs: the ones legr takes load with Darknet's shapes equal to
 * legr's (legr_model_load fails otherwise); the others are refused by name. */
static void test_stock_cfgs(void **state)
{
    static const char *ok[] = {
        "alexnet", "cifar", "darknet19", "darknet53", "densenet201", "extraction",
        "resnet50", "resnext50", "strided", "tiny", "vgg-16", "yolo9000", "yolov1-tiny",
        "yolov2", "yolov2-tiny", "yolov3", "yolov3-spp", "yolov3-tiny", NULL
    };
    static const struct { const char *name, *why; } refused[] = {
        {"yolov1", "[local]"}, {"rnn", "width"}, {"go", "extra="}, {NULL, NULL}
    };
    for (int i = 0; ok[i]; ++i) {
        char *cmd = tu_fmt(TU_OUR_DARKNET " legr flops " TU_STOCK_CFG "/%s.cfg", ok[i]);
        char *out = NULL, *err = NULL;
        int rc = tu_run(cmd, &out, &err);
        if (rc != 0) fail_msg("%s.cfg: exit %d\n%s", ok[i], rc, err);
        free(cmd); free(out); free(err);
    }
    for (int i = 0; refused[i].name; ++i) {
        char *cmd = tu_fmt(TU_OUR_DARKNET " legr flops " TU_STOCK_CFG "/%s.cfg", refused[i].name);
        char *out = NULL, *err = NULL, *first = NULL;
        int rc = tu_run(cmd, &out, &err);
        printf("  %s.cfg: %s", refused[i].name, err);
        assert_int_equal(rc, 1);
        assert_int_equal(tu_count_legr_errors(err, &first), 1);
        assert_non_null(strstr(first, refused[i].why));
        free(cmd); free(out); free(err); free(first);
    }
}

int main(void)
{
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constructor_crashes),
        cmocka_unit_test(test_parser_aborts),
        cmocka_unit_test(test_read_as_darknet_reads),
        cmocka_unit_test(test_alexeyab_semantics),
        cmocka_unit_test(test_warnings),
        cmocka_unit_test(test_stock_cfgs),
    };
    return cmocka_run_group_tests_name("cfgcheck", tests, setup, teardown);
}
