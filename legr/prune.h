/* prune.h: one budget's pruned pair, written and recovered: the surgery
 * (surgery.h), then, when asked, least-squares reconstruction (recover.h)
 * and BN re-estimation on unlabelled images, so that the written .weights
 * carries the recovered model. */
#ifndef LEGR_PRUNE_H
#define LEGR_PRUNE_H

#include <stddef.h>
#include "model.h"
#include "mask.h"
#include "eval.h"
#include "recover.h"
#include "util.h"

typedef struct {
    const legr_valset *images;  /* unlabelled images for recovery, or NULL */
    int recover;                /* images for reconstruction (0: no reconstruction) */
    int bn;                     /* batches for BN re-estimation (0: none) */
    int positions;              /* see legr_recover_opts */
    float ridge;
} legr_recovery;

/* What reconstruction did: one entry per re-fitted layer (free with
 * legr_recovery_report_free). */
typedef struct {
    int n_images;               /* images the fit used */
    int n_layers;
    legr_recover_layer *layers;
} legr_recovery_report;

void legr_recovery_report_free(legr_recovery_report *rep);

/* Recovers a pruned network in memory: reconstruction against m's network
 * (the original), then BN re-estimation.  rep (may be NULL) receives the
 * reconstruction's figures.  Returns 0 or -1 with err set. */
int legr_recover_network(legr_model *m, network *pruned, const legr_mask *mask,
                         const legr_recovery *r, legr_recovery_report *rep,
                         char *err, size_t errlen);

/* Writes out_cfg/out_weights for mask under temporary names; with recovery
 * (r != NULL and r->recover or r->bn) loads, recovers (rep as above) and
 * saves that pair; then renames both into place, or, on any failure,
 * neither (the temporaries removed). */
int legr_prune_write(legr_model *m, const legr_mask *mask, const legr_recovery *r,
                     const char *out_cfg, const char *out_weights, legr_recovery_report *rep,
                     char *err, size_t errlen);

/* The same without the renames: out_cfg and out_weights are added to st
 * (util.h), written under their temporary names, for the caller to commit
 * with its other outputs, or abort.  On failure err names the output. */
int legr_prune_stage(legr_model *m, const legr_mask *mask, const legr_recovery *r,
                     const char *out_cfg, const char *out_weights, legr_staged *st,
                     legr_recovery_report *rep, char *err, size_t errlen);

#endif
