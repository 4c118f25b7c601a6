/* model.h: a cfg (+ optional weights) loaded for legr: the cfg text, Darknet's
 * parsed network, its channel graph and the checked weights. */
#ifndef LEGR_MODEL_H
#define LEGR_MODEL_H

#include <stddef.h>
#include "cfgfile.h"
#include "graph.h"
#include "weights.h"

typedef struct {
    legr_cfg cfg;
    network *net;
    legr_graph graph;
    legr_weights w;         /* data == NULL when loaded without weights */
} legr_model;

/* Loads cfg_path (and weights_path unless NULL) and builds the graph.  The
 * cfg is validated before Darknet parses it (a CRLF cfg is handed to Darknet
 * as an LF copy), Darknet's layer table is not printed, and the weights are
 * checked for their exact size and loaded into net.  Returns 0 or -1 with
 * err set. */
int legr_model_load(const char *cfg_path, const char *weights_path,
                    legr_model *m, char *err, size_t errlen);
void legr_model_free(legr_model *m);

/* free_network plus what Darknet's own leaves behind (workspace, seen, t,
 * cost, steps, scales): search frees hundreds of networks. */
void legr_free_network(network *net);

/* Darknet's load_network (parse + load_weights) on a pair legr wrote itself,
 * without Darknet's layer table on stderr. */
network *legr_load_written_pair(const char *cfg, const char *weights);

/* Darknet's parse_network_cfg on an already checked cfg, quietly (the layer
 * table is discarded), through an LF copy when the file has CRLF ends. */
network *legr_parse_network(const legr_cfg *cfg, char *err, size_t errlen);

/* `legr init`: a weights file for cfg with Darknet's own random
 * initialisation (He-uniform convs, seeded by seed through Darknet's rand())
 * and BN statistics set to an identity (mean 0, variance 1) so the network
 * runs sanely; written under a temporary name and renamed.  *floats
 * receives the number of floats written.  0, or -1 with err. */
int legr_model_write_random(const char *cfg_path, const char *out, int seed, long *floats,
                            char *err, size_t errlen);

#endif
