/* test_badimage.c: images that cannot be decoded, and the Darknet fixes
 * that came with them (patches/hardening-*.patch).
 *
 * Every legr command that loads images (eval's valid= list, prune -recover
 * with -images or -data, finetune with and without labels, search's train=
 * and valid= lists) is given a list with one bad entry among good ones: a
 * text file named `a;touch INJECTED;b.jpg` (stock Darknet ran
 * `echo <path> >> bad.list` through the shell, so this created INJECTED),
 * a JPEG header followed by garbage, an empty file, a directory, and a text
 * file at a path of over 300 characters (stock Darknet overflowed a
 * char[256] with it).  Each run must exit non-zero without a signal, with
 * exactly one stderr line, starting "legr:" and naming the path and
 * "cannot decode image" (or "cannot read image" for the directory), and
 * leave its working directory (which holds the output prefix) as it was:
 * no INJECTED, no bad.list, no output or temporary file.
 *
 * In-process, against the patched libdarknet.a: try_load_image returns an
 * empty image for a bad file while load_image_color keeps stock's blank
 * image and warning without running a shell; find_replace with output ==
 * str, with and without a match, on a string longer than its old 4096-byte
 * buffer; a [yolo] with more anchors than 2*num parses (extra ones
 * ignored) and frees; parsing and freeing a [yolo] network leaks nothing
 * (the mask array); legr/compat.c's fallback loader (the plugin-only
 * build's try_load_image) refuses the bad files and decodes as Darknet's
 * stb loader does. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <limits.h>
#include <malloc.h>
#include <sys/stat.h>
#include <fcntl.h>

#include "testutil.h"
#include "model.h"
#include "compat.h"

#define SAMPLES "/usr/share/darknet/data/"

static char *g_dir;         /* the fixture: images/, labels/, lists, model */
static char *g_darknet;     /* absolute path of ./darknet */
static char *g_cfg, *g_weights, *g_good;

typedef struct {
    const char *name;       /* what the case is */
    char *image;            /* the bad entry's path */
    char *list;             /* good, good, bad, good */
    char *data;             /* train= and valid= that list */
    char *valdata;          /* train= the good list, valid= the bad one */
    const char *says;       /* expected in the legr: line */
} bad_case;

enum { N_CASES = 5 };
static bad_case g_case[N_CASES];

static const char *GOOD[] = { "dog", "horses", "person", "kite" };

/* dir/images/<rel>.jpg and its label dir/labels/<rel>.txt (one box). */
static char *add_image(const char *rel, const void *bytes, size_t len)
{
    char *img = tu_fmt("%s/images/%s.jpg", g_dir, rel);
    char *lab = tu_fmt("%s/labels/%s.txt", g_dir, rel);
    assert_int_equal(tu_write_file(img, bytes, len), 0);
    assert_int_equal(tu_write_text(lab, "1 0.5 0.5 0.25 0.25\n"), 0);
    free(lab);
    return img;
}

static char *write_data(const char *name, const char *train, const char *valid)
{
    char *path = tu_fmt("%s/%s", g_dir, name);
    char *text = tu_fmt("classes=80\ntrain=%s\nvalid=%s\nnames=" SAMPLES "coco.names\n", train, valid);
    assert_int_equal(tu_write_text(path, text), 0);
    free(text);
    return path;
}

static void make_case(bad_case *c, const char *name, const char *tag, char *image, const char *says)
{
    c->name = name;
    c->image = image;
    c->says = says;
    c->list = tu_fmt("%s/list-%s.txt", g_dir, tag);
    FILE *fp = fopen(c->list, "w");
    assert_non_null(fp);
    fprintf(fp, "%s/images/dog.jpg\n%s/images/horses.jpg\n%s\n%s/images/person.jpg\n",
            g_dir, g_dir, image, g_dir);
    fclose(fp);
    char *n = tu_fmt("%s.data", tag), *nv = tu_fmt("%s-valid.data", tag);
    c->data = write_data(n, c->list, c->list);
    c->valdata = write_data(nv, g_good, c->list);
    free(n);
    free(nv);
}

/* A directory chain under images/ making the image path over 300 chars. */
static char *long_rel(void)
{
    char seg[101];
    memset(seg, 'd', 100);
    seg[100] = 0;
    char *rel = tu_fmt("%s/%s/%s/bad", seg, seg, seg);
    char *p = tu_fmt("%s/images/%s", g_dir, seg), *q = tu_fmt("%s/labels/%s", g_dir, seg);
    for (int k = 0; k < 3; ++k) {
        assert_int_equal(mkdir(p, 0755), 0);
        assert_int_equal(mkdir(q, 0755), 0);
        char *p2 = tu_fmt("%s/%s", p, seg), *q2 = tu_fmt("%s/%s", q, seg);
        free(p); free(q);
        p = p2; q = q2;
    }
    free(p); free(q);
    return rel;
}

static int setup(void **state)
{
    char real[PATH_MAX];
    if (!realpath(TU_OUR_DARKNET, real)) {
        fprintf(stderr, "%s not found: run the tests from the repository root after make\n", TU_OUR_DARKNET);
        return -1;
    }
    g_darknet = strdup(real);
    g_dir = tu_mkdtemp("badimage");
    char *d = tu_fmt("%s/images", g_dir), *l = tu_fmt("%s/labels", g_dir);
    if (mkdir(d, 0755) || mkdir(l, 0755)) return -1;
    free(d); free(l);
    for (int i = 0; i < 4; ++i) {
        char *src = tu_fmt(SAMPLES "%s.jpg", GOOD[i]);
        size_t n;
        char *bytes = tu_read_file(src, &n);
        if (!bytes) return -1;
        free(add_image(GOOD[i], bytes, n));
        free(bytes);
        free(src);
    }
    g_good = tu_fmt("%s/good.txt", g_dir);
    FILE *fp = fopen(g_good, "w");
    for (int i = 0; i < 4; ++i) fprintf(fp, "%s/images/%s.jpg\n", g_dir, GOOD[i]);
    fclose(fp);

    const char text[] = "not an image\n";
    const unsigned char hdr[] = { 0xff, 0xd8, 0xff, 0xe0, 'g', 'a', 'r', 'b', 'a', 'g', 'e' };
    make_case(&g_case[0], "shell characters", "inject",
              add_image("a;touch INJECTED;b", text, sizeof text - 1), "cannot decode image");
    make_case(&g_case[1], "JPEG header, garbage", "header", add_image("header", hdr, sizeof hdr),
              "cannot decode image");
    make_case(&g_case[2], "empty file", "empty", add_image("empty", "", 0), "cannot decode image");
    char *dir = tu_fmt("%s/images/adir.jpg", g_dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    char *dirlab = tu_fmt("%s/labels/adir.txt", g_dir);
    assert_int_equal(tu_write_text(dirlab, ""), 0);
    free(dirlab);
    make_case(&g_case[3], "a directory", "dir", dir, "not a regular file");
    char *rel = long_rel();
    char *img = add_image(rel, text, sizeof text - 1);
    free(rel);
    printf("  long path: %zu characters\n", strlen(img));
    assert_true(strlen(img) > 300);
    make_case(&g_case[4], "300-character path", "long", img, "cannot decode image");

    g_cfg = tu_path(g_dir, "tiny.cfg");
    g_weights = tu_path(g_dir, "tiny.weights");
    if (tu_cfg_copy("/usr/share/darknet/cfg/yolov3-tiny.cfg", g_cfg, 96, 96)) return -1;
    if (tu_random_weights(g_cfg, g_weights, 3)) return -1;
    return 0;
}

static int teardown(void **state)
{
    tu_rmtree(g_dir);
    for (int i = 0; i < N_CASES; ++i) {
        free(g_case[i].image); free(g_case[i].list);
        free(g_case[i].data); free(g_case[i].valdata);
    }
    free(g_dir); free(g_darknet); free(g_cfg); free(g_weights); free(g_good);
    return 0;
}

/* Runs `cd <fixture> && darknet legr <args>` and checks the refusal. */
static void expect_refusal(const bad_case *c, const char *what, const char *args)
{
    char *before = NULL, *after = NULL, *out = NULL, *err = NULL, *line = NULL;
    tu_dir_entries(g_dir, &before);
    char *qd = tu_quote(g_dir);
    char *cmd = tu_fmt("cd %s && OMP_NUM_THREADS=1 %s legr %s", qd, g_darknet, args);
    int rc = tu_run(cmd, &out, &err);
    int n = tu_count_lines_with_prefix(err, "legr:", &line);
    int lines = 0;
    for (const char *p = err; p && *p; ++p) lines += *p == '\n';
    printf("  %-20s %-28s exit %d, %d stderr line(s)\n", c->name, what, rc, lines);
    if (rc == 0) fail_msg("%s, %s: exit 0\n%s\nstderr:\n%s", c->name, what, cmd, err);
    if (rc >= 128) fail_msg("%s, %s: killed by signal %d\nstderr:\n%s", c->name, what, rc - 128, err);
    if (n != 1 || lines != 1)
        fail_msg("%s, %s: %d legr: lines in %d stderr lines, expected one line\n%s", c->name, what, n, lines, err);
    if (!strstr(line, c->image)) fail_msg("%s, %s: the line does not name %s:\n%s", c->name, what, c->image, line);
    if (!strstr(line, c->says)) fail_msg("%s, %s: the line does not say \"%s\":\n%s", c->name, what, c->says, line);
    tu_dir_entries(g_dir, &after);
    if (strcmp(before, after) != 0)
        fail_msg("%s, %s: the directory changed:\nbefore:\n%s\nafter:\n%s", c->name, what, before, after);
    char *inj = tu_path(g_dir, "INJECTED"), *bl = tu_path(g_dir, "bad.list");
    assert_false(tu_exists(inj));
    assert_false(tu_exists(bl));
    free(inj); free(bl);
    free(before); free(after); free(out); free(err); free(line); free(qd); free(cmd);
}

/* Each command with each bad case; outputs go to the fixture directory. */
static void test_legr_commands_refuse(void **state)
{
    char *qc = tu_quote(g_cfg), *qw = tu_quote(g_weights), *out = tu_path(g_dir, "o"), *qo = tu_quote(out);
    for (int i = 0; i < N_CASES; ++i) {
        const bad_case *c = &g_case[i];
        char *ql = tu_quote(c->list), *qd = tu_quote(c->data), *qv = tu_quote(c->valdata);
        char *a[7];
        const char *what[7] = { "eval (valid=)", "prune -recover -images", "prune -recover -data",
                                "finetune -nolabels -images", "finetune (train=)",
                                "search (train=)", "search (valid=)" };
        a[0] = tu_fmt("eval %s %s %s", qd, qc, qw);
        a[1] = tu_fmt("prune %s %s 0.5 -recover 4 -images %s -out %s", qc, qw, ql, qo);
        a[2] = tu_fmt("prune %s %s 0.5 -recover 4 -data %s -out %s", qc, qw, qd, qo);
        a[3] = tu_fmt("finetune %s %s %s -teacher %s %s -nolabels -images %s -iters 1 -out %s",
                      qd, qc, qw, qc, qw, ql, qo);
        a[4] = tu_fmt("finetune %s %s %s -iters 1 -out %s", qd, qc, qw, qo);
        a[5] = tu_fmt("search %s %s -data %s -tau 1 -batch 2 -evals 2 -pool 2 -sample 1 -workers 1 -out %s.ranking",
                      qc, qw, qd, qo);
        a[6] = tu_fmt("search %s %s -data %s -tau 1 -batch 2 -evals 2 -pool 2 -sample 1 -workers 1 -out %s.ranking",
                      qc, qw, qv, qo);
        for (int k = 0; k < 7; ++k) {
            expect_refusal(c, what[k], a[k]);
            free(a[k]);
        }
        free(ql); free(qd); free(qv);
    }
    free(qc); free(qw); free(out); free(qo);
}

/* The same commands on the good list do run: the refusals above are the
 * bad entry's doing.  eval -n 2 stops before the bad entry. */
static void test_good_images_still_run(void **state)
{
    char *qc = tu_quote(g_cfg), *qw = tu_quote(g_weights);
    char *qbad = tu_quote(g_case[0].data), *qdir = tu_quote(g_dir);
    char *gd = write_data("good.data", g_good, g_good), *qgd = tu_quote(gd);
    char *o = tu_path(g_dir, "ok"), *qo = tu_quote(o);
    const char *fmt[] = {
        "eval %s %s %s", "eval %s %s %s -n 2",
    };
    const char *datas[] = { qgd, qbad };
    for (int k = 0; k < 2; ++k) {
        char *args = tu_fmt(fmt[k], datas[k], qc, qw);
        char *cmd = tu_fmt("cd %s && %s legr %s", qdir, g_darknet, args), *out = NULL, *err = NULL;
        int rc = tu_run(cmd, &out, &err);
        printf("  legr %s: exit %d\n", args, rc);
        if (rc != 0) fail_msg("`%s` exited %d\n%s", cmd, rc, err);
        assert_non_null(strstr(out, "mAP@0.5"));
        free(args); free(cmd); free(out); free(err);
    }
    char *cmd = tu_fmt("cd %s && OMP_NUM_THREADS=1 %s legr finetune %s %s %s -iters 1 -out %s", qdir,
                       g_darknet, qgd, qc, qw, qo);
    char *out = NULL, *err = NULL;
    int rc = tu_run(cmd, &out, &err);
    printf("  legr finetune on the good train= list: exit %d\n", rc);
    if (rc != 0) fail_msg("`%s` exited %d\n%s", cmd, rc, err);
    char *ow = tu_fmt("%s.weights", o);
    assert_true(tu_exists(ow));
    char *inj = tu_path(g_dir, "INJECTED"), *bl = tu_path(g_dir, "bad.list");
    assert_false(tu_exists(inj));
    assert_false(tu_exists(bl));
    free(inj); free(bl);
    free(ow); free(cmd); free(out); free(err);
    free(qc); free(qw); free(qbad); free(qdir); free(gd); free(qgd); free(o); free(qo);
}

/* legr finetune on list with LEGR_CACHE=cache; its exit status, stderr in *err. */
static int finetune_with_cache(const char *data, const char *cache, char **err)
{
    char *qc = tu_quote(g_cfg), *qw = tu_quote(g_weights), *qd = tu_quote(data), *qk = tu_quote(cache);
    char *o = tu_path(g_dir, "cached-out"), *qo = tu_quote(o), *out = NULL;
    char *cmd = tu_fmt("LEGR_CACHE=%s OMP_NUM_THREADS=1 %s legr finetune %s %s %s -iters 1 -out %s",
                       qk, g_darknet, qd, qc, qw, qo);
    int rc = tu_run(cmd, &out, err);
    free(qc); free(qw); free(qd); free(qk); free(o); free(qo); free(out); free(cmd);
    return rc;
}

/* The number of images-*.ok files in dir. */
static int checked_lists(const char *dir)
{
    char *entries = NULL;
    tu_dir_entries(dir, &entries);
    int n = 0;
    for (const char *p = entries; p && (p = strstr(p, "images-")); ++p) ++n;
    free(entries);
    return n;
}

/* A train= list that decoded is remembered in the cache (imagecheck.c) and
 * not decoded again; a damaged entry is written again, a cache path that is
 * a file is left alone; an image rewritten in place afterwards, even with
 * the same size and its old mtime put back, is decoded again and refused. */
static void test_checked_list_remembered(void **state)
{
    size_t n;
    char *src = tu_fmt("%s/images/dog.jpg", g_dir), *bytes = tu_read_file(src, &n);
    assert_non_null(bytes);
    char *img = add_image("remembered", bytes, n);
    char *list = tu_path(g_dir, "remembered.txt"), *text = tu_fmt("%s\n%s\n", src, img);
    assert_int_equal(tu_write_text(list, text), 0);
    char *data = write_data("remembered.data", list, list), *cache = tu_path(g_dir, "cache"), *err = NULL;

    assert_int_equal(finetune_with_cache(data, cache, &err), 0);
    free(err);
    printf("  first run: %d checked list(s) in the cache\n", checked_lists(cache));
    assert_int_equal(checked_lists(cache), 1);
    assert_int_equal(finetune_with_cache(data, cache, &err), 0);
    free(err);
    assert_int_equal(checked_lists(cache), 1);      /* the same fingerprint */

    /* a damaged entry is not trusted: the list is decoded and the entry
     * written again */
    char *entries = NULL;
    tu_dir_entries(cache, &entries);
    char *name = strstr(entries, "images-"), *end = name ? strpbrk(name, "\n ") : NULL;
    assert_non_null(name);
    if (end) *end = 0;
    char *entry = tu_path(cache, name);
    assert_int_equal(tu_write_text(entry, "damaged\n"), 0);
    assert_int_equal(finetune_with_cache(data, cache, &err), 0);
    free(err);
    char *again = tu_read_file(entry, NULL);
    assert_non_null(again);
    assert_true(strncmp(again, "legr-images v1\n", 15) == 0);
    free(again); free(entry); free(entries);

    /* a cache path that is a regular file: no cache, the run as without
     * one, the file as it was */
    char *notdir = tu_path(g_dir, "cache-is-a-file");
    assert_int_equal(tu_write_text(notdir, "keep me\n"), 0);
    assert_int_equal(finetune_with_cache(data, notdir, &err), 0);
    free(err);
    char *kept = tu_read_file(notdir, NULL);
    assert_string_equal(kept, "keep me\n");
    free(kept); free(notdir);

    struct stat st;
    assert_int_equal(stat(img, &st), 0);
    memset(bytes + 100, 0x55, n - 100);             /* same size, broken scans */
    memset(bytes + 2, 0x11, 98);
    FILE *fp = fopen(img, "r+b");
    assert_non_null(fp);
    assert_int_equal(fwrite(bytes, 1, n, fp), n);
    fclose(fp);
    struct timespec times[2] = { st.st_atim, st.st_mtim };
    assert_int_equal(utimensat(AT_FDCWD, img, times, 0), 0);
    int rc = finetune_with_cache(data, cache, &err);
    printf("  after rewriting %s in place (old mtime restored): exit %d: %s", img, rc, err);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(err, "cannot decode image"));
    assert_non_null(strstr(err, "remembered.jpg"));
    free(err); free(src); free(bytes); free(img); free(list); free(text); free(data); free(cache);
}

/* Darknet's own loaders, in this process with the fixture as cwd. */
static void test_darknet_loader(void **state)
{
    char old[PATH_MAX];
    assert_non_null(getcwd(old, sizeof old));
    assert_int_equal(chdir(g_dir), 0);
    for (int i = 0; i < N_CASES; ++i) {
        char *p = g_case[i].image;
        tu_quiet_begin();       /* libjpeg's "Premature end of JPEG file" */
        image im = try_load_image(p, 0, 0, 3);
        image blank = load_image_color(p, 0, 0);        /* stock: a blank 10x10, a warning */
        image sized = load_image_color(p, 32, 24);
        tu_quiet_end();
        assert_null(im.data);
        assert_int_equal(im.w, 0);
        assert_non_null(blank.data);
        assert_true(blank.w == 10 && blank.h == 10 && blank.c == 3);
        assert_true(sized.w == 32 && sized.h == 24 && sized.c == 3);
        float s = 0;
        for (int k = 0; k < sized.w * sized.h * sized.c; ++k) s += sized.data[k] * sized.data[k];
        assert_true(s == 0);
        free_image(blank);
        free_image(sized);
    }
    image dog = try_load_image(SAMPLES "dog.jpg", 0, 0, 3);
    assert_true(dog.data && dog.w == 768 && dog.h == 576 && dog.c == 3);
    free_image(dog);
    dog = try_load_image(SAMPLES "dog.jpg", 64, 48, 3);
    assert_true(dog.data && dog.w == 64 && dog.h == 48);
    free_image(dog);
    assert_false(tu_exists("INJECTED"));
    assert_false(tu_exists("bad.list"));
    assert_int_equal(chdir(old), 0);
}

/* Darknet's stb loader (src/image.c; in no header), for comparison. */
image load_image_stb(char *filename, int channels);

static int images_equal(image a, image b)
{
    return a.data && b.data && a.w == b.w && a.h == b.h && a.c == b.c &&
           memcmp(a.data, b.data, sizeof(float) * a.w * a.h * a.c) == 0;
}

/* legr/compat.c's loader, try_load_image on a plugin-only build: no image
 * for every bad case (stock's stb loader would exit), and a good image
 * exactly as Darknet's load_image_stb decodes it, in colour and grey, and
 * resized as try_load_image resizes. */
static void test_compat_loader(void **state)
{
    for (int i = 0; i < N_CASES; ++i) {
        image im = legr_stb_load_image(g_case[i].image, 0, 0, 3);
        printf("  %-20s no image\n", g_case[i].name);
        assert_null(im.data);
        assert_int_equal(im.w, 0);
    }
    for (int c = 1; c <= 3; c += 2) {
        image ours = legr_stb_load_image(SAMPLES "dog.jpg", 0, 0, c);
        image stock = load_image_stb(SAMPLES "dog.jpg", c);
        printf("  dog.jpg, %d channel(s): %dx%dx%d\n", c, ours.w, ours.h, ours.c);
        assert_true(images_equal(ours, stock));
        image small = legr_stb_load_image(SAMPLES "dog.jpg", 64, 48, c);
        image stock_small = resize_image(stock, 64, 48);
        assert_true(small.w == 64 && small.h == 48 && images_equal(small, stock_small));
        free_image(ours); free_image(stock); free_image(small); free_image(stock_small);
    }
}

/* find_replace(str, orig, rep, str), as fill_truth_detection calls it. */
static void test_find_replace_in_place(void **state)
{
    char buf[9000];
    snprintf(buf, sizeof buf, "/data/images/x.jpg");
    find_replace(buf, "images", "labels", buf);
    find_replace(buf, "JPEGImages", "labels", buf);     /* no match: copied onto itself */
    find_replace(buf, ".jpg", ".txt", buf);
    assert_string_equal(buf, "/data/labels/x.txt");
    /* longer than the old char[4096] copy */
    char want[9000];
    memset(buf, 'a', 5000);
    strcpy(buf + 5000, "/images/y.jpg");
    memset(want, 'a', 5000);
    strcpy(want + 5000, "/labels/y.jpg");
    find_replace(buf, "raw", "labels", buf);
    assert_int_equal(strlen(buf), 5013);
    find_replace(buf, "images", "labels", buf);
    assert_string_equal(buf, want);
}

static const char *YOLO_CFG =
    "[net]\nbatch=1\nsubdivisions=1\nwidth=32\nheight=32\nchannels=3\n\n"
    "[convolutional]\nfilters=18\nsize=1\nstride=1\npad=1\nactivation=linear\n\n"
    "[yolo]\nmask=0,1,2\nanchors=%s\nclasses=1\nnum=%d\n";

/* Darknet's parser directly (legr's cfg reader refuses such a file first). */
static void test_too_many_anchors(void **state)
{
    char anchors[2000] = "";
    for (int i = 0; i < 200; ++i) {
        char n[16];
        snprintf(n, sizeof n, "%s%d", i ? "," : "", 10 + i);
        strcat(anchors, n);
    }
    char *text = tu_fmt(YOLO_CFG, anchors, 3);
    char *cfg = tu_path(g_dir, "anchors.cfg");
    assert_int_equal(tu_write_text(cfg, text), 0);
    for (int k = 0; k < 20; ++k) {      /* a heap overflow would show in the allocator */
        network *net = tu_parse(cfg);
        assert_non_null(net);
        layer *l = &net->layers[1];
        assert_int_equal(l->type, YOLO);
        for (int i = 0; i < 6; ++i) assert_true(l->biases[i] == 10 + i);
        legr_free_network(net);
    }
    free(text);
    free(cfg);
}

/* Parsing and freeing a [yolo] network many times: the heap in use after
 * the first round does not grow (the mask array was never freed). */
static void test_yolo_mask_freed(void **state)
{
    char *text = tu_fmt(YOLO_CFG, "10,14,23,27,37,58", 3);
    char *cfg = tu_path(g_dir, "yolo.cfg");
    assert_int_equal(tu_write_text(cfg, text), 0);
    legr_free_network(tu_parse(cfg));
    struct mallinfo2 a = mallinfo2();
    const int rounds = 200;
    for (int k = 0; k < rounds; ++k) legr_free_network(tu_parse(cfg));
    struct mallinfo2 b = mallinfo2();
    long grew = (long)b.uordblks - (long)a.uordblks;
    printf("  heap in use after %d parse/free rounds: %+ld bytes\n", rounds, grew);
    assert_true(grew < 12L * rounds);
    free(text);
    free(cfg);
}

int main(void)
{
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_legr_commands_refuse),
        cmocka_unit_test(test_good_images_still_run),
        cmocka_unit_test(test_checked_list_remembered),
        cmocka_unit_test(test_darknet_loader),
        cmocka_unit_test(test_compat_loader),
        cmocka_unit_test(test_find_replace_in_place),
        cmocka_unit_test(test_too_many_anchors),
        cmocka_unit_test(test_yolo_mask_freed),
    };
    return cmocka_run_group_tests_name("badimage", tests, setup, teardown);
}
