/* model.c: loads a cfg (and weights) for legr: the cfg read and checked
 * (cfgcheck.c), Darknet's own parser, a check that Darknet built the shapes
 * legr computed, the channel graph, and the size-checked weights. */
#include "model.h"
#include "cfgcheck.h"
#include "guard.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

void legr_free_network(network *net)
{
    if (!net) return;
#ifdef GPU
    if (net->gpu_index >= 0 && net->workspace) cuda_free(net->workspace);
    else free(net->workspace);
#else
    free(net->workspace);
#endif
    free(net->seen);
    free(net->t);
    free(net->cost);
    free(net->steps);
    free(net->scales);
    free_network(net);
}

network *legr_load_written_pair(const char *cfg, const char *weights)
{
    int muted = legr_mute_fd(2);
    network *net = load_network((char *)cfg, (char *)weights, 0);
    legr_unmute_fd(2, muted);
    return net;
}

network *legr_parse_network(const legr_cfg *cfg, char *err, size_t errlen)
{
    char tmp[] = "/tmp/legr-cfg-XXXXXX";
    const char *path = cfg->path;
    if (cfg->has_cr) {
        int fd = mkstemp(tmp);
        if (fd < 0) { legr_fail(err, errlen, "cannot create a temporary file in /tmp"); return NULL; }
        close(fd);
        if (legr_cfg_write(cfg, tmp, NULL, NULL, err, errlen) != 0) { remove(tmp); return NULL; }
        path = tmp;
    }
    int muted = legr_mute_fd(2);
    network *net = parse_network_cfg((char *)path);
    legr_unmute_fd(2, muted);
    if (cfg->has_cr) remove(tmp);
    if (!net) legr_fail(err, errlen, "%s: Darknet could not parse it", cfg->path);
    return net;
}

/* Darknet's layers against the shapes cfgcheck.c computed: a disagreement
 * means legr's reading of the cfg is not Darknet's, and nothing built on it
 * could be trusted. */
static int shapes_agree(const legr_cfg *cfg, const network *net, const legr_cfg_shape *sh,
                        char *err, size_t errlen)
{
    if (net->n != cfg->n_sec - 1)
        return legr_fail(err, errlen, "%s: Darknet built %d layers, legr read %d", cfg->path,
                         net->n, cfg->n_sec - 1);
    for (int i = 0; i < net->n; ++i) {
        const layer *l = &net->layers[i];
        int image = sh[i].w > 0;
        if (l->outputs != sh[i].outputs ||
            (image && (l->out_w != sh[i].w || l->out_h != sh[i].h || l->out_c != sh[i].c)))
            return legr_fail(err, errlen, "%s:%d: layer %d: Darknet built %dx%dx%d (%d outputs), legr computed %dx%dx%d (%d)",
                             cfg->path, cfg->sec[i + 1].line, i, l->out_w, l->out_h, l->out_c,
                             l->outputs, sh[i].w, sh[i].h, sh[i].c, sh[i].outputs);
    }
    return 0;
}

int legr_model_load(const char *cfg_path, const char *weights_path,
                    legr_model *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof(*m));
    if (legr_cfg_read(cfg_path, &m->cfg, err, errlen) != 0) return -1;
    legr_cfg_shape *sh = legr_calloc(m->cfg.n_sec, sizeof(*sh));
    if (!sh || legr_cfg_check(&m->cfg, sh, err, errlen) != 0) {
        if (!sh) legr_fail(err, errlen, "%s: out of memory", cfg_path);
        free(sh);
        legr_cfg_free(&m->cfg);
        return -1;
    }
    if (weights_path && access(weights_path, R_OK) != 0) {
        free(sh);
        legr_cfg_free(&m->cfg);
        return legr_fail(err, errlen, "%s: cannot open: no such file or not readable", weights_path);
    }
    m->net = legr_parse_network(&m->cfg, err, errlen);
    if (!m->net || shapes_agree(&m->cfg, m->net, sh, err, errlen) != 0) {
        free(sh);
        legr_model_free(m);
        return -1;
    }
    free(sh);
    char why[256];
    if (legr_graph_build(m->net, &m->graph, why, sizeof why) != 0) {
        legr_model_free(m);
        return legr_fail(err, errlen, "%s: %s", cfg_path, why);
    }
    if (weights_path && legr_weights_read(weights_path, m->net, &m->w, err, errlen) != 0) {
        legr_model_free(m);
        return -1;
    }
    return 0;
}

void legr_model_free(legr_model *m)
{
    if (m->net) legr_free_network(m->net);
    legr_graph_free(&m->graph);
    legr_weights_free(&m->w);
    legr_cfg_free(&m->cfg);
    memset(m, 0, sizeof(*m));
}

/* BN statistics to an identity: Darknet leaves rolling variances at 0. */
static void identity_statistics(network *net)
{
    for (int i = 0; i < net->n; ++i) {
        layer *l = &net->layers[i];
        int n = l->type == BATCHNORM ? l->c : l->type == CONNECTED ? l->outputs : l->n;
        if (l->rolling_variance)
            for (int j = 0; j < n; ++j) l->rolling_variance[j] = 1;
#ifdef GPU
        legr_push_layer(l);     /* save_weights pulls the device copies */
#endif
    }
}

int legr_model_write_random(const char *cfg_path, const char *out, int seed, long *floats,
                            char *err, size_t errlen)
{
    legr_inputs in = {{0}, 0};
    legr_input_add(&in, cfg_path);
    if (legr_output_check(out, &in, err, errlen) != 0) return -1;
    legr_cfg cfg;
    if (legr_cfg_load(cfg_path, &cfg, err, errlen) != 0) return -1;
    legr_cfg_print_warnings(&cfg);
    srand(seed);                /* Darknet's initialisers draw from rand() */
    network *net = legr_parse_network(&cfg, err, errlen);
    legr_cfg_free(&cfg);
    if (!net) return -1;
    int rc = -1;
    char *tmp = NULL;
    *floats = legr_network_weight_floats(net, err, errlen);
    if (*floats < 0) goto done;
    identity_statistics(net);
    FILE *fp = legr_open_temp(out, &tmp, err, errlen);    /* checks we can write */
    if (!fp) goto done;
    fclose(fp);
    int muted = legr_mute_fd(2);                          /* "Saving weights to" */
    save_weights(net, tmp);
    legr_unmute_fd(2, muted);
    struct stat st;     /* save_weights checks no write: check the size */
    if (stat(tmp, &st) != 0 || st.st_size != 20 + 4 * *floats || rename(tmp, out) != 0) {
        remove(tmp);
        legr_fail(err, errlen, "%s: write failed", out);
        goto done;
    }
    rc = 0;
done:
    free(tmp);
    legr_free_network(net);
    return rc;
}
