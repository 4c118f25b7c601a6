/* voc_score.c: an independent PASCAL VOC scorer for the result files that
 * stock Darknet's `detector valid` writes, used by test_crosscheck to check
 * `darknet legr eval`'s mAP@0.5 against a second, separately written
 * implementation.  It shares no code with legr/.
 *
 *   voc_score [-v] [-iou T] [-inclusive] <valid list> <names file> <results>
 *
 * <results> is either a directory holding comp4_det_test_<class>.txt, or a
 * prefix to which <class>.txt is appended (e.g. results/comp4_det_test_).
 * Each result line is "<image id> <prob> <xmin> <ymin> <xmax> <ymax>", in
 * 1-based pixel coordinates of the original image, the image id being the
 * image's file name up to its first '.' (Darknet's basecfg()).
 *
 * Ground truth: for each image of the list, the YOLO label file that Darknet's
 * path rule names (first "images" -> "labels", first "JPEGImages" ->
 * "labels", then the first ".jpg", ".png", ".JPG", ".JPEG" each -> ".txt");
 * a missing file means no objects.  Each line "<class> <cx> <cy> <w> <h>"
 * (relative to the image size) is turned back into VOC pixel corners the way
 * Darknet's voc_label.py made it (cx = ((xmin + xmax) / 2 - 1) / W,
 * w = (xmax - xmin) / W):
 *     xmin = (cx - w/2) W + 1,  xmax = (cx + w/2) W + 1   (and y alike),
 * the same 1-based frame as the detections.  The image size comes from the
 * file header (stb_image's stbi_info; EXIF orientation is not applied).
 *
 * Per class, VOC's definition of average precision:
 *  - detections of the class over all images, by descending confidence
 *    (ties keep file order);
 *  - each is compared with every ground-truth box of its class in its image
 *    and assigned the one of highest IoU; it is a true positive if that IoU
 *    is > T (0.5) and that box has not been taken by an earlier detection
 *    (it is then taken), otherwise a false positive;
 *  - precision p_k and recall r_k after each detection; AP is the area under
 *    the all-point interpolated curve: with r_0 = 0, r_{n+1} = 1,
 *    p_{n+1} = 0, P_k = max_{j >= k} p_j, AP = sum_k (r_k - r_{k-1}) P_k.
 * mAP@0.5 is the mean AP over the classes that have ground truth (a class
 * with ground truth but no detections has AP 0).
 *
 * Boxes are continuous (area (xmax - xmin)(ymax - ymin)); -inclusive uses the
 * VOC devkit's integer-pixel convention instead (width xmax - xmin + 1).
 *
 * Prints per-class lines with -v, then "mAP@0.5 <value>" (the number keeps
 * that name whatever -iou is).  Exit status 0, or 1 on any error. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define STB_IMAGE_IMPLEMENTATION
#include "stb_image.h"

typedef struct {
    double x0, y0, x1, y1;
    int cls;
    int taken;
} gt_box;

typedef struct {
    char *id;          /* basecfg of the path */
    char *path;
    int w, h;
    int n;
    gt_box *box;
} img_t;

typedef struct {
    int img;           /* index into the image table */
    double score;
    double x0, y0, x1, y1;
    long order;        /* line number, for a stable sort */
} det_t;

static int verbose = 0;

static void die(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "voc_score: ");
    fprintf(stderr, fmt, a, b);
    fprintf(stderr, "\n");
    exit(1);
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) { fprintf(stderr, "voc_score: out of memory\n"); exit(1); }
    return q;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d) { fprintf(stderr, "voc_score: out of memory\n"); exit(1); }
    return d;
}

/* One line from fp without its line end ('\n', "\r\n"), malloc'd; NULL at
 * end of file. */
static char *read_line(FILE *fp)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, fp);
    if (n < 0) { free(line); return NULL; }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
    return line;
}

/* s with leading and trailing white space removed (in place). */
static char *trim(char *s)
{
    char *e;
    while (isspace((unsigned char)*s)) ++s;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
    return s;
}

/* The first occurrence of `from` in s replaced by `to` (malloc'd copy). */
static char *replace_first(const char *s, const char *from, const char *to)
{
    const char *p = strstr(s, from);
    size_t ls = strlen(s), lf = strlen(from), lt = strlen(to);
    char *r;
    if (!p) return xstrdup(s);
    r = xrealloc(NULL, ls - lf + lt + 1);
    memcpy(r, s, (size_t)(p - s));
    memcpy(r + (p - s), to, lt);
    strcpy(r + (p - s) + lt, p + lf);
    return r;
}

static char *label_path(const char *image)
{
    static const char *rules[][2] = {
        { "images", "labels" }, { "JPEGImages", "labels" },
        { ".jpg", ".txt" }, { ".png", ".txt" }, { ".JPG", ".txt" }, { ".JPEG", ".txt" },
    };
    char *p = xstrdup(image);
    size_t i;
    for (i = 0; i < sizeof(rules) / sizeof(rules[0]); ++i) {
        char *q = replace_first(p, rules[i][0], rules[i][1]);
        free(p);
        p = q;
    }
    return p;
}

/* File name after the last '/', cut at its first '.'. */
static char *image_id(const char *path)
{
    const char *b = strrchr(path, '/');
    char *id = xstrdup(b ? b + 1 : path), *dot = strchr(id, '.');
    if (dot) *dot = 0;
    return id;
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ------------------------------------------------------------ image table */

static img_t *imgs = NULL;
static int nimgs = 0;
static int *by_id = NULL;   /* image indices sorted by id, for bsearch */

static int cmp_id_idx(const void *a, const void *b)
{
    return strcmp(imgs[*(const int *)a].id, imgs[*(const int *)b].id);
}

static int find_image(const char *id)
{
    int lo = 0, hi = nimgs - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, c = strcmp(id, imgs[by_id[mid]].id);
        if (c == 0) return by_id[mid];
        if (c < 0) hi = mid - 1; else lo = mid + 1;
    }
    return -1;
}

static void load_labels(img_t *im, int nclasses)
{
    char *lp = label_path(im->path), *line;
    FILE *fp = fopen(lp, "r");
    long lineno = 0;
    if (!fp) {
        if (verbose) fprintf(stderr, "voc_score: no label file %s (no objects)\n", lp);
        free(lp);
        return;
    }
    while ((line = read_line(fp))) {
        char *s = trim(line);
        int cls, used = 0;
        double cx, cy, bw, bh;
        ++lineno;
        if (!*s) { free(line); continue; }
        if (sscanf(s, "%d %lf %lf %lf %lf %n", &cls, &cx, &cy, &bw, &bh, &used) != 5) {
            fprintf(stderr, "voc_score: %s:%ld: cannot read \"%s\"\n", lp, lineno, s);
            exit(1);
        }
        if (cls < 0 || cls >= nclasses) {
            fprintf(stderr, "voc_score: %s:%ld: class %d outside 0..%d, ignored\n",
                    lp, lineno, cls, nclasses - 1);
            free(line);
            continue;
        }
        im->box = xrealloc(im->box, sizeof(gt_box) * (size_t)(im->n + 1));
        im->box[im->n].x0 = (cx - bw / 2) * im->w + 1;
        im->box[im->n].x1 = (cx + bw / 2) * im->w + 1;
        im->box[im->n].y0 = (cy - bh / 2) * im->h + 1;
        im->box[im->n].y1 = (cy + bh / 2) * im->h + 1;
        im->box[im->n].cls = cls;
        im->box[im->n].taken = 0;
        im->n++;
        free(line);
    }
    fclose(fp);
    free(lp);
}

static void load_list(const char *list, int nclasses)
{
    FILE *fp = fopen(list, "r");
    char *line;
    int i;
    if (!fp) die("cannot open the valid list %s: %s", list, strerror(errno));
    while ((line = read_line(fp))) {
        char *s = trim(line);
        img_t *im;
        int comp;
        if (!*s) { free(line); continue; }
        imgs = xrealloc(imgs, sizeof(img_t) * (size_t)(nimgs + 1));
        im = &imgs[nimgs++];
        memset(im, 0, sizeof(*im));
        im->path = xstrdup(s);
        im->id = image_id(s);
        if (!stbi_info(im->path, &im->w, &im->h, &comp) || im->w <= 0 || im->h <= 0)
            die("cannot read the size of %s%s", im->path, "");
        load_labels(im, nclasses);
        free(line);
    }
    fclose(fp);
    if (nimgs == 0) die("the valid list %s names no image%s", list, "");
    by_id = xrealloc(NULL, sizeof(int) * (size_t)nimgs);
    for (i = 0; i < nimgs; ++i) by_id[i] = i;
    qsort(by_id, (size_t)nimgs, sizeof(int), cmp_id_idx);
    for (i = 1; i < nimgs; ++i)
        if (!strcmp(imgs[by_id[i]].id, imgs[by_id[i - 1]].id))
            die("two images of the list share the id %s (%s and another)",
                imgs[by_id[i]].id, imgs[by_id[i]].path);
}

/* -------------------------------------------------------------- detections */

static int cmp_det(const void *a, const void *b)
{
    const det_t *x = a, *y = b;
    if (x->score > y->score) return -1;
    if (x->score < y->score) return 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static det_t *load_dets(const char *file, int *n)
{
    FILE *fp = fopen(file, "r");
    det_t *d = NULL;
    char *line;
    long lineno = 0;
    *n = 0;
    if (!fp) die("cannot open the result file %s: %s", file, strerror(errno));
    while ((line = read_line(fp))) {
        char *s = trim(line), id[4096];
        double v[5];
        int k;
        ++lineno;
        if (!*s) { free(line); continue; }
        if (strlen(s) >= sizeof(id) ||
            sscanf(s, "%4095s %lf %lf %lf %lf %lf", id, &v[0], &v[1], &v[2], &v[3], &v[4]) != 6) {
            fprintf(stderr, "voc_score: %s:%ld: cannot read \"%s\"\n", file, lineno, s);
            exit(1);
        }
        k = find_image(id);
        if (k < 0) {
            fprintf(stderr, "voc_score: %s:%ld: image id %s is not in the list\n",
                    file, lineno, id);
            exit(1);
        }
        d = xrealloc(d, sizeof(det_t) * (size_t)(*n + 1));
        d[*n].img = k;
        d[*n].score = v[0];
        d[*n].x0 = v[1];
        d[*n].y0 = v[2];
        d[*n].x1 = v[3];
        d[*n].y1 = v[4];
        d[*n].order = lineno;
        ++*n;
        free(line);
    }
    fclose(fp);
    return d;
}

/* ---------------------------------------------------------------------- AP */

static double iou(const det_t *d, const gt_box *g, double one)
{
    double iw = (d->x1 < g->x1 ? d->x1 : g->x1) - (d->x0 > g->x0 ? d->x0 : g->x0) + one;
    double ih = (d->y1 < g->y1 ? d->y1 : g->y1) - (d->y0 > g->y0 ? d->y0 : g->y0) + one;
    double inter, uni;
    if (iw <= 0 || ih <= 0) return 0;
    inter = iw * ih;
    uni = (d->x1 - d->x0 + one) * (d->y1 - d->y0 + one) +
          (g->x1 - g->x0 + one) * (g->y1 - g->y0 + one) - inter;
    return uni > 0 ? inter / uni : 0;
}

/* AP of class c over detections d (sorted here); *npos gets its number of
 * ground-truth boxes, *ntp the true positives.  -1 when npos is 0. */
static double class_ap(int c, det_t *d, int nd, double thresh, double one,
                       int *npos, int *ntp)
{
    int i, j, tp = 0, fp = 0;
    double *prec, *rec, ap = 0;

    *npos = 0;
    for (i = 0; i < nimgs; ++i)
        for (j = 0; j < imgs[i].n; ++j)
            if (imgs[i].box[j].cls == c) { ++*npos; imgs[i].box[j].taken = 0; }
    *ntp = 0;
    if (*npos == 0) return -1;

    qsort(d, (size_t)nd, sizeof(det_t), cmp_det);
    prec = xrealloc(NULL, sizeof(double) * (size_t)(nd + 2));
    rec = xrealloc(NULL, sizeof(double) * (size_t)(nd + 2));
    for (i = 0; i < nd; ++i) {
        img_t *im = &imgs[d[i].img];
        double best = -1;
        int bj = -1;
        for (j = 0; j < im->n; ++j) {
            double o;
            if (im->box[j].cls != c) continue;
            o = iou(&d[i], &im->box[j], one);
            if (o > best) { best = o; bj = j; }
        }
        if (bj >= 0 && best > thresh && !im->box[bj].taken) {
            im->box[bj].taken = 1;
            ++tp;
        } else {
            ++fp;
        }
        prec[i + 1] = (double)tp / (tp + fp);
        rec[i + 1] = (double)tp / *npos;
    }
    *ntp = tp;
    /* sentinels, precision envelope, area */
    prec[0] = 0;
    rec[0] = 0;
    prec[nd + 1] = 0;
    rec[nd + 1] = 1;
    for (i = nd; i >= 0; --i)
        if (prec[i + 1] > prec[i]) prec[i] = prec[i + 1];
    for (i = 1; i <= nd + 1; ++i)
        if (rec[i] != rec[i - 1]) ap += (rec[i] - rec[i - 1]) * prec[i];
    free(prec);
    free(rec);
    return ap;
}

/* ------------------------------------------------------------------- main */

static void usage(void)
{
    fprintf(stderr,
            "usage: voc_score [-v] [-iou T] [-inclusive] <valid list> <names file> <results dir or prefix>\n"
            "  VOC all-point AP per class at IoU > T (0.5) of stock Darknet's\n"
            "  `detector valid` result files; prints \"mAP@0.5 <value>\" (mean over the\n"
            "  classes that have ground truth), per-class lines with -v.\n");
    exit(1);
}

int main(int argc, char **argv)
{
    const char *arg[3];
    int narg = 0, i, nclasses = 0, counted = 0;
    double thresh = 0.5, one = 0, sum = 0;
    char **names = NULL, *line;
    FILE *fp;
    int prefix_is_dir;

    for (i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "-v")) verbose = 1;
        else if (!strcmp(argv[i], "-inclusive")) one = 1;
        else if (!strcmp(argv[i], "-iou") && i + 1 < argc) thresh = atof(argv[++i]);
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) usage();
        else if (narg < 3) arg[narg++] = argv[i];
        else usage();
    }
    if (narg != 3) usage();

    fp = fopen(arg[1], "r");
    if (!fp) die("cannot open the names file %s: %s", arg[1], strerror(errno));
    while ((line = read_line(fp))) {
        /* Darknet keeps the whole line as the name (only the '\n' goes) */
        names = xrealloc(names, sizeof(char *) * (size_t)(nclasses + 1));
        names[nclasses++] = line;
    }
    fclose(fp);
    while (nclasses > 0 && names[nclasses - 1][0] == 0) free(names[--nclasses]);
    if (nclasses == 0) die("the names file %s names no class%s", arg[1], "");

    load_list(arg[0], nclasses);
    prefix_is_dir = is_dir(arg[2]);

    {
        int total_gt = 0, total_det = 0;
        for (i = 0; i < nclasses; ++i) {
            char *file;
            det_t *d;
            int nd, npos, ntp;
            double ap;
            if (asprintf(&file, prefix_is_dir ? "%s/comp4_det_test_%s.txt" : "%s%s.txt",
                         arg[2], names[i]) < 0) exit(1);
            d = load_dets(file, &nd);
            ap = class_ap(i, d, nd, thresh, one, &npos, &ntp);
            total_gt += npos;
            total_det += nd;
            if (ap >= 0) { sum += ap; ++counted; }
            if (verbose) {
                if (ap >= 0)
                    printf("class %2d %-16s AP %.6f  gt %4d  det %6d  tp %4d\n",
                           i, names[i], ap, npos, nd, ntp);
                else
                    printf("class %2d %-16s AP  -        gt    0  det %6d  (no ground truth)\n",
                           i, names[i], nd);
            }
            free(d);
            free(file);
        }
        if (verbose)
            printf("images %d  ground-truth boxes %d  detections %d  classes with ground truth %d\n",
                   nimgs, total_gt, total_det, counted);
    }
    if (counted == 0) die("no class has ground truth in %s%s", arg[0], "");
    printf("mAP@0.5 %.6f\n", sum / counted);
    return 0;
}
