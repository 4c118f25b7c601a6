/* prune.c: writes one budget's pair and recovers it (see prune.h). */
#include "prune.h"
#include "trainstats.h"
#include "surgery.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

void legr_recovery_report_free(legr_recovery_report *rep)
{
    free(rep->layers);
    memset(rep, 0, sizeof *rep);
}

int legr_recover_network(legr_model *m, network *pruned, const legr_mask *mask,
                         const legr_recovery *r, legr_recovery_report *rep,
                         char *err, size_t errlen)
{
    if (rep) memset(rep, 0, sizeof *rep);
    if (!r || (r->recover <= 0 && r->bn <= 0)) return 0;
    if (!r->images || r->images->n_images == 0)
        return legr_fail(err, errlen, "recovery needs images (-images LIST or a train= list)");
    if (r->recover > 0) {
        legr_recover_opts o = { r->images, r->recover, r->positions, r->ridge };
        int nl = legr_recover_layers(m->net, &m->graph, mask, NULL, 0), nr = 0;
        legr_recover_layer *layers = legr_calloc(nl ? nl : 1, sizeof *layers);
        if (!layers) return legr_fail(err, errlen, "out of memory");
        int rc = legr_reconstruct(m->net, pruned, &m->graph, mask, &o, layers, &nr, err, errlen);
        if (rc != 0 || !rep) {
            free(layers);
            if (rc != 0) return -1;
        } else {
            rep->n_images = r->recover < r->images->n_images ? r->recover : r->images->n_images;
            rep->n_layers = nr;
            rep->layers = layers;
        }
    }
    if (r->bn > 0 && legr_bn_reestimate(pruned, r->images, r->bn, err, errlen) != 0) {
        if (rep) legr_recovery_report_free(rep);
        return -1;
    }
    return 0;
}

/* Messages from the writers name the temporary file: name the output. */
static int name_output(char *err, size_t errlen, const char *tmp, const char *out)
{
    size_t n = strlen(tmp);
    if (!err || strncmp(err, tmp, n) != 0) return -1;
    char *colon = strchr(err + n, ':');
    char rest[512];
    snprintf(rest, sizeof rest, "%s", colon ? colon : "");
    snprintf(err, errlen, "%s%s", out, rest);
    return -1;
}

int legr_prune_stage(legr_model *m, const legr_mask *mask, const legr_recovery *r,
                     const char *out_cfg, const char *out_weights, legr_staged *st,
                     legr_recovery_report *rep, char *err, size_t errlen)
{
    if (rep) memset(rep, 0, sizeof *rep);
    if (legr_same_file(out_cfg, m->cfg.path) || legr_same_file(out_weights, m->cfg.path))
        return legr_fail(err, errlen, "%s: refusing to overwrite the input cfg", out_cfg);
    const char *tc = legr_stage(st, out_cfg), *tw = legr_stage(st, out_weights);
    if (!tc || !tw) return legr_fail(err, errlen, "out of memory");
    int rc = legr_write_pruned(&m->cfg, m->net, &m->graph, &m->w, mask, tc, tw, err, errlen);
    if (rc != 0) return name_output(err, errlen, tc, out_cfg) | name_output(err, errlen, tw, out_weights);
    if (r && (r->recover > 0 || r->bn > 0)) {
        network *pn = legr_load_written_pair(tc, tw);
        if (!pn) rc = legr_fail(err, errlen, "%s: Darknet could not load the pruned pair", out_cfg);
        if (rc == 0) rc = legr_recover_network(m, pn, mask, r, rep, err, errlen);
        if (rc == 0 && legr_weights_save_network(pn, tw, err, errlen) != 0)
            rc = name_output(err, errlen, tw, out_weights);
        legr_free_network(pn);
    }
    if (rc != 0 && rep) legr_recovery_report_free(rep);
    return rc;
}

int legr_prune_write(legr_model *m, const legr_mask *mask, const legr_recovery *r,
                     const char *out_cfg, const char *out_weights, legr_recovery_report *rep,
                     char *err, size_t errlen)
{
    /* both files under temporary names, renamed together at the end (or
     * removed): never one without the other */
    legr_staged st = {0};
    int rc = legr_prune_stage(m, mask, r, out_cfg, out_weights, &st, rep, err, errlen);
    if (rc == 0) rc = legr_staged_commit(&st, err, errlen);
    else legr_staged_abort(&st);
    if (rc != 0 && rep) legr_recovery_report_free(rep);
    return rc;
}
