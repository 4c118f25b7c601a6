/* test_crosscheck.c: `darknet legr eval`'s mAP@0.5 checked against a second,
 * independent scoring of the same model on the same images.
 *
 * On the zoo's Yolo-Fastest 1.1 (COCO) and the 128 coco128-val images:
 *  1. stock Debian Darknet (/usr/bin/darknet detector valid, run with a
 *     temporary directory as its cwd so its results/ lands there) writes its
 *     VOC result files results/comp4_det_test_<class>.txt;
 *  2. build/tests/voc_score (tests/voc_score.c, which shares no code with
 *     legr/) scores them: per-class VOC all-point AP at IoU > 0.5 against the
 *     YOLO label files, mean over the classes with ground truth;
 *  3. ./darknet legr eval runs the same .data/cfg/weights and writes -json.
 * The two mAP@0.5 must agree within 0.005, and both must have seen the same
 * number of images and ground-truth boxes.  Everything is written under a
 * temporary directory ($TMPDIR or /tmp, which may be on another filesystem:
 * every path given to the programs is absolute) and removed afterwards.
 * Skips, saying why, when the zoo is absent. */
#define _GNU_SOURCE
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <jansson.h>

#include "testutil.h"

#define VOC_SCORE  "build/tests/voc_score"
#define MAP_TOL    0.005

/* The temporary directory, removed by the teardown even after a failed
 * assertion. */
static char *tmp_dir = NULL;

static int teardown(void **state)
{
    tu_rmtree(tmp_dir);
    free(tmp_dir);
    tmp_dir = NULL;
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Absolute form of an existing path, malloc'd (NULL if it cannot be
 * resolved). */
static char *absolute(const char *p)
{
    return p ? realpath(p, NULL) : NULL;
}

static int is_image_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg") ||
                   !strcasecmp(dot, ".png"));
}

typedef struct {
    char **p;
    int n;
} path_list;

/* Every image file under dir (recursively), absolute paths. */
static void collect_images(const char *dir, path_list *l)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d) return;
    while ((e = readdir(d))) {
        char *p;
        struct stat st;
        if (e->d_name[0] == '.') continue;
        p = tu_path(dir, e->d_name);
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            collect_images(p, l);
            free(p);
        } else if (S_ISREG(st.st_mode) && is_image_name(e->d_name)) {
            l->p = realloc(l->p, sizeof(char *) * (l->n + 1));
            l->p[l->n++] = p;
        } else {
            free(p);
        }
    }
    closedir(d);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The number at section.key of a JSON text, parsed by jansson; NAN when
 * the text is not JSON or the number is absent. */
static double json_number(const char *json, const char *section, const char *key)
{
    json_error_t e;
    json_t *root = json ? json_loads(json, 0, &e) : NULL;
    json_t *v = json_object_get(json_object_get(root, section), key);
    double x = json_is_number(v) ? json_number_value(v) : NAN;
    json_decref(root);
    return x;
}

/* The number after "prefix" on the first output line starting with it. */
static double line_number(const char *text, const char *prefix)
{
    char *line = NULL, *stop;
    double v = NAN;
    if (tu_count_lines_with_prefix(text, prefix, &line) >= 1) {
        v = strtod(line + strlen(prefix), &stop);
        if (stop == line + strlen(prefix)) v = NAN;
    }
    free(line);
    return v;
}

/* Last `max` characters of s (for error output). */
static const char *tail(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    return !s ? "" : n > max ? s + n - max : s;
}

/* Scores the images with stock `detector valid` + voc_score and with
 * `legr eval`, and compares (absolute paths everywhere). */
static void run_crosscheck(const char *cfg, const char *wts, const char *names,
                           char **imgp, int nimg, int classes)
{
    char *dir, *list, *data, *results, *json, *text, *cmd, *out = NULL, *err = NULL, *eval_json;
    double t0, t_stock, t_score, t_eval, map_voc, map_legr, diff;
    double voc_images, voc_boxes, legr_images, legr_boxes;
    int rc, i, nresults;
    size_t len = 0;
    path_list imgs = { imgp, nimg };

    dir = tmp_dir = tu_mkdtemp("crosscheck");
    list = tu_path(dir, "valid.list");
    data = tu_path(dir, "crosscheck.data");
    results = tu_path(dir, "results");
    json = tu_path(dir, "eval.json");

    text = strdup("");
    for (i = 0; i < imgs.n; ++i) {
        char *t = tu_fmt("%s%s\n", text, imgs.p[i]);
        free(text);
        text = t;
    }
    assert_int_equal(tu_write_text(list, text), 0);
    free(text);
    /* no eval= line: stock would write COCO json instead of VOC files */
    text = tu_fmt("classes=%d\nvalid=%s\nnames=%s\n", classes, list, names);
    assert_int_equal(tu_write_text(data, text), 0);
    free(text);
    /* stock fopen()s results/<file> without creating the directory */
    assert_int_equal(mkdir(results, 0755), 0);
    printf("%d images; model %s\n", imgs.n, cfg);

    /* 1. stock Darknet */
    {
        char *qd = tu_quote(dir), *qdata = tu_quote(data), *qc = tu_quote(cfg),
             *qw = tu_quote(wts);
        cmd = tu_fmt("cd %s && %s detector valid %s %s %s", qd, TU_STOCK_DARKNET,
                     qdata, qc, qw);
        free(qd); free(qdata); free(qc); free(qw);
    }
    t0 = now_s();
    rc = tu_run(cmd, &out, &err);
    t_stock = now_s() - t0;
    if (rc != 0) print_error("`%s` exited with %d; stderr tail:\n%s\n", cmd, rc, tail(err, 2000));
    assert_int_equal(rc, 0);
    free(cmd); free(out); free(err);
    nresults = tu_dir_entries(results, NULL);
    printf("stock detector valid: %d result files in %.1f s\n", nresults, t_stock);
    assert_int_equal(nresults, classes);

    /* 2. the independent scorer */
    {
        char *ql = tu_quote(list), *qn = tu_quote(names), *qr = tu_quote(results);
        cmd = tu_fmt("%s -v %s %s %s", VOC_SCORE, ql, qn, qr);
        free(ql); free(qn); free(qr);
    }
    t0 = now_s();
    rc = tu_run(cmd, &out, &err);
    t_score = now_s() - t0;
    if (rc != 0) print_error("`%s` exited with %d; stderr:\n%s\n", cmd, rc, tail(err, 2000));
    assert_int_equal(rc, 0);
    map_voc = line_number(out, "mAP@0.5 ");
    voc_images = line_number(out, "images ");
    {
        char *line = NULL;
        const char *b;
        voc_boxes = NAN;
        if (tu_count_lines_with_prefix(out, "images ", &line) >= 1 &&
            (b = strstr(line, "ground-truth boxes ")))
            voc_boxes = strtod(b + strlen("ground-truth boxes "), NULL);
        free(line);
    }
    free(cmd);
    free(err);
    if (!isfinite(map_voc)) print_error("voc_score printed no mAP@0.5 line:\n%s\n", out);
    assert_true(isfinite(map_voc));

    /* 3. legr eval, from the repository root */
    {
        char *qdata = tu_quote(data), *qc = tu_quote(cfg), *qw = tu_quote(wts),
             *qj = tu_quote(json);
        cmd = tu_fmt("%s legr eval %s %s %s -json %s", TU_OUR_DARKNET, qdata, qc, qw, qj);
        free(qdata); free(qc); free(qw); free(qj);
    }
    {
        char *eout = NULL, *eerr = NULL;
        t0 = now_s();
        rc = tu_run(cmd, &eout, &eerr);
        t_eval = now_s() - t0;
        if (rc != 0) print_error("`%s` exited with %d; stderr tail:\n%s\n", cmd, rc, tail(eerr, 2000));
        assert_int_equal(rc, 0);
        free(eout);
        free(eerr);
    }
    free(cmd);
    eval_json = tu_read_file(json, &len);
    assert_non_null(eval_json);
    map_legr = json_number(eval_json, "plain", "map50");
    legr_images = json_number(eval_json, "plain", "images");
    legr_boxes = json_number(eval_json, "plain", "boxes");
    if (!isfinite(map_legr)) print_error("no \"plain\": {\"map50\": ...} in %s:\n%s\n", json, eval_json);
    assert_true(isfinite(map_legr));

    diff = fabs(map_voc - map_legr);
    printf("stock detector valid + voc_score: mAP@0.5 %.6f  (%.0f images, %.0f boxes; %.1f s + %.1f s)\n",
           map_voc, voc_images, voc_boxes, t_stock, t_score);
    printf("legr eval:                        mAP@0.5 %.6f  (%.0f images, %.0f boxes; %.1f s)\n",
           map_legr, legr_images, legr_boxes, t_eval);
    printf("|difference| %.6f (tolerance %.3f)\n", diff, MAP_TOL);
    if (diff > MAP_TOL) printf("voc_score per class:\n%s", out);
    free(out);

    assert_true(voc_images == imgs.n);
    assert_true(legr_images == imgs.n);
    assert_true(voc_boxes == legr_boxes);
    assert_true(diff <= MAP_TOL);

    free(eval_json);
    free(list); free(data); free(results); free(json);
}


static void test_crosscheck_yolo_fastest(void **state)
{
    char *cfg_z = tu_zoo_file("yolo-fastest-1.1-coco/yolo-fastest-1.1.cfg");
    char *wts_z = cfg_z ? tu_zoo_file("yolo-fastest-1.1-coco/yolo-fastest-1.1.weights") : NULL;
    char *names_z = wts_z ? tu_zoo_file("yolo-fastest-1.1-coco/coco.names") : NULL;
    char *imgs_z = names_z ? tu_zoo_file("coco128-val/images") : NULL;
    char *labels_z = imgs_z ? tu_zoo_file("coco128-val/labels") : NULL;
    char *cfg, *wts, *names, *imgdir;
    path_list imgs = { NULL, 0 };
    int i;

    if (!labels_z) {
        free(cfg_z); free(wts_z); free(names_z); free(imgs_z);
        skip();
        return;
    }
    if (!tu_exists(TU_STOCK_DARKNET)) {
        printf("SKIP reason: stock Darknet %s is not installed\n", TU_STOCK_DARKNET);
        free(cfg_z); free(wts_z); free(names_z); free(imgs_z); free(labels_z);
        skip();
        return;
    }
    if (!tu_exists(VOC_SCORE)) {
        print_error("%s is missing: build it with `make %s` (tests/voc_score.mk)\n",
                    VOC_SCORE, VOC_SCORE);
        fail();
    }

    /* absolute paths: stock Darknet runs with the temporary directory as cwd */
    cfg = absolute(cfg_z);
    wts = absolute(wts_z);
    names = absolute(names_z);
    imgdir = absolute(imgs_z);
    assert_non_null(cfg);
    assert_non_null(wts);
    assert_non_null(names);
    assert_non_null(imgdir);

    collect_images(imgdir, &imgs);
    assert_true(imgs.n > 0);
    qsort(imgs.p, imgs.n, sizeof(char *), cmp_str);

    run_crosscheck(cfg, wts, names, imgs.p, imgs.n, 80);
    for (i = 0; i < imgs.n; ++i) free(imgs.p[i]);
    free(imgs.p);
    free(cfg); free(wts); free(names); free(imgdir);
    free(cfg_z); free(wts_z); free(names_z); free(imgs_z); free(labels_z);
}

/* The project's own demo data: the trained Fashion-MNIST detector on the
 * first 100 images of the generated validation set. */
static void test_crosscheck_fashion_det(void **state)
{
    assert_int_equal(tu_run("./scripts/make-data.sh", NULL, NULL), 0);
    char *cfg = absolute("cfg/fashion-det.cfg"), *wts = absolute("models/fashion-det.weights");
    char *names = absolute("data/fashion-det/fashion.names");
    assert_non_null(cfg);
    assert_non_null(wts);
    assert_non_null(names);
    char *text = tu_read_file("data/fashion-det/val.txt", NULL);
    assert_non_null(text);
    char *imgs[100];
    int n = 0;
    for (char *line = strtok(text, "\n"); line && n < 100; line = strtok(NULL, "\n"))
        imgs[n++] = line;
    assert_int_equal(n, 100);
    run_crosscheck(cfg, wts, names, imgs, n, 10);
    free(text);
    free(cfg); free(wts); free(names);
}

int main(void)
{
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_crosscheck_yolo_fastest, teardown),
        cmocka_unit_test_teardown(test_crosscheck_fashion_det, teardown),
    };
    return cmocka_run_group_tests_name("crosscheck", tests, NULL, NULL);
}
