/* cli.c: `darknet legr ...`: parses arguments Darknet's way (find_arg,
 * find_float_arg, ... which delete what they match, leaving positionals) and
 * calls the library.  The only file here that prints results or exits. */
#include "darknet.h"
#include "model.h"
#include "cfgcheck.h"
#include "flops.h"
#include "rank.h"
#include "surgery.h"
#include "eval.h"
#include "fitness.h"
#include "cluster.h"
#include "search.h"
#include "prune.h"
#include "tune.h"
#include "report.h"
#include "bench.h"
#include "latency.h"
#include "labels.h"
#include "util.h"

#include <errno.h>
#include <float.h>
#include <libgen.h>
#include <stdarg.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#define ERRLEN 512

static void usage_all(FILE *fp)
{
    fprintf(fp,
        "usage: darknet legr <command> [args]   (LeGR filter pruning for Darknet)\n"
        "commands:\n"
        "  flops <cfg> [-v]                         per-layer FLOPs, parameters and prunable groups\n"
        "  prune <cfg> <weights> [<ranking>] <ratio> [<ratio> ...] [-out PREFIX] [-min 0.1] [-v]\n"
        "                                           write PREFIX-<pct>.cfg/.weights keeping <ratio> of the FLOPs\n"
        "  eval <datacfg> <cfg> <weights> [-n N] [-thresh 0.005] [-iou 0.5] [-bn K] [-json FILE] [-v]\n"
        "                                           mAP@0.5 / mAP@[.5:.95] or top-1/top-5 on the valid= list\n"
        "  search <cfg> <weights> [-data F] [-target 0.7,0.5,0.3] [-tau 200] [-evals 400] ... [-out F] [-resume]\n"
        "                                           learn the LeGR ranking (alpha, kappa per group)\n"
        "  finetune <datacfg> <cfg> <weights> [-teacher <cfg> <weights>] [-nolabels] [-iters 500] ...\n"
        "                                           fine-tune a pruned pair, distilling from the original\n"
        "  bench <cfg> [<cfg> ...] [-runs 20] [-threads 1] [-layers]\n"
        "                                           forward latency at batch 1, side by side\n"
        "  init <cfg> <out.weights> [-seed 1]       write randomly initialised weights (to try legr\n"
        "                                           without a trained model)\n"
        "  help                                     this list\n"
        "Run 'darknet legr <command> -h' for a command's details.\n");
}

static void usage_prune(FILE *fp)
{
    fprintf(fp,
        "usage: darknet legr prune <cfg> <weights> [<ranking>] <ratio> [<ratio> ...]\n"
        "                          [-out PREFIX] [-min 0.1] [-round 1] [-budget flops|latency]\n"
        "                          [-ranking l2|uniform|random]\n"
        "                          [-recover N] [-images LIST | -data D] [-bn K]\n"
        "                          [-eval <datacfg> [-n N]] [-v]\n"
        "  <ratio>     fraction of the original FLOPs to keep, 0 < ratio <= 1\n"
        "  <ranking>   a ranking file from 'darknet legr search' (default: plain L2,\n"
        "              alpha = 1, kappa = 0 for every group)\n"
        "  -ranking    baselines instead of a ranking file: l2 (plain global L2), uniform\n"
        "              (every group keeps the same fraction), random (-seed S)\n"
        "  -recover N  reconstruct each pruned pair on N unlabelled images: every conv\n"
        "              whose inputs were pruned (or drifted) is re-fitted by least squares\n"
        "              to the original's outputs, layer by layer (the BN statistics stay\n"
        "              the original's: re-estimating them after it lowered Yolo-Fastest)\n"
        "  -images L   the images for -recover and -bn: an image list, no labels needed\n"
        "              (default: the train= list of -data D, else of -eval D)\n"
        "  -bn K       re-estimate BN statistics on K batches of those images and write\n"
        "              them into the .weights (default 0: off)\n"
        "  -ridge R    reconstruction's ridge term, relative (default 1e-4)\n"
        "  -eval D     evaluate the original and every pruned pair on D's valid= list\n"
        "              (first -n N images): plain surgery, after BN re-estimation (-bn K,\n"
        "              default 4, on D's train= list unless -images/-data) and, with\n"
        "              -recover, the written pair; writes PREFIX.csv and PREFIX.png\n"
        "  -out PREFIX output prefix (default: <cfg name>-legr); writes\n"
        "              PREFIX-<ratio*100>.cfg and PREFIX-<ratio*100>.weights\n"
        "  -min F      keep at least max(ceil(F * filters), 2) filters per group\n"
        "  -round N    kept filters per group a multiple of N (8 suits SIMD and GPU\n"
        "              kernels; groups smaller than N stay whole; default 1)\n"
        "  -budget flops|latency  what <ratio> is a fraction of: the FLOPs (default) or\n"
        "              the latency at one thread that a per-layer model of this machine\n"
        "              predicts (measured once per cfg and cached; see 'legr bench')\n"
        "  -v          print the filters kept per layer\n");
}

static void usage_flops(FILE *fp)
{
    fprintf(fp, "usage: darknet legr flops <cfg> [-v]\n"
                "  prints per-layer FLOPs (counted as 'darknet ops' counts them), parameters,\n"
                "  and the groups of filters legr can prune (-v: the layers of each group)\n");
}

static void die(const char *msg)
{
    fprintf(stderr, "legr: %s\n", msg);
    exit(1);
}

/* Keys of the cfg that this Darknet ignores, one "legr: warning:" line each. */
static void print_cfg_warnings(const legr_cfg *cfg)
{
    for (int i = 0; i < cfg->n_warnings; ++i)
        fprintf(stderr, "legr: warning: %s\n", cfg->warnings[i]);
}

static void die_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die_fmt(const char *fmt, ...)
{
    char msg[ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    die(msg);
    exit(1);
}

/* Option values parsed strictly, where Darknet's find_int_arg and
 * find_float_arg (atoi, atof) take "abc" for 0 and keep "nan": a value that
 * is not a whole integer, or not a finite number, is an error. */
static int int_opt(int argc, char **argv, const char *name, int def)
{
    char *s = find_char_arg(argc, argv, (char *)name, 0);
    int v;
    if (!s) return def;
    if (legr_parse_int(s, &v) != 0) die_fmt("%s: '%s' is not an integer", name, s);
    return v;
}

static float float_opt(int argc, char **argv, const char *name, float def)
{
    char *s = find_char_arg(argc, argv, (char *)name, 0);
    double v;
    if (!s) return def;
    if (legr_parse_double(s, &v) != 0 || !(v >= -FLT_MAX && v <= FLT_MAX))
        die_fmt("%s: '%s' is not a finite number", name, s);
    return (float)v;
}

/* Dies unless an integer option is at least lo. */
static void need_min(const char *name, int v, int lo)
{
    if (v < lo) die_fmt("%s must be >= %d (got %d)", name, lo, v);
}

/* Dies unless path names a regular file (a FIFO would block the reader). */
static void need_regular(const char *path)
{
    char err[ERRLEN];
    if (path && legr_check_regular(path, err, sizeof err) != 0) die(err);
}

/* Every input of a command, for the outputs to be checked against. */
typedef struct {
    const char *p[32];
    int n;
} inputs;

static void add_input(inputs *in, const char *path)
{
    if (path && in->n < (int)(sizeof in->p / sizeof *in->p)) in->p[in->n++] = path;
}

/* The lists a .data names (NULL where absent); the strings are Darknet's
 * option list's, kept for the life of the process. */
typedef struct {
    const char *train, *valid, *names, *labels;
    int classes;
} data_lists;

/* Reads datacfg's lists after checking it is a regular file; each of
 * `need` ("train", "valid" or both, comma-separated; NULL: none) must be
 * named and, when it exists, be a regular file.  Adds all to in. */
static void data_lists_read(const char *datacfg, const char *need, data_lists *d, inputs *in)
{
    memset(d, 0, sizeof *d);
    if (!datacfg) return;
    need_regular(datacfg);
    list *opt = read_data_cfg((char *)datacfg);
    d->train = option_find_str(opt, "train", 0);
    d->valid = option_find_str(opt, "valid", 0);
    d->names = option_find_str(opt, "names", 0);
    d->labels = option_find_str(opt, "labels", 0);
    d->classes = option_find_int_quiet(opt, "classes", 0);
    add_input(in, datacfg);
    add_input(in, d->train);
    add_input(in, d->valid);
    add_input(in, d->names);
    add_input(in, d->labels);
    const char *keys[] = { "train", "valid" }, *lists[] = { d->train, d->valid };
    for (int k = 0; k < 2; ++k) {
        if (!need || !strstr(need, keys[k])) continue;
        if (!lists[k]) die_fmt("%s: no %s= list", datacfg, keys[k]);
        need_regular(lists[k]);
    }
}

/* Dies when out would overwrite one of the inputs (same inode), or cannot
 * be written: an existing directory, FIFO or device (renaming over it would
 * replace it), or a directory that is missing or not writable. */
static void need_output(const char *out, const inputs *in)
{
    char err[ERRLEN];
    if (legr_clobbers_input(out, in->p, in->n))
        die_fmt("%s: refusing to overwrite an input file (choose another -out)", out);
    if (legr_check_output(out, err, sizeof err) != 0) die(err);
}

/* 1 when option a is on the command line (without removing it). */
static int has_arg(int argc, char **argv, const char *a)
{
    for (int i = 0; i < argc; ++i)
        if (argv[i] && !strcmp(argv[i], a)) return 1;
    return 0;
}

/* Collects positionals left after Darknet's find_* helpers removed options;
 * an unknown "-x" left among them is an error. */
static int positionals(int argc, char **argv, int first, char **out, int max)
{
    int n = 0;
    for (int i = first; i < argc && argv[i]; ++i) {
        if (argv[i][0] == '-' && argv[i][1] && !(argv[i][1] >= '0' && argv[i][1] <= '9') && argv[i][1] != '.') {
            char msg[ERRLEN];
            snprintf(msg, sizeof msg, "unknown or repeated option %s (see 'darknet legr %s -h')", argv[i], argv[2]);
            die(msg);
        }
        if (n < max) out[n] = argv[i];
        ++n;
    }
    return n;
}

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

static void cmd_flops(int argc, char **argv)
{
    if (find_arg(argc, argv, "-h")) { usage_flops(stdout); exit(0); }
    int verbose = find_arg(argc, argv, "-v");
    char *pos[1];
    if (positionals(argc, argv, 3, pos, 1) != 1) { usage_flops(stderr); exit(1); }
    legr_model m;
    char err[ERRLEN];
    if (legr_model_load(pos[0], NULL, &m, err, sizeof err) != 0) die(err);
    print_cfg_warnings(&m.cfg);
    const network *net = m.net;
    const legr_graph *g = &m.graph;
    printf("%s: %d x %d x %d input, %d layers\n", pos[0], net->w, net->h, net->c, net->n);
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
    long ops = legr_network_flops(net, g, NULL);
    printf("Floating Point Operations: %ld\n", ops);
    printf("Floating Point Operations: %.2f Bn\n", ops / 1e9);
    printf("Parameters: %ld\n", legr_network_params(net, g, NULL));
    print_groups(g, verbose);
    legr_model_free(&m);
}

/* Parses a budget: a number with 0 < r <= 1. */
static int parse_ratio(const char *s, float *r)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno) return -1;
    if (!legr_finite(v) || !(v > 0 && v <= 1)) return -2;    /* bits: -Ofast */
    *r = (float)v;
    return 0;
}

/* Parses -target: one budget or a comma-separated list, each 0 < r < 1.
 * Returns the number of budgets, or -1. */
static int parse_targets(const char *s, float *t, int max)
{
    char *copy = legr_strdup(s), *save = NULL;
    int n = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (n == max || parse_ratio(tok, &t[n]) != 0 || t[n] >= 1) { n = -1; break; }
        ++n;
    }
    free(copy);
    return n > 0 ? n : -1;
}

/* "<base name of path without ext><suffix>", in the current directory. */
static char *default_prefix(const char *path, const char *ext, const char *suffix)
{
    char *copy = legr_strdup(path);
    char *base = basename(copy);
    size_t n = strlen(base), ne = strlen(ext);
    if (n > ne && !strcmp(base + n - ne, ext)) base[n - ne] = 0;
    size_t len = strlen(base) + strlen(suffix) + 1;
    char *p = malloc(len);
    snprintf(p, len, "%s%s", base, suffix);
    free(copy);
    return p;
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

/* Accuracy (mAP@0.5 or top-1) of net on vs, plain and after BN
 * re-estimation on bnset (when given); fills row.  0 or -1 with err. */
static int measure(network *net, const legr_valset *vs, const legr_valset *bnset, int bn,
                   legr_row *row, char *err, size_t errlen)
{
    legr_metrics mt;
    if (legr_evaluate(net, vs, .005f, .5f, &mt, err, errlen) != 0) return -1;
    row->acc = vs->is_detector ? mt.map50 : mt.top1;
    legr_metrics_free(&mt);
    /* ms/image as legr bench measures it: batch 1, one thread, median */
    legr_bench_opts bo = { 10, 2, 1 };
    if (legr_bench_median(net, &bo, &row->ms, err, errlen) != 0) return -1;
    row->acc_bn = -1;
    if (bnset && bn > 0) {
        if (legr_bn_reestimate(net, bnset, bn, err, errlen) != 0) return -1;
        if (legr_evaluate(net, vs, .005f, .5f, &mt, err, errlen) != 0) return -1;
        row->acc_bn = vs->is_detector ? mt.map50 : mt.top1;
        legr_metrics_free(&mt);
    }
    return 0;
}

/* An error once outputs are staged: their temporaries go first. */
static void die_staged(legr_staged *st, const char *msg)
{
    legr_staged_abort(st);
    die(msg);
}

/* Evaluates one budget's pair for -eval: plain surgery and BN re-estimation
 * (built in memory when the written pair carries more than the surgery:
 * in_memory), and with `written` the written (recovered) pair tc/tw too. */
static int measure_budget(legr_model *m, const legr_mask *mk, int index, const char *tc, const char *tw,
                          const legr_valset *vs, const legr_valset *bnset, int eval_bn, int in_memory,
                          int written, legr_row *row, char *err, size_t errlen)
{
    network *pn = in_memory ? legr_build_pruned(m, mk, "/tmp", (int)getpid() * 100 + index, err, errlen)
                            : legr_load_written_pair(tc, tw);
    if (!pn) return in_memory ? -1 : legr_fail(err, errlen, "%s: Darknet could not load the pruned pair", tc);
    int rc = measure(pn, vs, bnset, eval_bn, row, err, errlen);
    legr_free_network(pn);
    if (rc != 0 || !written) return rc;
    legr_row rr;
    if (!(pn = legr_load_written_pair(tc, tw)))
        return legr_fail(err, errlen, "%s: Darknet could not load the pruned pair", tc);
    rc = measure(pn, vs, NULL, 0, &rr, err, errlen);
    legr_free_network(pn);
    row->acc_rec = rr.acc;
    row->ms = rr.ms;
    return rc;
}

/* The latency model of m at one thread (legr/latency.c), cached or measured
 * now, saying which. */
static void get_latency_model(legr_model *m, legr_latency *lt)
{
    char err[ERRLEN], dir[512];
    int cached = 0;
    legr_latency_cache_dir(dir, sizeof dir);
    printf("latency model (one thread): ");
    fflush(stdout);
    if (legr_latency_get(m, 1, 15, lt, &cached, err, sizeof err) != 0) die(err);
    printf("%s (%s), %.2f ms predicted for the original\n", cached ? "cached" : "measured now",
           dir, legr_latency_network(lt, m->net, &m->graph, NULL));
}

static void cmd_prune(int argc, char **argv)
{
    if (find_arg(argc, argv, "-h")) { usage_prune(stdout); exit(0); }
    char *prefix = find_char_arg(argc, argv, "-out", 0);
    float min_frac = float_opt(argc, argv, "-min", 0.1f);
    int verbose = find_arg(argc, argv, "-v");
    char *baseline = find_char_arg(argc, argv, "-ranking", 0);
    int seed = int_opt(argc, argv, "-seed", 1);
    char *evaldata = find_char_arg(argc, argv, "-eval", 0);
    int eval_n = int_opt(argc, argv, "-n", 0);
    int bn_given = has_arg(argc, argv, "-bn");
    int bn = int_opt(argc, argv, "-bn", 4);
    int recover = int_opt(argc, argv, "-recover", 0);
    char *imagelist = find_char_arg(argc, argv, "-images", 0);
    char *recdata = find_char_arg(argc, argv, "-data", 0);
    float ridge = float_opt(argc, argv, "-ridge", 1e-4f);
    int round = int_opt(argc, argv, "-round", 1);
    char *budget_kind = find_char_arg(argc, argv, "-budget", "flops");
    char *pos[64];
    int np = positionals(argc, argv, 3, pos, 64);
    if (np < 3) { usage_prune(stderr); exit(1); }
    if (np > 64) die("too many budgets (at most 61)");
    if (!(min_frac >= 0 && min_frac <= 1)) die("-min must be between 0 and 1");
    if (baseline && strcmp(baseline, "l2") && strcmp(baseline, "uniform") && strcmp(baseline, "random"))
        die("-ranking must be l2, uniform or random");
    need_min("-n", eval_n, 0);
    need_min("-bn", bn, 0);
    need_min("-recover", recover, 0);
    if (round < 1 || round > 1024) die("-round must be within 1..1024");
    if (strcmp(budget_kind, "flops") && strcmp(budget_kind, "latency")) die("-budget must be flops or latency");
    if (!(ridge >= 0 && ridge < 1)) die("-ridge must be in [0, 1)");
    if (imagelist && recdata) die("give either -images or -data, not both");
    /* what the written files carry: reconstruction and/or BN statistics */
    int file_bn = bn_given ? bn : 0;
    const char *recsrc = imagelist ? imagelist : recdata ? recdata : evaldata;
    if ((recover > 0 || file_bn > 0) && !recsrc)
        die("-recover and -bn need images: give -images LIST or -data D (its train= list)");
    const char *cfg = pos[0], *weights = pos[1], *ranking = NULL;
    int first = 2;
    float ratio[64];
    char err[ERRLEN];
    if (parse_ratio(pos[2], &ratio[0]) == -1) {
        ranking = pos[2];
        first = 3;
        if (access(ranking, R_OK) != 0) {
            snprintf(err, sizeof err, "%s: neither a budget (0 < ratio <= 1) nor a readable ranking file", ranking);
            die(err);
        }
    }
    if (ranking && baseline) die("give either a ranking file or -ranking, not both");
    int nb = 0;
    for (int k = first; k < np; ++k, ++nb) {
        int rc = parse_ratio(pos[k], &ratio[nb]);
        if (rc == -1) { snprintf(err, sizeof err, "budget '%s' is not a number", pos[k]); die(err); }
        if (rc == -2) { snprintf(err, sizeof err, "budget %s out of range: need 0 < ratio <= 1", pos[k]); die(err); }
    }
    if (nb == 0) die("no budget given: add a ratio such as 0.5 (see 'darknet legr prune -h')");
    char *pfx = prefix ? legr_strdup(prefix) : default_prefix(cfg, ".cfg", "-legr");

    /* every input a regular file, every output against every input, before
     * anything is read or written */
    int eval_bn = evaldata ? (bn_given ? bn : 4) : 0;
    int want_bnset = recsrc && (recover > 0 || file_bn > 0 || eval_bn > 0);
    inputs in = {{0}, 0};
    add_input(&in, cfg);
    add_input(&in, weights);
    add_input(&in, ranking);
    add_input(&in, imagelist);
    need_regular(cfg);
    need_regular(weights);
    need_regular(ranking);
    need_regular(imagelist);
    data_lists de, dr;
    data_lists_read(evaldata, want_bnset && !imagelist && !recdata ? "valid,train" : "valid", &de, &in);
    data_lists_read(recdata, want_bnset ? "train" : NULL, &dr, &in);
    char *oc[64], *ow[64];
    for (int b = 0; b < nb; ++b) {
        oc[b] = legr_fmt("%s-%g.cfg", pfx, ratio[b] * 100);
        ow[b] = legr_fmt("%s-%g.weights", pfx, ratio[b] * 100);
        for (int c = 0; c < b; ++c)
            if (!strcmp(oc[b], oc[c])) die_fmt("budgets %s and %s both write %s", pos[first + c], pos[first + b], oc[b]);
        need_output(oc[b], &in);
        need_output(ow[b], &in);
    }
    char *csv = evaldata ? legr_fmt("%s.csv", pfx) : NULL, *png = evaldata ? legr_fmt("%s.png", pfx) : NULL;
    if (evaldata) {
        need_output(csv, &in);
        need_output(png, &in);
    }

    legr_model m;
    if (legr_model_load(cfg, weights, &m, err, sizeof err) != 0) die(err);
    print_cfg_warnings(&m.cfg);
    legr_affine a;
    if (ranking) {
        if (legr_ranking_read(ranking, &m.graph, &a, err, sizeof err) != 0) die(err);
    } else if (legr_affine_identity(&a, m.graph.n_groups) != 0) die("out of memory");
    legr_norms nr;
    int random = baseline && !strcmp(baseline, "random");
    int uniform = baseline && !strcmp(baseline, "uniform");
    if ((random ? legr_norms_random(&m.graph, seed, &nr) : legr_norms_compute(m.net, &m.graph, &nr)) != 0)
        die("out of memory");

    /* Images first, so a bad -eval or image list fails before anything is written. */
    legr_valset vs, bs;
    int have_bn = 0;
    if (evaldata) {
        if (legr_valset_load(evaldata, "valid", m.net, eval_n, &vs, err, sizeof err) != 0) die(err);
        if (vs.n_images == 0) die_fmt("%s: the valid= list %s is empty", evaldata, de.valid);
    }
    int want = recover > bn * m.net->batch ? recover : bn * m.net->batch;
    if (want_bnset) {
        int rc = imagelist ? legr_imageset_load(imagelist, m.net, want, &bs, err, sizeof err)
                           : legr_valset_load(recsrc, "train", m.net, want, &bs, err, sizeof err);
        if (rc != 0) die(err);
        if (bs.n_images == 0) {
            snprintf(err, sizeof err, "%s: the image list is empty", recsrc);
            die(err);
        }
        have_bn = 1;
    }
    legr_recovery rec = { have_bn ? &bs : NULL, recover, file_bn, 0, ridge };

    long full = legr_network_flops(m.net, &m.graph, NULL);
    long params = legr_network_params(m.net, &m.graph, NULL);
    printf("%s: %.3f Bn FLOPs, %.3f M params, %d prunable groups; ranking: %s\n", cfg, full / 1e9,
           params / 1e6, legr_graph_prunable(&m.graph),
           ranking ? ranking : baseline ? baseline : "plain L2");

    legr_budget bud = { round, NULL };
    legr_latency lt = {0};
    if (!strcmp(budget_kind, "latency")) {
        bud.latency = &lt;
        get_latency_model(&m, &lt);
    }

    /* Choose every budget's mask before writing anything. */
    legr_mask masks[64];
    long reached[64];
    for (int b = 0; b < nb; ++b) {
        int rc = uniform ? legr_select_uniform(m.net, &m.graph, &nr, ratio[b], min_frac, &bud, &masks[b], &reached[b], err, sizeof err)
                         : legr_select_budget(m.net, &m.graph, &nr, &a, ratio[b], min_frac, &bud, &masks[b], &reached[b], err, sizeof err);
        if (rc != 0) die(err);
    }
    legr_row rows[65];
    int nrows = 0;
    if (evaldata) {
        printf("evaluating the original on %d images...\n", vs.n_images);
        rows[0] = (legr_row){ 1, full, params, 0, -1, -1, 0 };
        if (measure(m.net, &vs, have_bn ? &bs : NULL, eval_bn, &rows[0], err, sizeof err) != 0) die(err);
        legr_weights_apply(&m.w, m.net);    /* the original stays as read for reconstruction */
        nrows = 1;
    }
    /* Every output goes to a temporary name; all are renamed at the end, or,
     * on an error, removed: a failed run leaves no file behind. */
    legr_staged st = {0};
    for (int b = 0; b < nb; ++b) {
        legr_recovery_report rep;
        if (legr_prune_stage(&m, &masks[b], &rec, oc[b], ow[b], &st, &rep, err, sizeof err) != 0)
            die_staged(&st, err);
        const char *tc = st.tmp[st.n - 2], *tw = st.tmp[st.n - 1];
        print_recovery(&rep, verbose);
        legr_recovery_report_free(&rep);
        long p = legr_network_params(m.net, &m.graph, &masks[b]);
        printf("budget %.3g: FLOPs %.3f Bn (%.3f of original), params %.3f M (%.3f) -> %s, %s\n",
               ratio[b], reached[b] / 1e9, (double)reached[b] / full, p / 1e6, (double)p / params, oc[b], ow[b]);
        if (bud.latency)
            printf("  predicted latency %.2f ms (%.3f of the original's %.2f ms)\n",
                   legr_latency_network(&lt, m.net, &m.graph, &masks[b]),
                   legr_latency_network(&lt, m.net, &m.graph, &masks[b]) / legr_latency_network(&lt, m.net, &m.graph, NULL),
                   legr_latency_network(&lt, m.net, &m.graph, NULL));
        if (verbose) print_kept(m.net, &m.graph, &masks[b]);
        if (evaldata) {
            rows[nrows] = (legr_row){ ratio[b], reached[b], p, 0, -1, -1, 0 };
            if (measure_budget(&m, &masks[b], b, tc, tw, &vs, have_bn ? &bs : NULL, eval_bn,
                               recover > 0 || file_bn > 0, recover > 0, &rows[nrows], err, sizeof err) != 0)
                die_staged(&st, err);
            nrows++;
        }
        legr_mask_free(&masks[b]);
    }
    if (evaldata) {
        const char *tcsv = legr_stage(&st, csv);
        if (!tcsv) die_staged(&st, "out of memory");
        if (legr_report_csv(tcsv, rows, nrows, vs.is_detector, err, sizeof err) != 0) die_staged(&st, err);
    }
    if (legr_staged_commit(&st, err, sizeof err) != 0) die(err);
    if (evaldata) {
        printf("\n");
        legr_report_print(stdout, rows, nrows, vs.is_detector);
        if (legr_report_plot(png, csv, cfg, vs.is_detector, err, sizeof err) != 0)
            fprintf(stderr, "legr: %s\n", err);
        else printf("table: %s, plot: %s\n", csv, png);
        legr_valset_free(&vs);
    }
    if (have_bn) legr_valset_free(&bs);
    for (int b = 0; b < nb; ++b) { free(oc[b]); free(ow[b]); }
    free(csv);
    free(png);
    legr_norms_free(&nr);
    legr_affine_free(&a);
    legr_latency_free(&lt);
    legr_model_free(&m);
    free(pfx);
}

static void usage_eval(FILE *fp)
{
    fprintf(fp,
        "usage: darknet legr eval <datacfg> <cfg> <weights> [-n N] [-thresh 0.005] [-iou 0.5]\n"
        "                         [-bn K] [-loss] [-json FILE] [-v]\n"
        "  runs the network over the valid= list of <datacfg> through Darknet's own\n"
        "  prediction path and prints mAP@0.5 (VOC all-point) and mAP@[.5:.95] (COCO\n"
        "  101-point) for detectors, top-1/top-5 for classifiers, FLOPs, parameters and\n"
        "  the forward time per image.\n"
        "  -n N      first N images only\n"
        "  -bn K     also report the figures after re-estimating BN statistics on K batches\n"
        "            of the train= list (no labels used)\n"
        "  -loss     also report Darknet's training loss on the set (no weight update)\n"
        "  -json F   write the figures to F as JSON\n"
        "  -v        per-class AP and the time split (decode / forward / scoring)\n");
}

static void print_metrics(const char *tag, const legr_valset *vs, const legr_metrics *mt)
{
    if (vs->is_detector)
        printf("%s: mAP@0.5 %.4f  mAP@[.5:.95] %.4f  (%d images, %d boxes, %d classes with boxes, %d detections)\n",
               tag, mt->map50, mt->map5095, mt->n_images, mt->n_truth, mt->classes_with_gt, mt->n_dets);
    else
        printf("%s: top-1 %.4f  top-5 %.4f  (%d images)\n", tag, mt->top1, mt->top5, mt->n_images);
}

/* s as a JSON string (quotes, backslashes and control characters escaped). */
static void json_str(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (; *s; ++s) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(fp, "\\%c", c);
        else if (c < 0x20) fprintf(fp, "\\u%04x", c);
        else fputc(c, fp);
    }
    fputc('"', fp);
}

static void json_metrics(FILE *fp, const char *key, const legr_valset *vs, const legr_metrics *mt)
{
    fprintf(fp, "  \"%s\": {", key);
    if (vs->is_detector)
        fprintf(fp, "\"map50\": %.6f, \"map50_95\": %.6f, \"boxes\": %d, \"detections\": %d, ",
                mt->map50, mt->map5095, mt->n_truth, mt->n_dets);
    else
        fprintf(fp, "\"top1\": %.6f, \"top5\": %.6f, ", mt->top1, mt->top5);
    fprintf(fp, "\"images\": %d, \"forward_ms_per_image\": %.3f}", mt->n_images,
            mt->n_images ? 1000 * mt->forward_s / mt->n_images : 0);
}

static void cmd_eval(int argc, char **argv)
{
    if (find_arg(argc, argv, "-h")) { usage_eval(stdout); exit(0); }
    int n = int_opt(argc, argv, "-n", 0);
    float thresh = float_opt(argc, argv, "-thresh", .005f);
    float iou = float_opt(argc, argv, "-iou", .5f);
    int bn = int_opt(argc, argv, "-bn", 0);
    int want_loss = find_arg(argc, argv, "-loss");
    char *json = find_char_arg(argc, argv, "-json", 0);
    int verbose = find_arg(argc, argv, "-v");
    char *pos[3];
    if (positionals(argc, argv, 3, pos, 3) != 3) { usage_eval(stderr); exit(1); }
    need_min("-n", n, 0);
    need_min("-bn", bn, 0);
    if (!(thresh >= 0 && thresh < 1)) die("-thresh must be in [0, 1)");
    if (!(iou > 0 && iou <= 1)) die("-iou must be in (0, 1]");
    inputs in = {{0}, 0};
    data_lists d;
    data_lists_read(pos[0], bn ? "valid,train" : "valid", &d, &in);
    add_input(&in, pos[1]);
    add_input(&in, pos[2]);
    need_regular(pos[1]);
    need_regular(pos[2]);
    if (json) need_output(json, &in);
    char err[ERRLEN];
    legr_model m;
    if (legr_model_load(pos[1], pos[2], &m, err, sizeof err) != 0) die(err);
    print_cfg_warnings(&m.cfg);
    legr_valset vs, bnset;
    if (legr_valset_load(pos[0], "valid", m.net, n, &vs, err, sizeof err) != 0) die(err);
    if (vs.n_images == 0) die_fmt("%s: the valid= list %s is empty", pos[0], d.valid);
    if (bn) {       /* before any work: an empty train= list would leave BN as it is */
        if (legr_valset_load(pos[0], "train", m.net, bn * m.net->batch, &bnset, err, sizeof err) != 0) die(err);
        if (bnset.n_images == 0) die_fmt("%s: the train= list %s is empty (-bn re-estimates on it)", pos[0], d.train);
    }
    legr_metrics mt;
    if (legr_evaluate(m.net, &vs, thresh, iou, &mt, err, sizeof err) != 0) die(err);
    long flops = legr_network_flops(m.net, &m.graph, NULL);
    long params = legr_network_params(m.net, &m.graph, NULL);
    print_metrics("eval", &vs, &mt);
    /* the latency users feel: legr bench's measure, not the eval's mean */
    legr_bench_opts bo = { 10, 2, 1 };
    double latency;
    if (legr_bench_median(m.net, &bo, &latency, err, sizeof err) != 0) die(err);
    printf("FLOPs %.3f Bn, params %.3f M, latency %.2f ms (batch 1, one thread, median of 10 passes; "
           "the eval's forward: %.2f ms/image)\n", flops / 1e9, params / 1e6, latency,
           1000 * mt.forward_s / vs.n_images);
    if (verbose) {
        if (vs.is_detector) {
            char **names = NULL;
            int n_names = 0;
            if (d.names && legr_check_regular(d.names, NULL, 0) == 0)
                names = legr_read_lines(d.names, &n_names);
            for (int k = 0; k < vs.classes; ++k)
                if (mt.gt_per_class[k])
                    printf("  class %3d %-20s AP@0.5 %.4f (%d boxes)\n", k, k < n_names ? names[k] : "",
                           mt.ap50[k], mt.gt_per_class[k]);
            legr_free_strings(names, n_names);
        }
        printf("time: decode+prepare %.3f s (once), forward %.3f s, scoring %.3f s\n",
               vs.decode_s, mt.forward_s, mt.score_s);
    }
    double loss = -1;
    if (want_loss) {
        if (legr_validation_loss(m.net, &vs, &loss, err, sizeof err) != 0) die(err);
        printf("validation loss (Darknet cost, training-mode forward): %.4f\n", loss);
    }
    legr_metrics mb = {0};
    if (bn) {
        if (legr_bn_reestimate(m.net, &bnset, bn, err, sizeof err) != 0) die(err);
        if (legr_evaluate(m.net, &vs, thresh, iou, &mb, err, sizeof err) != 0) die(err);
        char tag[64];
        snprintf(tag, sizeof tag, "BN re-estimated (%d x %d images)", bn, m.net->batch);
        print_metrics(tag, &vs, &mb);
        legr_valset_free(&bnset);
    }
    if (json) {
        char *tmp;
        FILE *fp = legr_open_temp(json, &tmp, err, sizeof err);
        if (!fp) die(err);
        fprintf(fp, "{\n  \"cfg\": ");
        json_str(fp, pos[1]);
        fprintf(fp, ",\n  \"weights\": ");
        json_str(fp, pos[2]);
        fprintf(fp, ",\n  \"flops\": %ld,\n  \"params\": %ld,\n", flops, params);
        if (want_loss) fprintf(fp, "  \"loss\": %.6f,\n", loss);
        json_metrics(fp, "plain", &vs, &mt);
        if (bn) { fprintf(fp, ",\n"); json_metrics(fp, "bn_reestimated", &vs, &mb); }
        fprintf(fp, "\n}\n");
        if (legr_commit_temp(fp, tmp, json, 1, err, sizeof err) != 0) die(err);
    }
    legr_metrics_free(&mt);
    legr_metrics_free(&mb);
    legr_valset_free(&vs);
    legr_model_free(&m);
}

/* `darknet detector map <datacfg> <cfg> <weights> [options]`: the same as
 * `darknet legr eval` (argv has the same layout: argv[3..5]). */
void legr_detector_map(int argc, char **argv)
{
    cmd_eval(argc, argv);
    exit(0);
}

static void usage_search(FILE *fp)
{
    fprintf(fp,
        "usage: darknet legr search <cfg> <weights> [options]\n"
        "  learns one (alpha, kappa) per prunable group by regularised evolution; each\n"
        "  candidate prunes the original network to -target, is fine-tuned -tau\n"
        "  iterations on the train= list and scored on the valid= list.\n"
        "  -data F         .data file with train=, valid= (default cfg/coco.data for\n"
        "                  80-class detectors)\n"
        "  -target 0.7,0.5,0.3  FLOP budgets candidates are pruned to: each candidate is\n"
        "                  scored at every budget and the fitness is the mean, one ranking\n"
        "                  for all (one evaluation per budget); a ranking learned at one\n"
        "                  budget alone did not carry to the others (README)\n"
        "  -tau 200        fine-tuning iterations per candidate (constant LR, no burn-in)\n"
        "  -lr X           fine-tuning learning rate (default: the cfg's)\n"
        "  -batch B        fine-tuning batch (default and maximum: the cfg's batch; a cfg\n"
        "                  with batch=1, a testing cfg, fine-tunes at 16, with a warning)\n"
        "  -evals 400 -pool 64 -sample 16 -mutate 0.1   the evolution (paper defaults)\n"
        "  -fitness map|top1|loss   default: map for detectors, top1 for classifiers\n"
        "  -val N          score on the first N valid= images (default 500; 0: all). They\n"
        "                  are kept decoded in memory: N x width x height x 3 floats\n"
        "  -bn-images N    re-estimate BN on N train= images before scoring (default 256, 0: off)\n"
        "  -recover N      reconstruct each candidate on N train= images first (least squares\n"
        "                  against the original, as prune -recover; default 0: off)\n"
        "  -round N        kept filters per group a multiple of N, as for prune (default 1)\n"
        "  -budget flops|latency  -target counts FLOPs (default) or the latency a model of\n"
        "                  this machine predicts, as for prune\n"
        "  -min 0.1        per-group floor, as for prune\n"
        "  -seed 1         the one RNG seed\n"
        "  -same-data      every candidate fine-tunes on the same images in the same order\n"
        "                  (common random numbers: candidates differ only by their pruning;\n"
        "                  default: the order depends on the candidate's number)\n"
        "  -workers N      candidates evaluated at once in N processes, one BLAS thread\n"
        "                  each (default: the number of cores); same seed and N, same result.\n"
        "                  -workers 1 evaluates in this process with OMP_NUM_THREADS threads\n"
        "  -mpi            under 'mpirun -np K': rank 0 drives, ranks 1..K-1 evaluate (one\n"
        "                  candidate each at a time); same result as -workers K-1\n"
        "  -out F          ranking file (default <cfg name>-legr.ranking); also writes\n"
        "                  F.ckpt (checkpoint after every batch of -workers candidates) and F.csv (log)\n"
        "  -resume         continue from F.ckpt (same settings)\n"
        "  Candidates pass through /dev/shm/legr-search-<pid>-* (or /tmp), removed however\n"
        "  the search ends, by a helper process when it is killed (kill -9 included).\n");
}

typedef struct {
    const char *out, *cfg, *csv, *ckpt, *settings, *extra;
    const legr_graph *g;
    double start;
    int resumed_from;
    char *log;              /* the CSV log, rewritten whole (atomically) after each candidate */
    size_t log_len, log_cap;
} search_report;

static const char LOG_HEADER[] = "candidate,fitness,best,elapsed_s\n";

static int log_append(search_report *r, const char *text)
{
    size_t n = strlen(text);
    if (r->log_len + n + 1 > r->log_cap) {
        size_t cap = r->log_cap ? 2 * r->log_cap : 4096;
        while (cap < r->log_len + n + 1) cap *= 2;
        char *p = realloc(r->log, cap);
        if (!p) return -1;
        r->log = p;
        r->log_cap = cap;
    }
    memcpy(r->log + r->log_len, text, n + 1);
    r->log_len += n;
    return 0;
}

/* The log a resumed search continues: the rows of the candidates the
 * checkpoint holds (rows written after its last save are dropped: those
 * candidates run again).  A missing log starts afresh. */
static int log_resume(search_report *r, int done, char *err, size_t errlen)
{
    if (log_append(r, LOG_HEADER) != 0) return legr_fail(err, errlen, "out of memory");
    if (done == 0 || access(r->csv, F_OK) != 0) return 0;
    int n;
    char **lines = legr_read_lines(r->csv, &n);
    if (!lines) return legr_fail(err, errlen, "%s: cannot read the log to continue it", r->csv);
    int rc = 0;
    for (int i = 1; i < n && rc == 0; ++i) {
        int cand;
        if (sscanf(lines[i], "%d,", &cand) != 1 || cand < 1) {
            rc = legr_fail(err, errlen, "%s:%d: not a row of a legr search log", r->csv, i + 1);
            break;
        }
        if (cand > done) continue;
        if (log_append(r, lines[i]) != 0 || log_append(r, "\n") != 0) rc = legr_fail(err, errlen, "out of memory");
    }
    legr_free_strings(lines, n);
    return rc;
}

static int log_write(const search_report *r, char *err, size_t errlen)
{
    char *tmp;
    FILE *fp = legr_open_temp(r->csv, &tmp, err, errlen);
    if (!fp) return -1;
    int ok = fwrite(r->log, 1, r->log_len, fp) == r->log_len;
    return legr_commit_temp(fp, tmp, r->csv, ok, err, errlen);
}

static void fmt_duration(char *buf, size_t len, double s)
{
    int t = (int)(s + .5);
    if (t >= 3600) snprintf(buf, len, "%dh%02dm", t / 3600, t / 60 % 60);
    else snprintf(buf, len, "%dm%02ds", t / 60, t % 60);
}

/* After each candidate: progress line, CSV row, ranking + checkpoint, each
 * file replaced whole (a full disk leaves the previous version). */
static int search_progress(void *vctx, const legr_evo *e, int index, double fit,
                           int batch_done, char *err, size_t errlen)
{
    search_report *r = vctx;
    double el = what_time_is_it_now() - r->start;
    int new_done = e->done - r->resumed_from;
    double eta = new_done ? el / new_done * (e->o.evals - e->done) : 0;
    char a[32], b[32];
    fmt_duration(a, sizeof a, el);
    fmt_duration(b, sizeof b, eta);
    printf("[%4d/%d] fitness %.4f  best %.4f (#%d)  elapsed %s  eta %s\n", index + 1, e->o.evals,
           fit, e->best_fit, e->best_index + 1, a, b);
    fflush(stdout);
    char row[128];
    snprintf(row, sizeof row, "%d,%.6f,%.6f,%.1f\n", index + 1, fit, e->best_fit, el);
    if (log_append(r, row) != 0) return legr_fail(err, errlen, "out of memory");
    char extra[2048];
    snprintf(extra, sizeof extra, "%s\nevaluations: %d of %d, best fitness %.6f (candidate %d)",
             r->extra, e->done, e->o.evals, e->best_fit, e->best_index + 1);
    if (legr_ranking_write(r->out, r->cfg, r->g, &e->best, extra, err, errlen) != 0) return -1;
    if (log_write(r, err, errlen) != 0) return -1;
    return batch_done ? legr_evo_save(e, r->ckpt, r->settings, err, errlen) : 0;
}

/* Each candidate's pruned cfg/weights pass through a private directory,
 * legr-search-<pid>-XXXXXX: in memory (/dev/shm) when it has room for every
 * worker's pair, else /tmp. */
static int make_workdir(char *dir, size_t len, size_t weights_bytes, int workers)
{
    struct statvfs sv;
    double need = 2.0 * (double)weights_bytes * (workers > 0 ? workers : 1) + (64 << 20);
    int shm = statvfs("/dev/shm", &sv) == 0 && (double)sv.f_bavail * sv.f_bsize > need &&
              access("/dev/shm", W_OK) == 0;
    long pid = (long)getpid();      /* in the name: whose directory it is */
    snprintf(dir, len, "%s/legr-search-%ld-XXXXXX", shm ? "/dev/shm" : "/tmp", pid);
    if (mkdtemp(dir)) return 0;
    snprintf(dir, len, "/tmp/legr-search-%ld-XXXXXX", pid);
    return mkdtemp(dir) ? 0 : -1;
}

/* An error once the work directory exists: it goes first.  (On a signal or
 * kill -9 the janitor removes it.) */
static void die_workdir(const char *workdir, const char *msg)
{
    legr_remove_dir(workdir);
    die(msg);
}


/* Dies unless every -target budget is reachable with the -min floors: the
 * smallest network (every group at its floor) is the same whatever the
 * ranking, so the plain L2 one tells. */
static void need_reachable(legr_model *m, const legr_norms *nr, const legr_fitness_ctx *fc, float min_frac)
{
    legr_affine id;
    char err[ERRLEN];
    if (legr_affine_identity(&id, m->graph.n_groups) != 0) die("out of memory");
    for (int t = 0; t < fc->n_targets; ++t) {
        legr_mask mk;
        long fl;
        if (legr_select_budget(m->net, &m->graph, nr, &id, fc->targets[t], min_frac, &fc->budget, &mk, &fl,
                               err, sizeof err) != 0)
            die_fmt("-target: %s", err);
        legr_mask_free(&mk);
    }
    legr_affine_free(&id);
}

/* The search's cost before it starts: the original's forward time at batch
 * 1 (measured here) times the image passes of a candidate (fitness.c). */
static void print_search_cost(legr_model *m, const legr_fitness_ctx *fc, int left, int workers)
{
    legr_bench_opts o = { 3, 1, 1 };        /* each worker runs one thread */
    char err[ERRLEN];
    double ms;
    if (legr_bench_median(m->net, &o, &ms, err, sizeof err) != 0) return;
    double passes, s = legr_fitness_cost(fc, ms, &passes);
    double total = s * left / (workers > 0 ? workers : 1);
    printf("cost projection: about %.0f s per candidate (%.0f image passes at %.1f ms, the original's "
           "forward here), %d candidates on %d worker%s: about %.1f h; the ETA after each batch replaces this\n",
           s, passes, ms, left, workers, workers > 1 ? "s" : "", total / 3600);
}

static void cmd_search(int argc, char **argv)
{
    if (find_arg(argc, argv, "-h")) { usage_search(stdout); exit(0); }
    int workers_given = has_arg(argc, argv, "-workers");      /* before int_opt removes it */
    int lr_given = has_arg(argc, argv, "-lr");
    char *datacfg = find_char_arg(argc, argv, "-data", 0);
    char *target = find_char_arg(argc, argv, "-target", "0.7,0.5,0.3");
    int tau = int_opt(argc, argv, "-tau", 200);
    float lr = float_opt(argc, argv, "-lr", 0);
    int batch = int_opt(argc, argv, "-batch", 0);
    legr_evo_opts eo;
    eo.evals = int_opt(argc, argv, "-evals", 400);
    eo.pool = int_opt(argc, argv, "-pool", 64);
    eo.sample = int_opt(argc, argv, "-sample", 16);
    eo.mutate = float_opt(argc, argv, "-mutate", .1f);
    eo.seed = (uint64_t)int_opt(argc, argv, "-seed", 1);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
#ifdef GPU
    if (gpu_index >= 0) ncpu = 1;   /* one process drives the GPU */
#endif
    eo.batch = int_opt(argc, argv, "-workers", ncpu > 0 ? (int)ncpu : 1);
    char *fitness = find_char_arg(argc, argv, "-fitness", 0);
    int val_n = int_opt(argc, argv, "-val", 500);
    int bn_images = int_opt(argc, argv, "-bn-images", 256);
    int recover = int_opt(argc, argv, "-recover", 0);
    int round = int_opt(argc, argv, "-round", 1);
    char *budget_kind = find_char_arg(argc, argv, "-budget", "flops");
    float min_frac = float_opt(argc, argv, "-min", .1f);
    char *out = find_char_arg(argc, argv, "-out", 0);
    int resume = find_arg(argc, argv, "-resume");
    int use_mpi = find_arg(argc, argv, "-mpi");
    int same_data = find_arg(argc, argv, "-same-data");
    if (use_mpi && workers_given) die("-mpi and -workers exclude each other (mpirun -np K gives K-1 evaluators)");
    char *pos[2];
    if (positionals(argc, argv, 3, pos, 2) != 2) { usage_search(stderr); exit(1); }
    legr_fitness_ctx fc = {0};
    fc.n_targets = parse_targets(target, fc.targets, LEGR_MAX_TARGETS);
    if (fc.n_targets < 0) {
        char msg[128];
        snprintf(msg, sizeof msg, "-target must be a budget between 0 and 1 (exclusive), or up to %d of them "
                 "separated by commas", LEGR_MAX_TARGETS);
        die(msg);
    }
    char targets[160] = "";             /* as %g, comma-separated */
    for (int t = 0; t < fc.n_targets; ++t)
        snprintf(targets + strlen(targets), sizeof targets - strlen(targets), "%s%g", t ? "," : "", fc.targets[t]);
    if (eo.batch < 1 || eo.batch > 1024) die("-workers must be between 1 and 1024");
    need_min("-tau", tau, 0);
    need_min("-val", val_n, 0);
    need_min("-bn-images", bn_images, 0);
    need_min("-recover", recover, 0);
    if (batch > LEGR_MAX_BATCH) die_fmt("-batch must be <= %d", LEGR_MAX_BATCH);
    if (recover > 100000) die("-recover must be <= 100000");
    if (round < 1 || round > 1024) die("-round must be within 1..1024");
    fc.budget.round = round;
    int by_latency = !strcmp(budget_kind, "latency");
    if (!by_latency && strcmp(budget_kind, "flops")) die("-budget must be flops or latency");
    if (by_latency && use_mpi) die("-budget latency goes with -workers, not -mpi");
    need_min("-batch", batch, 0);
    need_min("-evals", eo.evals, 1);
    need_min("-pool", eo.pool, 1);
    need_min("-sample", eo.sample, 1);
    if (!(eo.mutate > 0 && eo.mutate <= 1)) die("-mutate must be in (0, 1]");
    if (!(min_frac >= 0 && min_frac <= 1)) die("-min must be between 0 and 1");
    if (lr_given && !(lr > 0)) die("-lr must be > 0 (without -lr: the cfg's learning_rate)");
    need_regular(pos[0]);
    need_regular(pos[1]);

    /* Removes the work directory once this process and its workers are gone,
     * however they end; forked before MPI and before any model is loaded. */
    int janitor = legr_janitor_start();
    char err[ERRLEN];
    int mpi_rank = 0, mpi_size = 1;
    if (use_mpi) {
        if (legr_mpi_start(&mpi_rank, &mpi_size, err, sizeof err) != 0) die(err);
        if (mpi_size < 2) die("-mpi needs at least 2 ranks: mpirun -np K ./darknet legr search ... -mpi (K-1 evaluators)");
        eo.batch = mpi_size - 1;
    }
    legr_model m;
    if (legr_model_load(pos[0], pos[1], &m, err, sizeof err) != 0) die(err);
    print_cfg_warnings(&m.cfg);
    int detector = legr_network_is_detector(m.net);
    if (!datacfg) {
        if (detector && legr_network_classes(m.net) == 80) datacfg = "cfg/coco.data";
        else die("no -data given: pass -data <file.data> naming train= and valid= lists");
    }
    int kind = detector ? LEGR_FIT_MAP : LEGR_FIT_TOP1;
    if (fitness && !strcmp(fitness, "loss")) kind = LEGR_FIT_LOSS;
    else if (fitness && !strcmp(fitness, "top1") && !detector) kind = LEGR_FIT_TOP1;
    else if (fitness && !strcmp(fitness, "map") && detector) kind = LEGR_FIT_MAP;
    else if (fitness) die("-fitness must be map (detectors), top1 (classifiers) or loss");
    if (legr_graph_prunable(&m.graph) == 0) die("this network has no prunable groups (see 'darknet legr flops -v')");
    if (tau > 0 && m.net->batch == 1 && batch != 1) {
        /* a testing cfg: the candidates are written (and fine-tuned) at 16 or -batch */
        char b[16];
        if (batch == 0)
            fprintf(stderr, "legr: warning: %s has batch=1 (a testing cfg): candidates fine-tune at batch 16 "
                    "(choose with -batch)\n", pos[0]);
        batch = batch ? batch : 16;
        snprintf(b, sizeof b, "%d", batch);
        if (legr_cfg_set(&m.cfg, 0, "batch", b) || legr_cfg_set(&m.cfg, 0, "subdivisions", "1"))
            die("out of memory");
    }

    /* every output against every input before anything is written */
    inputs in = {{0}, 0};
    add_input(&in, pos[0]);
    add_input(&in, pos[1]);
    data_lists d;
    data_lists_read(datacfg, "train,valid", &d, &in);
    char *dflt = default_prefix(pos[0], ".cfg", "-legr");
    char *rank = out ? legr_strdup(out) : legr_fmt("%s.ranking", dflt);
    char *ckpt = legr_fmt("%s.ckpt", rank), *csv = legr_fmt("%s.csv", rank);
    if (mpi_rank == 0) {
        need_output(rank, &in);
        need_output(ckpt, &in);
        need_output(csv, &in);
    }

    legr_norms nr;
    if (legr_norms_compute(m.net, &m.graph, &nr) != 0) die("out of memory");
    legr_latency lt = {0};
    if (by_latency) {
        get_latency_model(&m, &lt);
        fc.budget.latency = &lt;
    }
    need_reachable(&m, &nr, &fc, min_frac);
    legr_trainset ts;
    char hint[ERRLEN + 64];
    if (legr_trainset_load(datacfg, m.net, &ts, err, sizeof err) != 0) {
        snprintf(hint, sizeof hint, "%s (pass -data <file.data> with train= and valid= lists)", err);
        die(hint);
    }
    /* Darknet's loader trusts every image and label file: check them first */
    if (legr_trainlist_check(d.train, ts.paths, ts.n_paths, ts.classes, ts.is_detector, err, sizeof err) != 0)
        die(err);
    legr_valset vs, bs;
    if (mpi_rank == 0) printf("decoding validation images of %s...\n", datacfg);
    if (legr_valset_load(datacfg, "valid", m.net, val_n, &vs, err, sizeof err) != 0) {
        snprintf(hint, sizeof hint, "%s (pass -data <file.data> with train= and valid= lists)", err);
        die(hint);
    }
    if (vs.n_images == 0) die_fmt("%s: the valid= list %s is empty", datacfg, d.valid);
    int fb = batch > 0 && (batch < m.net->batch || m.net->batch == 1) ? batch : m.net->batch;
    int bn_batches = bn_images > 0 ? (bn_images + fb - 1) / fb : 0;
    int n_bs = bn_batches * fb > recover ? bn_batches * fb : recover;
    if (n_bs && legr_valset_load(datacfg, "train", m.net, n_bs, &bs, err, sizeof err) != 0) die(err);

    char settings[2048], extra[2048];
    uint64_t wsum = legr_fnv1a(m.w.data, m.w.n_floats * sizeof(float), 0);
    snprintf(settings, sizeof settings,
             "settings cfg=%s weights-fnv1a=%016llx data=%s target=%s tau=%d lr=%g batch=%d pool=%d "
             "sample=%d mutate=%g fitness=%d val=%d bn-batches=%d recover=%d round=%d budget=%s min=%g seed=%llu workers=%d%s",
             pos[0], (unsigned long long)wsum, datacfg, targets, tau, lr, fb, eo.pool, eo.sample,
             eo.mutate, kind, vs.n_images, bn_batches, recover, round, budget_kind, min_frac, (unsigned long long)eo.seed, eo.batch,
             same_data ? " same-data" : "");
    snprintf(extra, sizeof extra,
             "weights: %s (fnv1a %016llx)\ntarget: %s%s\nfitness: %s on %d images of %s\n"
             "tau: %d, lr: %g, batch: %d, bn batches: %d, recover: %d images%s\nevolution: evals %d, pool %d, sample %d, mutate %g, workers %d\nseed: %llu",
             pos[1], (unsigned long long)wsum, targets, fc.n_targets > 1 ? " (fitness: the mean over these budgets)" : "",
             kind == LEGR_FIT_MAP ? "mAP@0.5" : kind == LEGR_FIT_TOP1 ? "top-1" : "-loss",
             vs.n_images, datacfg, tau, lr > 0 ? lr : m.net->learning_rate, fb, bn_batches, recover,
             same_data ? ", same fine-tuning data for every candidate" : "", eo.evals, eo.pool, eo.sample, eo.mutate,
             eo.batch, (unsigned long long)eo.seed);

    legr_evo e;
    search_report r = { rank, pos[0], csv, ckpt, settings, extra, &m.graph, 0, 0, NULL, 0, 0 };
    if (mpi_rank == 0) {
        if (legr_evo_init(&e, &m.graph, &nr, &eo) != 0) die("out of memory");
        if (resume && legr_evo_load(&e, ckpt, settings, err, sizeof err) != 0) die(err);
        if (log_resume(&r, e.done, err, sizeof err) != 0) die(err);
        r.resumed_from = e.done;
    }

    /* the last thing set up: from here on every error removes it */
    char workdir[64];
    if (make_workdir(workdir, sizeof workdir, m.w.n_floats * sizeof(float), eo.batch) != 0)
        die("cannot create a temporary directory in /dev/shm or /tmp");
    legr_janitor_watch(janitor, workdir);
    fc.model = &m;
    fc.norms = &nr;
    fc.min_frac = min_frac;
    fc.tau = tau;
    fc.lr = lr;
    fc.batch = fb;
    fc.kind = kind;
    fc.train = &ts;
    fc.val = &vs;
    fc.bnset = n_bs ? &bs : NULL;
    fc.bn_batches = bn_batches;
    fc.recover = recover;
    fc.workdir = workdir;
    fc.seed = eo.seed;
    fc.same_data = same_data;
    fc.workers = eo.batch;
#ifdef GPU
    /* a forked child cannot use its parent's CUDA context: with a GPU the
     * candidates of a batch are evaluated one after another, in this process */
    if (gpu_index >= 0) fc.workers = 1;
#endif
    if (mpi_rank > 0) {                 /* an evaluator: no files, no output */
        int rc = legr_mpi_serve(&fc, err, sizeof err);
        legr_remove_dir(workdir);
        legr_mpi_finish();
        if (rc != 0) die(err);
        return;
    }
    fc.index = e.done;
    r.start = what_time_is_it_now();
    printf("LeGR search: %d prunable groups, target %s, tau %d, %d evaluations (pool %d, sample %d), %d %s, seed %llu%s\n",
           legr_graph_prunable(&m.graph), targets, tau, eo.evals, eo.pool, eo.sample, eo.batch,
           use_mpi ? "MPI evaluator ranks" : "workers", (unsigned long long)eo.seed, e.done ? " (resumed)" : "");
#ifdef GPU
    if (gpu_index >= 0 && eo.batch > 1 && !use_mpi)
        printf("GPU %d: the %d candidates of each batch are evaluated one after another\n", gpu_index, eo.batch);
#endif
    printf("fitness: %s on %d validation images; ranking -> %s (checkpoint %s, log %s)\n",
           kind == LEGR_FIT_MAP ? "mAP@0.5" : kind == LEGR_FIT_TOP1 ? "top-1" : "-loss", vs.n_images,
           rank, ckpt, csv);
    print_search_cost(&m, &fc, eo.evals - e.done, eo.batch);
    int rc = legr_evo_run(&e, use_mpi ? legr_mpi_fitness : legr_candidates_fitness, &fc,
                          search_progress, &r, err, sizeof err);
    if (use_mpi) {
        legr_mpi_stop(mpi_size);
        legr_mpi_finish();
    }
    if (rc != 0) die_workdir(workdir, err);
    legr_remove_dir(workdir);
    int n = fc.index - r.resumed_from;
    if (n > 0)
        printf("per candidate: prune+build %.3f s, fine-tune %.3f s, BN %.3f s, score %.3f s\n",
               fc.t_prune / n, fc.t_finetune / n, fc.t_bn / n, fc.t_eval / n);
    if (e.best_index >= 0)
        printf("best fitness %.4f (candidate %d); ranking written to %s\n", e.best_fit, e.best_index + 1, rank);
    else
        printf("no candidate scored; no ranking written\n");
    legr_evo_free(&e);
    free(r.log);
    legr_valset_free(&vs);
    if (n_bs) legr_valset_free(&bs);
    legr_trainset_free(&ts);
    legr_norms_free(&nr);
    legr_latency_free(&lt);
    legr_model_free(&m);
    free(rank); free(ckpt); free(csv); free(dflt);
}

/* Darknet initialises conv weights itself (He-uniform); legr only sets BN
 * statistics to an identity (mean 0, variance 1) so the net runs sanely. */
static void cmd_init(int argc, char **argv)
{
    if (find_arg(argc, argv, "-h")) {
        printf("usage: darknet legr init <cfg> <out.weights> [-seed 1]\n");
        exit(0);
    }
    int seed = int_opt(argc, argv, "-seed", 1);
    char *pos[2];
    if (positionals(argc, argv, 3, pos, 2) != 2) {
        fprintf(stderr, "usage: darknet legr init <cfg> <out.weights> [-seed 1]\n");
        exit(1);
    }
    char err[ERRLEN];
    inputs in = {{0}, 0};
    add_input(&in, pos[0]);
    need_output(pos[1], &in);
    legr_cfg cfg;
    if (legr_cfg_load(pos[0], &cfg, err, sizeof err) != 0) die(err);
    print_cfg_warnings(&cfg);
    srand(seed);
    network *net = legr_parse_network(&cfg, err, sizeof err);
    if (!net) die(err);
    long floats = legr_network_weight_floats(net, err, sizeof err);
    if (floats < 0) die(err);
    for (int i = 0; i < net->n; ++i) {
        layer *l = &net->layers[i];
        int n = l->type == BATCHNORM ? l->c : l->type == CONNECTED ? l->outputs : l->n;
        if (l->rolling_variance)
            for (int j = 0; j < n; ++j) l->rolling_variance[j] = 1;
#ifdef GPU
        legr_push_layer(l);     /* save_weights pulls the device copies */
#endif
    }
    char *tmp;
    FILE *fp = legr_open_temp(pos[1], &tmp, err, sizeof err);    /* checks we can write */
    if (!fp) die(err);
    fclose(fp);
    int muted = legr_mute_fd(2);                                  /* "Saving weights to" */
    save_weights(net, tmp);
    legr_unmute_fd(2, muted);
    struct stat st;     /* save_weights checks no write: check the size */
    if (stat(tmp, &st) != 0 || st.st_size != 20 + 4 * floats || rename(tmp, pos[1]) != 0) {
        remove(tmp);
        snprintf(err, sizeof err, "%s: write failed", pos[1]);
        die(err);
    }
    printf("%s: %ld floats of random weights (seed %d) for %s\n", pos[1], floats, seed, pos[0]);
    free(tmp);
    legr_free_network(net);
    legr_cfg_free(&cfg);
}

static void usage_finetune(FILE *fp)
{
    fprintf(fp,
        "usage: darknet legr finetune <datacfg> <cfg> <weights> [-teacher <cfg> <weights>]\n"
        "                             [-nolabels [-images LIST]] [-iters 500] [-lr X] [-distill 1]\n"
        "                             [-batch N] [-snapshot K] [-out PREFIX] [-resume] [-seed 1]\n"
        "  Fine-tunes a (pruned) pair on the train= list of <datacfg> with Darknet's own\n"
        "  training step.  The schedule is set here, not in the cfg: no burn-in, the cfg's\n"
        "  learning_rate (or -lr) for the first 80%% of -iters, a tenth of it for the rest,\n"
        "  the cfg's batch (or -batch N, at most the cfg's).  The cfg's max_batches, steps\n"
        "  and burn_in are ignored and kept as they are in the output.\n"
        "  -teacher C W  distil from the original model: the student's head inputs (what\n"
        "                feeds [yolo]/[softmax]) are pulled toward the teacher's on the\n"
        "                same images, with weight -distill, on top of Darknet's loss\n"
        "  -nolabels     the teacher's outputs are the only target: no label files are\n"
        "                read; images from -images LIST or the train= list (random flips)\n"
        "  -out PREFIX   writes PREFIX.cfg, PREFIX.weights (seen = 0, loads in stock\n"
        "                Darknet) and PREFIX.state; default <weights name>-ft\n"
        "  -snapshot K   PREFIX.weights and PREFIX.state every K iterations (default\n"
        "                iters/10); -resume continues from them\n");
}

static void usage_bench(FILE *fp)
{
    fprintf(fp,
        "usage: darknet legr bench <cfg> [<cfg> ...] [-runs 20] [-warmup 3] [-threads 1] [-layers]\n"
        "  Forward latency of each cfg at batch 1 and its own input size (Darknet's\n"
        "  random initial weights: the values do not change the time): -warmup untimed\n"
        "  passes, then -runs timed ones, the cfgs' passes interleaved so that machine\n"
        "  noise hits them alike.  Prints the median (min-max) ms of the forward pass,\n"
        "  its ratio to the first cfg's next to the FLOP ratio, and the decoding of\n"
        "  detections (boxes + NMS) apart.  -layers adds each cfg's median ms per layer.\n");
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

static void cmd_bench(int argc, char **argv)
{
    if (find_arg(argc, argv, "-h")) { usage_bench(stdout); exit(0); }
    legr_bench_opts o = legr_bench_defaults();
    o.runs = int_opt(argc, argv, "-runs", o.runs);
    o.warmup = int_opt(argc, argv, "-warmup", o.warmup);
    o.threads = int_opt(argc, argv, "-threads", o.threads);
    int layers = find_arg(argc, argv, "-layers");
    if (o.runs < 1 || o.runs > 100000 || o.warmup < 0 || o.warmup > 100000)
        die("-runs must be within 1..100000 and -warmup within 0..100000");
    if (o.threads < 1 || o.threads > 1024) die("-threads must be within 1..1024");
    enum { MAX_CFGS = 16 };
    char *pos[MAX_CFGS];
    int n = positionals(argc, argv, 3, pos, MAX_CFGS);
    if (n < 1) { usage_bench(stderr); exit(1); }
    if (n > MAX_CFGS) die("at most 16 cfgs");
    legr_model m[MAX_CFGS];
    network *nets[MAX_CFGS];
    legr_bench_result r[MAX_CFGS];
    char err[ERRLEN];
    for (int j = 0; j < n; ++j) {
        if (legr_model_load(pos[j], NULL, &m[j], err, sizeof err) != 0) die(err);
        print_cfg_warnings(&m[j].cfg);
        nets[j] = m[j].net;
    }
    printf("legr bench: %d thread%s, batch 1, %d warm-up + %d timed passes each, interleaved\n",
           o.threads, o.threads > 1 ? "s" : "", o.warmup, o.runs);
    if (legr_bench_forward(nets, n, &o, r, err, sizeof err) != 0) die(err);
    double f0 = legr_network_flops(m[0].net, &m[0].graph, NULL);
    printf("%-32s %9s %8s %10s %17s %7s %9s\n", "cfg", "input", "GFLOPs", "FLOP ratio",
           "ms (min-max)", "ratio", "decode ms");
    for (int j = 0; j < n; ++j) {
        double f = legr_network_flops(m[j].net, &m[j].graph, NULL);
        char size[32], ms[48];
        snprintf(size, sizeof size, "%dx%d", m[j].net->w, m[j].net->h);
        snprintf(ms, sizeof ms, "%.2f (%.2f-%.2f)", r[j].median_ms, r[j].min_ms, r[j].max_ms);
        printf("%-32s %9s %8.3f %10.3f %17s %7.3f %9.2f\n", pos[j], size, f / 1e9, f / f0, ms,
               r[j].median_ms / r[0].median_ms, r[j].decode_ms);
    }
    for (int j = 0; layers && j < n; ++j) print_bench_layers(pos[j], &m[j], &r[j]);
    for (int j = 0; j < n; ++j) { legr_bench_free(&r[j]); legr_model_free(&m[j]); }
}

/* 1 when the cfg ends in a detection head ([yolo], [region], [detection]);
 * read with legr's own reader, so no network is built for it. */
static int cfg_is_detector(const char *path)
{
    legr_cfg c;
    char err[ERRLEN];
    if (legr_cfg_read(path, &c, err, sizeof err) != 0) die(err);
    int det = 0;
    for (int i = 0; i < c.n_sec; ++i)
        det |= !strcmp(c.sec[i].type, "[yolo]") || !strcmp(c.sec[i].type, "[region]") ||
               !strcmp(c.sec[i].type, "[detection]");
    legr_cfg_free(&c);
    return det;
}

static void cmd_finetune(int argc, char **argv)
{
    if (find_arg(argc, argv, "-h")) { usage_finetune(stdout); exit(0); }
    legr_tune_opts o = {0};
    for (int i = 3; i < argc; ++i) {
        if (!argv[i] || strcmp(argv[i], "-teacher")) continue;
        if (i + 2 >= argc || !argv[i + 1] || !argv[i + 2]) die("-teacher needs <cfg> <weights>");
        o.teacher_cfg = argv[i + 1];
        o.teacher_weights = argv[i + 2];
        for (int k = 0; k < 3; ++k) {        /* removed as Darknet's del_arg does */
            for (int j = i; j < argc - 1; ++j) argv[j] = argv[j + 1];
            argv[argc - 1] = NULL;
        }
        break;
    }
    int lr_given = has_arg(argc, argv, "-lr");
    o.iters = int_opt(argc, argv, "-iters", 500);
    o.lr = float_opt(argc, argv, "-lr", 0);
    o.distill = float_opt(argc, argv, "-distill", 1);
    o.nolabels = find_arg(argc, argv, "-nolabels");
    o.images = find_char_arg(argc, argv, "-images", 0);
    o.batch = int_opt(argc, argv, "-batch", 0);
    o.snapshot = int_opt(argc, argv, "-snapshot", 0);
    o.resume = find_arg(argc, argv, "-resume");
    o.seed = (unsigned)int_opt(argc, argv, "-seed", 1);
    char *out = find_char_arg(argc, argv, "-out", 0);
    char *pos[3];
    if (positionals(argc, argv, 3, pos, 3) != 3) { usage_finetune(stderr); exit(1); }
    if (lr_given && !(o.lr > 0 && o.lr < 10))
        die("-lr must be > 0 and below 10 (without -lr: the cfg's learning_rate)");
    need_min("-iters", o.iters, 1);
    need_min("-batch", o.batch, 0);
    need_min("-snapshot", o.snapshot, 0);
    if (o.images && !o.nolabels) die("-images goes with -nolabels (labelled fine-tuning reads train= of <datacfg>)");
    o.datacfg = pos[0];
    o.cfg = pos[1];
    o.weights = pos[2];
    char *pfx = out ? NULL : default_prefix(pos[2], ".weights", "-ft");
    o.out = out ? out : pfx;

    /* inputs: regular files; outputs: none of them, writable */
    inputs in = {{0}, 0};
    const char *files[] = { o.cfg, o.weights, o.teacher_cfg, o.teacher_weights, o.images };
    for (size_t k = 0; k < sizeof files / sizeof *files; ++k) {
        need_regular(files[k]);
        add_input(&in, files[k]);
    }
    data_lists d;
    data_lists_read(o.datacfg, o.nolabels && o.images ? NULL : "train", &d, &in);
    const char *ext[] = { ".cfg", ".weights", ".state" };
    for (int k = 0; k < 3; ++k) {
        char *p = legr_fmt("%s%s", o.out, ext[k]);
        need_output(p, &in);
        free(p);
    }
    /* labelled: Darknet's loader reads every listed image and label file */
    if (!o.nolabels && d.classes > 0) {
        int n;
        char **paths = legr_read_lines(d.train, &n);
        char err[ERRLEN];
        if (paths && legr_trainlist_check(d.train, paths, n, d.classes, cfg_is_detector(o.cfg), err, sizeof err) != 0)
            die(err);
        legr_free_strings(paths, n);
    }
    char err[ERRLEN];
    if (legr_tune_run(&o, err, sizeof err) != 0) die(err);
    free(pfx);
}

void run_legr(int argc, char **argv)
{
    /* Darknet callocs every layer's buffers for the cfg's full batch; legr
     * often uses a smaller one.  A fixed mmap threshold keeps big buffers as
     * untouched (non-resident) pages instead of zeroed heap memory, which
     * glibc's adaptive threshold would otherwise make them after the first
     * network is freed. */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    if (argc < 3 || !strcmp(argv[2], "-h") || !strcmp(argv[2], "help") || !strcmp(argv[2], "--help")) {
        usage_all(stdout);
        exit(argc < 3 ? 0 : 0);
    }
    if (!strcmp(argv[2], "flops")) cmd_flops(argc, argv);
    else if (!strcmp(argv[2], "prune")) cmd_prune(argc, argv);
    else if (!strcmp(argv[2], "init")) cmd_init(argc, argv);
    else if (!strcmp(argv[2], "eval")) cmd_eval(argc, argv);
    else if (!strcmp(argv[2], "search")) cmd_search(argc, argv);
    else if (!strcmp(argv[2], "finetune")) cmd_finetune(argc, argv);
    else if (!strcmp(argv[2], "bench")) cmd_bench(argc, argv);
    else {
        fprintf(stderr, "legr: unknown command '%s'\n", argv[2]);
        usage_all(stderr);
        exit(1);
    }
    exit(0);
}
