/* rank.c: LeGR's global ranking (alpha_g * ||theta||^2 + kappa_g), greedy
 * budget selection, and the ranking file (see rank.h). */
#include "rank.h"
#include "flops.h"
#include "rng.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int legr_norms_compute(const network *net, const legr_graph *g, legr_norms *nr)
{
    nr->n_groups = g->n_groups;
    nr->norm = legr_calloc(g->n_groups, sizeof(float *));
    if (!nr->norm) return -1;
    for (int k = 0; k < g->n_groups; ++k) {
        const legr_group *gr = &g->groups[k];
        nr->norm[k] = legr_calloc(gr->n, sizeof(float));
        if (!nr->norm[k]) { legr_norms_free(nr); return -1; }
        for (int p = 0; p < gr->n_producers; ++p) {
            const layer *l = &net->layers[gr->producers[p]];
            int per = l->c / l->groups * l->size * l->size;
            for (int j = 0; j < gr->n; ++j) {
                const float *w = l->weights + (size_t)j * per;
                double s = 0;
                for (int t = 0; t < per; ++t) s += (double)w[t] * w[t];
                nr->norm[k][j] += (float)s;
            }
        }
    }
    return 0;
}

void legr_norms_free(legr_norms *nr)
{
    for (int k = 0; nr->norm && k < nr->n_groups; ++k) free(nr->norm[k]);
    free(nr->norm);
    memset(nr, 0, sizeof(*nr));
}

int legr_affine_identity(legr_affine *a, int n_groups)
{
    a->n_groups = n_groups;
    a->alpha = legr_calloc(n_groups, sizeof(float));
    a->kappa = legr_calloc(n_groups, sizeof(float));
    if (!a->alpha || !a->kappa) { legr_affine_free(a); return -1; }
    for (int k = 0; k < n_groups; ++k) a->alpha[k] = 1;
    return 0;
}

void legr_affine_free(legr_affine *a)
{
    free(a->alpha);
    free(a->kappa);
    memset(a, 0, sizeof(*a));
}

int legr_floor(int n, float min_frac)
{
    int f = (int)ceilf(min_frac * n - 1e-6f);
    if (f < 2) f = 2;
    if (f > n) f = n;
    return f;
}

typedef struct { float score; int group, index; } entry;

static int entry_cmp(const void *pa, const void *pb)
{
    const entry *a = pa, *b = pb;
    if (a->score < b->score) return -1;
    if (a->score > b->score) return 1;
    if (a->group != b->group) return a->group - b->group;
    return a->index - b->index;
}

/* layers[g]: the layers whose FLOPs depend on group g. */
static int **touching_layers(const legr_graph *g, int **count)
{
    int **lay = legr_calloc(g->n_groups, sizeof(int *));
    *count = legr_calloc(g->n_groups, sizeof(int));
    if (!lay || !*count) { free(lay); free(*count); return NULL; }
    for (int i = 0; i < g->n_layers; ++i) {
        for (int side = 0; side < 2; ++side) {
            const int *b = side ? g->out[i] : g->in[i];
            int nb = side ? g->n_out[i] : g->n_in[i];
            for (int k = 0; k < nb; ++k) {
                int gk = b[k], c = (*count)[gk];
                if (c && lay[gk][c - 1] == i) continue;
                int *v = realloc(lay[gk], (c + 1) * sizeof(int));
                if (!v) return NULL;    /* leaks on OOM; caller fails */
                lay[gk] = v;
                v[c] = i;
                (*count)[gk] = c + 1;
            }
        }
    }
    return lay;
}

/* The lowest multiple of `round` at or above the floor (n when above n). */
static int rounded_floor(int n, float min_frac, int round)
{
    int f = (legr_floor(n, min_frac) + round - 1) / round * round;
    return f > n ? n : f;
}

/* Filters group k gives up next: down to the multiple of `round` below
 * kept, or `round` more when kept is a multiple already. */
static int block_size(int kept, int round)
{
    return kept % round ? kept % round : round;
}

/* What the budget counts for layer i / the network under mask m: FLOPs, or
 * the latency model's prediction. */
static double layer_cost(const network *net, const legr_graph *g, const legr_mask *m,
                         const legr_budget *b, int i)
{
    return b && b->latency ? legr_latency_layer(b->latency, net, g, m, i)
                           : (double)legr_layer_flops(net, g, m, i);
}

static double network_cost(const network *net, const legr_graph *g, const legr_mask *m,
                           const legr_budget *b)
{
    double c = 0;
    for (int i = 0; i < net->n; ++i) c += layer_cost(net, g, m, b, i);
    return c;
}

static int budget_round(const legr_budget *b)
{
    return b && b->round > 1 ? b->round : 1;
}

int legr_select(const network *net, const legr_graph *g, const legr_norms *nr,
                const legr_affine *a, float ratio, float min_frac,
                legr_mask *m, long *flops, char *err, size_t errlen)
{
    return legr_select_budget(net, g, nr, a, ratio, min_frac, NULL, m, flops, err, errlen);
}

int legr_select_budget(const network *net, const legr_graph *g, const legr_norms *nr,
                       const legr_affine *a, float ratio, float min_frac, const legr_budget *bud,
                       legr_mask *m, long *flops, char *err, size_t errlen)
{
    int round = budget_round(bud);
    if (legr_mask_init(m, g) != 0) return legr_fail(err, errlen, "out of memory");
    double full = network_cost(net, g, NULL, bud), cost = full;
    double target = (double)ratio * full;
    *flops = legr_network_flops(net, g, NULL);
    if (ratio >= 1) return 0;

    size_t n = 0;
    for (int k = 0; k < g->n_groups; ++k) if (!g->groups[k].fixed) n += g->groups[k].n;
    entry *e = legr_calloc(n, sizeof(entry));
    int *nlay = NULL;
    int **lay = touching_layers(g, &nlay);
    if (!e || !lay) { free(e); legr_mask_free(m); return legr_fail(err, errlen, "out of memory"); }
    n = 0;
    for (int k = 0; k < g->n_groups; ++k) {
        if (g->groups[k].fixed) continue;
        for (int j = 0; j < g->groups[k].n; ++j) {
            e[n].score = a->alpha[k] * nr->norm[k][j] + a->kappa[k];
            e[n].group = k;
            e[n].index = j;
            ++n;
        }
    }
    qsort(e, n, sizeof(entry), entry_cmp);

    /* The lowest-scoring filter still kept decides which group loses filters
     * next; with round > 1 that group gives up its block_size lowest-scoring
     * kept filters at once (those come later in e, in order). */
    for (size_t t = 0; t < n && cost >= target; ++t) {
        int k = e[t].group;
        if (!m->keep[k][e[t].index]) continue;          /* gone with an earlier block */
        int step = block_size(m->kept[k], round);
        if (m->kept[k] - step < rounded_floor(g->groups[k].n, min_frac, round)) continue;
        double before = 0, after = 0;
        for (int q = 0; q < nlay[k]; ++q) before += layer_cost(net, g, m, bud, lay[k][q]);
        for (size_t u = t; u < n && step > 0; ++u) {
            if (e[u].group != k || !m->keep[k][e[u].index]) continue;
            m->keep[k][e[u].index] = 0;
            m->kept[k]--;
            --step;
        }
        for (int q = 0; q < nlay[k]; ++q) after += layer_cost(net, g, m, bud, lay[k][q]);
        cost += after - before;
    }
    free(e);
    for (int k = 0; k < g->n_groups; ++k) free(lay[k]);
    free(lay);
    free(nlay);
    *flops = legr_network_flops(net, g, m);
    if (cost >= target) {
        legr_mask_free(m);
        return legr_fail(err, errlen,
                         "budget %g is unreachable: with -min %g the smallest network keeps %.3f of the %s",
                         ratio, min_frac, cost / full, bud && bud->latency ? "predicted latency" : "FLOPs");
    }
    return 0;
}

/* Keeps, in every prunable group, its round(f * n) highest-norm filters
 * (at least the floor; a multiple of `round` unless that is all of them). */
static void keep_fraction(const legr_graph *g, const legr_norms *nr, float f,
                          float min_frac, int round, legr_mask *m)
{
    for (int k = 0; k < g->n_groups; ++k) {
        const legr_group *gr = &g->groups[k];
        if (gr->fixed) continue;
        int keep = (int)lroundf(f * gr->n / round) * round, fl = rounded_floor(gr->n, min_frac, round);
        if (keep < fl) keep = fl;
        if (keep > gr->n) keep = gr->n;
        /* rank within the group: keep j if fewer than `keep` filters beat it */
        m->kept[k] = 0;
        for (int j = 0; j < gr->n; ++j) {
            int better = 0;
            for (int i = 0; i < gr->n; ++i)
                better += nr->norm[k][i] > nr->norm[k][j] || (nr->norm[k][i] == nr->norm[k][j] && i < j);
            m->keep[k][j] = better < keep;
            m->kept[k] += m->keep[k][j];
        }
    }
}

int legr_select_uniform(const network *net, const legr_graph *g, const legr_norms *nr,
                        float ratio, float min_frac, const legr_budget *bud, legr_mask *m,
                        long *flops, char *err, size_t errlen)
{
    int round = budget_round(bud);
    if (legr_mask_init(m, g) != 0) return legr_fail(err, errlen, "out of memory");
    double full = network_cost(net, g, NULL, bud);
    *flops = legr_network_flops(net, g, NULL);
    if (ratio >= 1) return 0;
    double target = (double)ratio * full;
    float lo = 0, hi = 1;       /* cost(lo) < target <= cost(hi) */
    keep_fraction(g, nr, 0, min_frac, round, m);
    if (network_cost(net, g, m, bud) >= target) {
        double c = network_cost(net, g, m, bud);
        legr_mask_free(m);
        return legr_fail(err, errlen,
                         "budget %g is unreachable: with -min %g the smallest network keeps %.3f of the %s",
                         ratio, min_frac, c / full, bud && bud->latency ? "predicted latency" : "FLOPs");
    }
    for (int it = 0; it < 40; ++it) {
        float mid = (lo + hi) / 2;
        keep_fraction(g, nr, mid, min_frac, round, m);
        if (network_cost(net, g, m, bud) < target) lo = mid; else hi = mid;
    }
    keep_fraction(g, nr, lo, min_frac, round, m);
    *flops = legr_network_flops(net, g, m);
    return 0;
}

int legr_norms_random(const legr_graph *g, unsigned long long seed, legr_norms *nr)
{
    nr->n_groups = g->n_groups;
    nr->norm = legr_calloc(g->n_groups, sizeof(float *));
    if (!nr->norm) return -1;
    legr_rng r;
    legr_rng_seed(&r, seed);
    for (int k = 0; k < g->n_groups; ++k) {
        nr->norm[k] = legr_calloc(g->groups[k].n, sizeof(float));
        if (!nr->norm[k]) { legr_norms_free(nr); return -1; }
        for (int j = 0; j < g->groups[k].n; ++j) nr->norm[k][j] = legr_rng_float(&r);
    }
    return 0;
}

int legr_ranking_write(const char *path, const char *cfg_path,
                       const legr_graph *g, const legr_affine *a,
                       const char *extra_header, char *err, size_t errlen)
{
    char *tmp;
    FILE *fp = legr_open_temp(path, &tmp, err, errlen);
    if (!fp) return -1;
    fprintf(fp, "# darknet-legr ranking v1\n# cfg: %s\n", cfg_path);
    if (extra_header && *extra_header) {
        const char *s = extra_header;
        while (*s) {
            const char *nl = strchr(s, '\n');
            int len = nl ? (int)(nl - s) : (int)strlen(s);
            fprintf(fp, "# %.*s\n", len, s);
            s += len + (nl != NULL);
        }
    }
    fprintf(fp, "# groups: %d prunable of %d\n", legr_graph_prunable(g), g->n_groups);
    fprintf(fp, "# group layer channels alpha kappa\n");
    for (int k = 0; k < g->n_groups; ++k) {
        const legr_group *gr = &g->groups[k];
        if (gr->fixed) continue;
        fprintf(fp, "%d %d %d %.9g %.9g\n", k, gr->producers[0], gr->n, a->alpha[k], a->kappa[k]);
    }
    return legr_commit_temp(fp, tmp, path, 1, err, errlen);
}

int legr_ranking_read(const char *path, const legr_graph *g, legr_affine *a,
                      char *err, size_t errlen)
{
    if (legr_affine_identity(a, g->n_groups) != 0) return legr_fail(err, errlen, "out of memory");
    FILE *fp = legr_fopen_regular(path, "r", err, errlen);
    if (!fp) {
        legr_affine_free(a);
        return -1;
    }
    char line[512];
    int nline = 0, seen = 0, rc = 0;
    unsigned char *got = legr_calloc(g->n_groups, 1);
    while (got && fgets(line, sizeof line, fp)) {
        ++nline;
        char *s = line;
        while (*s == ' ' || *s == '\t') ++s;
        if (*s == '#' || *s == '\n' || *s == '\r' || *s == 0) continue;
        int k, lay, ch;
        float al, ka;
        char extra;
        if (sscanf(s, "%d %d %d %f %f %c", &k, &lay, &ch, &al, &ka, &extra) != 5) {
            rc = legr_fail(err, errlen, "%s:%d: expected 'group layer channels alpha kappa'", path, nline);
            break;
        }
        if (k < 0 || k >= g->n_groups || g->groups[k].fixed ||
            g->groups[k].producers[0] != lay || g->groups[k].n != ch) {
            rc = legr_fail(err, errlen, "%s:%d: group %d (layer %d, %d channels) does not match this cfg: ranking made for another network?",
                           path, nline, k, lay, ch);
            break;
        }
        if (!legr_finite(al) || !legr_finite(ka) || !(al > 0)) {   /* bits: -Ofast */
            rc = legr_fail(err, errlen, "%s:%d: alpha must be > 0 and kappa finite", path, nline);
            break;
        }
        if (got[k]++) {
            rc = legr_fail(err, errlen, "%s:%d: group %d listed twice", path, nline, k);
            break;
        }
        a->alpha[k] = al;
        a->kappa[k] = ka;
        ++seen;
    }
    fclose(fp);
    if (!got) rc = legr_fail(err, errlen, "out of memory");
    free(got);
    if (rc == 0 && seen != legr_graph_prunable(g))
        rc = legr_fail(err, errlen, "%s: %d groups listed, this cfg has %d prunable groups: incomplete (truncated?) ranking file",
                       path, seen, legr_graph_prunable(g));
    if (rc != 0) legr_affine_free(a);
    return rc;
}
