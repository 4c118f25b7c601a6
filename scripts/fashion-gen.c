/*
 * fashion-gen.c: builds darknet-legr's embedded default data sets from
 * Fashion-MNIST (Debian package dataset-fashion-mnist, MIT licence).
 *
 *   fashion-gen [options] [OUTDIR]          (OUTDIR defaults to "data")
 *
 * Writes, reproducibly from --seed:
 *
 *   OUTDIR/fashion-det/   detection set for Darknet's `detector` commands:
 *       images/{train,val,test}/NNNNNN.png   160x160 RGB canvases, 1-6 garments
 *                                            (IoU < 0.2, <40% of a box covered)
 *       labels/{train,val,test}/NNNNNN.txt   YOLO boxes "class cx cy w h"
 *       train.txt val.txt test.txt           absolute image paths
 *       fashion.names fashion-det.data
 *
 *   OUTDIR/fashion-cls/   classification set for Darknet's `classifier`:
 *       {train,val,test}/NNNNN_<token>.png   28x28 images padded to 32x32
 *       train.txt val.txt test.txt labels.txt fashion-cls.data
 *
 * Darknet's classifier takes an image's label to be the one label token that
 * occurs as a substring of its path, so the tokens below are chosen such that
 * none contains another, and every path written is checked to contain exactly
 * its own token.  Darknet's detector finds labels by replacing "images" with
 * "labels" and ".png" with ".txt" (first occurrence), which is checked too.
 *
 * Train sets come from the 60k training images; val and test sets from the
 * first and second halves of the 10k test images, so they are disjoint.
 *
 * Every canvas / image is generated from its own PRNG stream (legr/rng.c's
 * splitmix64, seeded from seed, set and index), so the output does not
 * depend on the number of worker threads.  The embedded models were trained
 * on these pixels: the streams, and every draw made from them, must not
 * change.
 *
 * PNGs are written by Darknet's stb_image_write.h (deflated by zlib); the
 * label path rule is legr/labelpath.c's (by Darknet's find_replace).  Built
 * by the top-level Makefile (make build/fashion-gen, which
 * scripts/make-data.sh runs) with legr/rng.c, legr/labelpath.c and Darknet's
 * src/utils.c and src/list.c from the patched tree; zlib reads the .gz files
 * and deflates the PNGs.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <zlib.h>

#include "labelpath.h"
#include "rng.h"

/* stb_image_write's PNGs deflated by zlib (its documented hook): about twice
 * as fast as its own compressor on the noisy canvases, and smaller */
static unsigned char *zlib_deflate(unsigned char *data, int len, int *out_len, int level)
{
    uLongf n = compressBound((uLong)len);
    unsigned char *z = malloc(n);
    if (!z || compress2(z, &n, data, (uLong)len, level) != Z_OK) {
        free(z);
        return NULL;
    }
    *out_len = (int)n;
    return z;
}
#define STBIW_ZLIB_COMPRESS zlib_deflate
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include "stb_image_write.h"

#define NCLASS 10
#define CANVAS 160
#define CLS_SIZE 32
#define MAX_GARMENTS 6

/* Fashion-MNIST class order.  No token is a substring of another one. */
static const char *TOKENS[NCLASS] = {
    "tee",     /* T-shirt/top */
    "trouser", /* Trouser */
    "pullover",/* Pullover */
    "dress",   /* Dress */
    "coat",    /* Coat */
    "sandal",  /* Sandal */
    "shirt",   /* Shirt */
    "sneaker", /* Sneaker */
    "bag",     /* Bag */
    "boot",    /* Ankle boot */
};

/* ------------------------------------------------------------------ */
/* small utilities                                                     */

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fashion-gen: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static double now_s(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return tv.tv_sec + tv.tv_usec * 1e-6;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) die("out of memory (%zu bytes)", n);
    return p;
}

/* snprintf that refuses to truncate a path */
static void pathf(char *out, size_t sz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void pathf(char *out, size_t sz, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, sz, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sz) die("path too long (%s...)", out);
}

/* mkdir -p */
static void make_dirs(const char *path)
{
    char buf[PATH_MAX];
    size_t len = strlen(path);
    if (len >= sizeof buf) die("path too long: %s", path);
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                die("cannot create directory %s: %s", buf, strerror(errno));
            buf[i] = c;
        }
    }
}

static FILE *open_out(const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f) die("cannot write %s: %s", path, strerror(errno));
    return f;
}

static void close_out(FILE *f, const char *path)
{
    if (ferror(f) | fclose(f)) die("write error on %s", path);
}

/* ------------------------------------------------------------------ */
/* PRNG: one independent stream of legr/rng.c per generated item        */

static legr_rng rng_stream(uint64_t seed, uint64_t set, uint64_t index)
{
    legr_rng r;
    legr_rng_seed(&r, seed * 0xD1342543DE82EF95ULL + 0x2545F4914F6CDD1DULL);
    uint64_t z = legr_rng_next(&r);
    r.s ^= z + set * 0xA0761D6478BD642FULL;
    z = legr_rng_next(&r);
    r.s ^= z + index * 0xE7037ED1A0B428DBULL;
    legr_rng_next(&r);
    return r;
}

static double rng_uniform(legr_rng *r, double lo, double hi) { return lo + (hi - lo) * legr_rng_double(r); }

/* ------------------------------------------------------------------ */
/* gzipped IDX files                                                   */

typedef struct {
    int n, rows, cols;
    unsigned char *px;  /* n*rows*cols */
    unsigned char *lab; /* n */
} idxset;

static unsigned char *read_gz(const char *path, size_t *len)
{
    gzFile g = gzopen(path, "rb");
    if (!g) die("cannot open %s (is dataset-fashion-mnist installed?)", path);
    size_t cap = 1 << 20, n = 0;
    unsigned char *buf = xmalloc(cap);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            if (!buf) die("out of memory reading %s", path);
        }
        int got = gzread(g, buf + n, (unsigned)(cap - n > (1u << 30) ? (1u << 30) : cap - n));
        if (got < 0) {
            int e;
            die("gzip error in %s: %s", path, gzerror(g, &e));
        }
        if (got == 0) break;
        n += (size_t)got;
    }
    gzclose(g);
    *len = n;
    return buf;
}

static uint32_t be32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static idxset load_idx(const char *dir, const char *prefix)
{
    char ip[PATH_MAX], lp[PATH_MAX];
    pathf(ip, sizeof ip, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
    pathf(lp, sizeof lp, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
    size_t ilen, llen;
    unsigned char *ib = read_gz(ip, &ilen);
    unsigned char *lb = read_gz(lp, &llen);
    if (ilen < 16 || be32(ib) != 0x803) die("%s: not an IDX image file", ip);
    if (llen < 8 || be32(lb) != 0x801) die("%s: not an IDX label file", lp);
    idxset s;
    s.n = (int)be32(ib + 4);
    s.rows = (int)be32(ib + 8);
    s.cols = (int)be32(ib + 12);
    if ((int)be32(lb + 4) != s.n) die("%s and %s disagree on the count", ip, lp);
    if (s.rows != 28 || s.cols != 28) die("%s: expected 28x28 images", ip);
    if (ilen < 16 + (size_t)s.n * 784 || llen < 8 + (size_t)s.n) die("%s: truncated", ip);
    s.px = xmalloc((size_t)s.n * 784);
    s.lab = xmalloc((size_t)s.n);
    memcpy(s.px, ib + 16, (size_t)s.n * 784);
    memcpy(s.lab, lb + 8, (size_t)s.n);
    for (int i = 0; i < s.n; i++)
        if (s.lab[i] >= NCLASS) die("%s: label %d out of range", lp, s.lab[i]);
    free(ib);
    free(lb);
    return s;
}

/* ------------------------------------------------------------------ */
/* PNG writer: Darknet's stb_image_write (8-bit grey or RGB)             */

static void write_png(const char *path, const unsigned char *px, int w, int h, int ch)
{
    if (!stbi_write_png(path, w, h, ch, px, w * ch)) die("cannot write %s: %s", path, strerror(errno));
}

/* ------------------------------------------------------------------ */
/* Darknet path rules                                                  */

/* Exactly one token must occur in a classifier path: its own. */
static void check_cls_path(const char *path, int cls)
{
    for (int k = 0; k < NCLASS; k++) {
        int has = strstr(path, TOKENS[k]) != NULL;
        if (has != (k == cls))
            die("label token \"%s\" %s in \"%s\": Darknet's classifier would mislabel it "
                "(choose an output directory whose path contains none of the class tokens)",
                TOKENS[k], has ? "occurs" : "does not occur", path);
    }
}

static void check_tokens(void)
{
    for (int i = 0; i < NCLASS; i++)
        for (int j = 0; j < NCLASS; j++)
            if (i != j && strstr(TOKENS[i], TOKENS[j]))
                die("internal: token %s contains %s", TOKENS[i], TOKENS[j]);
}

/* ------------------------------------------------------------------ */
/* detection canvases                                                  */

typedef struct { int x, y, w, h, cls; } gbox;

/* Limited overlap: IoU < 0.2, and neither box more than 40% covered by the
 * other (IoU alone would let a small garment hide inside a large one). */
static int overlap_ok(const gbox *a, const gbox *b)
{
    int x0 = a->x > b->x ? a->x : b->x, y0 = a->y > b->y ? a->y : b->y;
    int x1 = a->x + a->w < b->x + b->w ? a->x + a->w : b->x + b->w;
    int y1 = a->y + a->h < b->y + b->h ? a->y + a->h : b->y + b->h;
    if (x1 <= x0 || y1 <= y0) return 1;
    double in = (double)(x1 - x0) * (y1 - y0);
    double aa = (double)a->w * a->h, ab = (double)b->w * b->h;
    return in / (aa + ab - in) < 0.2 && in < 0.4 * (aa < ab ? aa : ab);
}

static double luma(const double c[3]) { return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]; }

static unsigned char clamp8(double v) { return v <= 0 ? 0 : v >= 255 ? 255 : (unsigned char)(v + 0.5); }

#define CROP_THRESH 10  /* a pixel belongs to the garment above this value */

/* Renders one canvas into rgb[CANVAS*CANVAS*3]; returns the number of boxes. */
static int make_canvas(const idxset *src, int lo, int hi, legr_rng *r, unsigned char *rgb, gbox *boxes)
{
    /* background: base colour, soft linear gradient, low-amplitude noise */
    double base[3], grad[3];
    double bl = rng_uniform(r, 20, 235);
    for (int c = 0; c < 3; c++) base[c] = bl + rng_uniform(r, -25, 25);
    double ang = rng_uniform(r, 0, 2 * M_PI), gx = cos(ang), gy = sin(ang);
    double gamp = rng_uniform(r, 8, 35);
    for (int c = 0; c < 3; c++) grad[c] = gamp * rng_uniform(r, 0.6, 1.0);
    double namp = rng_uniform(r, 2, 8);
    double bg_luma = luma(base);
    static const double half = CANVAS / 2.0;
    for (int y = 0; y < CANVAS; y++) {
        for (int x = 0; x < CANVAS; x++) {
            double t = ((x - half) * gx + (y - half) * gy) / half; /* -1.4..1.4 */
            double n = namp * (legr_rng_double(r) + legr_rng_double(r) - 1.0);     /* triangular */
            unsigned char *p = rgb + 3 * (y * CANVAS + x);
            for (int c = 0; c < 3; c++) p[c] = clamp8(base[c] + grad[c] * t + n);
        }
    }

    int want = 1 + (int)legr_rng_below(r, MAX_GARMENTS), nb = 0;
    for (int g = 0; g < want; g++) {
        int k = lo + (int)legr_rng_below(r, (uint32_t)(hi - lo));
        const unsigned char *im = src->px + (size_t)k * 784;
        int cls = src->lab[k];

        /* tight bounding box of the garment */
        int x0 = 28, y0 = 28, x1 = -1, y1 = -1;
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++)
                if (im[y * 28 + x] > CROP_THRESH) {
                    if (x < x0) x0 = x;
                    if (x > x1) x1 = x;
                    if (y < y0) y0 = y;
                    if (y > y1) y1 = y;
                }
        if (x1 < 0) continue; /* blank image */
        int cw = x1 - x0 + 1, ch = y1 - y0 + 1;

        double s = rng_uniform(r, 0.8, 2.2);
        gbox b;
        b.w = (int)lround(cw * s);
        b.h = (int)lround(ch * s);
        if (b.w < 3) b.w = 3;
        if (b.h < 3) b.h = 3;
        b.cls = cls;

        /* placement with limited overlap */
        int placed = 0;
        for (int tries = 0; tries < 40 && !placed; tries++) {
            b.x = (int)legr_rng_below(r, (uint32_t)(CANVAS - b.w + 1));
            b.y = (int)legr_rng_below(r, (uint32_t)(CANVAS - b.h + 1));
            placed = 1;
            for (int j = 0; j < nb; j++)
                if (!overlap_ok(&b, &boxes[j])) { placed = 0; break; }
        }
        if (!placed) continue;

        /* tint: a random colour whose shaded luma stands off the background */
        double tint[3];
        int ok = 0;
        for (int tries = 0; tries < 64 && !ok; tries++) {
            for (int c = 0; c < 3; c++) tint[c] = rng_uniform(r, 0, 255);
            ok = fabs(0.8 * luma(tint) - bg_luma) > 60;
        }
        if (!ok) {
            double v = bg_luma > 128 ? 40 : 240;
            for (int c = 0; c < 3; c++) tint[c] = v;
        }

        /* bilinear resampling of the crop, alpha from intensity */
        double sx = (double)cw / b.w, sy = (double)ch / b.h;
        for (int oy = 0; oy < b.h; oy++) {
            double fy = (oy + 0.5) * sy - 0.5;
            if (fy < 0) fy = 0;
            if (fy > ch - 1) fy = ch - 1;
            int iy = (int)fy;
            int iy1 = iy + 1 < ch ? iy + 1 : iy;
            double wy = fy - iy;
            for (int ox = 0; ox < b.w; ox++) {
                double fx = (ox + 0.5) * sx - 0.5;
                if (fx < 0) fx = 0;
                if (fx > cw - 1) fx = cw - 1;
                int ix = (int)fx;
                int ix1 = ix + 1 < cw ? ix + 1 : ix;
                double wx = fx - ix;
                const unsigned char *r0 = im + (y0 + iy) * 28 + x0, *r1 = im + (y0 + iy1) * 28 + x0;
                double v = (1 - wy) * ((1 - wx) * r0[ix] + wx * r0[ix1]) + wy * ((1 - wx) * r1[ix] + wx * r1[ix1]);
                double a = (v - 8) / 40.0;
                if (a <= 0) continue;
                if (a > 1) a = 1;
                double shade = 0.3 + 0.7 * v / 255.0;
                unsigned char *p = rgb + 3 * ((b.y + oy) * CANVAS + b.x + ox);
                for (int c = 0; c < 3; c++) p[c] = clamp8(p[c] * (1 - a) + tint[c] * shade * a);
            }
        }
        boxes[nb++] = b;
    }
    return nb;
}

/* ------------------------------------------------------------------ */
/* jobs                                                                */

enum { SET_DET_TRAIN = 1, SET_DET_VAL, SET_DET_TEST, SET_CLS_TRAIN, SET_CLS_VAL, SET_CLS_TEST };

typedef struct {
    const idxset *src;
    int lo, hi;          /* pool of source indices [lo,hi) */
    int n;               /* items to write */
    int set;             /* PRNG stream id */
    int det;             /* 1: canvases, 0: classifier images */
    const int *pick;     /* classifier: source index per item */
    const char *imgdir;  /* absolute */
    const char *lbldir;  /* detection only */
    uint64_t seed;
    int nthreads;
    int *counts;         /* boxes per canvas */
} job_t;

typedef struct { const job_t *job; int t; } worker_t;

static void item_path(const job_t *j, int i, char *out, size_t sz)
{
    if (j->det)
        pathf(out, sz, "%s/%06d.png", j->imgdir, i);
    else
        pathf(out, sz, "%s/%05d_%s.png", j->imgdir, j->pick[i], TOKENS[j->src->lab[j->pick[i]]]);
}

static void *worker(void *arg)
{
    const worker_t *w = arg;
    const job_t *j = w->job;
    unsigned char *rgb = xmalloc(CANVAS * CANVAS * 3);
    char path[PATH_MAX], lpath[PATH_MAX];
    for (int i = w->t; i < j->n; i += j->nthreads) {
        item_path(j, i, path, sizeof path);
        if (j->det) {
            legr_rng r = rng_stream(j->seed, (uint64_t)j->set, (uint64_t)i);
            gbox boxes[MAX_GARMENTS];
            int nb = make_canvas(j->src, j->lo, j->hi, &r, rgb, boxes);
            j->counts[i] = nb;
            write_png(path, rgb, CANVAS, CANVAS, 3);
            pathf(lpath, sizeof lpath, "%s/%06d.txt", j->lbldir, i);
            FILE *f = open_out(lpath);
            for (int b = 0; b < nb; b++)
                fprintf(f, "%d %.6f %.6f %.6f %.6f\n", boxes[b].cls,
                        (boxes[b].x + boxes[b].w / 2.0) / CANVAS, (boxes[b].y + boxes[b].h / 2.0) / CANVAS,
                        (double)boxes[b].w / CANVAS, (double)boxes[b].h / CANVAS);
            close_out(f, lpath);
        } else {
            const unsigned char *im = j->src->px + (size_t)j->pick[i] * 784;
            unsigned char g[CLS_SIZE * CLS_SIZE];
            int pad = (CLS_SIZE - 28) / 2;
            memset(g, 0, sizeof g);
            for (int y = 0; y < 28; y++) memcpy(g + (y + pad) * CLS_SIZE + pad, im + y * 28, 28);
            write_png(path, g, CLS_SIZE, CLS_SIZE, 1);
        }
    }
    free(rgb);
    return NULL;
}

static void run_job(job_t *j)
{
    pthread_t th[64];
    worker_t w[64];
    int nt = j->nthreads;
    for (int t = 0; t < nt; t++) {
        w[t].job = j;
        w[t].t = t;
        if (pthread_create(&th[t], NULL, worker, &w[t]) != 0) die("cannot start a thread");
    }
    for (int t = 0; t < nt; t++) pthread_join(th[t], NULL);
}

static void write_list(const job_t *j, const char *listpath)
{
    char path[PATH_MAX];
    FILE *f = open_out(listpath);
    for (int i = 0; i < j->n; i++) {
        item_path(j, i, path, sizeof path);
        fprintf(f, "%s\n", path);
    }
    close_out(f, listpath);
}

/* Fisher-Yates over [lo,hi), first n kept, then sorted for tidy lists. */
static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

static int *choose(uint64_t seed, int set, int lo, int hi, int n)
{
    int m = hi - lo;
    int *all = xmalloc(sizeof(int) * (size_t)m);
    for (int i = 0; i < m; i++) all[i] = lo + i;
    legr_rng r = rng_stream(seed, (uint64_t)set, 0xFFFFFFFFu);
    for (int i = 0; i < n; i++) {
        int k = i + (int)legr_rng_below(&r, (uint32_t)(m - i));
        int t = all[i]; all[i] = all[k]; all[k] = t;
    }
    qsort(all, (size_t)n, sizeof(int), cmp_int);
    return all;
}

/* ------------------------------------------------------------------ */
/* main                                                                */

static void usage(FILE *f)
{
    fprintf(f,
        "usage: fashion-gen [options] [OUTDIR]   (default OUTDIR: data)\n"
        "  --seed N         PRNG seed (default 1)\n"
        "  --det-train N    detection canvases from the 60k training images (default 24000)\n"
        "  --det-val N      ... from test images 0-4999 (default 500)\n"
        "  --det-test N     ... from test images 5000-9999 (default 500)\n"
        "  --cls-train N    classifier images, <= 60000 (default 60000)\n"
        "  --cls-val N      <= 5000, from test images 0-4999 (default 5000)\n"
        "  --cls-test N     <= 5000, from test images 5000-9999 (default 5000)\n"
        "  --no-det, --no-cls   skip a set\n"
        "  --src DIR        Fashion-MNIST .gz files (default /usr/share/datasets/fashion-mnist)\n"
        "  --backup DIR     backup= written into the .data files (default OUTDIR/../backup)\n"
        "  --level N        PNG deflate level 1-9 (default 1: fastest)\n"
        "  -j N             worker threads (default: online CPUs, at most 16)\n");
}

static long parse_num(const char *opt, const char *v, long lo, long hi)
{
    char *end;
    if (!v) die("%s needs a value", opt);
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || *end || end == v || x < lo || x > hi) die("%s: bad value \"%s\" (%ld..%ld)", opt, v, lo, hi);
    return x;
}

static void abs_path(const char *p, char *out)
{
    if (!realpath(p, out)) die("cannot resolve %s: %s", p, strerror(errno));
}

int main(int argc, char **argv)
{
    uint64_t seed = 1;
    int det_n[3] = {24000, 500, 500}, cls_n[3] = {60000, 5000, 5000};
    int do_det = 1, do_cls = 1, level = 1;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int nthreads = ncpu < 1 ? 1 : ncpu > 16 ? 16 : (int)ncpu;
    const char *src = "/usr/share/datasets/fashion-mnist", *outdir = "data", *backup = NULL;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--seed")) { seed = (uint64_t)parse_num(a, v, 0, LONG_MAX); i++; }
        else if (!strcmp(a, "--det-train")) { det_n[0] = (int)parse_num(a, v, 0, 10000000); i++; }
        else if (!strcmp(a, "--det-val")) { det_n[1] = (int)parse_num(a, v, 0, 10000000); i++; }
        else if (!strcmp(a, "--det-test")) { det_n[2] = (int)parse_num(a, v, 0, 10000000); i++; }
        else if (!strcmp(a, "--cls-train")) { cls_n[0] = (int)parse_num(a, v, 0, 60000); i++; }
        else if (!strcmp(a, "--cls-val")) { cls_n[1] = (int)parse_num(a, v, 0, 5000); i++; }
        else if (!strcmp(a, "--cls-test")) { cls_n[2] = (int)parse_num(a, v, 0, 5000); i++; }
        else if (!strcmp(a, "--no-det")) do_det = 0;
        else if (!strcmp(a, "--no-cls")) do_cls = 0;
        else if (!strcmp(a, "--src")) { if (!v) die("--src needs a value"); src = v; i++; }
        else if (!strcmp(a, "--backup")) { if (!v) die("--backup needs a value"); backup = v; i++; }
        else if (!strcmp(a, "--level")) { level = (int)parse_num(a, v, 1, 9); i++; }
        else if (!strcmp(a, "-j")) { nthreads = (int)parse_num(a, v, 1, 64); i++; }
        else if (a[0] == '-') { usage(stderr); die("unknown option %s", a); }
        else outdir = a;
    }
    check_tokens();
    stbi_write_png_compression_level = level;

    char root[PATH_MAX], bdir[PATH_MAX];
    make_dirs(outdir);
    abs_path(outdir, root);
    if (backup) {
        make_dirs(backup);
        abs_path(backup, bdir);
    } else {
        pathf(bdir, sizeof bdir, "%s/../backup", root);
        make_dirs(bdir);
        char tmp[PATH_MAX];
        abs_path(bdir, tmp);
        pathf(bdir, sizeof bdir, "%s", tmp);
    }

    double t0 = now_s();
    idxset train = load_idx(src, "train"), test = load_idx(src, "t10k");
    if (train.n != 60000 || test.n != 10000) die("unexpected Fashion-MNIST sizes %d/%d", train.n, test.n);
    printf("fashion-gen: read Fashion-MNIST from %s in %.1f s (seed %llu, %d threads)\n",
           src, now_s() - t0, (unsigned long long)seed, nthreads);
    fflush(stdout);

    static const char *split[3] = {"train", "val", "test"};
    const idxset *pool[3] = {&train, &test, &test};
    const int lo[3] = {0, 0, 5000}, hi[3] = {60000, 5000, 10000};
    char p[PATH_MAX], q[PATH_MAX], lists[3][PATH_MAX];

    if (do_det) {
        char base[PATH_MAX];
        pathf(base, sizeof base, "%s/fashion-det", root);
        for (int s = 0; s < 3; s++) {
            double t = now_s();
            char imgdir[PATH_MAX], lbldir[PATH_MAX];
            pathf(imgdir, sizeof imgdir, "%s/images/%s", base, split[s]);
            pathf(lbldir, sizeof lbldir, "%s/labels/%s", base, split[s]);
            make_dirs(imgdir);
            make_dirs(lbldir);
            /* Darknet must find labels/xxx.txt from images/xxx.png */
            pathf(p, sizeof p, "%s/%06d.png", imgdir, 0);
            pathf(q, sizeof q, "%s/%06d.txt", lbldir, 0);
            char derived[PATH_MAX];
            legr_label_path(p, derived, sizeof derived);
            if (strcmp(derived, q))
                die("Darknet would look for the labels of %s in %s, not %s: choose an output "
                    "directory whose path contains no \"images\", \"raw\", \".png\" or \".jpg\"", p, derived, q);
            job_t j = {0};
            j.src = pool[s]; j.lo = lo[s]; j.hi = hi[s]; j.n = det_n[s];
            j.set = SET_DET_TRAIN + s; j.det = 1;
            j.imgdir = imgdir; j.lbldir = lbldir; j.seed = seed;
            j.nthreads = nthreads;
            j.counts = xmalloc(sizeof(int) * (size_t)(j.n ? j.n : 1));
            run_job(&j);
            pathf(lists[s], sizeof lists[s], "%s/%s.txt", base, split[s]);
            write_list(&j, lists[s]);
            long boxes = 0;
            int per[MAX_GARMENTS + 1] = {0};
            for (int i = 0; i < j.n; i++) { boxes += j.counts[i]; per[j.counts[i]]++; }
            printf("fashion-gen: fashion-det/%-5s %6d canvases %dx%d, %6ld boxes (%.2f/canvas; 1..6: %d %d %d %d %d %d) in %.1f s\n",
                   split[s], j.n, CANVAS, CANVAS, boxes, j.n ? (double)boxes / j.n : 0.0,
                   per[1], per[2], per[3], per[4], per[5], per[6], now_s() - t);
            fflush(stdout);
            free(j.counts);
        }
        pathf(p, sizeof p, "%s/fashion.names", base);
        FILE *f = open_out(p);
        for (int k = 0; k < NCLASS; k++) fprintf(f, "%s\n", TOKENS[k]);
        close_out(f, p);
        pathf(q, sizeof q, "%s/fashion-det.data", base);
        f = open_out(q);
        fprintf(f, "classes=%d\ntrain=%s\nvalid=%s\ntest=%s\nnames=%s\nbackup=%s\n",
                NCLASS, lists[0], lists[1], lists[2], p, bdir);
        close_out(f, q);
    }

    if (do_cls) {
        char base[PATH_MAX];
        pathf(base, sizeof base, "%s/fashion-cls", root);
        for (int s = 0; s < 3; s++) {
            double t = now_s();
            char imgdir[PATH_MAX];
            pathf(imgdir, sizeof imgdir, "%s/%s", base, split[s]);
            make_dirs(imgdir);
            job_t j = {0};
            j.src = pool[s]; j.lo = lo[s]; j.hi = hi[s]; j.n = cls_n[s];
            j.set = SET_CLS_TRAIN + s; j.det = 0;
            j.imgdir = imgdir; j.seed = seed; j.nthreads = nthreads;
            int *pick = choose(seed, j.set, lo[s], hi[s], j.n);
            j.pick = pick;
            int per[NCLASS] = {0};
            for (int i = 0; i < j.n; i++) {
                item_path(&j, i, p, sizeof p);
                check_cls_path(p, pool[s]->lab[pick[i]]);
                per[pool[s]->lab[pick[i]]]++;
            }
            run_job(&j);
            pathf(lists[s], sizeof lists[s], "%s/%s.txt", base, split[s]);
            write_list(&j, lists[s]);
            printf("fashion-gen: fashion-cls/%-5s %6d images %dx%d (per class:", split[s], j.n, CLS_SIZE, CLS_SIZE);
            for (int k = 0; k < NCLASS; k++) printf(" %d", per[k]);
            printf(") in %.1f s\n", now_s() - t);
            fflush(stdout);
            free(pick);
        }
        pathf(p, sizeof p, "%s/labels.txt", base);
        FILE *f = open_out(p);
        for (int k = 0; k < NCLASS; k++) fprintf(f, "%s\n", TOKENS[k]);
        close_out(f, p);
        pathf(q, sizeof q, "%s/fashion-cls.data", base);
        f = open_out(q);
        fprintf(f, "classes=%d\ntrain=%s\nvalid=%s\ntest=%s\nlabels=%s\nnames=%s\nbackup=%s\ntop=2\n",
                NCLASS, lists[0], lists[1], lists[2], p, p, bdir);
        close_out(f, q);
    }
    printf("fashion-gen: done in %.1f s, output in %s\n", now_s() - t0, root);
    free(train.px); free(train.lab); free(test.px); free(test.lab);
    return 0;
}
