/* report.c: Pareto tables of pruned models (see report.h). */
#include "report.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

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

int legr_report_plot(const char *png, const char *csv, const char *title,
                     int detector, char *err, size_t errlen)
{
    /* the names go into a gnuplot script between single quotes */
    if (strpbrk(png, "'\n") || strpbrk(csv, "'\n"))
        return legr_fail(err, errlen, "%s: no plot written: quotes or new lines in the file name", png);
    char safe_title[512];
    snprintf(safe_title, sizeof safe_title, "%s", title);
    for (char *c = safe_title; *c; ++c)
        if (*c == '\'' || *c == '\n') *c = '_';
    if (system("command -v gnuplot >/dev/null 2>&1") != 0)
        return legr_fail(err, errlen, "gnuplot not found: no plot written (apt-get install gnuplot-nox)");
    legr_staged st = {0};
    const char *tpng = legr_stage(&st, png);
    if (!tpng) return legr_fail(err, errlen, "out of memory");
    char script[2048];
    snprintf(script, sizeof script,
             "set terminal pngcairo size 800,500 noenhanced; set output '%s'; set datafile separator ',';"
             "set title '%s'; set xlabel 'GFLOPs'; set ylabel '%s'; set key bottom right; set grid;"
             "plot '%s' every ::1 using ($2/1e9):4 with linespoints pt 7 title 'pruned',"
             " '' every ::1 using ($2/1e9):($5 < 0 ? 1/0 : $5) with linespoints pt 5 title 'pruned + BN re-estimation',"
             " '' every ::1 using ($2/1e9):($7 < 0 ? 1/0 : $7) with linespoints pt 9 title 'reconstructed + BN (written)'",
             tpng, safe_title, detector ? "mAP@0.5" : "top-1", csv);
    char *tmp;
    char path[4096];
    snprintf(path, sizeof path, "%s.gp", png);
    FILE *fp = legr_open_temp(path, &tmp, err, errlen);
    if (!fp) { legr_staged_abort(&st); return -1; }
    fprintf(fp, "%s\n", script);
    fclose(fp);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "gnuplot '%s' 2>/dev/null", tmp);
    int rc = system(cmd);
    remove(tmp);
    free(tmp);
    if (rc != 0) {
        legr_staged_abort(&st);
        return legr_fail(err, errlen, "%s: gnuplot failed", png);
    }
    return legr_staged_commit(&st, err, errlen);
}
