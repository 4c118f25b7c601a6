/* search.c: LeGR's aging evolution (see search.h) and its checkpoint. */
#include "search.h"
#include "rng.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A fitness the evolution can rank: finite or -inf (a diverged candidate);
 * NaN and +inf are not (tested on the bits: -Ofast). */
static int fitness_ok(double f)
{
    uint64_t bits;
    memcpy(&bits, &f, sizeof bits);
    return legr_finite(f) || bits == 0xfff0000000000000ull;
}

/* --- candidates ---------------------------------------------------------- */

static int affine_copy(legr_affine *dst, const legr_affine *src)
{
    if (legr_affine_identity(dst, src->n_groups) != 0) return -1;
    memcpy(dst->alpha, src->alpha, src->n_groups * sizeof(float));
    memcpy(dst->kappa, src->kappa, src->n_groups * sizeof(float));
    return 0;
}

static void random_candidate(legr_evo *e, legr_affine *a)
{
    for (int k = 0; k < e->n_groups; ++k) {
        if (e->g->groups[k].fixed) continue;
        a->alpha[k] = (float)exp(legr_rng_normal(&e->rng, 1));
        a->kappa[k] = (float)legr_rng_normal(&e->rng, e->std[k]);
    }
}

/* The tournament: the fittest of `sample` distinct pool members. */
static int tournament(legr_evo *e)
{
    int n = e->n_pool, s = e->o.sample < n ? e->o.sample : n, best = -1;
    int *idx = malloc(n * sizeof(int));
    if (!idx) return 0;
    for (int i = 0; i < n; ++i) idx[i] = i;
    for (int i = 0; i < s; ++i) {          /* partial Fisher-Yates */
        int j = i + (int)legr_rng_below(&e->rng, (uint32_t)(n - i));
        int t = idx[i]; idx[i] = idx[j]; idx[j] = t;
        if (best < 0 || e->pool_fit[idx[i]] > e->pool_fit[best]) best = idx[i];
    }
    free(idx);
    return best;
}

static void mutate(legr_evo *e, legr_affine *a, double step)
{
    int changed = 0, first = -1;
    for (int k = 0; k < e->n_groups; ++k) {
        if (e->g->groups[k].fixed) continue;
        if (first < 0) first = k;
        if (legr_rng_double(&e->rng) >= e->o.mutate) continue;
        a->alpha[k] *= (float)exp(legr_rng_normal(&e->rng, step));
        a->kappa[k] += (float)legr_rng_normal(&e->rng, e->std[k]);
        changed = 1;
    }
    if (!changed && first >= 0) {          /* at least one group changes */
        int n = 0, pick;
        for (int k = 0; k < e->n_groups; ++k) n += !e->g->groups[k].fixed;
        pick = (int)legr_rng_below(&e->rng, (uint32_t)n);
        for (int k = 0; k < e->n_groups; ++k) {
            if (e->g->groups[k].fixed || pick-- > 0) continue;
            a->alpha[k] *= (float)exp(legr_rng_normal(&e->rng, step));
            a->kappa[k] += (float)legr_rng_normal(&e->rng, e->std[k]);
            break;
        }
    }
}

int legr_evo_init(legr_evo *e, const legr_graph *g, const legr_norms *nr,
                  const legr_evo_opts *o)
{
    memset(e, 0, sizeof(*e));
    e->o = *o;
    if (e->o.pool < 1) e->o.pool = 1;
    if (e->o.sample < 1) e->o.sample = 1;
    e->g = g;
    e->n_groups = g->n_groups;
    legr_rng_seed(&e->rng, o->seed);
    e->std = legr_calloc(g->n_groups, sizeof(float));
    e->pool = legr_calloc(e->o.pool, sizeof(legr_affine));
    e->pool_fit = legr_calloc(e->o.pool, sizeof(double));
    e->best_fit = -INFINITY;
    e->best_index = -1;
    if (!e->std || !e->pool || !e->pool_fit) { legr_evo_free(e); return -1; }
    for (int k = 0; k < g->n_groups; ++k) {
        int n = g->groups[k].n;
        double m = 0, v = 0;
        for (int j = 0; j < n; ++j) m += nr->norm[k][j];
        m /= n;
        for (int j = 0; j < n; ++j) v += (nr->norm[k][j] - m) * (nr->norm[k][j] - m);
        e->std[k] = (float)sqrt(v / n);
    }
    return 0;
}

void legr_evo_free(legr_evo *e)
{
    for (int i = 0; e->pool && i < e->n_pool; ++i) legr_affine_free(&e->pool[i]);
    free(e->pool);
    free(e->pool_fit);
    free(e->std);
    legr_affine_free(&e->best);
    memset(e, 0, sizeof(*e));
}

/* Appends a child to the pool, dropping the oldest when full. */
static void push(legr_evo *e, legr_affine *child, double fit)
{
    if (e->n_pool == e->o.pool) {
        legr_affine_free(&e->pool[0]);
        memmove(e->pool, e->pool + 1, (e->n_pool - 1) * sizeof(legr_affine));
        memmove(e->pool_fit, e->pool_fit + 1, (e->n_pool - 1) * sizeof(double));
        e->n_pool--;
    }
    e->pool[e->n_pool] = *child;
    e->pool_fit[e->n_pool] = fit;
    e->n_pool++;
}

/* Makes child t: random or identity while the pool fills, else a mutant
 * of a tournament winner of the current pool. */
static int make_child(legr_evo *e, int t, legr_affine *child)
{
    if (t < e->o.pool) {
        if (legr_affine_identity(child, e->n_groups) != 0) return -1;
        if (t < e->o.pool - 1) random_candidate(e, child);
        return 0;
    }
    int parent = tournament(e);
    if (affine_copy(child, &e->pool[parent]) != 0) return -1;
    int span = e->o.evals - e->o.pool;
    double step = span > 1 ? 1 - 0.8 * (t - e->o.pool) / (double)(span - 1) : 1;
    mutate(e, child, step);
    return 0;
}

int legr_evo_run(legr_evo *e, legr_fitness_fn fit, void *fit_ctx,
                 legr_progress_fn progress, void *progress_ctx, char *err, size_t errlen)
{
    int batch = e->o.batch > 0 ? e->o.batch : 1;
    legr_affine *kids = legr_calloc(batch, sizeof(legr_affine));
    double *f = legr_calloc(batch, sizeof(double));
    int rc = kids && f ? 0 : legr_fail(err, errlen, "out of memory");
    while (rc == 0 && e->done < e->o.evals) {
        int t = e->done, n = batch;
        if (n > e->o.evals - t) n = e->o.evals - t;
        if (t < e->o.pool && n > e->o.pool - t) n = e->o.pool - t;   /* fill first */
        int made = 0;
        while (made < n && make_child(e, t + made, &kids[made]) == 0) ++made;
        if (made < n) rc = legr_fail(err, errlen, "out of memory");
        else rc = fit(fit_ctx, kids, n, f, err, errlen);
        for (int i = 0; rc == 0 && i < n; ++i)
            if (!fitness_ok(f[i])) f[i] = -INFINITY;    /* NaN or +inf: never the best */
        for (int i = 0; i < made; ++i) {
            if (rc == 0 && f[i] > e->best_fit) {
                legr_affine_free(&e->best);
                if (affine_copy(&e->best, &kids[i]) != 0) rc = legr_fail(err, errlen, "out of memory");
                e->best_fit = f[i];
                e->best_index = t + i;
            }
            if (rc == 0) {
                push(e, &kids[i], f[i]);       /* the pool owns it now */
                e->done++;
                if (progress && progress(progress_ctx, e, t + i, f[i], i == made - 1, err, errlen) != 0)
                    rc = -1;
            } else {
                legr_affine_free(&kids[i]);
            }
        }
    }
    free(kids);
    free(f);
    return rc;
}

/* --- checkpoint ------------------------------------------------------------ */

static void write_affine(FILE *fp, const legr_evo *e, const legr_affine *a)
{
    for (int k = 0; k < e->n_groups; ++k)
        if (!e->g->groups[k].fixed) fprintf(fp, " %.9g %.9g", a->alpha[k], a->kappa[k]);
    fprintf(fp, "\n");
}

int legr_evo_save(const legr_evo *e, const char *path, const char *settings,
                  char *err, size_t errlen)
{
    char *tmp;
    FILE *fp = legr_open_temp(path, &tmp, err, errlen);
    if (!fp) return -1;
    fprintf(fp, "legr-checkpoint v1\n%s\n", settings);
    fprintf(fp, "rng %llu\ndone %d\nbest %d %.17g", (unsigned long long)e->rng.s, e->done,
            e->best_index, e->best_fit);
    if (e->best_index >= 0) write_affine(fp, e, &e->best);
    else fprintf(fp, "\n");
    fprintf(fp, "pool %d\n", e->n_pool);
    for (int i = 0; i < e->n_pool; ++i) {
        fprintf(fp, "%.17g", e->pool_fit[i]);
        write_affine(fp, e, &e->pool[i]);
    }
    return legr_commit_temp(fp, tmp, path, 1, err, errlen);
}

/* Reads the (alpha, kappa) of every prunable group: alpha > 0 and kappa
 * finite, as in a ranking file. */
static int read_affine(FILE *fp, const legr_evo *e, legr_affine *a)
{
    if (legr_affine_identity(a, e->n_groups) != 0) return -1;
    for (int k = 0; k < e->n_groups; ++k) {
        if (e->g->groups[k].fixed) continue;
        if (fscanf(fp, "%f %f", &a->alpha[k], &a->kappa[k]) != 2 || !legr_finite(a->alpha[k]) ||
            !legr_finite(a->kappa[k]) || !(a->alpha[k] > 0)) {
            legr_affine_free(a);
            return -1;
        }
    }
    return 0;
}

/* The first space-separated token where two settings lines differ. */
static void first_difference(const char *a, const char *b, char *ta, char *tb, size_t len)
{
    for (;;) {
        size_t na = strcspn(a, " \n"), nb = strcspn(b, " \n");
        if (na != nb || strncmp(a, b, na) != 0 || !a[na] || !b[nb]) {
            /* a flag word (" reselect") is absent where its option was off */
            if (na) snprintf(ta, len, "%.*s", (int)na, a); else snprintf(ta, len, "no %.*s", (int)nb, b);
            if (nb) snprintf(tb, len, "%.*s", (int)nb, b); else snprintf(tb, len, "no %.*s", (int)na, a);
            return;
        }
        a += na + 1;
        b += nb + 1;
    }
}

/* The counters of a checkpoint against the settings: done candidates
 * within -evals, the pool as full as done makes it, the best one of them. */
static int check_counters(const legr_evo *e, int done, int best, double best_fit, int n_pool,
                          const char *path, char *err, size_t errlen)
{
    if (done < 0 || done > e->o.evals)
        return legr_fail(err, errlen, "%s: %d candidates done, outside 0..%d (-evals)", path, done, e->o.evals);
    if (best < -1 || best >= done)
        return legr_fail(err, errlen, "%s: best candidate #%d, but %d candidates done", path, best + 1, done);
    if (best >= 0 && !legr_finite(best_fit))
        return legr_fail(err, errlen, "%s: the best fitness is not a finite number", path);
    int want = done < e->o.pool ? done : e->o.pool;
    if (n_pool != want)
        return legr_fail(err, errlen, "%s: pool of %d, but %d candidates done with -pool %d make %d",
                         path, n_pool, done, e->o.pool, want);
    return 0;
}

int legr_evo_load(legr_evo *e, const char *path, const char *settings,
                  char *err, size_t errlen)
{
    FILE *fp = legr_fopen_regular(path, "r", err, errlen);
    if (!fp) return -1;
    char line[4096];
    int rc = 0;
    if (!fgets(line, sizeof line, fp) || strcmp(line, "legr-checkpoint v1\n") != 0)
        rc = legr_fail(err, errlen, "%s: not a legr checkpoint", path);
    else if (!fgets(line, sizeof line, fp) || strncmp(line, settings, strlen(settings)) != 0 ||
             line[strlen(settings)] != '\n') {
        char was[128], now[128];
        first_difference(line, settings, was, now, sizeof was);
        rc = legr_fail(err, errlen, "%s: made with %s, now %s; run without -resume or with the same settings",
                       path, was, now);
    }
    unsigned long long rng;
    int n_pool = 0, done = 0, best = -1;
    double best_fit = 0;
    if (rc == 0 && (fscanf(fp, " rng %llu done %d best %d %lf", &rng, &done, &best, &best_fit) != 4))
        rc = legr_fail(err, errlen, "%s: damaged checkpoint", path);
    legr_affine ba = {0};
    if (rc == 0 && best >= 0 && read_affine(fp, e, &ba) != 0)
        rc = legr_fail(err, errlen, "%s: damaged checkpoint (the best candidate's alpha, kappa)", path);
    if (rc == 0 && fscanf(fp, " pool %d", &n_pool) != 1)
        rc = legr_fail(err, errlen, "%s: damaged checkpoint", path);
    if (rc == 0) rc = check_counters(e, done, best, best_fit, n_pool, path, err, errlen);
    for (int i = 0; rc == 0 && i < n_pool; ++i) {
        double f;
        if (fscanf(fp, "%lf", &f) != 1 || !fitness_ok(f))
            rc = legr_fail(err, errlen, "%s: damaged checkpoint (fitness of pool member %d)", path, i + 1);
        else if (read_affine(fp, e, &e->pool[e->n_pool]) != 0)
            rc = legr_fail(err, errlen, "%s: damaged checkpoint (alpha, kappa of pool member %d)", path, i + 1);
        else e->pool_fit[e->n_pool++] = f;
    }
    char extra;
    if (rc == 0 && fscanf(fp, " %c", &extra) == 1)
        rc = legr_fail(err, errlen, "%s: damaged checkpoint (text after the pool)", path);
    fclose(fp);
    if (rc == 0) {
        e->rng.s = rng;
        e->done = done;
        e->best_index = best;
        e->best_fit = best >= 0 ? best_fit : -INFINITY;
        legr_affine_free(&e->best);
        e->best = ba;
    } else {
        legr_affine_free(&ba);
    }
    return rc;
}
