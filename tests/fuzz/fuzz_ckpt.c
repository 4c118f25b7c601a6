/* fuzz_ckpt.c: libFuzzer target for `legr search -resume` checkpoints,
 * against tests/fuzz/nets/det.cfg: legr_evo_load with a fixed settings line
 * (FUZZ_CKPT_SETTINGS, which the seeds carry), then, as the CLI does after
 * a successful load, legr_evo_run to the end of the search, with a cheap
 * synthetic fitness instead of pruning and evaluating networks. */
#include "fuzz.h"
#include "rank.h"
#include "search.h"

#include <math.h>

#define FUZZ_CKPT_SETTINGS "settings fuzz det.cfg evals=10 pool=4 sample=2 mutate=0.5 seed=7 batch=2"

static const legr_evo_opts OPTS = { 10, 4, 2, 0.5f, 7, 2 };

/* Higher for alphas near 1 and small kappas: deterministic and cheap. */
static int synthetic_fitness(void *ctx, const legr_affine *c, int n, double *fit,
                             char *err, size_t errlen)
{
    for (int i = 0; i < n; ++i) {
        double s = 0;
        for (int k = 0; k < c[i].n_groups; ++k) s -= fabs(log(c[i].alpha[k])) + fabs(c[i].kappa[k]);
        fit[i] = s;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static legr_norms nr;
    legr_model *m = fuzz_net("det");
    if (!nr.norm && legr_norms_compute(m->net, &m->graph, &nr) != 0) fuzz_fail("out of memory");
    const char *path = fuzz_input_path(data, size);
    legr_evo e;
    char err[1024] = "";
    if (legr_evo_init(&e, &m->graph, &nr, &OPTS) != 0) fuzz_fail("out of memory");
    if (legr_evo_load(&e, path, FUZZ_CKPT_SETTINGS, err, sizeof err) != 0) {
        fuzz_check_error("legr_evo_load", err);
        legr_evo_free(&e);
        return 0;
    }
    if (legr_evo_run(&e, synthetic_fitness, NULL, NULL, NULL, err, sizeof err) != 0)
        fuzz_check_error("legr_evo_run", err);
    legr_evo_free(&e);
    return 0;
}
