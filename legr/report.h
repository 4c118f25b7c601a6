/* report.h: every result the tool writes besides models: the per-budget
 * Pareto table (text, CSV, a gnuplot PNG) and the JSON
 * summaries of flops, eval, prune and search (through jansson). */
#ifndef LEGR_REPORT_H
#define LEGR_REPORT_H

#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include "darknet.h"
#include "eval.h"
#include "graph.h"

typedef struct {
    float budget;           /* requested FLOP ratio (1 = unpruned) */
    long flops;
    long params;
    double acc;             /* mAP@0.5 or top-1; < 0 when not measured */
    double acc_bn;          /* after BN re-estimation; < 0 when not measured */
    double acc_rec;         /* the written pair after reconstruction + BN; < 0: not measured */
    double ms;              /* forward ms per image */
} legr_row;

void legr_report_print(FILE *fp, const legr_row *rows, int n, int detector);
int legr_report_csv(const char *path, const legr_row *rows, int n, int detector,
                    char *err, size_t errlen);

/* Accuracy vs FLOPs from the CSV, written by gnuplot reading its script on
 * a pipe (the file names are quoted in it, never on a command line); -1
 * with err when gnuplot is missing or fails. */
int legr_report_plot(const char *png, const char *csv, const char *title,
                     int detector, char *err, size_t errlen);

/* JSON summaries, each written atomically.  0, or -1 with err. */
typedef struct {
    const char *cfg, *weights;
    long flops, params;
    double latency_ms;
    int have_loss;
    double loss;
    int detector;
    const legr_metrics *plain;
    const legr_metrics *bn;     /* NULL: not re-estimated */
} legr_eval_summary;
int legr_report_eval_json(const char *path, const legr_eval_summary *e, char *err, size_t errlen);

typedef struct {
    const char *cfg, *weights, *ranking, *budget_kind;
    int detector, evaluated;
    const legr_row *rows;       /* [0]: the original, then one per budget */
    int n_rows;
    const char *const *out_cfg, *const *out_weights;    /* n_rows - 1 each */
} legr_prune_summary;
int legr_report_prune_json(const char *path, const legr_prune_summary *p, char *err, size_t errlen);

int legr_report_flops_json(const char *path, const char *cfg, const network *net, const legr_graph *g,
                           char *err, size_t errlen);

typedef struct {
    const char *cfg, *weights, *data, *ranking, *log, *budget_kind, *fitness;
    const float *targets;
    int n_targets, tau, evals, done;
    uint64_t seed;
    int best_index;             /* -1: none scored */
    double best_fit, elapsed_s;
    double t_prune, t_recover, t_finetune, t_bn, t_eval;   /* per candidate */
} legr_search_summary;
int legr_report_search_json(const char *path, const legr_search_summary *s, char *err, size_t errlen);

#endif
