/* fuzz_cfg.c: libFuzzer target for cfg files, through what `legr flops`
 * does: legr_model_load (legr's strict reader, then Darknet's
 * parse_network_cfg on what it accepted, then the channel graph), the
 * per-layer FLOPs/params/channels table and the group list; then the cfg
 * writer (what prune writes) and the reader again on its output.
 *
 * legr's reader exists so that Darknet's parser never sees a file it would
 * crash or exit on.  An exit() inside Darknet is therefore a finding too:
 * libFuzzer reports "fuzz target exited" and saves the input (no fork is
 * needed). */
#include "fuzz.h"
#include "flops.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void flops_table(const legr_model *m)
{
    const network *net = m->net;
    const legr_graph *g = &m->graph;
    long total = 0;
    for (int i = 0; i < net->n; ++i) {
        total += legr_layer_flops(net, g, NULL, i);
        legr_layer_params(net, g, NULL, i);
        legr_layer_in_channels(net, g, NULL, i);
        legr_layer_out_channels(net, g, NULL, i);
        legr_layer_name(net->layers[i].type);
        if (g->role[i] == LEGR_PRODUCER) {
            int k = g->out[i][0];
            if (k < 0 || k >= g->n_groups) fuzz_fail("layer %d: group %d of %d", i, k, g->n_groups);
        }
    }
    if (legr_network_flops(net, g, NULL) != total) fuzz_fail("network FLOPs differ from the layers' sum");
    legr_network_params(net, g, NULL);
    for (int k = 0; k < g->n_groups; ++k) {
        const legr_group *gr = &g->groups[k];
        for (int p = 0; p < gr->n_producers; ++p)
            if (gr->producers[p] < 0 || gr->producers[p] >= net->n) fuzz_fail("group %d: producer %d", k, gr->producers[p]);
        for (int f = 0; f < gr->n_followers; ++f)
            if (gr->followers[f] < 0 || gr->followers[f] >= net->n) fuzz_fail("group %d: follower %d", k, gr->followers[f]);
    }
    legr_graph_prunable(g);
}

static void write_and_reread(const legr_cfg *cfg)
{
    char path[256], err[1024];
    snprintf(path, sizeof path, "%s/written-%d.cfg", fuzz_tmpdir(), (int)getpid());
    if (legr_cfg_write(cfg, path, NULL, NULL, err, sizeof err) != 0) fuzz_fail("legr_cfg_write: %s", err);
    legr_cfg again;
    if (legr_cfg_read(path, &again, err, sizeof err) != 0)
        fuzz_fail("a cfg legr accepted does not read back after legr_cfg_write: %s", err);
    if (again.n_sec != cfg->n_sec) fuzz_fail("cfg written back has %d sections, not %d", again.n_sec, cfg->n_sec);
    legr_cfg_free(&again);
    remove(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_input_path(data, size);
    legr_model m;
    char err[1024] = "";
    if (legr_model_load(path, NULL, &m, err, sizeof err) != 0) {
        fuzz_check_error("legr_model_load", err);
        return 0;
    }
    flops_table(&m);
    write_and_reread(&m.cfg);
    legr_model_free(&m);
    return 0;
}
