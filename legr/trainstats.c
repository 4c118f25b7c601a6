/* trainstats.c: validation loss and BN re-estimation (see trainstats.h). */
#include "trainstats.h"
#include "bigbatch.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#ifdef GPU
/* With a GPU the forwards run on the device: its BN statistics are the ones
 * in use (fine-tuning updated them there), and a training-mode forward moves
 * its rolling averages.  These copy them between host and device. */
static void pull_rolling(layer *l)
{
    cuda_pull_array(l->rolling_mean_gpu, l->rolling_mean, l->out_c);
    cuda_pull_array(l->rolling_variance_gpu, l->rolling_variance, l->out_c);
}

static void push_rolling(layer *l)
{
    cuda_push_array(l->rolling_mean_gpu, l->rolling_mean, l->out_c);
    cuda_push_array(l->rolling_variance_gpu, l->rolling_variance, l->out_c);
}
#endif

typedef struct { float *prob, *scale; float *mean, *var; } saved_state;

/* Disables dropout and saves BN rolling statistics before training-mode
 * forwards; restore_state puts everything back. */
static saved_state *save_state(network *net)
{
    saved_state *s = legr_calloc(net->n, sizeof(saved_state));
    for (int i = 0; s && i < net->n; ++i) {
        layer *l = &net->layers[i];
        if (l->type == DROPOUT) {
            s[i].prob = malloc(sizeof(float));
            s[i].scale = malloc(sizeof(float));
            *s[i].prob = l->probability;
            *s[i].scale = l->scale;
            l->probability = 0;
            l->scale = 1;
        }
        if (l->rolling_mean && l->mean) {     /* BN convs and [batchnorm] layers */
            int c = l->out_c;
#ifdef GPU
            if (net->gpu_index >= 0) pull_rolling(l);
#endif
            s[i].mean = malloc(c * sizeof(float));
            s[i].var = malloc(c * sizeof(float));
            memcpy(s[i].mean, l->rolling_mean, c * sizeof(float));
            memcpy(s[i].var, l->rolling_variance, c * sizeof(float));
        }
    }
    return s;
}

static void restore_state(network *net, saved_state *s, int restore_bn)
{
    for (int i = 0; s && i < net->n; ++i) {
        layer *l = &net->layers[i];
        if (s[i].prob) { l->probability = *s[i].prob; l->scale = *s[i].scale; }
        if (s[i].mean && restore_bn) {
            memcpy(l->rolling_mean, s[i].mean, l->out_c * sizeof(float));
            memcpy(l->rolling_variance, s[i].var, l->out_c * sizeof(float));
#ifdef GPU
            if (net->gpu_index >= 0) push_rolling(l);
#endif
        }
        free(s[i].prob); free(s[i].scale); free(s[i].mean); free(s[i].var);
    }
    free(s);
}

int legr_validation_loss(network *net, const legr_valset *vs, double *loss,
                         char *err, size_t errlen)
{
    *loss = 0;
    if (vs->n_images == 0) return legr_fail(err, errlen, "no images for the validation loss");
    legr_bigbatch_acc a;
    if (legr_bigbatch_acc_init(&a, net, err, errlen) != 0) return -1;
    if (a.n_cost == 0) {
        legr_bigbatch_acc_free(&a);
        return legr_fail(err, errlen, "the network has no layer with a cost");
    }
    saved_state *s = save_state(net);
    int rc = 0, fb = legr_forward_batch(net);
    for (int first = 0; first < vs->n_images && rc == 0; first += net->batch) {
        int nb = vs->n_images - first < net->batch ? vs->n_images - first : net->batch;
        rc = legr_bigbatch_forward(net, vs, first, nb, fb, 1, &a, err, errlen);
    }
    restore_state(net, s, 1);
    /* Darknet's cost of a forward: the mean over its cost layers */
    if (rc == 0) *loss = a.cost / a.n_cost / vs->n_images;
    legr_bigbatch_acc_free(&a);
    return rc;
}

int legr_bn_reestimate_at(network *net, const legr_valset *vs, int n_batches, int fwd_batch,
                          char *err, size_t errlen)
{
    if (vs->n_images == 0 || n_batches <= 0) return 0;
    legr_bigbatch_acc a;
    if (legr_bigbatch_acc_init(&a, net, err, errlen) != 0) return -1;
    saved_state *s = save_state(net);
    int rc = 0, fb = fwd_batch > 0 ? fwd_batch : legr_forward_batch(net);
    for (int b = 0; b < n_batches && rc == 0; ++b)
        rc = legr_bigbatch_forward(net, vs, b * net->batch, net->batch, fb, 0, &a, err, errlen);
    restore_state(net, s, 1);
    if (rc == 0) legr_bigbatch_apply_bn(&a, net);
    legr_bigbatch_acc_free(&a);
    return rc;
}

int legr_bn_reestimate(network *net, const legr_valset *vs, int n_batches, char *err, size_t errlen)
{
    return legr_bn_reestimate_at(net, vs, n_batches, 0, err, errlen);
}
