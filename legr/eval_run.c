/* eval_run.c: the `legr eval` pipeline (see eval_run.h). */
#include "eval_run.h"
#include "bench.h"
#include "flops.h"
#include "cfgcheck.h"
#include "guard.h"
#include "measure.h"
#include "model.h"
#include "report.h"
#include "threads.h"
#include "trainstats.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

static void print_metrics(const char *tag, const legr_valset *vs, const legr_metrics *mt)
{
    if (vs->is_detector)
        printf("%s: mAP@0.5 %.4f  mAP@[.5:.95] %.4f  (%d images, %d boxes, %d classes with boxes, %d detections)\n",
               tag, mt->map50, mt->map5095, mt->n_images, mt->n_truth, mt->classes_with_gt, mt->n_dets);
    else
        printf("%s: top-1 %.4f  top-5 %.4f  (%d images)\n", tag, mt->top1, mt->top5, mt->n_images);
}

static void print_per_class(const legr_valset *vs, const legr_metrics *mt, const char *names_file)
{
    char **names = NULL;
    int n_names = 0;
    if (names_file && legr_check_regular(names_file, NULL, 0) == 0) names = legr_read_lines(names_file, &n_names);
    for (int k = 0; k < vs->classes; ++k)
        if (mt->gt_per_class[k])
            printf("  class %3d %-20s AP@0.5 %.4f (%d boxes)\n", k, k < n_names ? names[k] : "",
                   mt->ap50[k], mt->gt_per_class[k]);
    legr_free_strings(names, n_names);
}

int legr_run_eval(const legr_eval_args *a, char *err, size_t errlen)
{
    legr_inputs in = {{0}, 0};
    legr_datafile d;
    legr_model m = {0};
    legr_valset vs = {0}, bnset = {0};
    legr_measured r = {{0}};
    int rc = -1;
    if (legr_input_data(&in, a->datacfg, a->bn ? "valid,train" : "valid", &d, err, errlen) ||
        legr_input_file(&in, a->cfg, err, errlen) || legr_input_file(&in, a->weights, err, errlen) ||
        (a->json && legr_output_check(a->json, &in, err, errlen)))
        goto done;
    if (legr_model_load(a->cfg, a->weights, &m, err, errlen) != 0) goto done;
    legr_cfg_print_warnings(&m.cfg);
    if (legr_valset_load(a->datacfg, "valid", m.net, a->n, &vs, err, errlen) != 0) goto done;
    if (vs.n_images == 0) { legr_fail(err, errlen, "%s: the valid= list %s is empty", a->datacfg, d.valid); goto done; }
    if (a->bn) {        /* before any work: an empty train= list would leave BN as it is */
        if (legr_valset_load(a->datacfg, "train", m.net, a->bn * m.net->batch, &bnset, err, errlen) != 0) goto done;
        if (bnset.n_images == 0) {
            legr_fail(err, errlen, "%s: the train= list %s is empty (-bn re-estimates on it)", a->datacfg, d.train);
            goto done;
        }
    }
    legr_measure_opts o = legr_measure_defaults(&vs);
    o.thresh = a->thresh;
    o.iou = a->iou;
    o.before = 1;
    o.bnset = a->bn ? &bnset : NULL;
    o.bn_batches = a->bn;
    /* the loss of the network as given, once (not again after BN re-estimation) */
    double loss = 0;
    if (a->loss && legr_validation_loss(m.net, &vs, &loss, err, errlen) != 0) goto done;
    if (legr_measure(m.net, &o, &r, err, errlen) != 0) goto done;
    long flops = legr_network_flops(m.net, &m.graph, NULL);
    long params = legr_network_params(m.net, &m.graph, NULL);
    print_metrics("eval", &vs, &r.plain.mt);
    /* the latency users feel: legr bench's measure, not the eval's mean */
    legr_bench_opts bo = { 10, 2, 1, 5 };
    double latency;
    if (legr_bench_median(m.net, &bo, &latency, err, errlen) != 0) goto done;
    int nt = legr_threads_current();
    printf("FLOPs %.3f Bn, params %.3f M, latency %.2f ms (batch 1, one thread, median of 10 passes; "
           "the eval's forward at %d thread%s: %.2f ms/image)\n", flops / 1e9, params / 1e6, latency,
           nt, nt > 1 ? "s" : "", 1000 * r.plain.mt.forward_s / vs.n_images);
    if (a->verbose) {
        if (vs.is_detector) print_per_class(&vs, &r.plain.mt, d.names);
        printf("time: decode+prepare %.3f s (once), forward %.3f s, scoring %.3f s\n",
               vs.decode_s, r.plain.mt.forward_s, r.plain.mt.score_s);
    }
    if (a->loss) printf("validation loss (Darknet cost, training-mode forward): %.4f\n", loss);
    if (a->bn) {
        char tag[64];
        snprintf(tag, sizeof tag, "BN re-estimated (%d x %d images)", a->bn, m.net->batch);
        print_metrics(tag, &vs, &r.bn.mt);
    }
    rc = 0;
    if (a->json) {
        legr_eval_summary s = { a->cfg, a->weights, flops, params, latency, a->loss, loss,
                                vs.is_detector, &r.plain.mt, a->bn ? &r.bn.mt : NULL };
        rc = legr_report_eval_json(a->json, &s, err, errlen);
    }
done:
    legr_measured_free(&r);
    legr_valset_free(&vs);
    legr_valset_free(&bnset);
    legr_model_free(&m);
    legr_datafile_free(&d);
    return rc;
}
