/* weights.c: reads Darknet .weights files, refusing any whose size is not
 * exactly what the cfg implies, and loads them into a parsed network.
 * Layout (parser.c): int32 major, minor, revision; seen (8 bytes when
 * major*10+minor >= 2, else 4); then per layer in cfg order: conv: biases[n],
 * if BN scales[n] rolling_mean[n] rolling_variance[n], weights[n*c/groups*k*k];
 * connected: biases[out], weights[out*in], if BN scales, mean, variance[out];
 * batchnorm: scales, mean, variance[c]. */
#include "weights.h"
#include "util.h"
#include "graph.h"
#ifdef GPU
#include "convolutional_layer.h"
#include "connected_layer.h"
#include "batchnorm_layer.h"
#endif

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

long legr_layer_weight_floats(const network *net, int i, char *err, size_t errlen)
{
    const layer *l = &net->layers[i];
    int has_weights = l->type == CONVOLUTIONAL || l->type == CONNECTED ||
                      l->type == BATCHNORM;
    if (l->type == DECONVOLUTIONAL || l->type == LOCAL || l->type == RNN ||
        l->type == GRU || l->type == LSTM || l->type == CRNN)
        return legr_fail(err, errlen, "layer %d [%s]: weights of this layer type are not supported",
                         i, legr_layer_name(l->type));
    if (!has_weights) return 0;
    if (l->dontload || l->dontsave || l->numload || l->dontloadscales || l->flipped)
        return legr_fail(err, errlen, "layer %d: dontload/dontsave/numload/dontloadscales/flipped are not supported",
                         i);
    long bn = l->batch_normalize ? 3 : 0;
    if (l->type == CONVOLUTIONAL)
        return (long)l->n * (1 + bn) + (long)l->n * (l->c / l->groups) * l->size * l->size;
    if (l->type == CONNECTED)
        return (long)l->outputs * (1 + bn) + (long)l->outputs * l->inputs;
    return 3l * l->c;   /* BATCHNORM */
}

long legr_network_weight_floats(const network *net, char *err, size_t errlen)
{
    long total = 0;
    for (int i = 0; i < net->n; ++i) {
        long n = legr_layer_weight_floats(net, i, err, errlen);
        if (n < 0) return -1;
        total += n;
    }
    return total;
}

void legr_weights_free(legr_weights *w)
{
    free(w->data);
    free(w->offset);
    memset(w, 0, sizeof(*w));
}

static int read_header(FILE *fp, const char *path, legr_weights *w, char *err, size_t errlen)
{
    int32_t v[3];
    if (fread(v, sizeof(int32_t), 3, fp) != 3)
        return legr_fail(err, errlen, "%s: too short for a Darknet weights header", path);
    w->major = v[0];
    w->minor = v[1];
    w->revision = v[2];
    /* Darknet's own test, in 64 bits: major * 10 + minor overflows an int
     * for a damaged header (found by make fuzz) */
    if ((int64_t)w->major * 10 + w->minor >= 2 && w->major < 1000 && w->minor < 1000) {
        uint64_t seen;
        if (fread(&seen, 8, 1, fp) != 1)
            return legr_fail(err, errlen, "%s: too short for a Darknet weights header", path);
        w->seen = seen;
        w->header_bytes = 20;
    } else {
        uint32_t seen;
        if (fread(&seen, 4, 1, fp) != 1)
            return legr_fail(err, errlen, "%s: too short for a Darknet weights header", path);
        w->seen = seen;
        w->header_bytes = 16;
    }
    if (w->major > 1000 || w->minor > 1000)
        return legr_fail(err, errlen, "%s: transposed (version %d.%d) weights are not supported",
                         path, w->major, w->minor);
    return 0;
}

#ifdef GPU
void legr_push_layer(const layer *l)
{
    if (gpu_index < 0) return;
    if (l->type == CONVOLUTIONAL) push_convolutional_layer(*l);
    if (l->type == CONNECTED) push_connected_layer(*l);
    if (l->type == BATCHNORM) push_batchnorm_layer(*l);
}
#endif

/* Copies the floats of layer i from w into the network's own buffers. */
static void apply_layer(layer *l, const float *src)
{
    size_t n;
    if (l->type == CONVOLUTIONAL || l->type == CONNECTED) {
        n = l->type == CONVOLUTIONAL ? (size_t)l->n : (size_t)l->outputs;
        memcpy(l->biases, src, n * sizeof(float));
        src += n;
        size_t nw = l->type == CONVOLUTIONAL ? (size_t)l->nweights : (size_t)l->outputs * l->inputs;
        if (l->type == CONVOLUTIONAL && l->batch_normalize) {
            memcpy(l->scales, src, n * sizeof(float));
            memcpy(l->rolling_mean, src + n, n * sizeof(float));
            memcpy(l->rolling_variance, src + 2 * n, n * sizeof(float));
            src += 3 * n;
        }
        memcpy(l->weights, src, nw * sizeof(float));
        src += nw;
        if (l->type == CONNECTED && l->batch_normalize) {
            memcpy(l->scales, src, n * sizeof(float));
            memcpy(l->rolling_mean, src + n, n * sizeof(float));
            memcpy(l->rolling_variance, src + 2 * n, n * sizeof(float));
        }
    } else if (l->type == BATCHNORM) {
        n = l->c;
        memcpy(l->scales, src, n * sizeof(float));
        memcpy(l->rolling_mean, src + n, n * sizeof(float));
        memcpy(l->rolling_variance, src + 2 * n, n * sizeof(float));
    }
}

int legr_weights_read(const char *path, const network *net, legr_weights *w,
                      char *err, size_t errlen)
{
    memset(w, 0, sizeof(*w));
    char why[256];
    long expect = legr_network_weight_floats(net, why, sizeof why);
    if (expect < 0) return legr_fail(err, errlen, "%s: %s", path, why);
    FILE *fp = legr_fopen_regular(path, "rb", err, errlen);
    if (!fp) return -1;
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(fp);
        return legr_fail(err, errlen, "%s: not a regular file", path);
    }
    if (read_header(fp, path, w, err, errlen) != 0) { fclose(fp); return -1; }
    long long want = (long long)w->header_bytes + 4ll * expect;
    if ((long long)st.st_size != want) {
        fclose(fp);
        return legr_fail(err, errlen,
                         "%s: %lld bytes, but its cfg implies %lld (%zu header + %ld floats): wrong weights for this cfg",
                         path, (long long)st.st_size, want, w->header_bytes, expect);
    }
    w->n_floats = expect;
    w->data = legr_calloc(expect, sizeof(float));
    w->offset = legr_calloc(net->n + 1, sizeof(size_t));
    if (!w->data || !w->offset) {
        fclose(fp);
        legr_weights_free(w);
        return legr_fail(err, errlen, "%s: out of memory", path);
    }
    if (fread(w->data, sizeof(float), expect, fp) != (size_t)expect) {
        fclose(fp);
        legr_weights_free(w);
        return legr_fail(err, errlen, "%s: read error", path);
    }
    fclose(fp);
    size_t off = 0;
    for (int i = 0; i < net->n; ++i) {
        w->offset[i] = off;
        apply_layer(&net->layers[i], w->data + off);
        off += legr_layer_weight_floats(net, i, NULL, 0);
#ifdef GPU
        legr_push_layer(&net->layers[i]);
#endif
    }
    w->offset[net->n] = off;
    return 0;
}

void legr_weights_apply(const legr_weights *w, network *net)
{
    for (int i = 0; i < net->n; ++i) {
        apply_layer(&net->layers[i], w->data + w->offset[i]);
#ifdef GPU
        legr_push_layer(&net->layers[i]);
#endif
    }
}

int legr_weights_save_network(network *net, const char *path, char *err, size_t errlen)
{
    long want = legr_network_weight_floats(net, err, errlen);
    if (want < 0) return -1;
    char *tmp;
    FILE *fp = legr_open_temp(path, &tmp, err, errlen);  /* checks the directory is writable */
    if (!fp) return -1;
    fclose(fp);
    size_t seen = *net->seen;
    *net->seen = 0;
    int muted = legr_mute_fd(2);
    save_weights(net, tmp);     /* Darknet's writer, header 0.2.0 */
    legr_unmute_fd(2, muted);
    *net->seen = seen;
    struct stat st;
    int rc = 0;
    if (stat(tmp, &st) != 0 || (size_t)st.st_size != 20 + 4 * (size_t)want)
        rc = legr_fail(err, errlen, "%s: write failed or wrong size (%lld bytes, the cfg implies %zu)",
                       path, stat(tmp, &st) == 0 ? (long long)st.st_size : -1LL, 20 + 4 * (size_t)want);
    else if (rename(tmp, path) != 0)
        rc = legr_fail(err, errlen, "%s: cannot rename into place", path);
    if (rc != 0) remove(tmp);
    free(tmp);
    return rc;
}

int legr_weights_write_header(FILE *fp)
{
    int32_t v[3] = { 0, 2, 0 };
    uint64_t seen = 0;
    if (fwrite(v, sizeof(int32_t), 3, fp) != 3) return -1;
    if (fwrite(&seen, 8, 1, fp) != 1) return -1;
    return 0;
}
