/* make_seeds.c: writes the seed corpus of the weights, rank, ckpt and labels
 * fuzz targets into <dir>/<target>/ with legr's and Darknet's own writers
 * (run by make-corpus.sh through `make fuzz-corpus`; the result is kept in
 * tests/fuzz/corpus/):
 *   weights  Darknet's save_weights of tests/fuzz/nets/{det,cls}.cfg (what
 *            `legr init` writes), after the target's selector byte, and one
 *            with a pre-0.2 (16-byte) header;
 *   rank     legr_ranking_write of the identity and of two other rankings;
 *   ckpt     legr_evo_save after 0, 2, 4, 6 and all 10 candidates of the
 *            search fuzz_ckpt.c resumes (its settings line);
 *   labels   a few YOLO label files. */
#include "fuzz.h"
#include "rank.h"
#include "search.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Must match fuzz_ckpt.c. */
#define FUZZ_CKPT_SETTINGS "settings fuzz det.cfg evals=10 pool=4 sample=2 mutate=0.5 seed=7 batch=2"
static const legr_evo_opts OPTS = { 10, 4, 2, 0.5f, 7, 2 };

static char *join(const char *dir, const char *sub, const char *name)
{
    char *p = legr_fmt("%s/%s/%s", dir, sub, name);
    if (!p) abort();
    return p;
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *fp = fopen(path, "wb");
    if (!fp || fwrite(data, 1, n, fp) != n || fclose(fp) != 0) { perror(path); exit(1); }
}

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) { perror(path); exit(1); }
    fseek(fp, 0, SEEK_END);
    *n = (size_t)ftell(fp);
    rewind(fp);
    unsigned char *b = malloc(*n + 1);
    if (!b || fread(b, 1, *n, fp) != *n) exit(1);
    fclose(fp);
    return b;
}

/* <selector byte><weights file>, as fuzz_weights.c reads it. */
static void weights_seed(const char *dir, const char *net, int selector, int old_header)
{
    legr_model *m = fuzz_net(net);
    char *tmp = legr_fmt("%s/seed-%d.weights", fuzz_tmpdir(), (int)getpid());
    save_weights(m->net, tmp);
    size_t n;
    unsigned char *w = slurp(tmp, &n);
    remove(tmp);
    free(tmp);
    unsigned char *out = malloc(n + 1);
    size_t len = 0;
    out[len++] = (unsigned char)selector;
    if (old_header) {           /* major 0, minor 1: a 4-byte seen */
        int32_t v[3] = { 0, 1, 0 };
        uint32_t seen = 12345;
        memcpy(out + len, v, 12); len += 12;
        memcpy(out + len, &seen, 4); len += 4;
        memcpy(out + len, w + 20, n - 20); len += n - 20;
    } else {
        memcpy(out + len, w, n); len += n;
    }
    char *name = legr_fmt("%s%s.weights", net, old_header ? "-v0.1" : "");
    char *path = join(dir, "weights", name);
    write_bytes(path, out, len);
    free(path); free(name); free(out); free(w);
}

static void rank_seeds(const char *dir)
{
    legr_model *m = fuzz_net("det");
    legr_affine a;
    char err[1024];
    const char *names[] = { "identity.rank", "searched.rank", "extreme.rank" };
    for (int v = 0; v < 3; ++v) {
        if (legr_affine_identity(&a, m->graph.n_groups) != 0) abort();
        for (int k = 0; v > 0 && k < a.n_groups; ++k) {
            a.alpha[k] = v == 1 ? 0.5f + 0.25f * k : (k % 2 ? 1e-30f : 3e30f);
            a.kappa[k] = v == 1 ? -0.125f * k : (k % 2 ? -1e20f : 1e-20f);
        }
        char *path = join(dir, "rank", names[v]);
        if (legr_ranking_write(path, "tests/fuzz/nets/det.cfg", &m->graph, &a,
                               v == 1 ? "target: 0.5\nfitness: map50" : NULL, err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            exit(1);
        }
        free(path);
        legr_affine_free(&a);
    }
}

static int fitness(void *ctx, const legr_affine *c, int n, double *fit, char *err, size_t errlen)
{
    for (int i = 0; i < n; ++i) {
        double s = 0;
        for (int k = 0; k < c[i].n_groups; ++k) s -= fabs(log(c[i].alpha[k])) + fabs(c[i].kappa[k]);
        fit[i] = s;
    }
    return 0;
}

typedef struct { const char *dir; } ckpt_ctx;

static int save_some(void *ctx, const legr_evo *e, int index, double fit, int batch_done,
                     char *err, size_t errlen)
{
    const ckpt_ctx *c = ctx;
    if (!batch_done || (e->done != 2 && e->done != 4 && e->done != 6 && e->done != 10)) return 0;
    char name[32];
    snprintf(name, sizeof name, "done-%d.ckpt", e->done);
    char *path = join(c->dir, "ckpt", name);
    int rc = legr_evo_save(e, path, FUZZ_CKPT_SETTINGS, err, errlen);
    free(path);
    return rc;
}

static void ckpt_seeds(const char *dir)
{
    legr_model *m = fuzz_net("det");
    legr_norms nr;
    legr_evo e;
    char err[1024];
    if (legr_norms_compute(m->net, &m->graph, &nr) != 0 || legr_evo_init(&e, &m->graph, &nr, &OPTS) != 0) abort();
    char *path = join(dir, "ckpt", "done-0.ckpt");
    ckpt_ctx c = { dir };
    if (legr_evo_save(&e, path, FUZZ_CKPT_SETTINGS, err, sizeof err) != 0 ||
        legr_evo_run(&e, fitness, NULL, save_some, &c, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    free(path);
    legr_evo_free(&e);
    legr_norms_free(&nr);
}

static void label_seeds(const char *dir)
{
    const char *files[][2] = {
        { "one.txt", "0 0.5 0.5 0.25 0.25\n" },
        { "several.txt", "3 0.1 0.2 0.05 0.1\n19 0.9 0.9 0.2 0.2\n7 0.5 0.5 1 1\n" },
        { "crlf-blank.txt", "1 0.25 0.75 0.125 0.5\r\n\r\n  \t2 0.5 0.5 0.5 0.5\r\n" },
        { "empty.txt", "" },
    };
    for (size_t i = 0; i < sizeof files / sizeof *files; ++i) {
        char *path = join(dir, "labels", files[i][0]);
        write_bytes(path, files[i][1], strlen(files[i][1]));
        free(path);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: make_seeds <corpus-dir>\n"); return 1; }
    weights_seed(argv[1], "det", 0, 0);
    weights_seed(argv[1], "cls", 1, 0);
    weights_seed(argv[1], "det", 2, 1);
    rank_seeds(argv[1]);
    ckpt_seeds(argv[1]);
    label_seeds(argv[1]);
    return 0;
}
