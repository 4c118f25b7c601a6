/* report.h: the per-budget Pareto table (FLOPs, params, accuracy with and
 * without BN re-estimation, ms/image) as text, CSV and a gnuplot PNG. */
#ifndef LEGR_REPORT_H
#define LEGR_REPORT_H

#include <stdio.h>
#include <stddef.h>

typedef struct {
    float budget;           /* requested FLOP ratio (1 = unpruned) */
    long flops;
    long params;
    double acc;             /* mAP@0.5 or top-1 */
    double acc_bn;          /* after BN re-estimation; < 0 when not measured */
    double acc_rec;         /* the written pair after reconstruction + BN; < 0: not measured */
    double ms;              /* forward ms per image */
} legr_row;

void legr_report_print(FILE *fp, const legr_row *rows, int n, int detector);
int legr_report_csv(const char *path, const legr_row *rows, int n, int detector,
                    char *err, size_t errlen);
/* Accuracy vs FLOPs from the CSV; needs gnuplot (returns -1 with err when
 * it is missing or fails). */
int legr_report_plot(const char *png, const char *csv, const char *title,
                     int detector, char *err, size_t errlen);

#endif
