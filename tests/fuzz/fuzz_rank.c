/* fuzz_rank.c: libFuzzer target for ranking files (the (alpha, kappa) per
 * prunable group that `legr search` writes and `legr prune <ranking>`
 * reads), against tests/fuzz/nets/det.cfg.  What legr_ranking_read accepts
 * must hold what its messages promise (alpha > 0 and finite, kappa finite,
 * fixed groups untouched), and is then used as `legr prune` uses it: the
 * global ranking and budget selection (legr_select, budget 0.5). */
#include "fuzz.h"
#include "flops.h"
#include "rank.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static legr_norms nr;
    legr_model *m = fuzz_net("det");
    const legr_graph *g = &m->graph;
    if (!nr.norm && legr_norms_compute(m->net, g, &nr) != 0) fuzz_fail("out of memory");
    const char *path = fuzz_input_path(data, size);
    legr_affine a;
    char err[1024] = "";
    if (legr_ranking_read(path, g, &a, err, sizeof err) != 0) {
        fuzz_check_error("legr_ranking_read", err);
        return 0;
    }
    if (a.n_groups != g->n_groups) fuzz_fail("%d groups read, the graph has %d", a.n_groups, g->n_groups);
    for (int k = 0; k < g->n_groups; ++k) {
        if (g->groups[k].fixed && (a.alpha[k] != 1 || a.kappa[k] != 0))
            fuzz_fail("fixed group %d given alpha %g kappa %g", k, a.alpha[k], a.kappa[k]);
        if (!fuzz_finite(a.alpha[k]) || !(a.alpha[k] > 0) || !fuzz_finite(a.kappa[k]))
            fuzz_fail("group %d accepted with alpha %g kappa %g (the reader promises alpha > 0, both finite)",
                      k, a.alpha[k], a.kappa[k]);
    }
    legr_mask mask;
    long flops;
    if (legr_select(m->net, g, &nr, &a, 0.5f, 0.1f, &mask, &flops, err, sizeof err) == 0) {
        long full = legr_network_flops(m->net, g, NULL), recount = legr_network_flops(m->net, g, &mask);
        if (!(flops < 0.5 * full)) fuzz_fail("legr_select met budget 0.5 with %ld of %ld FLOPs", flops, full);
        if (recount != flops) fuzz_fail("legr_select counted %ld FLOPs, the mask has %ld", flops, recount);
        legr_mask_free(&mask);
    } else {
        fuzz_check_error("legr_select", err);
    }
    legr_affine_free(&a);
    return 0;
}
