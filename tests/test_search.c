/* test_search.c: the LeGR evolution (legr/search.c) with a synthetic fitness
 * whose optimum is known: reproducible for a seed, different across seeds,
 * identical when stopped, checkpointed and resumed, candidate pool-1 is the
 * identity, it climbs towards the optimum, a NaN fitness never wins (and is
 * checkpointed as -inf), and a checkpoint with more candidates done than
 * -evals is refused. */
#include "testutil.h"
#include "model.h"
#include "rank.h"
#include "search.h"
#include "util.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define CFG "/usr/share/darknet/cfg/yolov3-tiny.cfg"

typedef struct {
    legr_model m;
    legr_norms nr;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char err[256];
    if (legr_model_load(CFG, NULL, &f->m, err, sizeof err) != 0) { fprintf(stderr, "%s\n", err); return -1; }
    if (legr_norms_compute(f->m.net, &f->m.graph, &f->nr) != 0) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    legr_norms_free(&f->nr);
    legr_model_free(&f->m);
    free(f);
    return 0;
}

/* Optimum: log alpha_g = 0.5 for every group, kappa_g = 0. */
typedef struct { const legr_graph *g; int calls; int identity_at; double seq[64]; } synth;

static int synth_one(synth *s, const legr_affine *a, double *fit)
{
    double d = 0;
    int identity = 1;
    for (int k = 0; k < a->n_groups; ++k) {
        if (s->g->groups[k].fixed) continue;
        double la = log(a->alpha[k]) - 0.5;
        d += la * la + 1e-3 * a->kappa[k] * a->kappa[k];
        if (a->alpha[k] != 1 || a->kappa[k] != 0) identity = 0;
    }
    if (identity && s->identity_at < 0) s->identity_at = s->calls;
    if (s->calls < 64) s->seq[s->calls] = -d;
    s->calls++;
    *fit = -d;
    return 0;
}

static int synth_fitness(void *ctx, const legr_affine *a, int n, double *fit, char *err, size_t errlen)
{
    for (int i = 0; i < n; ++i) synth_one(ctx, &a[i], &fit[i]);
    return 0;
}

static legr_evo_opts opts(uint64_t seed, int evals)
{
    legr_evo_opts o = { evals, 8, 3, 0.3f, seed, 1 };
    return o;
}

static void run(fixture *f, legr_evo_opts o, legr_evo *e, synth *s)
{
    char err[256];
    s->g = &f->m.graph;
    s->calls = 0;
    s->identity_at = -1;
    assert_int_equal(legr_evo_init(e, &f->m.graph, &f->nr, &o), 0);
    assert_int_equal(legr_evo_run(e, synth_fitness, s, NULL, NULL, err, sizeof err), 0);
}

static int same_affine(const legr_affine *a, const legr_affine *b)
{
    return a->n_groups == b->n_groups &&
           !memcmp(a->alpha, b->alpha, a->n_groups * sizeof(float)) &&
           !memcmp(a->kappa, b->kappa, a->n_groups * sizeof(float));
}

static void test_same_seed_same_result(void **state)
{
    legr_evo a, b;
    synth sa, sb;
    run(*state, opts(7, 60), &a, &sa);
    run(*state, opts(7, 60), &b, &sb);
    assert_true(a.best_fit == b.best_fit);
    assert_true(same_affine(&a.best, &b.best));
    assert_int_equal(sa.identity_at, 7);       /* candidate pool-1 (0-based) */
    legr_evo c;
    synth sc;
    run(*state, opts(8, 60), &c, &sc);
    assert_false(same_affine(&a.best, &c.best));
    legr_evo_free(&a);
    legr_evo_free(&b);
    legr_evo_free(&c);
}

/* Progress callback that checkpoints every candidate, as the CLI does, and
 * "crashes" (aborts the run) after `stop_after` candidates. */
typedef struct { const char *ckpt; int stop_after; } killer;

static int checkpoint_then_die(void *ctx, const legr_evo *e, int index, double fit,
                               int batch_done, char *err, size_t errlen)
{
    killer *k = ctx;
    if (batch_done && legr_evo_save(e, k->ckpt, "settings test", err, errlen) != 0) return -1;
    return e->done == k->stop_after ? legr_fail(err, errlen, "killed") : 0;
}

static void test_resume_is_identical(void **state)
{
    fixture *f = *state;
    char err[256];
    legr_evo whole, part;
    synth s1, s2 = { &f->m.graph, 0, -1 };
    run(f, opts(3, 40), &whole, &s1);

    char *dir = tu_mkdtemp("search");
    char *ck = tu_path(dir, "evo.ckpt");
    killer k = { ck, 17 };
    legr_evo_opts o40 = opts(3, 40);
    assert_int_equal(legr_evo_init(&part, &f->m.graph, &f->nr, &o40), 0);
    assert_int_equal(legr_evo_run(&part, synth_fitness, &s2, checkpoint_then_die, &k, err, sizeof err), -1);
    legr_evo_free(&part);

    legr_evo resumed;
    legr_evo_opts o = opts(3, 40);
    assert_int_equal(legr_evo_init(&resumed, &f->m.graph, &f->nr, &o), 0);
    assert_int_equal(legr_evo_load(&resumed, ck, "settings other", err, sizeof err), -1);
    legr_evo_free(&resumed);
    assert_int_equal(legr_evo_init(&resumed, &f->m.graph, &f->nr, &o), 0);
    assert_int_equal(legr_evo_load(&resumed, ck, "settings test", err, sizeof err), 0);
    assert_int_equal(resumed.done, 17);
    assert_int_equal(legr_evo_run(&resumed, synth_fitness, &s2, NULL, NULL, err, sizeof err), 0);
    assert_true(resumed.best_fit == whole.best_fit);
    assert_true(same_affine(&resumed.best, &whole.best));
    assert_int_equal(resumed.n_pool, whole.n_pool);
    for (int i = 0; i < whole.n_pool; ++i) assert_true(same_affine(&resumed.pool[i], &whole.pool[i]));
    legr_evo_free(&resumed);
    legr_evo_free(&whole);
    tu_rmtree(dir);
    free(ck);
    free(dir);
}

/* Parallel batches (-workers 2): the same seed and batch give the same
 * result; against a batch of 1 (the sequential algorithm of the other
 * tests) the random pool is the same, candidate by candidate, and the
 * evolution after it is not (a batch draws its parents from one pool
 * state). */
static void test_batch_reproducible(void **state)
{
    legr_evo_opts o = opts(11, 50);
    o.batch = 2;
    legr_evo a, b, c;
    synth sa, sb, sc;
    run(*state, o, &a, &sa);
    run(*state, o, &b, &sb);
    assert_true(same_affine(&a.best, &b.best));
    assert_int_equal(sa.calls, 50);
    o.batch = 1;
    run(*state, o, &c, &sc);
    assert_int_equal(sc.calls, 50);
    assert_int_equal(sa.identity_at, 7);       /* the pool fills the same way */
    assert_int_equal(sc.identity_at, 7);
    assert_memory_equal(sa.seq, sc.seq, 8 * sizeof(double));
    assert_memory_equal(sa.seq, sb.seq, 50 * sizeof(double));
    assert_true(memcmp(sa.seq + 8, sc.seq + 8, 42 * sizeof(double)) != 0);
    legr_evo_free(&a);
    legr_evo_free(&b);
    legr_evo_free(&c);
}

/* The evolution must improve on its random start (the best of the first 8:
 * random + identity) and beat pure random search given the same 300
 * evaluations (a pool of 300 never mutates). */
static void test_climbs(void **state)
{
    legr_evo e0, e1, rnd;
    synth s0, s1, s2;
    run(*state, opts(5, 8), &e0, &s0);
    run(*state, opts(5, 300), &e1, &s1);
    legr_evo_opts ro = opts(5, 300);
    ro.pool = 300;
    run(*state, ro, &rnd, &s2);
    printf("best after 8: %.3f, after 300: %.3f, random search 300: %.3f\n",
           e0.best_fit, e1.best_fit, rnd.best_fit);
    assert_true(e1.best_fit > e0.best_fit);
    assert_true(e1.best_fit > rnd.best_fit);
    legr_evo_free(&e0);
    legr_evo_free(&e1);
    legr_evo_free(&rnd);
}

/* A fitness that returns NaN for every other candidate (a diverged
 * fine-tuning; Darknet's -Ofast makes isnan useless, the evolution tests the
 * bits): NaN never becomes the best, is stored as -inf, and the checkpoint
 * then loads; a checkpoint with more candidates done than -evals does not. */
static int nan_fitness(void *ctx, const legr_affine *a, int n, double *fit, char *err, size_t errlen)
{
    int *calls = ctx;
    for (int i = 0; i < n; ++i, ++*calls) {
        uint64_t bits = 0x7ff8000000000000ull;     /* a quiet NaN, without NAN (-Ofast) */
        if (*calls % 2 == 0) memcpy(&fit[i], &bits, sizeof bits);
        else fit[i] = *calls;
    }
    return 0;
}

static void test_nan_fitness_and_checkpoint_counts(void **state)
{
    fixture *f = *state;
    char err[256];
    legr_evo e;
    legr_evo_opts o = opts(9, 10);
    int calls = 0;
    assert_int_equal(legr_evo_init(&e, &f->m.graph, &f->nr, &o), 0);
    assert_int_equal(legr_evo_run(&e, nan_fitness, &calls, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(e.best_index, 9);           /* fitness 9, the last odd call */
    for (int i = 0; i < e.n_pool; ++i) assert_false(legr_isnan(e.pool_fit[i]));
    char *dir = tu_mkdtemp("search-nan");
    char *ck = tu_path(dir, "e.ckpt");
    assert_int_equal(legr_evo_save(&e, ck, "settings nan", err, sizeof err), 0);
    legr_evo r;
    assert_int_equal(legr_evo_init(&r, &f->m.graph, &f->nr, &o), 0);
    assert_int_equal(legr_evo_load(&r, ck, "settings nan", err, sizeof err), 0);
    assert_int_equal(r.done, 10);
    legr_evo_free(&r);
    legr_evo_opts fewer = opts(9, 5);             /* -evals 5 < 10 done */
    assert_int_equal(legr_evo_init(&r, &f->m.graph, &f->nr, &fewer), 0);
    assert_int_equal(legr_evo_load(&r, ck, "settings nan", err, sizeof err), -1);
    printf("  -evals 5: %s\n", err);
    assert_non_null(strstr(err, "10 candidates done"));
    legr_evo_free(&r);
    legr_evo_free(&e);
    tu_rmtree(dir);
    free(ck);
    free(dir);
}

int main(void)
{
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_result),
        cmocka_unit_test(test_resume_is_identical),
        cmocka_unit_test(test_batch_reproducible),
        cmocka_unit_test(test_climbs),
        cmocka_unit_test(test_nan_fitness_and_checkpoint_counts),
    };
    return cmocka_run_group_tests_name("search", tests, setup, teardown);
}
