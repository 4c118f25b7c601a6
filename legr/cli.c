/* cli.c: `darknet legr ...`: parses arguments Darknet's way (find_arg,
 * find_char_arg, ... which delete what they match, leaving positionals),
 * checks that each value is one the command accepts, and calls the command's
 * pipeline (prune_run.c, search_run.c, eval_run.c, flops_run.c, tune.c,
 * model.c).  The only file in legr/ that exits. */
#include "darknet.h"
#include "cfgcheck.h"
#include "eval_run.h"
#include "flops_run.h"
#include "model.h"
#include "prune_run.h"
#include "search_run.h"
#include "tune.h"
#include "util.h"

#include <errno.h>
#include <float.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ERRLEN 512

static void usage_all(FILE *fp)
{
    fprintf(fp,
        "usage: darknet legr <command> [args]   (LeGR filter pruning for Darknet)\n"
        "commands:\n"
        "  flops <cfg> [-v] [-json F]               per-layer FLOPs, parameters and prunable groups\n"
        "  prune <cfg> <weights> [<ranking>] <ratio> [<ratio> ...] [-out PREFIX] [-min 0.1] [-v]\n"
        "                                           write PREFIX-<pct>.cfg/.weights keeping <ratio> of the FLOPs\n"
        "  eval <datacfg> <cfg> <weights> [-n N] [-thresh 0.005] [-iou 0.5] [-bn K] [-json FILE] [-v]\n"
        "                                           mAP@0.5 / mAP@[.5:.95] or top-1/top-5 on the valid= list\n"
        "  search <cfg> <weights> [-data F] [-target 0.7,0.5,0.3] [-tau 50] [-evals 400] ... [-out F] [-resume]\n"
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
        "                          [-recover N [-reselect]] [-images LIST | -data D] [-bn K]\n"
        "                          [-eval <datacfg> [-n N]] [-json F] [-v]\n"
        "  <ratio>     fraction of the original FLOPs to keep, 0 < ratio <= 1\n"
        "  <ranking>   a ranking file from 'darknet legr search' (default: plain L2,\n"
        "              alpha = 1, kappa = 0 for every group)\n"
        "  -ranking    baselines instead of a ranking file: l2 (plain global L2), uniform\n"
        "              (every group keeps the same fraction), random (-seed S)\n"
        "  -recover N  reconstruct each pruned pair on N unlabelled images: every conv\n"
        "              whose inputs were pruned (or drifted) is re-fitted by least squares\n"
        "              to the original's outputs, layer by layer (the BN statistics stay\n"
        "              the original's: re-estimating them after it lowered Yolo-Fastest)\n"
        "  -reselect   with -recover: choose WHICH filters a pruned layer keeps by the\n"
        "              error their loss leaves in the next conv (backward elimination on\n"
        "              the original's activations; ThiNet-style) instead of by L2 norm;\n"
        "              the ranking still sets how many each layer keeps\n"
        "  -images L   the images for -recover and -bn: an image list, no labels needed\n"
        "              (default: the train= list of -data D, else of -eval D)\n"
        "  -bn K       re-estimate BN statistics on K batches of those images and write\n"
        "              them into the .weights (default 0: off)\n"
        "  -ridge R    the ridge term of reconstruction and -reselect, relative (default 1e-4)\n"
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
        "  -json F     the summary (every pair's FLOPs, params, files and, with -eval,\n"
        "              accuracies and ms/image) as JSON\n"
        "  -v          print the filters kept per layer\n");
}

static void usage_flops(FILE *fp)
{
    fprintf(fp, "usage: darknet legr flops <cfg> [-v] [-json F]\n"
                "  prints per-layer FLOPs (counted as 'darknet ops' counts them), parameters,\n"
                "  and the groups of filters legr can prune (-v: the layers of each group);\n"
                "  -json F writes the same as JSON\n");
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
        "  -tau 50         fine-tuning iterations per candidate (constant LR, no burn-in);\n"
        "                  0: none (then -recover N is the better cheap fitness; README)\n"
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
        "  -reselect       with -recover: each candidate's kept filters re-chosen by\n"
        "                  reconstruction error first, as prune -reselect\n"
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
        "  -json F         the search's summary as JSON at the end\n"
        "  Candidates pass through /dev/shm/legr-search-<pid>-* (or /tmp), removed however\n"
        "  the search ends, by a helper process when it is killed (kill -9 included).\n");
}

static void usage_finetune(FILE *fp)
{
    fprintf(fp,
        "usage: darknet legr finetune <datacfg> <cfg> <weights> [-teacher <cfg> <weights>]\n"
        "                             [-nolabels [-images LIST] [-augment J]] [-iters 500] [-lr X]\n"
        "                             [-distill 1] [-batch N] [-freeze-bn] [-snapshot K]\n"
        "                             [-out PREFIX] [-resume] [-lr-steps 1] [-seed 1]\n"
        "  Fine-tunes a (pruned) pair on the train= list of <datacfg> with Darknet's own\n"
        "  training step.  The schedule is set here, not in the cfg: no burn-in, the cfg's\n"
        "  learning_rate (or -lr) for the first 80%% of -iters, a tenth of it for the rest,\n"
        "  the cfg's batch (or -batch N, at most the cfg's).  The cfg's max_batches, steps\n"
        "  and burn_in are ignored and kept as they are in the output.\n"
        "  -lr-steps N   N tenfold drops, evenly spaced over the last 20%% (1 to 3;\n"
        "                default 1: lr/10 for all of it; 2: lr/10, then lr/100)\n"
        "  -teacher C W  distil from the original model: the student's head inputs (what\n"
        "                feeds [yolo]/[softmax]) are pulled toward the teacher's on the\n"
        "                same images, with weight -distill, on top of Darknet's loss\n"
        "  -nolabels     the teacher's outputs are the only target: no label files are\n"
        "                read; images from -images LIST or the train= list (random flips)\n"
        "  -augment J    with -nolabels: random views of each image instead, the teacher\n"
        "                seeing the same: each side scaled by 1/(1+J) to 1+J (0.01 <= J <= 1,\n"
        "                e.g. 0.3; default 0: flips only), moved, flipped, and the cfg's\n"
        "                exposure= and saturation=\n"
        "  -freeze-bn    BN normalises by the rolling statistics of <weights> while\n"
        "                training, and they stay as they are (default: Darknet's batch\n"
        "                statistics, which on a few hundred images drift; CPU only)\n"
        "  -out PREFIX   writes PREFIX.cfg, PREFIX.weights (seen = 0, loads in stock\n"
        "                Darknet) and PREFIX.state; default <weights name>-ft\n"
        "  -snapshot K   PREFIX.weights and PREFIX.state every K iterations (default\n"
        "                iters/10); -resume continues from them\n");
}

static void usage_bench(FILE *fp)
{
    fprintf(fp,
        "usage: darknet legr bench <cfg> [<cfg> ...] [-runs 20] [-warmup 3] [-threads 1]\n"
        "                          [-turn 5] [-layers]\n"
        "  Forward latency of each cfg at batch 1 and its own input size (Darknet's\n"
        "  random initial weights: the values do not change the time): -warmup untimed\n"
        "  passes, then -runs timed ones.  The cfgs take turns of -turn timed passes,\n"
        "  each turn after one untimed pass: each cfg is timed with its own data in the\n"
        "  caches, as a deployed model runs, and machine noise hits the cfgs alike (-turn\n"
        "  1: each pass right after another cfg's, no untimed pass: caches cold).\n"
        "  Prints the median (min-max) ms of the forward pass,\n"
        "  its ratio to the first cfg's next to the FLOP ratio, and the decoding of\n"
        "  detections (boxes + NMS) apart.  -layers adds each cfg's median ms per layer.\n");
}

static void die(const char *msg)
{
    fprintf(stderr, "legr: %s\n", msg);
    exit(1);
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

/* The pipeline's error, as the one line the user sees. */
static void run_or_die(int rc, const char *err)
{
    if (rc != 0) die(err);
}

static void cmd_flops(int argc, char **argv)
{
    if (find_arg(argc, argv, "-h")) { usage_flops(stdout); exit(0); }
    legr_flops_args a = {0};
    a.verbose = find_arg(argc, argv, "-v");
    a.json = find_char_arg(argc, argv, "-json", 0);
    char *pos[1];
    if (positionals(argc, argv, 3, pos, 1) != 1) { usage_flops(stderr); exit(1); }
    a.cfg = pos[0];
    char err[ERRLEN];
    run_or_die(legr_run_flops(&a, err, sizeof err), err);
}

static void cmd_prune(int argc, char **argv)
{
    if (find_arg(argc, argv, "-h")) { usage_prune(stdout); exit(0); }
    legr_prune_args a = {0};
    char *prefix = find_char_arg(argc, argv, "-out", 0);
    a.min_frac = float_opt(argc, argv, "-min", 0.1f);
    a.verbose = find_arg(argc, argv, "-v");
    a.baseline = find_char_arg(argc, argv, "-ranking", 0);
    a.seed = int_opt(argc, argv, "-seed", 1);
    a.evaldata = find_char_arg(argc, argv, "-eval", 0);
    a.eval_n = int_opt(argc, argv, "-n", 0);
    a.bn_given = has_arg(argc, argv, "-bn");
    a.bn = int_opt(argc, argv, "-bn", 4);
    a.recover = int_opt(argc, argv, "-recover", 0);
    a.images = find_char_arg(argc, argv, "-images", 0);
    a.recdata = find_char_arg(argc, argv, "-data", 0);
    a.ridge = float_opt(argc, argv, "-ridge", 1e-4f);
    a.reselect = find_arg(argc, argv, "-reselect");
    a.round = int_opt(argc, argv, "-round", 1);
    a.json = find_char_arg(argc, argv, "-json", 0);
    char *budget_kind = find_char_arg(argc, argv, "-budget", "flops");
    char *pos[64];
    int np = positionals(argc, argv, 3, pos, 64);
    if (np < 3) { usage_prune(stderr); exit(1); }
    if (np > 64) die("too many budgets (at most 61)");
    if (!(a.min_frac >= 0 && a.min_frac <= 1)) die("-min must be between 0 and 1");
    if (a.baseline && strcmp(a.baseline, "l2") && strcmp(a.baseline, "uniform") && strcmp(a.baseline, "random"))
        die("-ranking must be l2, uniform or random");
    need_min("-n", a.eval_n, 0);
    need_min("-bn", a.bn, 0);
    need_min("-recover", a.recover, 0);
    if (a.round < 1 || a.round > 1024) die("-round must be within 1..1024");
    if (strcmp(budget_kind, "flops") && strcmp(budget_kind, "latency")) die("-budget must be flops or latency");
    a.by_latency = !strcmp(budget_kind, "latency");
    if (!(a.ridge >= 0 && a.ridge < 1)) die("-ridge must be in [0, 1)");
    if (a.images && a.recdata) die("give either -images or -data, not both");
    if (a.reselect && a.recover <= 0) die("-reselect needs -recover N (it chooses on those N images)");
    if ((a.recover > 0 || (a.bn_given && a.bn > 0)) && !a.images && !a.recdata && !a.evaldata)
        die("-recover and -bn need images: give -images LIST or -data D (its train= list)");
    a.cfg = pos[0];
    a.weights = pos[1];
    int first = 2;
    if (parse_ratio(pos[2], &a.ratio[0]) == -1) {
        a.ranking = pos[2];
        first = 3;
        if (access(a.ranking, R_OK) != 0)
            die_fmt("%s: neither a budget (0 < ratio <= 1) nor a readable ranking file", a.ranking);
    }
    if (a.ranking && a.baseline) die("give either a ranking file or -ranking, not both");
    for (int k = first; k < np; ++k, ++a.n_ratios) {
        int rc = parse_ratio(pos[k], &a.ratio[a.n_ratios]);
        if (rc == -1) die_fmt("budget '%s' is not a number", pos[k]);
        if (rc == -2) die_fmt("budget %s out of range: need 0 < ratio <= 1", pos[k]);
    }
    if (a.n_ratios == 0) die("no budget given: add a ratio such as 0.5 (see 'darknet legr prune -h')");
    char *pfx = prefix ? legr_strdup(prefix) : legr_default_prefix(a.cfg, ".cfg", "-legr");
    if (!pfx) die("out of memory");
    a.prefix = pfx;
    char err[ERRLEN];
    run_or_die(legr_run_prune(&a, err, sizeof err), err);
    free(pfx);
}

static void cmd_eval(int argc, char **argv)
{
    if (find_arg(argc, argv, "-h")) { usage_eval(stdout); exit(0); }
    legr_eval_args a = {0};
    a.n = int_opt(argc, argv, "-n", 0);
    a.thresh = float_opt(argc, argv, "-thresh", .005f);
    a.iou = float_opt(argc, argv, "-iou", .5f);
    a.bn = int_opt(argc, argv, "-bn", 0);
    a.loss = find_arg(argc, argv, "-loss");
    a.json = find_char_arg(argc, argv, "-json", 0);
    a.verbose = find_arg(argc, argv, "-v");
    char *pos[3];
    if (positionals(argc, argv, 3, pos, 3) != 3) { usage_eval(stderr); exit(1); }
    need_min("-n", a.n, 0);
    need_min("-bn", a.bn, 0);
    if (!(a.thresh >= 0 && a.thresh < 1)) die("-thresh must be in [0, 1)");
    if (!(a.iou > 0 && a.iou <= 1)) die("-iou must be in (0, 1]");
    a.datacfg = pos[0];
    a.cfg = pos[1];
    a.weights = pos[2];
    char err[ERRLEN];
    run_or_die(legr_run_eval(&a, err, sizeof err), err);
}

/* `darknet detector map <datacfg> <cfg> <weights> [options]`: the same as
 * `darknet legr eval` (argv has the same layout: argv[3..5]). */
void legr_detector_map(int argc, char **argv)
{
    cmd_eval(argc, argv);
}

static void cmd_search(int argc, char **argv)
{
    if (find_arg(argc, argv, "-h")) { usage_search(stdout); exit(0); }
    legr_search_args a = {0};
    int workers_given = has_arg(argc, argv, "-workers");      /* before int_opt removes it */
    int lr_given = has_arg(argc, argv, "-lr");
    a.datacfg = find_char_arg(argc, argv, "-data", 0);
    char *target = find_char_arg(argc, argv, "-target", "0.7,0.5,0.3");
    a.tau = int_opt(argc, argv, "-tau", 50);
    a.lr = float_opt(argc, argv, "-lr", 0);
    a.batch = int_opt(argc, argv, "-batch", 0);
    legr_evo_opts *eo = &a.evo;
    eo->evals = int_opt(argc, argv, "-evals", 400);
    eo->pool = int_opt(argc, argv, "-pool", 64);
    eo->sample = int_opt(argc, argv, "-sample", 16);
    eo->mutate = float_opt(argc, argv, "-mutate", .1f);
    eo->seed = (uint64_t)int_opt(argc, argv, "-seed", 1);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
#ifdef GPU
    if (gpu_index >= 0) ncpu = 1;   /* one process drives the GPU */
#endif
    eo->batch = int_opt(argc, argv, "-workers", ncpu > 0 ? (int)ncpu : 1);
    a.fitness = find_char_arg(argc, argv, "-fitness", 0);
    a.val_n = int_opt(argc, argv, "-val", 500);
    a.bn_images = int_opt(argc, argv, "-bn-images", 256);
    a.recover = int_opt(argc, argv, "-recover", 0);
    a.round = int_opt(argc, argv, "-round", 1);
    char *budget_kind = find_char_arg(argc, argv, "-budget", "flops");
    a.min_frac = float_opt(argc, argv, "-min", .1f);
    char *out = find_char_arg(argc, argv, "-out", 0);
    a.json = find_char_arg(argc, argv, "-json", 0);
    a.resume = find_arg(argc, argv, "-resume");
    a.use_mpi = find_arg(argc, argv, "-mpi");
    a.same_data = find_arg(argc, argv, "-same-data");
    a.reselect = find_arg(argc, argv, "-reselect");
    if (a.use_mpi && workers_given) die("-mpi and -workers exclude each other (mpirun -np K gives K-1 evaluators)");
    char *pos[2];
    if (positionals(argc, argv, 3, pos, 2) != 2) { usage_search(stderr); exit(1); }
    a.n_targets = parse_targets(target, a.targets, LEGR_MAX_TARGETS);
    if (a.n_targets < 0)
        die_fmt("-target must be a budget between 0 and 1 (exclusive), or up to %d of them separated by commas",
                LEGR_MAX_TARGETS);
    if (eo->batch < 1 || eo->batch > 1024) die("-workers must be between 1 and 1024");
    need_min("-tau", a.tau, 0);
    need_min("-val", a.val_n, 0);
    need_min("-bn-images", a.bn_images, 0);
    need_min("-recover", a.recover, 0);
    if (a.batch > LEGR_MAX_BATCH) die_fmt("-batch must be <= %d", LEGR_MAX_BATCH);
    if (a.recover > 100000) die("-recover must be <= 100000");
    if (a.reselect && a.recover <= 0) die("-reselect needs -recover N (it chooses on those N images)");
    if (a.round < 1 || a.round > 1024) die("-round must be within 1..1024");
    a.by_latency = !strcmp(budget_kind, "latency");
    if (!a.by_latency && strcmp(budget_kind, "flops")) die("-budget must be flops or latency");
    if (a.by_latency && a.use_mpi) die("-budget latency goes with -workers, not -mpi");
    need_min("-batch", a.batch, 0);
    need_min("-evals", eo->evals, 1);
    need_min("-pool", eo->pool, 1);
    need_min("-sample", eo->sample, 1);
    if (!(eo->mutate > 0 && eo->mutate <= 1)) die("-mutate must be in (0, 1]");
    if (!(a.min_frac >= 0 && a.min_frac <= 1)) die("-min must be between 0 and 1");
    if (lr_given && !(a.lr > 0)) die("-lr must be > 0 (without -lr: the cfg's learning_rate)");
    if (a.fitness && strcmp(a.fitness, "map") && strcmp(a.fitness, "top1") && strcmp(a.fitness, "loss"))
        die("-fitness must be map (detectors), top1 (classifiers) or loss");
    a.cfg = pos[0];
    a.weights = pos[1];
    char *dflt = legr_default_prefix(a.cfg, ".cfg", "-legr");
    char *rank = out ? legr_strdup(out) : legr_fmt("%s.ranking", dflt);
    if (!dflt || !rank) die("out of memory");
    a.out = rank;
    char err[ERRLEN];
    run_or_die(legr_run_search(&a, err, sizeof err), err);
    free(rank);
    free(dflt);
}

static void cmd_init(int argc, char **argv)
{
    const char *usage = "usage: darknet legr init <cfg> <out.weights> [-seed 1]\n";
    if (find_arg(argc, argv, "-h")) { printf("%s", usage); exit(0); }
    int seed = int_opt(argc, argv, "-seed", 1);
    char *pos[2];
    if (positionals(argc, argv, 3, pos, 2) != 2) { fprintf(stderr, "%s", usage); exit(1); }
    char err[ERRLEN];
    long floats;
    run_or_die(legr_model_write_random(pos[0], pos[1], seed, &floats, err, sizeof err), err);
    printf("%s: %ld floats of random weights (seed %d) for %s\n", pos[1], floats, seed, pos[0]);
}

static void cmd_bench(int argc, char **argv)
{
    if (find_arg(argc, argv, "-h")) { usage_bench(stdout); exit(0); }
    legr_bench_args a = {{0}};
    legr_bench_opts *o = &a.opts;
    *o = legr_bench_defaults();
    o->runs = int_opt(argc, argv, "-runs", o->runs);
    o->warmup = int_opt(argc, argv, "-warmup", o->warmup);
    o->threads = int_opt(argc, argv, "-threads", o->threads);
    o->turn = int_opt(argc, argv, "-turn", o->turn);
    a.layers = find_arg(argc, argv, "-layers");
    if (o->runs < 1 || o->runs > 100000 || o->warmup < 0 || o->warmup > 100000)
        die("-runs must be within 1..100000 and -warmup within 0..100000");
    if (o->threads < 1 || o->threads > 1024) die("-threads must be within 1..1024");
    if (o->turn < 1 || o->turn > 100000) die("-turn must be within 1..100000");
    char *pos[LEGR_MAX_BENCH_CFGS];
    a.n_cfgs = positionals(argc, argv, 3, pos, LEGR_MAX_BENCH_CFGS);
    if (a.n_cfgs < 1) { usage_bench(stderr); exit(1); }
    if (a.n_cfgs > LEGR_MAX_BENCH_CFGS) die_fmt("at most %d cfgs", LEGR_MAX_BENCH_CFGS);
    for (int j = 0; j < a.n_cfgs; ++j) a.cfgs[j] = pos[j];
    char err[ERRLEN];
    run_or_die(legr_run_bench(&a, err, sizeof err), err);
}

/* Removes `-teacher <cfg> <weights>` from argv (as Darknet's del_arg does)
 * into o. */
static void take_teacher(int argc, char **argv, legr_tune_opts *o)
{
    for (int i = 3; i < argc; ++i) {
        if (!argv[i] || strcmp(argv[i], "-teacher")) continue;
        if (i + 2 >= argc || !argv[i + 1] || !argv[i + 2]) die("-teacher needs <cfg> <weights>");
        o->teacher_cfg = argv[i + 1];
        o->teacher_weights = argv[i + 2];
        for (int k = 0; k < 3; ++k) {
            for (int j = i; j < argc - 1; ++j) argv[j] = argv[j + 1];
            argv[argc - 1] = NULL;
        }
        return;
    }
}

static void cmd_finetune(int argc, char **argv)
{
    if (find_arg(argc, argv, "-h")) { usage_finetune(stdout); exit(0); }
    legr_tune_opts o = {0};
    take_teacher(argc, argv, &o);
    int lr_given = has_arg(argc, argv, "-lr");
    o.iters = int_opt(argc, argv, "-iters", 500);
    o.lr = float_opt(argc, argv, "-lr", 0);
    o.distill = float_opt(argc, argv, "-distill", 1);
    o.lr_steps = int_opt(argc, argv, "-lr-steps", 1);
    o.nolabels = find_arg(argc, argv, "-nolabels");
    o.images = find_char_arg(argc, argv, "-images", 0);
    o.augment = float_opt(argc, argv, "-augment", 0);
    o.batch = int_opt(argc, argv, "-batch", 0);
    o.snapshot = int_opt(argc, argv, "-snapshot", 0);
    o.resume = find_arg(argc, argv, "-resume");
    o.freeze_bn = find_arg(argc, argv, "-freeze-bn");
    o.seed = (unsigned)int_opt(argc, argv, "-seed", 1);
    char *out = find_char_arg(argc, argv, "-out", 0);
    char *pos[3];
    if (positionals(argc, argv, 3, pos, 3) != 3) { usage_finetune(stderr); exit(1); }
    if (lr_given && !(o.lr > 0 && o.lr < 10))
        die("-lr must be > 0 and below 10 (without -lr: the cfg's learning_rate)");
    need_min("-iters", o.iters, 1);
    if (o.lr_steps < 1 || o.lr_steps > 3) die("-lr-steps must be 1, 2 or 3");
    need_min("-batch", o.batch, 0);
    need_min("-snapshot", o.snapshot, 0);
    if (o.images && !o.nolabels) die("-images goes with -nolabels (labelled fine-tuning reads train= of <datacfg>)");
    o.datacfg = pos[0];
    o.cfg = pos[1];
    o.weights = pos[2];
    char *pfx = out ? NULL : legr_default_prefix(pos[2], ".weights", "-ft");
    o.out = out ? out : pfx;
    if (!o.out) die("out of memory");
    char err[ERRLEN];
    run_or_die(legr_tune_run(&o, err, sizeof err), err);
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
        exit(0);
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
