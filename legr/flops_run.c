/* flops_run.c: the `legr flops` and `legr bench` pipelines (see
 * flops_run.h). */
#include "flops_run.h"
#include "flops.h"
#include "cfgcheck.h"
#include "guard.h"
#include "model.h"
#include "report.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

static void print_groups(const legr_graph *g, int verbose)
{
    printf("Prunable groups: %d of %d\n", legr_graph_prunable(g), g->n_groups);
    printf("group channels  producers  status\n");
    for (int k = 0; k < g->n_groups; ++k) {
        const legr_group *gr = &g->groups[k];
        if (gr->fixed && !verbose) continue;
        char lay[128] = "";
        int len = 0;
        for (int p = 0; p < gr->n_producers && len < 100; ++p)
            len += snprintf(lay + len, sizeof lay - len, "%s%d", p ? "," : "", gr->producers[p]);
        for (int p = 0; p < gr->n_followers && len < 100; ++p)
            len += snprintf(lay + len, sizeof lay - len, ",dw%d", gr->followers[p]);
        printf("%5d %8d  %-10s %s%s\n", k, gr->n, *lay ? lay : "-",
               gr->fixed ? "fixed: " : "prunable", gr->fixed ? gr->why : "");
    }
}

static void print_layers(const network *net, const legr_graph *g, int verbose)
{
    printf("layer  type              in    out      MFLOPs      params  group\n");
    for (int i = 0; i < net->n; ++i) {
        long f = legr_layer_flops(net, g, NULL, i), p = legr_layer_params(net, g, NULL, i);
        if (!verbose && f == 0 && p == 0) continue;
        char grp[32] = "";
        if (g->role[i] == LEGR_PRODUCER) {
            int k = g->out[i][0];
            snprintf(grp, sizeof grp, "%d%s", k, g->groups[k].fixed ? " (fixed)" : "");
        } else if (g->role[i] == LEGR_DEPTHWISE) {
            snprintf(grp, sizeof grp, "follows input");
        }
        printf("%5d  %-15s %5d  %5d  %10.3f  %10ld  %s\n", i, legr_layer_name(net->layers[i].type),
               legr_layer_in_channels(net, g, NULL, i), legr_layer_out_channels(net, g, NULL, i),
               f / 1e6, p, grp);
    }
}

int legr_run_flops(const legr_flops_args *a, char *err, size_t errlen)
{
    legr_inputs in = {{0}, 0};
    if (legr_input_file(&in, a->cfg, err, errlen) != 0) return -1;
    if (a->json && legr_output_check(a->json, &in, err, errlen) != 0) return -1;
    legr_model m;
    if (legr_model_load(a->cfg, NULL, &m, err, errlen) != 0) return -1;
    legr_cfg_print_warnings(&m.cfg);
    const network *net = m.net;
    printf("%s: %d x %d x %d input, %d layers\n", a->cfg, net->w, net->h, net->c, net->n);
    print_layers(net, &m.graph, a->verbose);
    long ops = legr_network_flops(net, &m.graph, NULL);
    printf("Floating Point Operations: %ld\n", ops);
    printf("Floating Point Operations: %.2f Bn\n", ops / 1e9);
    printf("Parameters: %ld\n", legr_network_params(net, &m.graph, NULL));
    print_groups(&m.graph, a->verbose);
    int rc = a->json ? legr_report_flops_json(a->json, a->cfg, net, &m.graph, err, errlen) : 0;
    legr_model_free(&m);
    return rc;
}

static void print_bench_layers(const char *cfg, const legr_model *m, const legr_bench_result *r)
{
    printf("\n%s: median ms per layer\n", cfg);
    printf("layer  type               MFLOPs       ms   share\n");
    for (int i = 0; i < r->n_layers; ++i)
        printf("%5d  %-15s %9.3f %8.3f  %5.1f%%\n", i, legr_layer_name(m->net->layers[i].type),
               legr_layer_flops(m->net, &m->graph, NULL, i) / 1e6, r->layer_ms[i],
               100 * r->layer_ms[i] / r->median_ms);
}

static void print_bench(const legr_bench_args *a, const legr_model *m, const legr_bench_result *r)
{
    double f0 = legr_network_flops(m[0].net, &m[0].graph, NULL);
    printf("%-32s %9s %8s %10s %17s %7s %9s\n", "cfg", "input", "GFLOPs", "FLOP ratio",
           "ms (min-max)", "ratio", "decode ms");
    for (int j = 0; j < a->n_cfgs; ++j) {
        double f = legr_network_flops(m[j].net, &m[j].graph, NULL);
        char size[32], ms[48];
        snprintf(size, sizeof size, "%dx%d", m[j].net->w, m[j].net->h);
        snprintf(ms, sizeof ms, "%.2f (%.2f-%.2f)", r[j].median_ms, r[j].min_ms, r[j].max_ms);
        printf("%-32s %9s %8.3f %10.3f %17s %7.3f %9.2f\n", a->cfgs[j], size, f / 1e9, f / f0, ms,
               r[j].median_ms / r[0].median_ms, r[j].decode_ms);
    }
    for (int j = 0; a->layers && j < a->n_cfgs; ++j) print_bench_layers(a->cfgs[j], &m[j], &r[j]);
}

int legr_run_bench(const legr_bench_args *a, char *err, size_t errlen)
{
    legr_model m[LEGR_MAX_BENCH_CFGS];
    network *nets[LEGR_MAX_BENCH_CFGS];
    legr_bench_result r[LEGR_MAX_BENCH_CFGS];
    memset(m, 0, sizeof m);
    memset(r, 0, sizeof r);
    legr_inputs in = {{0}, 0};
    int rc = -1, loaded = 0;
    for (; loaded < a->n_cfgs; ++loaded) {
        if (legr_input_file(&in, a->cfgs[loaded], err, errlen) != 0 ||
            legr_model_load(a->cfgs[loaded], NULL, &m[loaded], err, errlen) != 0)
            goto done;
        legr_cfg_print_warnings(&m[loaded].cfg);
        nets[loaded] = m[loaded].net;
    }
    const legr_bench_opts *o = &a->opts;
    printf("legr bench: %d thread%s, batch 1, %d warm-up + %d timed passes each", o->threads,
           o->threads > 1 ? "s" : "", o->warmup, o->runs);
    if (a->n_cfgs > 1) printf(", in turns of %d", o->turn);
    printf("\n");
    if (legr_bench_forward(nets, a->n_cfgs, o, r, err, errlen) != 0) goto done;
    print_bench(a, m, r);
    rc = 0;
done:
    for (int j = 0; j < a->n_cfgs; ++j) {
        legr_bench_free(&r[j]);
        legr_model_free(&m[j]);
    }
    return rc;
}
