/* finetune.c: short in-memory fine-tuning with Darknet's trainer (see
 * finetune.h). */
#include "finetune.h"
#include "util.h"
#include "eval.h"
#include "imagecheck.h"
#include "datafile.h"
#include "labels.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

int legr_trainset_load(const char *datacfg, const network *net, legr_trainset *ts,
                       char *err, size_t errlen)
{
    memset(ts, 0, sizeof(*ts));
    legr_datafile d;
    if (legr_datafile_read(datacfg, &d, err, errlen) != 0) return -1;
    const char *train = d.train, *labels = d.labels;
    ts->classes = d.classes;
    int rc = 0;
    ts->is_detector = legr_network_is_detector(net);
    if (!train || !(ts->paths = legr_read_lines(train, &ts->n_paths)) || ts->n_paths == 0)
        rc = legr_fail(err, errlen, "%s: train= list %s missing or empty", datacfg, train ? train : "(none)");
    else if (ts->classes <= 0)
        rc = legr_fail(err, errlen, "%s: classes= missing", datacfg);
    else if (ts->is_detector ? ts->classes != legr_network_classes(net) : ts->classes > net->outputs)
        rc = legr_fail(err, errlen, "%s: classes=%d, but the network has %d", datacfg, ts->classes,
                       legr_network_classes(net));
    else if (ts->is_detector) {
        /* Darknet's trainer trusts every image and label file (a missing
         * label file ends it with status 0): all are checked first */
        rc = legr_trainlist_check(train, ts->paths, ts->n_paths, ts->classes, 1, err, errlen);
    }
    else if (!ts->is_detector) {
        if (!labels || !(ts->labels = legr_read_lines(labels, &ts->n_labels)) || ts->n_labels < ts->classes)
            rc = legr_fail(err, errlen, "%s: labels= list missing or shorter than classes=", datacfg);
    }
    /* Darknet's loader trains on a blank image in place of one it cannot
     * decode, without telling: every image is decoded here first (once per
     * unchanged list: imagecheck.c remembers it) */
    if (rc == 0) rc = legr_images_check(ts->paths, ts->n_paths, train, err, errlen);
    legr_datafile_free(&d);
    if (rc != 0) legr_trainset_free(ts);
    return rc;
}

void legr_trainset_free(legr_trainset *ts)
{
    legr_free_strings(ts->paths, ts->n_paths);
    legr_free_strings(ts->labels, ts->n_labels);
    memset(ts, 0, sizeof(*ts));
}

static load_args make_args(network *net, const legr_trainset *ts, data *buffer)
{
    load_args a = get_base_args(net);
    a.paths = ts->paths;
    a.m = ts->n_paths;
    a.n = net->batch * net->subdivisions;
    a.classes = ts->classes;
    a.threads = 1;
    a.d = buffer;
    if (ts->is_detector) {
        layer l = net->layers[net->n - 1];
        for (int i = 0; i < net->n; ++i)
            if (net->layers[i].type == YOLO || net->layers[i].type == REGION) l = net->layers[i];
        a.coords = l.coords;
        a.jitter = l.jitter;
        a.num_boxes = l.max_boxes;
        a.type = DETECTION_DATA;
    } else {
        a.labels = ts->labels;
        a.hierarchy = net->hierarchy;
        a.min = net->min_ratio * net->w;
        a.max = net->max_ratio * net->w;
        a.size = net->w;
        a.type = CLASSIFICATION_DATA;
    }
    return a;
}

void legr_trainset_next(network *net, const legr_trainset *ts, data *d)
{
    load_args a = make_args(net, ts, d);
    load_data_blocking(a);
}

float legr_train_iteration(network *net, data d, legr_train_hook hook, void *ctx)
{
    int n = d.X.rows / net->batch;
    double sum = 0;
    for (int i = 0; i < n; ++i) {
        get_next_batch(d, net->batch, i * net->batch, net->input, net->truth);
        *net->seen += net->batch;
        net->train = 1;
        forward_network(net);
        if (hook && hook(net, ctx) != 0) return -1;
        backward_network(net);
        sum += *net->cost;
        if (((*net->seen) / net->batch) % net->subdivisions == 0) update_network(net);
    }
    return n ? (float)(sum / (n * net->batch)) : 0;
}

/* The largest divisor of net->batch up to legr_forward_batch(net), or
 * net->batch when that is 1 (a prime batch above it: a batch of one image
 * would leave BN without a variance in 1x1 layers). */
static int split_batch(const network *net)
{
    int b = legr_forward_batch(net);
    while (b > 1 && net->batch % b) --b;
    return b > 1 ? b : net->batch;
}

float legr_finetune(network *net, const legr_trainset *ts, int iters, float lr, unsigned seed)
{
    if (iters <= 0) return 0;
    /* the same images per update in sub-batches of at most
     * legr_forward_batch (memory), as Darknet's subdivisions= does */
    int batch = net->batch, subdivisions = net->subdivisions, b = split_batch(net);
    set_batch_network(net, b);
    net->subdivisions = subdivisions * (batch / b);
    if (lr > 0) net->learning_rate = lr;
    net->policy = CONSTANT;
    net->burn_in = 0;
    srand(seed);        /* for Darknet: load_data's augmentation draws from rand() */
    data buffer;
    double sum = 0;
    int muted = legr_mute_stdout();
    for (int it = 0; it < iters; ++it) {
        legr_trainset_next(net, ts, &buffer);
        sum += legr_train_iteration(net, buffer, NULL, NULL);
        free_data(buffer);
    }
    legr_unmute_stdout(muted);
    set_batch_network(net, batch);
    net->subdivisions = subdivisions;
    return (float)(sum / iters);
}
