/* report.c: every result the tool writes besides models (see report.h). */
#include "report.h"
#include "flops.h"
#include "util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

void legr_report_print(FILE *fp, const legr_row *rows, int n, int detector)
{
    const char *metric = detector ? "mAP@0.5" : "top-1";
    fprintf(fp, "%-7s %10s %7s %10s %7s %9s %12s %10s %9s\n", "budget", "GFLOPs", "ratio", "params(M)",
            "ratio", metric, "+BN re-est.", "+recover", "ms/image");
    for (int i = 0; i < n; ++i) {
        char bn[32] = "-", rec[32] = "-";
        if (rows[i].acc_bn >= 0) snprintf(bn, sizeof bn, "%.4f", rows[i].acc_bn);
        if (rows[i].acc_rec >= 0) snprintf(rec, sizeof rec, "%.4f", rows[i].acc_rec);
        fprintf(fp, "%-7.3g %10.4f %7.3f %10.3f %7.3f %9.4f %12s %10s %9.2f\n", rows[i].budget,
                rows[i].flops / 1e9, (double)rows[i].flops / rows[0].flops, rows[i].params / 1e6,
                (double)rows[i].params / rows[0].params, rows[i].acc, bn, rec, rows[i].ms);
    }
}

int legr_report_csv(const char *path, const legr_row *rows, int n, int detector,
                    char *err, size_t errlen)
{
    char *tmp;
    FILE *fp = legr_open_temp(path, &tmp, err, errlen);
    if (!fp) return -1;
    const char *metric = detector ? "map50" : "top1";
    fprintf(fp, "budget,flops,params,%s,%s_bn,ms_per_image,%s_recovered\n", metric, metric, metric);
    for (int i = 0; i < n; ++i)
        fprintf(fp, "%g,%ld,%ld,%.6f,%.6f,%.3f,%.6f\n", rows[i].budget, rows[i].flops, rows[i].params,
                rows[i].acc, rows[i].acc_bn, rows[i].ms, rows[i].acc_rec);
    return legr_commit_temp(fp, tmp, path, 1, err, errlen);
}

/* The directory of PATH holding an executable `name`, or 0 (no shell). */
static int in_path(const char *name)
{
    const char *path = getenv("PATH");
    if (!path) path = "/usr/bin:/bin";
    char dir[4096];
    while (*path) {
        size_t n = strcspn(path, ":");
        snprintf(dir, sizeof dir, "%.*s/%s", (int)n, n ? path : ".", name);
        if (access(dir, X_OK) == 0) return 1;
        path += n + (path[n] == ':');
    }
    return 0;
}

/* s as a gnuplot single-quoted string: a quote is doubled; a new line (which
 * would end the command) becomes a space. */
static void gp_quoted(FILE *fp, const char *s)
{
    fputc('\'', fp);
    for (; *s; ++s) {
        if (*s == '\'') fputs("''", fp);
        else fputc(*s == '\n' || *s == '\r' ? ' ' : *s, fp);
    }
    fputc('\'', fp);
}

int legr_report_plot(const char *png, const char *csv, const char *title,
                     int detector, char *err, size_t errlen)
{
    if (!in_path("gnuplot"))
        return legr_fail(err, errlen, "gnuplot not found: no plot written (apt-get install gnuplot-nox)");
    legr_staged st = {0};
    const char *tpng = legr_stage(&st, png);
    if (!tpng) return legr_fail(err, errlen, "out of memory");
    /* the script goes to gnuplot's stdin; names are data in it, never words of a command line */
    FILE *gp = popen("gnuplot 2>/dev/null", "w");
    if (!gp) {
        legr_staged_abort(&st);
        return legr_fail(err, errlen, "%s: cannot start gnuplot", png);
    }
    fprintf(gp, "set terminal pngcairo size 800,500 noenhanced\nset output ");
    gp_quoted(gp, tpng);
    fprintf(gp, "\nset datafile separator ','\nset title ");
    gp_quoted(gp, title);
    fprintf(gp, "\nset xlabel 'GFLOPs'\nset ylabel '%s'\nset key bottom right\nset grid\nplot ",
            detector ? "mAP@0.5" : "top-1");
    gp_quoted(gp, csv);
    fprintf(gp, " every ::1 using ($2/1e9):4 with linespoints pt 7 title 'pruned',"
            " '' every ::1 using ($2/1e9):($5 < 0 ? 1/0 : $5) with linespoints pt 5 title 'pruned + BN re-estimation',"
            " '' every ::1 using ($2/1e9):($7 < 0 ? 1/0 : $7) with linespoints pt 9 title 'reconstructed + BN (written)'\n"
            "set output\n");
    int rc = pclose(gp);
    struct stat sb;
    if (rc != 0 || stat(tpng, &sb) != 0 || sb.st_size == 0) {
        legr_staged_abort(&st);
        return legr_fail(err, errlen, "%s: gnuplot failed", png);
    }
    return legr_staged_commit(&st, err, errlen);
}

/* --- JSON (jansson: its job to escape and to write valid JSON) ---------- */

/* A number that may be "not measured" (< 0): null then. */
static json_t *json_measured(double v)
{
    return v < 0 ? json_null() : json_real(v);
}

/* Writes root to path atomically (temporary name, then rename) and frees it. */
static int json_commit(const char *path, json_t *root, char *err, size_t errlen)
{
    if (!root) return legr_fail(err, errlen, "%s: out of memory", path);
    char *tmp;
    FILE *fp = legr_open_temp(path, &tmp, err, errlen);
    if (!fp) {
        json_decref(root);
        return -1;
    }
    int ok = json_dumpf(root, fp, JSON_INDENT(2) | JSON_REAL_PRECISION(8)) == 0 && fputc('\n', fp) != EOF;
    json_decref(root);
    return legr_commit_temp(fp, tmp, path, ok, err, errlen);
}

static json_t *json_metrics(const legr_metrics *mt, int detector)
{
    json_t *o = json_object();
    if (detector) {
        json_object_set_new(o, "map50", json_real(mt->map50));
        json_object_set_new(o, "map50_95", json_real(mt->map5095));
        json_object_set_new(o, "boxes", json_integer(mt->n_truth));
        json_object_set_new(o, "detections", json_integer(mt->n_dets));
    } else {
        json_object_set_new(o, "top1", json_real(mt->top1));
        json_object_set_new(o, "top5", json_real(mt->top5));
    }
    json_object_set_new(o, "images", json_integer(mt->n_images));
    json_object_set_new(o, "forward_ms_per_image",
                        json_real(mt->n_images ? 1000 * mt->forward_s / mt->n_images : 0));
    return o;
}

int legr_report_eval_json(const char *path, const legr_eval_summary *e, char *err, size_t errlen)
{
    json_t *o = json_object();
    json_object_set_new(o, "cfg", json_string(e->cfg));
    json_object_set_new(o, "weights", json_string(e->weights));
    json_object_set_new(o, "flops", json_integer(e->flops));
    json_object_set_new(o, "params", json_integer(e->params));
    json_object_set_new(o, "latency_ms", json_real(e->latency_ms));
    if (e->have_loss) json_object_set_new(o, "loss", json_real(e->loss));
    json_object_set_new(o, "plain", json_metrics(e->plain, e->detector));
    if (e->bn) json_object_set_new(o, "bn_reestimated", json_metrics(e->bn, e->detector));
    return json_commit(path, o, err, errlen);
}

int legr_report_prune_json(const char *path, const legr_prune_summary *p, char *err, size_t errlen)
{
    json_t *o = json_object(), *rows = json_array();
    json_object_set_new(o, "cfg", json_string(p->cfg));
    json_object_set_new(o, "weights", json_string(p->weights));
    json_object_set_new(o, "ranking", json_string(p->ranking));
    json_object_set_new(o, "budget", json_string(p->budget_kind));
    json_object_set_new(o, "metric", json_string(p->detector ? "map50" : "top1"));
    for (int i = 0; i < p->n_rows; ++i) {
        const legr_row *r = &p->rows[i];
        json_t *row = json_object();
        json_object_set_new(row, "ratio", json_real(r->budget));
        json_object_set_new(row, "flops", json_integer(r->flops));
        json_object_set_new(row, "flop_ratio", json_real((double)r->flops / p->rows[0].flops));
        json_object_set_new(row, "params", json_integer(r->params));
        json_object_set_new(row, "cfg", json_string(i ? p->out_cfg[i - 1] : p->cfg));
        json_object_set_new(row, "weights", json_string(i ? p->out_weights[i - 1] : p->weights));
        if (p->evaluated) {
            json_object_set_new(row, "accuracy", json_measured(r->acc));
            json_object_set_new(row, "accuracy_bn", json_measured(r->acc_bn));
            json_object_set_new(row, "accuracy_recovered", json_measured(r->acc_rec));
            json_object_set_new(row, "ms_per_image", json_real(r->ms));
        }
        json_array_append_new(rows, row);
    }
    json_object_set_new(o, "models", rows);
    return json_commit(path, o, err, errlen);
}

int legr_report_flops_json(const char *path, const char *cfg, const network *net, const legr_graph *g,
                           char *err, size_t errlen)
{
    json_t *o = json_object(), *layers = json_array(), *groups = json_array();
    json_object_set_new(o, "cfg", json_string(cfg));
    json_object_set_new(o, "width", json_integer(net->w));
    json_object_set_new(o, "height", json_integer(net->h));
    json_object_set_new(o, "channels", json_integer(net->c));
    json_object_set_new(o, "flops", json_integer(legr_network_flops(net, g, NULL)));
    json_object_set_new(o, "params", json_integer(legr_network_params(net, g, NULL)));
    for (int i = 0; i < net->n; ++i) {
        json_t *l = json_object();
        json_object_set_new(l, "index", json_integer(i));
        json_object_set_new(l, "type", json_string(legr_layer_name(net->layers[i].type)));
        json_object_set_new(l, "in", json_integer(legr_layer_in_channels(net, g, NULL, i)));
        json_object_set_new(l, "out", json_integer(legr_layer_out_channels(net, g, NULL, i)));
        json_object_set_new(l, "flops", json_integer(legr_layer_flops(net, g, NULL, i)));
        json_object_set_new(l, "params", json_integer(legr_layer_params(net, g, NULL, i)));
        json_object_set_new(l, "group", g->role[i] == LEGR_PRODUCER ? json_integer(g->out[i][0]) : json_null());
        json_array_append_new(layers, l);
    }
    for (int k = 0; k < g->n_groups; ++k) {
        const legr_group *gr = &g->groups[k];
        json_t *x = json_object(), *prod = json_array();
        for (int p = 0; p < gr->n_producers; ++p) json_array_append_new(prod, json_integer(gr->producers[p]));
        json_object_set_new(x, "channels", json_integer(gr->n));
        json_object_set_new(x, "producers", prod);
        json_object_set_new(x, "prunable", json_boolean(!gr->fixed));
        if (gr->fixed) json_object_set_new(x, "why", json_string(gr->why));
        json_array_append_new(groups, x);
    }
    json_object_set_new(o, "layers", layers);
    json_object_set_new(o, "groups", groups);
    return json_commit(path, o, err, errlen);
}

int legr_report_search_json(const char *path, const legr_search_summary *s, char *err, size_t errlen)
{
    json_t *o = json_object(), *targets = json_array();
    json_object_set_new(o, "cfg", json_string(s->cfg));
    json_object_set_new(o, "weights", json_string(s->weights));
    json_object_set_new(o, "data", json_string(s->data));
    json_object_set_new(o, "ranking", json_string(s->ranking));
    json_object_set_new(o, "log", json_string(s->log));
    for (int t = 0; t < s->n_targets; ++t) json_array_append_new(targets, json_real(s->targets[t]));
    json_object_set_new(o, "targets", targets);
    json_object_set_new(o, "budget", json_string(s->budget_kind));
    json_object_set_new(o, "fitness", json_string(s->fitness));
    json_object_set_new(o, "tau", json_integer(s->tau));
    json_object_set_new(o, "evaluations", json_integer(s->evals));
    json_object_set_new(o, "done", json_integer(s->done));
    json_object_set_new(o, "seed", json_integer((json_int_t)s->seed));
    json_object_set_new(o, "best_fitness", s->best_index >= 0 ? json_real(s->best_fit) : json_null());
    json_object_set_new(o, "best_candidate", s->best_index >= 0 ? json_integer(s->best_index + 1) : json_null());
    json_object_set_new(o, "elapsed_s", json_real(s->elapsed_s));
    json_t *t = json_object();
    json_object_set_new(t, "prune_s", json_real(s->t_prune));
    json_object_set_new(t, "recover_s", json_real(s->t_recover));
    json_object_set_new(t, "finetune_s", json_real(s->t_finetune));
    json_object_set_new(t, "bn_s", json_real(s->t_bn));
    json_object_set_new(t, "score_s", json_real(s->t_eval));
    json_object_set_new(o, "per_candidate", t);
    return json_commit(path, o, err, errlen);
}
