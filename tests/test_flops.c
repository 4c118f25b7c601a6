/* test_flops.c: FLOP and parameter counting (legr/flops.h) and the channel
 * graph (legr/graph.h) on real cfgs.
 *
 * For Debian's yolov3-tiny, yolov3, yolov2-tiny, darknet19, resnet18 and tiny
 * cfgs (and the zoo's Yolo-Fastest when present): legr_network_flops of the
 * unpruned network equals the number stock `/usr/bin/darknet ops` prints, and
 * so does `./darknet legr flops`; per-layer FLOPs add up; the parameter count
 * equals one computed here from Darknet's layers.  The graph is checked for
 * its invariants (channel counts of every layer's blocks, roles, route
 * concatenation, shortcut coupling, depthwise followers) and for what each
 * model must show: yolov3-tiny's convs feeding [yolo] fixed with prunable
 * groups elsewhere, yolov3's shortcut-coupled groups, Yolo-Fastest's
 * depthwise followers.  A hand-made mask on yolov3-tiny changes FLOPs and
 * parameters by exactly the amounts computed here. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "model.h"
#include "flops.h"
#include "mask.h"

typedef struct {
    const char *name;
    char *cfg;
} model_case;

static legr_model *load_model(const char *cfg)
{
    char err[1024] = "";
    legr_model *m = calloc(1, sizeof(*m));
    int rc;
    tu_quiet_begin();
    rc = legr_model_load(cfg, NULL, m, err, sizeof(err));
    tu_quiet_end();
    if (rc != 0) fail_msg("legr_model_load(%s): %s", cfg, err);
    return m;
}

static void free_model(legr_model *m)
{
    legr_model_free(m);
    free(m);
}

static int same_blocks(const int *a, int na, const int *b, int nb)
{
    int i;
    if (na != nb) return 0;
    for (i = 0; i < na; ++i) if (a[i] != b[i]) return 0;
    return 1;
}

static int contains(const int *a, int n, int v)
{
    int i;
    for (i = 0; i < n; ++i) if (a[i] == v) return 1;
    return 0;
}

/* ------------------------------------------------------------------ FLOPs */

static void check_flops(const char *cfg)
{
    legr_model *m;
    long stock, ours, cli, sum = 0, mine_params = 0, params;
    char *q = tu_quote(cfg);
    char *cmd = tu_fmt("%s ops %s", TU_STOCK_DARKNET, q);
    char *cmd2 = tu_fmt("%s legr flops %s", TU_OUR_DARKNET, q);
    char *cmd3 = tu_fmt("%s legr flops %s -v", TU_OUR_DARKNET, q);
    int i;

    stock = tu_cmd_flops(cmd);
    assert_true(stock > 0);
    m = load_model(cfg);
    ours = legr_network_flops(m->net, &m->graph, NULL);
    printf("  %-55s stock %ld  legr %ld\n", cfg, stock, ours);
    assert_int_equal(ours, stock);
    /* the layers add up to the whole, and conv/connected layers count as
     * stock does */
    for (i = 0; i < m->net->n; ++i) {
        const layer *l = &m->net->layers[i];
        long f = legr_layer_flops(m->net, &m->graph, NULL, i);
        long p = legr_layer_params(m->net, &m->graph, NULL, i);
        long want = 0, wantp = 0;
        if (l->type == CONVOLUTIONAL) {
            want = 2l * l->n * l->size * l->size * l->c / l->groups * l->out_h * l->out_w;
            wantp = (long)l->n * (l->c / l->groups) * l->size * l->size + l->n +
                    (l->batch_normalize ? l->n : 0);
        } else if (l->type == CONNECTED) {
            want = 2l * l->inputs * l->outputs;
            wantp = (long)l->inputs * l->outputs + l->outputs +
                    (l->batch_normalize ? l->outputs : 0);
        }
        if (f != want) fail_msg("%s layer %d (%s): legr %ld FLOPs, expected %ld", cfg, i,
                                legr_layer_name(l->type), f, want);
        if (p != wantp) fail_msg("%s layer %d (%s): legr %ld params, expected %ld", cfg, i,
                                 legr_layer_name(l->type), p, wantp);
        sum += f;
        mine_params += wantp;
    }
    assert_int_equal(sum, ours);
    params = legr_network_params(m->net, &m->graph, NULL);
    assert_int_equal(params, mine_params);
    assert_int_equal(tu_ops(m->net), stock);
    free_model(m);

    cli = tu_cmd_flops(cmd2);
    assert_int_equal(cli, stock);
    cli = tu_cmd_flops(cmd3);
    assert_int_equal(cli, stock);
    free(q);
    free(cmd);
    free(cmd2);
    free(cmd3);
}

static void test_flops_yolov3_tiny(void **s) { check_flops(TU_STOCK_CFG "/yolov3-tiny.cfg"); }
static void test_flops_yolov3(void **s)      { check_flops(TU_STOCK_CFG "/yolov3.cfg"); }
static void test_flops_yolov2_tiny(void **s) { check_flops(TU_STOCK_CFG "/yolov2-tiny.cfg"); }
static void test_flops_darknet19(void **s)   { check_flops(TU_STOCK_CFG "/darknet19.cfg"); }
static void test_flops_resnet18(void **s)    { check_flops(TU_STOCK_CFG "/resnet18.cfg"); }
static void test_flops_tiny(void **s)        { check_flops(TU_STOCK_CFG "/tiny.cfg"); }

static void test_flops_yolo_fastest(void **s)
{
    char *cfg = tu_zoo_file("yolo-fastest-1.1-coco/yolo-fastest-1.1.cfg");
    if (!cfg) { skip(); return; }
    check_flops(cfg);
    free(cfg);
}

/* ------------------------------------------------------------------ graph */

/* Invariants every graph must satisfy.  Returns nothing; fails the test. */
static void check_graph(const char *cfg, const network *net, const legr_graph *g)
{
    int i, k, prunable = 0;
    assert_int_equal(g->n_layers, net->n);
    for (i = 0; i < net->n; ++i) {
        const layer *l = &net->layers[i];
        int out_ch = legr_blocks_channels(g, NULL, g->out[i], g->n_out[i]);
        int in_ch = legr_blocks_channels(g, NULL, g->in[i], g->n_in[i]);
        for (k = 0; k < g->n_out[i]; ++k)
            assert_true(g->out[i][k] >= 0 && g->out[i][k] < g->n_groups);
        for (k = 0; k < g->n_in[i]; ++k)
            assert_true(g->in[i][k] >= 0 && g->in[i][k] < g->n_groups);
        switch (l->type) {
        case CONVOLUTIONAL:
        case MAXPOOL:
        case ROUTE:
        case SHORTCUT:
        case UPSAMPLE:
        case AVGPOOL:
            if (out_ch != l->out_c)
                fail_msg("%s layer %d (%s): graph output has %d channels, Darknet %d",
                         cfg, i, legr_layer_name(l->type), out_ch, l->out_c);
            break;
        default:
            break;
        }
        /* (a [shortcut]'s input lists both the layers it adds) */
        if (l->type == CONVOLUTIONAL || l->type == MAXPOOL || l->type == UPSAMPLE ||
            l->type == AVGPOOL) {
            if (in_ch != l->c)
                fail_msg("%s layer %d (%s): graph input has %d channels, Darknet %d",
                         cfg, i, legr_layer_name(l->type), in_ch, l->c);
            /* input of a layer is the output of the previous one */
            if (i > 0 && !same_blocks(g->in[i], g->n_in[i], g->out[i - 1], g->n_out[i - 1]))
                fail_msg("%s layer %d: input blocks are not layer %d's output blocks",
                         cfg, i, i - 1);
        }
        if (l->type == CONVOLUTIONAL) {
            int want;
            if (l->binary || l->xnor) want = LEGR_FIXED_CONV;
            else if (l->groups == 1) want = LEGR_PRODUCER;
            else if (l->groups == l->c && l->n == l->c) want = LEGR_DEPTHWISE;
            else want = LEGR_FIXED_CONV;
            if (g->role[i] != want)
                fail_msg("%s layer %d: role %d, expected %d", cfg, i, g->role[i], want);
            if (want == LEGR_PRODUCER) {
                /* its output is one group that lists it as a producer */
                assert_int_equal(g->n_out[i], 1);
                assert_true(contains(g->groups[g->out[i][0]].producers,
                                     g->groups[g->out[i][0]].n_producers, i));
                assert_int_equal(g->groups[g->out[i][0]].n, l->n);
            } else if (want == LEGR_DEPTHWISE) {
                /* follows its input, and every group of it lists it */
                assert_true(same_blocks(g->out[i], g->n_out[i], g->in[i], g->n_in[i]));
                for (k = 0; k < g->n_out[i]; ++k)
                    assert_true(contains(g->groups[g->out[i][k]].followers,
                                         g->groups[g->out[i][k]].n_followers, i));
            }
        } else {
            assert_int_equal(g->role[i], LEGR_OTHER);
        }
        if (l->type == MAXPOOL || l->type == UPSAMPLE || l->type == DROPOUT)
            assert_true(same_blocks(g->out[i], g->n_out[i], g->in[i], g->n_in[i]));
        if (l->type == ROUTE) {
            /* concatenation of the inputs' block lists */
            int n = 0, j, pos = 0;
            for (k = 0; k < l->n; ++k) n += g->n_out[l->input_layers[k]];
            assert_int_equal(g->n_out[i], n);
            for (k = 0; k < l->n; ++k) {
                int src = l->input_layers[k];
                for (j = 0; j < g->n_out[src]; ++j)
                    assert_int_equal(g->out[i][pos++], g->out[src][j]);
            }
        }
        if (l->type == SHORTCUT) {
            const layer *from = &net->layers[l->index];
            /* (Darknet gives a shortcut the from-layer's size as w/h/c and
             * the previous layer's as out_w/out_h/out_c) */
            if (from->out_c == l->out_c && from->out_w == l->out_w && from->out_h == l->out_h) {
                /* both inputs and the output are the same groups */
                if (!same_blocks(g->out[i], g->n_out[i], g->out[i - 1], g->n_out[i - 1]) ||
                    !same_blocks(g->out[i], g->n_out[i], g->out[l->index], g->n_out[l->index]))
                    fail_msg("%s shortcut %d: output, layer %d and layer %d are not the same "
                             "groups", cfg, i, i - 1, l->index);
            }
        }
    }
    for (k = 0; k < g->n_groups; ++k) {
        const legr_group *gr = &g->groups[k];
        int j;
        assert_true(gr->n > 0);
        for (j = 0; j < gr->n_producers; ++j)
            assert_int_equal(g->role[gr->producers[j]], LEGR_PRODUCER);
        for (j = 0; j < gr->n_followers; ++j)
            assert_int_equal(g->role[gr->followers[j]], LEGR_DEPTHWISE);
        if (gr->fixed) assert_true(gr->why[0] != 0);
        else {
            ++prunable;
            assert_true(gr->n_producers > 0);
        }
    }
    assert_int_equal(legr_graph_prunable(g), prunable);
}

static legr_model *graph_case(const char *cfg)
{
    legr_model *m = load_model(cfg);
    check_graph(cfg, m->net, &m->graph);
    printf("  %-55s %d layers, %d groups, %d prunable\n", cfg, m->net->n,
           m->graph.n_groups, legr_graph_prunable(&m->graph));
    return m;
}

static void test_graph_yolov3_tiny(void **s)
{
    legr_model *m = graph_case(TU_STOCK_CFG "/yolov3-tiny.cfg");
    int i, k, heads = 0;
    for (i = 1; i < m->net->n; ++i) {
        if (m->net->layers[i].type != YOLO) continue;
        ++heads;
        /* the conv feeding [yolo] must keep all its filters */
        assert_int_equal(m->net->layers[i - 1].type, CONVOLUTIONAL);
        assert_true(m->graph.n_out[i - 1] > 0);
        for (k = 0; k < m->graph.n_out[i - 1]; ++k) {
            const legr_group *gr = &m->graph.groups[m->graph.out[i - 1][k]];
            if (!gr->fixed) fail_msg("group of layer %d (before [yolo] %d) is prunable", i - 1, i);
            printf("  layer %d fixed: %s\n", i - 1, gr->why);
        }
    }
    assert_int_equal(heads, 2);
    assert_true(legr_graph_prunable(&m->graph) >= 5);
    free_model(m);
}

static void test_graph_yolov3(void **s)
{
    legr_model *m = graph_case(TU_STOCK_CFG "/yolov3.cfg");
    int k, coupled = 0, coupled_prunable = 0, i;
    for (k = 0; k < m->graph.n_groups; ++k) {
        if (m->graph.groups[k].n_producers > 1) {
            ++coupled;
            if (!m->graph.groups[k].fixed) ++coupled_prunable;
        }
    }
    printf("  %d shortcut-coupled groups (%d prunable)\n", coupled, coupled_prunable);
    assert_true(coupled > 0);
    /* the convs feeding [yolo] keep all their filters */
    for (i = 0; i < m->net->n; ++i) {
        if (m->net->layers[i].type == YOLO) {
            for (k = 0; k < m->graph.n_out[i - 1]; ++k)
                assert_true(m->graph.groups[m->graph.out[i - 1][k]].fixed);
        }
    }
    free_model(m);
}

static void test_graph_resnet18(void **s)
{
    legr_model *m = graph_case(TU_STOCK_CFG "/resnet18.cfg");
    free_model(m);
}

static void test_graph_others(void **s)
{
    legr_model *m = graph_case(TU_STOCK_CFG "/yolov2-tiny.cfg");
    free_model(m);
    m = graph_case(TU_STOCK_CFG "/darknet19.cfg");
    free_model(m);
    m = graph_case(TU_STOCK_CFG "/tiny.cfg");
    free_model(m);
}

static void test_graph_yolo_fastest(void **s)
{
    char *cfg = tu_zoo_file("yolo-fastest-1.1-coco/yolo-fastest-1.1.cfg");
    legr_model *m;
    int k, with_followers = 0, dw = 0, i;
    if (!cfg) { skip(); return; }
    m = graph_case(cfg);
    for (i = 0; i < m->net->n; ++i) if (m->graph.role[i] == LEGR_DEPTHWISE) ++dw;
    for (k = 0; k < m->graph.n_groups; ++k)
        if (m->graph.groups[k].n_followers > 0) ++with_followers;
    printf("  %d depthwise convs, %d groups with depthwise followers\n", dw, with_followers);
    assert_true(dw > 0);
    assert_true(with_followers > 0);
    free_model(m);
    free(cfg);
}

static void test_layer_names(void **s)
{
    assert_string_equal(legr_layer_name(CONVOLUTIONAL), "convolutional");
    assert_string_equal(legr_layer_name(MAXPOOL), "maxpool");
    assert_string_equal(legr_layer_name(ROUTE), "route");
    assert_string_equal(legr_layer_name(SHORTCUT), "shortcut");
    assert_string_equal(legr_layer_name(YOLO), "yolo");
    assert_string_equal(legr_layer_name(UPSAMPLE), "upsample");
}

/* ------------------------------------------------------- a hand-made mask */

static void test_mask_flops_by_hand(void **s)
{
    legr_model *m = load_model(TU_STOCK_CFG "/yolov3-tiny.cfg");
    const network *net = m->net;
    const legr_graph *g = &m->graph;
    legr_mask mask;
    int g0, next = -1, i, j, removed = 0;
    long full, full_p, f, p, want_f, want_p;
    const layer *l0, *ln;

    /* layer 0 is a conv producing its own group */
    assert_int_equal(net->layers[0].type, CONVOLUTIONAL);
    assert_int_equal(g->role[0], LEGR_PRODUCER);
    g0 = g->out[0][0];
    assert_false(g->groups[g0].fixed);
    assert_int_equal(g->groups[g0].n_producers, 1);
    /* the next conv reads it */
    for (i = 1; i < net->n && next < 0; ++i)
        if (net->layers[i].type == CONVOLUTIONAL) next = i;
    assert_true(next > 0);
    assert_true(same_blocks(g->in[next], g->n_in[next], &g0, 1));
    l0 = &net->layers[0];
    ln = &net->layers[next];

    full = legr_network_flops(net, g, NULL);
    full_p = legr_network_params(net, g, NULL);
    assert_int_equal(legr_mask_init(&mask, g), 0);
    assert_int_equal(mask.n_groups, g->n_groups);
    for (i = 0; i < g->n_groups; ++i) {
        assert_int_equal(mask.kept[i], g->groups[i].n);
        for (j = 0; j < g->groups[i].n; ++j) assert_int_equal(mask.keep[i][j], 1);
    }
    /* an all-kept mask counts as no mask */
    assert_int_equal(legr_network_flops(net, g, &mask), full);
    assert_int_equal(legr_network_params(net, g, &mask), full_p);

    /* drop every other channel of layer 0's group */
    for (j = 0; j < g->groups[g0].n; j += 2) { mask.keep[g0][j] = 0; ++removed; }
    mask.kept[g0] -= removed;
    assert_int_equal(legr_layer_out_channels(net, g, &mask, 0), l0->n - removed);
    assert_int_equal(legr_layer_in_channels(net, g, &mask, next), ln->c - removed);
    assert_int_equal(legr_layer_in_channels(net, g, &mask, 0), 3);
    assert_int_equal(legr_blocks_channels(g, &mask, &g0, 1), l0->n - removed);
    {
        int *idx = malloc(sizeof(int) * g->groups[g0].n);
        int n = legr_blocks_kept_index(g, &mask, &g0, 1, idx);
        assert_int_equal(n, l0->n - removed);
        for (j = 0; j < n; ++j) assert_int_equal(idx[j], 2 * j + 1);
        free(idx);
    }
    want_f = full
        - 2l * removed * l0->size * l0->size * l0->c * l0->out_h * l0->out_w
        - 2l * ln->n * ln->size * ln->size * removed * ln->out_h * ln->out_w;
    want_p = full_p
        - (long)removed * (l0->size * l0->size * l0->c + 1 + (l0->batch_normalize ? 1 : 0))
        - (long)ln->n * ln->size * ln->size * removed;
    f = legr_network_flops(net, g, &mask);
    p = legr_network_params(net, g, &mask);
    printf("  full %ld FLOPs, %ld params; masked %ld FLOPs, %ld params\n", full, full_p, f, p);
    assert_int_equal(f, want_f);
    assert_int_equal(p, want_p);
    legr_mask_free(&mask);
    free_model(m);
}

int main(void)
{
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layer_names),
        cmocka_unit_test(test_flops_yolov3_tiny),
        cmocka_unit_test(test_flops_yolov3),
        cmocka_unit_test(test_flops_yolov2_tiny),
        cmocka_unit_test(test_flops_darknet19),
        cmocka_unit_test(test_flops_resnet18),
        cmocka_unit_test(test_flops_tiny),
        cmocka_unit_test(test_flops_yolo_fastest),
        cmocka_unit_test(test_graph_yolov3_tiny),
        cmocka_unit_test(test_graph_yolov3),
        cmocka_unit_test(test_graph_resnet18),
        cmocka_unit_test(test_graph_others),
        cmocka_unit_test(test_graph_yolo_fastest),
        cmocka_unit_test(test_mask_flops_by_hand),
    };
    return cmocka_run_group_tests_name("flops", tests, NULL, NULL);
}
