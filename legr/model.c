/* model.c: loads a cfg (and weights) for legr: strict cfg check first, then
 * Darknet's own parser, the channel graph, and the size-checked weights. */
#include "model.h"
#include "util.h"

#include <string.h>

int legr_model_load(const char *cfg_path, const char *weights_path,
                    legr_model *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof(*m));
    if (legr_cfg_read(cfg_path, &m->cfg, err, errlen) != 0) return -1;
    m->net = parse_network_cfg((char *)cfg_path);
    if (!m->net) {
        legr_cfg_free(&m->cfg);
        return legr_fail(err, errlen, "%s: Darknet could not parse it", cfg_path);
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
    if (m->net) free_network(m->net);
    legr_graph_free(&m->graph);
    legr_weights_free(&m->w);
    legr_cfg_free(&m->cfg);
    memset(m, 0, sizeof(*m));
}
