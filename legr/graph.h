/* graph.h: the channel-dependency graph of a parsed Darknet network.
 *
 * Every output channel of every layer is traced back to a "group": a block of
 * channels created by the filters of one or more convolutional layers that
 * must keep identical channel indices (a [shortcut] couples its two inputs;
 * a depthwise conv follows its producer).  A layer's output is a list of
 * blocks, each one whole group, in channel order (route concatenates lists).
 * Groups whose filters cannot be removed are marked fixed, with the reason. */
#ifndef LEGR_GRAPH_H
#define LEGR_GRAPH_H

#include <stddef.h>
#include "darknet.h"

enum legr_role {
    LEGR_OTHER = 0,     /* no filters of its own (pooling, route, heads...) */
    LEGR_PRODUCER,      /* conv with groups=1: its filters create a group */
    LEGR_DEPTHWISE,     /* conv with groups == c == filters: follows its input */
    LEGR_FIXED_CONV     /* grouped or binary conv: left exactly as it is */
};

typedef struct {
    int n;              /* channels */
    int fixed;          /* 1: filters of this group cannot be removed */
    char why[128];      /* reason, when fixed */
    int *producers;     /* LEGR_PRODUCER layers whose filters make the group */
    int n_producers;
    int *followers;     /* LEGR_DEPTHWISE layers whose channels follow it */
    int n_followers;
} legr_group;

typedef struct {
    int n_layers;
    int *role;          /* enum legr_role, per layer */
    int **in;           /* per layer: input blocks (group ids) */
    int *n_in;
    int **out;          /* per layer: output blocks (group ids) */
    int *n_out;
    legr_group *groups;
    int n_groups;
} legr_graph;

/* Builds the graph.  Returns 0, or -1 with err set. */
int legr_graph_build(const network *net, legr_graph *g, char *err, size_t errlen);
void legr_graph_free(legr_graph *g);

/* Number of groups whose filters may be removed. */
int legr_graph_prunable(const legr_graph *g);

/* Short name of a Darknet layer type ("convolutional", "yolo", ...). */
const char *legr_layer_name(LAYER_TYPE t);

#endif
