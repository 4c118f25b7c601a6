/* prune.c: writes one budget's pair and recovers it (see prune.h). */
#include "prune.h"
#include "surgery.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    if (r->bn > 0) legr_bn_reestimate(pruned, r->images, r->bn);
    return 0;
}

/* "<path>.<what>.<pid>": a temporary name beside path. */
static char *temp_name(const char *path, const char *what)
{
    size_t n = strlen(path) + strlen(what) + 32;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s.%s.%ld", path, what, (long)getpid());
    return s;
}

int legr_prune_write(legr_model *m, const legr_mask *mask, const legr_recovery *r,
                     const char *out_cfg, const char *out_weights, legr_recovery_report *rep,
                     char *err, size_t errlen)
{
    if (rep) memset(rep, 0, sizeof *rep);
    if (!r || (r->recover <= 0 && r->bn <= 0))
        return legr_write_pruned(&m->cfg, m->net, &m->graph, &m->w, mask, out_cfg, out_weights,
                                 err, errlen);
    char *tc = temp_name(out_cfg, "prune"), *tw = temp_name(out_weights, "prune");
    int rc = tc && tw ? 0 : legr_fail(err, errlen, "out of memory");
    if (rc == 0)
        rc = legr_write_pruned(&m->cfg, m->net, &m->graph, &m->w, mask, tc, tw, err, errlen);
    network *pn = NULL;
    if (rc == 0 && !(pn = legr_load_written_pair(tc, tw)))
        rc = legr_fail(err, errlen, "%s: Darknet could not load the pruned pair", tc);
    if (rc == 0) rc = legr_recover_network(m, pn, mask, r, rep, err, errlen);
    if (rc == 0) rc = legr_weights_save_network(pn, tw, err, errlen);
    if (rc == 0 && (rename(tw, out_weights) != 0 || rename(tc, out_cfg) != 0))
        rc = legr_fail(err, errlen, "%s: cannot rename into place", out_cfg);
    legr_free_network(pn);
    if (rc != 0 && rep) legr_recovery_report_free(rep);
    if (tc) remove(tc);     /* no-ops after the renames */
    if (tw) remove(tw);
    free(tc);
    free(tw);
    return rc;
}
