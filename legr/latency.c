/* latency.c: the per-layer latency model (see latency.h): measuring it with
 * bench.c, fitting each layer's line, predicting, and the cache file:
 *   legr-latency v1
 *   cfg <path>
 *   cpu <model name>
 *   threads <n>
 *   layers <n>
 *   <layer> <a> <b>          (one line per layer)
 */
#include "latency.h"
#include "bench.h"
#include "flops.h"
#include "surgery.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What a layer's time is fitted against: its FLOPs, or for layers without
 * any, the values it writes. */
static double layer_work(const network *net, const legr_graph *g, const legr_mask *m, int i)
{
    if (legr_layer_flops(net, g, NULL, i) > 0) return (double)legr_layer_flops(net, g, m, i);
    const layer *l = &net->layers[i];
    if (l->out_w > 0 && l->out_h > 0)
        return (double)l->out_w * l->out_h * legr_layer_out_channels(net, g, m, i);
    return l->outputs;
}

double legr_latency_layer(const legr_latency *lt, const network *net, const legr_graph *g,
                          const legr_mask *m, int i)
{
    return lt->a[i] + lt->b[i] * layer_work(net, g, m, i);
}

double legr_latency_network(const legr_latency *lt, const network *net, const legr_graph *g,
                            const legr_mask *m)
{
    double t = 0;
    for (int i = 0; i < lt->n_layers; ++i) t += legr_latency_layer(lt, net, g, m, i);
    return t;
}

void legr_latency_free(legr_latency *lt)
{
    free(lt->a);
    free(lt->b);
    memset(lt, 0, sizeof(*lt));
}

static int latency_alloc(legr_latency *lt, int n)
{
    memset(lt, 0, sizeof(*lt));
    lt->n_layers = n;
    lt->a = legr_calloc(n, sizeof(double));
    lt->b = legr_calloc(n, sizeof(double));
    if (lt->a && lt->b) return 0;
    legr_latency_free(lt);
    return -1;
}

/* Least-squares line through the points, slope and intercept kept >= 0 (a
 * thinner layer is never slower; noise can say otherwise). */
static void fit_line(const double *x, const double *y, int n, double *a, double *b)
{
    double mx = 0, my = 0, sxx = 0, sxy = 0;
    for (int j = 0; j < n; ++j) { mx += x[j] / n; my += y[j] / n; }
    for (int j = 0; j < n; ++j) {
        sxx += (x[j] - mx) * (x[j] - mx);
        sxy += (x[j] - mx) * (y[j] - my);
    }
    *b = sxx > 0 ? sxy / sxx : 0;
    *a = my - *b * mx;
    if (*b < 0) { *b = 0; *a = my; }
    if (*a < 0) {               /* through the origin instead */
        double xx = 0, xy = 0;
        for (int j = 0; j < n; ++j) { xx += x[j] * x[j]; xy += x[j] * y[j]; }
        *a = 0;
        *b = xx > 0 ? xy / xx : 0;
    }
}

/* A uniformly thinned mask: every prunable group keeps its first
 * max(ceil(f x n), 2) channels (which ones does not change the time). */
static int thin_mask(const legr_graph *g, double f, legr_mask *m)
{
    if (legr_mask_init(m, g) != 0) return -1;
    for (int k = 0; k < g->n_groups; ++k) {
        const legr_group *gr = &g->groups[k];
        if (gr->fixed) continue;
        int keep = (int)(f * gr->n + 0.999);
        if (keep < 2) keep = gr->n < 2 ? gr->n : 2;
        for (int j = keep; j < gr->n; ++j) m->keep[k][j] = 0;
        m->kept[k] = keep;
    }
    return 0;
}

enum { N_POINTS = 3 };
static const double FRACTIONS[N_POINTS] = { 1.0, 0.6, 0.3 };

static int measure(legr_model *m, int threads, int runs, legr_latency *lt, char *err, size_t errlen)
{
    char dir[] = "/tmp/legr-latency-XXXXXX";
    if (!mkdtemp(dir)) return legr_fail(err, errlen, "cannot create a temporary directory in /tmp");
    legr_mask masks[N_POINTS];
    network *nets[N_POINTS] = { m->net };
    int rc = 0, n_masks = 0;
    for (int p = 1; p < N_POINTS && rc == 0; ++p) {
        if (thin_mask(&m->graph, FRACTIONS[p], &masks[p]) != 0) { rc = legr_fail(err, errlen, "out of memory"); break; }
        n_masks = p;
        nets[p] = legr_build_pruned(m, &masks[p], dir, p, err, errlen);
        if (!nets[p]) rc = -1;
    }
    rmdir(dir);
    legr_bench_result r[N_POINTS];
    legr_bench_opts o = { runs, 2, threads, 5 };
    if (rc == 0) rc = legr_bench_forward(nets, N_POINTS, &o, r, err, errlen);
    if (rc == 0 && latency_alloc(lt, m->net->n) != 0) rc = legr_fail(err, errlen, "out of memory");
    for (int i = 0; rc == 0 && i < m->net->n; ++i) {
        double x[N_POINTS], y[N_POINTS];
        for (int p = 0; p < N_POINTS; ++p) {
            x[p] = layer_work(m->net, &m->graph, p ? &masks[p] : NULL, i);
            y[p] = r[p].layer_ms[i];
        }
        fit_line(x, y, N_POINTS, &lt->a[i], &lt->b[i]);
    }
    if (rc == 0) {
        lt->threads = threads;
        for (int p = 0; p < N_POINTS; ++p) legr_bench_free(&r[p]);
    }
    for (int p = 1; p < N_POINTS; ++p) if (nets[p] && p <= n_masks) legr_free_network(nets[p]);
    for (int p = 1; p <= n_masks; ++p) legr_mask_free(&masks[p]);
    return rc;
}

/* "model name" of /proc/cpuinfo, or "unknown". */
static void cpu_model(char *buf, size_t len)
{
    snprintf(buf, len, "unknown");
    FILE *fp = fopen("/proc/cpuinfo", "r");
    if (!fp) return;
    char line[256];
    while (fgets(line, sizeof line, fp)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) || !colon) continue;
        snprintf(buf, len, "%s", colon + 2);
        buf[strcspn(buf, "\n")] = 0;
        break;
    }
    fclose(fp);
}

/* The cache file for this cfg text, CPU and thread count. */
static char *cache_path(const legr_model *m, int threads, const char *cpu)
{
    size_t len = 0;
    char *text = legr_read_file(m->cfg.path, &len);
    if (!text) return NULL;
    char key[320];
    /* v2: measured in turns (bench.h); v1 tables were timed with cold caches */
    snprintf(key, sizeof key, "|%s|threads=%d|v2", cpu, threads);
    unsigned long long h = legr_fnv1a(text, len, legr_fnv1a(key, strlen(key), 0));
    free(text);
    char dir[512];
    legr_cache_dir(dir, sizeof dir);
    return legr_fmt("%s/latency-%016llx.txt", dir, (unsigned long long)h);
}

static int load_cache(const char *path, int n_layers, legr_latency *lt)
{
    FILE *fp = legr_fopen_regular(path, "r", NULL, 0);
    if (!fp) return -1;
    char line[512];
    int n = -1, threads = 0, ok = fgets(line, sizeof line, fp) && !strcmp(line, "legr-latency v1\n");
    while (ok && fgets(line, sizeof line, fp) && sscanf(line, "layers %d", &n) != 1)
        sscanf(line, "threads %d", &threads);
    ok = ok && n == n_layers && latency_alloc(lt, n) == 0;
    for (int i = 0; ok && i < n; ++i) {
        int k;
        ok = fscanf(fp, "%d %lf %lf", &k, &lt->a[i], &lt->b[i]) == 3 && k == i &&
             legr_finite(lt->a[i]) && legr_finite(lt->b[i]) && lt->a[i] >= 0 && lt->b[i] >= 0;
    }
    fclose(fp);
    if (!ok) { if (lt->a) legr_latency_free(lt); return -1; }
    lt->threads = threads;
    return 0;
}

/* Writes the cache; a cache that cannot be written is no error. */
static void save_cache(const char *path, const legr_model *m, const char *cpu, const legr_latency *lt)
{
    legr_cache_mkdir();
    char *tmp = NULL;
    FILE *fp = legr_open_temp(path, &tmp, NULL, 0);
    if (!fp) return;
    fprintf(fp, "legr-latency v1\ncfg %s\ncpu %s\nthreads %d\nlayers %d\n", m->cfg.path, cpu,
            lt->threads, lt->n_layers);
    for (int i = 0; i < lt->n_layers; ++i) fprintf(fp, "%d %.9g %.9g\n", i, lt->a[i], lt->b[i]);
    legr_commit_temp(fp, tmp, path, 1, NULL, 0);
}

int legr_latency_get(legr_model *m, int threads, int runs, legr_latency *lt, int *cached,
                     char *err, size_t errlen)
{
    char cpu[256];
    cpu_model(cpu, sizeof cpu);
    char *path = cache_path(m, threads, cpu);
    if (cached) *cached = 0;
    if (path && load_cache(path, m->net->n, lt) == 0) {
        if (cached) *cached = 1;
        free(path);
        return 0;
    }
    int rc = measure(m, threads, runs, lt, err, errlen);
    if (rc == 0 && path) save_cache(path, m, cpu, lt);
    free(path);
    return rc;
}

int legr_latency_announce(legr_model *m, legr_latency *lt, char *err, size_t errlen)
{
    char dir[512];
    int cached = 0;
    legr_cache_dir(dir, sizeof dir);
    printf("latency model (one thread): ");
    fflush(stdout);
    if (legr_latency_get(m, 1, 15, lt, &cached, err, errlen) != 0) {
        printf("\n");
        return -1;
    }
    printf("%s (%s), %.2f ms predicted for the original\n", cached ? "cached" : "measured now",
           dir, legr_latency_network(lt, m->net, &m->graph, NULL));
    return 0;
}
