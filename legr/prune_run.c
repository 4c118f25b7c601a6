/* prune_run.c: the `legr prune` pipeline (see prune_run.h): check every
 * input and output, read the model and the images, choose every budget's
 * mask, then stage, recover and measure each pair, and commit them all. */
#include "prune_run.h"
#include "bench.h"
#include "flops.h"
#include "cfgcheck.h"
#include "choose.h"
#include "guard.h"
#include "latency.h"
#include "measure.h"
#include "prune.h"
#include "rank.h"
#include "report.h"
#include "surgery.h"
#include "util.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Everything the pipeline holds, so that one function frees it on any path. */
typedef struct {
    legr_datafile de, dr;
    char *oc[LEGR_MAX_BUDGETS], *ow[LEGR_MAX_BUDGETS], *csv, *png;
    legr_model m;
    legr_affine a;
    legr_norms nr;
    legr_valset vs, bs;
    int have_vs, have_bs;
    legr_latency lt;
    legr_mask masks[LEGR_MAX_BUDGETS];
    long reached[LEGR_MAX_BUDGETS];
    legr_row rows[LEGR_MAX_BUDGETS + 1];
    int nrows;
    legr_staged st;
} prune_state;

static void state_free(prune_state *s)
{
    legr_staged_abort(&s->st);          /* nothing once committed */
    legr_datafile_free(&s->de);
    legr_datafile_free(&s->dr);
    for (int b = 0; b < LEGR_MAX_BUDGETS; ++b) {
        free(s->oc[b]);
        free(s->ow[b]);
        legr_mask_free(&s->masks[b]);
    }
    free(s->csv);
    free(s->png);
    if (s->have_vs) legr_valset_free(&s->vs);
    if (s->have_bs) legr_valset_free(&s->bs);
    legr_norms_free(&s->nr);
    legr_affine_free(&s->a);
    legr_latency_free(&s->lt);
    legr_model_free(&s->m);
}

/* The outputs' names, each checked against every input, before anything is
 * read or written. */
static int name_outputs(const legr_prune_args *a, prune_state *s, legr_inputs *in,
                        char *err, size_t errlen)
{
    for (int b = 0; b < a->n_ratios; ++b) {
        s->oc[b] = legr_fmt("%s-%g.cfg", a->prefix, a->ratio[b] * 100);
        s->ow[b] = legr_fmt("%s-%g.weights", a->prefix, a->ratio[b] * 100);
        if (!s->oc[b] || !s->ow[b]) return legr_fail(err, errlen, "out of memory");
        for (int c = 0; c < b; ++c)
            if (!strcmp(s->oc[b], s->oc[c]))
                return legr_fail(err, errlen, "budgets %g and %g both write %s", a->ratio[c], a->ratio[b], s->oc[b]);
        if (legr_output_check(s->oc[b], in, err, errlen) || legr_output_check(s->ow[b], in, err, errlen))
            return -1;
    }
    if (a->evaldata) {
        s->csv = legr_fmt("%s.csv", a->prefix);
        s->png = legr_fmt("%s.png", a->prefix);
        if (!s->csv || !s->png) return legr_fail(err, errlen, "out of memory");
        if (legr_output_check(s->csv, in, err, errlen) || legr_output_check(s->png, in, err, errlen)) return -1;
    }
    if (!a->json) return 0;
    if (legr_output_check(a->json, in, err, errlen) ||
        legr_output_distinct(a->json, (const char *const *)s->oc, a->n_ratios, err, errlen) ||
        legr_output_distinct(a->json, (const char *const *)s->ow, a->n_ratios, err, errlen))
        return -1;
    const char *tables[] = { s->csv, s->png };
    return legr_output_distinct(a->json, tables, 2, err, errlen);
}

/* The validation images of -eval and the recovery images, decoded before
 * anything is written. */
static int load_images(const legr_prune_args *a, prune_state *s, const char *recsrc, int want_bnset,
                       char *err, size_t errlen)
{
    if (a->evaldata) {
        if (legr_valset_load(a->evaldata, "valid", s->m.net, a->eval_n, &s->vs, err, errlen) != 0) return -1;
        s->have_vs = 1;
        if (s->vs.n_images == 0) return legr_fail(err, errlen, "%s: the valid= list %s is empty", a->evaldata, s->de.valid);
    }
    if (!want_bnset) return 0;
    int bn = a->bn_given ? a->bn : 4;
    int want = a->recover > bn * s->m.net->batch ? a->recover : bn * s->m.net->batch;
    int rc = a->images ? legr_imageset_load(a->images, s->m.net, want, &s->bs, err, errlen)
                       : legr_valset_load(recsrc, "train", s->m.net, want, &s->bs, err, errlen);
    if (rc != 0) return -1;
    s->have_bs = 1;
    if (s->bs.n_images == 0) return legr_fail(err, errlen, "%s: the image list is empty", recsrc);
    return 0;
}

/* The ranking's scores: the ranking file's affine map over the L2 norms,
 * or a baseline's. */
static int load_ranking(const legr_prune_args *a, prune_state *s, char *err, size_t errlen)
{
    if (a->ranking) {
        if (legr_ranking_read(a->ranking, &s->m.graph, &s->a, err, errlen) != 0) return -1;
    } else if (legr_affine_identity(&s->a, s->m.graph.n_groups) != 0) {
        return legr_fail(err, errlen, "out of memory");
    }
    int random = a->baseline && !strcmp(a->baseline, "random");
    if ((random ? legr_norms_random(&s->m.graph, a->seed, &s->nr) : legr_norms_compute(s->m.net, &s->m.graph, &s->nr)) != 0)
        return legr_fail(err, errlen, "out of memory");
    return 0;
}

/* Accuracy of net on the -eval images, plain and after BN re-estimation on
 * bnset (when given), and (timed) its latency as legr bench measures it
 * (batch 1, one thread, median); fills row. */
static int measure_row(network *net, const legr_valset *vs, const legr_valset *bnset, int bn, int timed,
                       legr_row *row, char *err, size_t errlen)
{
    legr_measure_opts o = legr_measure_defaults(vs);
    o.before = 1;
    o.bnset = bnset;
    o.bn_batches = bnset ? bn : 0;
    legr_measured r;
    if (legr_measure(net, &o, &r, err, errlen) != 0) return -1;
    row->acc = legr_stage_accuracy(&r.plain, vs);
    row->acc_bn = r.bn.done ? legr_stage_accuracy(&r.bn, vs) : -1;
    legr_measured_free(&r);
    if (!timed) return 0;
    legr_bench_opts bo = { 10, 2, 1, 5 };
    return legr_bench_median(net, &bo, &row->ms, err, errlen);
}

/* One budget's row: the plain surgery with and without BN re-estimation
 * (built in memory when the written pair carries more than the surgery),
 * and, when it was reconstructed, the written pair tc/tw itself. */
static int measure_budget(const legr_prune_args *a, prune_state *s, int b, const char *tc, const char *tw,
                          legr_row *row, char *err, size_t errlen)
{
    int written_more = a->recover > 0 || (a->bn_given && a->bn > 0);
    int eval_bn = a->bn_given ? a->bn : 4;
    network *pn = written_more ? legr_build_pruned(&s->m, &s->masks[b], "/tmp", (int)getpid() * 100 + b, err, errlen)
                               : legr_load_written_pair(tc, tw);
    if (!pn) return written_more ? -1 : legr_fail(err, errlen, "%s: Darknet could not load the pruned pair", tc);
    /* the written pair, when measured below, gives the row its latency */
    int rc = measure_row(pn, &s->vs, s->have_bs ? &s->bs : NULL, eval_bn, a->recover <= 0, row, err, errlen);
    legr_free_network(pn);
    if (rc != 0 || a->recover <= 0) return rc;
    legr_row rr;
    if (!(pn = legr_load_written_pair(tc, tw)))
        return legr_fail(err, errlen, "%s: Darknet could not load the pruned pair", tc);
    rc = measure_row(pn, &s->vs, NULL, 0, 1, &rr, err, errlen);
    legr_free_network(pn);
    row->acc_rec = rr.acc;
    row->ms = rr.ms;
    return rc;
}

static void print_recovery(const legr_recovery_report *rep, int verbose)
{
    if (rep->n_layers == 0) return;
    double before = 0, after = 0;
    for (int k = 0; k < rep->n_layers; ++k) {
        if (verbose)
            printf("    reconstructed layer %3d: relative output error %.4f -> %.4f\n",
                   rep->layers[k].layer, rep->layers[k].err_before, rep->layers[k].err_after);
        before += rep->layers[k].err_before;
        after += rep->layers[k].err_after;
    }
    printf("  reconstruction: %d layers re-fitted on %d images, mean relative output error %.4f -> %.4f\n",
           rep->n_layers, rep->n_images, before / rep->n_layers, after / rep->n_layers);
}

static void print_kept(const network *net, const legr_graph *g, const legr_mask *mk)
{
    for (int i = 0; i < net->n; ++i) {
        if (g->role[i] != LEGR_PRODUCER && g->role[i] != LEGR_DEPTHWISE) continue;
        printf("    layer %3d %-14s filters %5d -> %5d\n", i,
               g->role[i] == LEGR_DEPTHWISE ? "(depthwise)" : "",
               legr_layer_out_channels(net, g, NULL, i), legr_layer_out_channels(net, g, mk, i));
    }
}

/* -reselect: every budget's kept filters re-chosen by reconstruction error
 * on the recovery images (the counts, hence the FLOPs, stay). */
static int reselect_masks(const legr_prune_args *a, prune_state *s, char *err, size_t errlen)
{
    legr_model *m = &s->m;
    legr_recover_opts o = { &s->bs, a->recover, 0, a->ridge };
    legr_choose_group *rep = legr_calloc(m->graph.n_groups ? m->graph.n_groups : 1, sizeof *rep);
    if (!rep) return legr_fail(err, errlen, "out of memory");
    int rc = 0;
    for (int b = 0; b < a->n_ratios && rc == 0; ++b) {
        int nr = 0, changed = 0, fallbacks = 0;
        double e_l2 = 0, e_new = 0;
        rc = legr_choose_by_error(m->net, &m->graph, &s->masks[b], &o, rep, &nr, err, errlen);
        for (int k = 0; k < nr && rc == 0; ++k) {
            if (rep[k].fallback) {
                if (a->verbose)
                    printf("    group %3d (into layer %3d): the elimination failed; L2's choice stays\n",
                           rep[k].group, rep[k].consumer);
                ++fallbacks;
                continue;
            }
            if (a->verbose)
                printf("    group %3d (into layer %3d): %4d of %4d kept, %4d changed; next conv's error %.4f -> %.4f\n",
                       rep[k].group, rep[k].consumer, rep[k].kept, rep[k].n, rep[k].changed,
                       rep[k].err_l2, rep[k].err_chosen);
            changed += rep[k].changed;
            e_l2 += rep[k].err_l2;
            e_new += rep[k].err_chosen;
        }
        int done = nr - fallbacks;
        if (rc == 0)
            printf("budget %.3g: filters re-chosen in %d layers by the next conv's error (%d changed), "
                   "its mean relative error %.4f (L2's choice) -> %.4f\n", a->ratio[b], done, changed,
                   done ? e_l2 / done : 0, done ? e_new / done : 0);
        if (rc == 0 && fallbacks)
            printf("  %d more layers kept L2's choice: their elimination failed (-v names them)\n", fallbacks);
    }
    free(rep);
    return rc;
}

/* Writes (stages) budget b's pair, says what it reached and measures it. */
static int prune_budget(const legr_prune_args *a, prune_state *s, int b, const legr_recovery *rec,
                        const legr_budget *bud, char *err, size_t errlen)
{
    legr_model *m = &s->m;
    legr_recovery_report rep;
    if (legr_prune_stage(m, &s->masks[b], rec, s->oc[b], s->ow[b], &s->st, &rep, err, errlen) != 0) return -1;
    const char *tc = s->st.tmp[s->st.n - 2], *tw = s->st.tmp[s->st.n - 1];
    print_recovery(&rep, a->verbose);
    legr_recovery_report_free(&rep);
    long full = s->rows[0].flops, params = s->rows[0].params;
    long p = legr_network_params(m->net, &m->graph, &s->masks[b]);
    printf("budget %.3g: FLOPs %.3f Bn (%.3f of original), params %.3f M (%.3f) -> %s, %s\n",
           a->ratio[b], s->reached[b] / 1e9, (double)s->reached[b] / full, p / 1e6, (double)p / params,
           s->oc[b], s->ow[b]);
    if (bud->latency) {
        double ms = legr_latency_network(&s->lt, m->net, &m->graph, &s->masks[b]);
        double ms0 = legr_latency_network(&s->lt, m->net, &m->graph, NULL);
        printf("  predicted latency %.2f ms (%.3f of the original's %.2f ms)\n", ms, ms / ms0, ms0);
    }
    if (a->verbose) print_kept(m->net, &m->graph, &s->masks[b]);
    s->rows[1 + b] = (legr_row){ a->ratio[b], s->reached[b], p, -1, -1, -1, 0 };
    if (!a->evaldata) return 0;
    s->nrows++;
    return measure_budget(a, s, b, tc, tw, &s->rows[1 + b], err, errlen);
}

/* The CSV (staged with the pairs), then, once committed, the table, plot
 * and JSON. */
static int stage_csv(const legr_prune_args *a, prune_state *s, char *err, size_t errlen)
{
    if (!a->evaldata) return 0;
    const char *tcsv = legr_stage(&s->st, s->csv);
    if (!tcsv) return legr_fail(err, errlen, "out of memory");
    return legr_report_csv(tcsv, s->rows, s->nrows, s->vs.is_detector, err, errlen);
}

static int report(const legr_prune_args *a, prune_state *s, char *err, size_t errlen)
{
    int detector = s->have_vs ? s->vs.is_detector : legr_network_is_detector(s->m.net);
    if (a->evaldata) {
        printf("\n");
        legr_report_print(stdout, s->rows, s->nrows, detector);
        char perr[512];
        if (legr_report_plot(s->png, s->csv, a->cfg, detector, perr, sizeof perr) != 0)
            fprintf(stderr, "legr: %s\n", perr);
        else printf("table: %s, plot: %s\n", s->csv, s->png);
    }
    if (!a->json) return 0;
    legr_prune_summary sum = { a->cfg, a->weights, a->ranking ? a->ranking : a->baseline ? a->baseline : "l2",
                               a->by_latency ? "latency" : "flops", detector, a->evaldata != NULL,
                               s->rows, a->n_ratios + 1, (const char *const *)s->oc, (const char *const *)s->ow };
    return legr_report_prune_json(a->json, &sum, err, errlen);
}

int legr_run_prune(const legr_prune_args *a, char *err, size_t errlen)
{
    prune_state *s = legr_calloc(1, sizeof *s);
    if (!s) return legr_fail(err, errlen, "out of memory");
    int rc = -1;
    /* what the written files carry: reconstruction and/or BN statistics */
    int file_bn = a->bn_given ? a->bn : 0;
    int eval_bn = a->evaldata ? (a->bn_given ? a->bn : 4) : 0;
    const char *recsrc = a->images ? a->images : a->recdata ? a->recdata : a->evaldata;
    int want_bnset = recsrc && (a->recover > 0 || file_bn > 0 || eval_bn > 0);
    legr_inputs in = {{0}, 0};
    if (legr_input_file(&in, a->cfg, err, errlen) || legr_input_file(&in, a->weights, err, errlen) ||
        legr_input_file(&in, a->ranking, err, errlen) || legr_input_file(&in, a->images, err, errlen))
        goto done;
    if (legr_input_data(&in, a->evaldata, want_bnset && !a->images && !a->recdata ? "valid,train" : "valid",
                        &s->de, err, errlen) ||
        legr_input_data(&in, a->recdata, want_bnset ? "train" : NULL, &s->dr, err, errlen) ||
        name_outputs(a, s, &in, err, errlen))
        goto done;

    legr_model *m = &s->m;
    if (legr_model_load(a->cfg, a->weights, m, err, errlen) != 0) goto done;
    legr_cfg_print_warnings(&m->cfg);
    if (load_ranking(a, s, err, errlen) || load_images(a, s, recsrc, want_bnset, err, errlen)) goto done;
    legr_recovery rec = { s->have_bs ? &s->bs : NULL, a->recover, file_bn, 0, a->ridge };

    long full = legr_network_flops(m->net, &m->graph, NULL);
    long params = legr_network_params(m->net, &m->graph, NULL);
    printf("%s: %.3f Bn FLOPs, %.3f M params, %d prunable groups; ranking: %s\n", a->cfg, full / 1e9,
           params / 1e6, legr_graph_prunable(&m->graph),
           a->ranking ? a->ranking : a->baseline ? a->baseline : "plain L2");
    legr_budget bud = { a->round, NULL };
    if (a->by_latency) {
        if (legr_latency_announce(m, &s->lt, err, errlen) != 0) goto done;
        bud.latency = &s->lt;
    }
    /* every budget's mask before anything is written */
    int uniform = a->baseline && !strcmp(a->baseline, "uniform");
    for (int b = 0; b < a->n_ratios; ++b) {
        int r = uniform ? legr_select_uniform(m->net, &m->graph, &s->nr, a->ratio[b], a->min_frac, &bud, &s->masks[b], &s->reached[b], err, errlen)
                        : legr_select_budget(m->net, &m->graph, &s->nr, &s->a, a->ratio[b], a->min_frac, &bud, &s->masks[b], &s->reached[b], err, errlen);
        if (r != 0) goto done;
    }
    if (a->reselect && reselect_masks(a, s, err, errlen) != 0) goto done;
    s->rows[0] = (legr_row){ 1, full, params, -1, -1, -1, 0 };
    if (a->evaldata) {
        printf("evaluating the original on %d images...\n", s->vs.n_images);
        if (measure_row(m->net, &s->vs, s->have_bs ? &s->bs : NULL, eval_bn, 1, &s->rows[0], err, errlen) != 0)
            goto done;
        legr_weights_apply(&m->w, m->net);    /* the original stays as read for reconstruction */
        s->nrows = 1;
    }
    /* every output under a temporary name; all renamed at the end, or none */
    for (int b = 0; b < a->n_ratios; ++b)
        if (prune_budget(a, s, b, &rec, &bud, err, errlen) != 0) goto done;
    if (stage_csv(a, s, err, errlen) != 0 || legr_staged_commit(&s->st, err, errlen) != 0) goto done;
    rc = report(a, s, err, errlen);
done:
    state_free(s);
    free(s);
    return rc;
}
