/* model.c: loads a cfg (and weights) for legr: strict cfg check first, then
 * Darknet's own parser, the channel graph, and the size-checked weights. */
#include "model.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int legr_model_load(const char *cfg_path, const char *weights_path,
                    legr_model *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof(*m));
    if (legr_cfg_read(cfg_path, &m->cfg, err, errlen) != 0) return -1;
    if (weights_path && access(weights_path, R_OK) != 0) {
        legr_cfg_free(&m->cfg);
        return legr_fail(err, errlen, "%s: cannot open: no such file or not readable", weights_path);
    }
    m->net = legr_parse_network(&m->cfg, err, errlen);
    if (!m->net) {
        legr_cfg_free(&m->cfg);
        return -1;
    }
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
