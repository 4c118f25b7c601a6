/* eval.c: validation through Darknet's prediction path (see eval.h):
 * image preparation as `detector valid` (letterbox) and `classifier valid`
 * (center crop) do it, kept in memory up to a budget and redone on use
 * beyond it, get_network_boxes + do_nms_sort for detections, AP from ap.c,
 * image decoding that refuses a file Darknet would replace by a blank
 * image.  (The loss and BN re-estimation are in trainstats.c.) */
#include "eval.h"
#include "datafile.h"
#include "labelpath.h"
#include "util.h"
#include "compat.h"
#ifdef GPU
#include "blas.h"
#endif

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* 1 when a label coordinate is a finite number in [0, 1] (by the bits:
 * -Ofast compiles isfinite and NaN comparisons away). */
static int label_coord_ok(float v)
{
    return legr_finite(v) && v >= 0 && v <= 1;
}

int legr_read_labels(const char *path, int classes, legr_box **boxes, char *err, size_t errlen)
{
    *boxes = NULL;
    struct stat st;
    if (stat(path, &st) != 0) return 0;     /* no label file: no objects */
    FILE *fp = legr_fopen_regular(path, "r", err, errlen);
    if (!fp) return -1;
    char line[1024];
    int n = 0, nline = 0, rc = 0;
    while (fgets(line, sizeof line, fp)) {
        ++nline;
        char *s = line;
        while (*s == ' ' || *s == '\t') ++s;
        if (*s == '\n' || *s == '\r' || *s == 0) continue;
        int id;
        float x, y, w, h;
        char extra;
        if (sscanf(s, "%d %f %f %f %f %c", &id, &x, &y, &w, &h, &extra) != 5) {
            rc = legr_fail(err, errlen, "%s:%d: expected '<class 0..%d> x y w h'", path, nline, classes - 1);
            break;
        }
        if (id < 0 || id >= classes) {
            rc = legr_fail(err, errlen, "%s:%d: class %d out of range 0..%d", path, nline, id, classes - 1);
            break;
        }
        if (!label_coord_ok(x) || !label_coord_ok(y) || !label_coord_ok(w) || !label_coord_ok(h)) {
            rc = legr_fail(err, errlen, "%s:%d: x y w h must be numbers between 0 and 1 (relative to the image)",
                           path, nline);
            break;
        }
        legr_box *nb = realloc(*boxes, (n + 1) * sizeof(legr_box));
        if (!nb) { rc = legr_fail(err, errlen, "out of memory"); break; }
        *boxes = nb;
        nb[n++] = (legr_box){ x, y, w, h, id };
    }
    fclose(fp);
    if (rc != 0) {
        free(*boxes);
        *boxes = NULL;
        return -1;
    }
    return n;
}

/* The class count the network's head expects: the classes of its
 * [yolo]/[region]/[detection] layers (all equal), or its output size for
 * classifiers.  -1 when the heads disagree. */
int legr_network_classes(const network *net)
{
    int classes = 0;
    for (int i = 0; i < net->n; ++i) {
        const layer *l = &net->layers[i];
        if (l->type != YOLO && l->type != REGION && l->type != DETECTION) continue;
        if (classes && l->classes != classes) return -1;
        classes = l->classes;
    }
    return classes ? classes : net->outputs;
}

int legr_network_is_detector(const network *net)
{
    for (int i = 0; i < net->n; ++i)
        if (net->layers[i].type == YOLO || net->layers[i].type == REGION ||
            net->layers[i].type == DETECTION) return 1;
    return 0;
}

static int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* " (listed in F)" when listfile is given, else "". */
static const char *listed_in(const char *listfile, char *buf, size_t len)
{
    if (!listfile) return "";
    snprintf(buf, len, " (listed in %s)", listfile);
    return buf;
}

int legr_image_decode(const char *path, const char *listfile, image *im, char *err, size_t errlen)
{
    char where[1024];
    memset(im, 0, sizeof *im);
    FILE *fp = fopen(path, "rb");
    struct stat st;
    if (!fp || fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        const char *why = !fp ? strerror(errno) : "not a regular file";
        if (fp) fclose(fp);
        return legr_fail(err, errlen, "%s: cannot read image: %s%s", path, why,
                         listed_in(listfile, where, sizeof where));
    }
    fclose(fp);
    /* OpenCV's and libjpeg's own warnings would be more stderr lines; a
     * failure is reported here, once */
    int muted = legr_mute_fd(2);
    *im = try_load_image((char *)path, 0, 0, 3);
    legr_unmute_fd(2, muted);
    if (!im->data || im->w <= 0 || im->h <= 0) {
        free_image(*im);
        memset(im, 0, sizeof *im);
        return legr_fail(err, errlen, "%s: cannot decode image%s", path,
                         listed_in(listfile, where, sizeof where));
    }
    return 0;
}

/* Image im prepared for a w x h input, as the set's images are. */
static image prepare(const legr_valset *vs, image im)
{
    return vs->is_detector ? letterbox_image(im, vs->w, vs->h) : center_crop_image(im, vs->w, vs->h);
}

const float *legr_valset_image(const legr_valset *vs, int i, float *buf, char *err, size_t errlen)
{
    if (i < vs->n_cached) return vs->pixels[i];
    image im;
    if (legr_image_decode(vs->paths[i], NULL, &im, err, errlen) != 0) return NULL;
    if (im.w != vs->orig_w[i] || im.h != vs->orig_h[i]) {
        legr_fail(err, errlen, "%s: changed since it was read (%dx%d, was %dx%d)", vs->paths[i],
                  im.w, im.h, vs->orig_w[i], vs->orig_h[i]);
        free_image(im);
        return NULL;
    }
    image prep = prepare(vs, im);
    memcpy(buf, prep.data, (size_t)vs->w * vs->h * vs->c * sizeof(float));
    free_image(prep);
    free_image(im);
    return buf;
}

/* Decodes the images of listfile (first max_images when > 0) prepared for
 * net, with their ground truth when with_truth (boxes from label files for
 * detectors, the class name in the path for classifiers); keeps the pixels
 * of the first cache_bytes worth. */
static int load_list(const char *listfile, int classes, char **names, int with_truth,
                     const network *net, int max_images, size_t cache_bytes, legr_valset *vs,
                     char *err, size_t errlen)
{
    int rc = 0;
    vs->is_detector = legr_network_is_detector(net);
    list *plist = get_paths((char *)listfile);
    int n = plist->size;
    if (max_images > 0 && max_images < n) n = max_images;
    char **paths = (char **)list_to_array(plist);
    vs->n_images = n;
    vs->classes = classes;
    vs->w = net->w; vs->h = net->h; vs->c = net->c;
    vs->paths = legr_calloc(n, sizeof(char *));
    vs->pixels = legr_calloc(n, sizeof(float *));
    vs->orig_w = legr_calloc(n, sizeof(int));
    vs->orig_h = legr_calloc(n, sizeof(int));
    vs->truth = legr_calloc(n, sizeof(legr_box *));
    vs->n_truth = legr_calloc(n, sizeof(int));
    vs->label = legr_calloc(n, sizeof(int));
    size_t per = (size_t)vs->w * vs->h * vs->c * sizeof(float), kept = 0;
    double t0 = what_time_is_it_now();
    for (int i = 0; i < n && rc == 0; ++i) {
        vs->paths[i] = legr_strdup(paths[i]);
        vs->label[i] = -1;
        struct stat st;
        if (stat(paths[i], &st) != 0) { rc = legr_fail(err, errlen, "%s: image listed in %s does not exist", paths[i], listfile); break; }
        image im;
        if (legr_image_decode(paths[i], listfile, &im, err, errlen) != 0) { rc = -1; break; }
        vs->orig_w[i] = im.w;
        vs->orig_h[i] = im.h;
        image prep = prepare(vs, im);
        free_image(im);
        if (vs->n_cached == i && kept + per <= cache_bytes) {
            vs->pixels[i] = prep.data;
            vs->n_cached++;
            kept += per;
        } else {
            free_image(prep);
        }
        if (!with_truth) continue;
        if (vs->is_detector) {
            char lp[4096];
            legr_label_path(paths[i], lp, sizeof lp);
            int nb = legr_read_labels(lp, classes, &vs->truth[i], err, errlen);
            if (nb < 0) { rc = -1; break; }
            vs->n_truth[i] = nb;
        } else {
            for (int j = 0; j < classes; ++j)
                if (strstr(paths[i], names[j])) { vs->label[i] = j; break; }
        }
    }
    vs->decode_s = what_time_is_it_now() - t0;
    for (int i = 0; i < plist->size; ++i) free(paths[i]);
    free(paths);
    free_list(plist);
    if (rc != 0) legr_valset_free(vs);
    return rc;
}

int legr_image_cache_bytes(size_t *bytes, char *err, size_t errlen)
{
    const char *s = getenv("LEGR_IMAGE_CACHE_MB");
    *bytes = LEGR_VALSET_CACHE_BYTES;
    if (!s || !*s) return 0;
    char *end;
    errno = 0;
    unsigned long long mb = strtoull(s, &end, 10);
    if (*end || errno || *s == '-')
        return legr_fail(err, errlen, "LEGR_IMAGE_CACHE_MB='%s': expected a number of megabytes", s);
    *bytes = mb >= (SIZE_MAX >> 20) ? SIZE_MAX : (size_t)mb << 20;
    return 0;
}

int legr_valset_load(const char *datacfg, const char *list_key, const network *net,
                     int max_images, legr_valset *vs, char *err, size_t errlen)
{
    size_t bytes;
    memset(vs, 0, sizeof(*vs));
    if (legr_image_cache_bytes(&bytes, err, errlen) != 0) return -1;
    return legr_valset_load_cached(datacfg, list_key, net, max_images, bytes, vs, err, errlen);
}

int legr_valset_load_cached(const char *datacfg, const char *list_key, const network *net,
                            int max_images, size_t cache_bytes, legr_valset *vs,
                            char *err, size_t errlen)
{
    memset(vs, 0, sizeof(*vs));
    legr_datafile d;
    if (legr_datafile_read(datacfg, &d, err, errlen) != 0) return -1;
    const char *listfile = legr_datafile_list(&d, list_key);
    int classes = d.classes;
    int rc = 0;
    if (!listfile) rc = legr_fail(err, errlen, "%s: no %s= list", datacfg, list_key);
    else if (!file_exists((char *)listfile)) rc = legr_fail(err, errlen, "%s: %s= list %s does not exist", datacfg, list_key, listfile);
    else if (classes <= 0) rc = legr_fail(err, errlen, "%s: classes= missing or not positive", datacfg);
    else if (legr_network_is_detector(net) ? classes != legr_network_classes(net) : classes > net->outputs)
        rc = legr_fail(err, errlen, "%s: classes=%d, but the network has %d", datacfg, classes,
                       legr_network_classes(net));
    char **names = NULL;
    int n_names = 0;
    if (rc == 0 && !legr_network_is_detector(net)) {
        if (!d.labels || !(names = legr_read_lines(d.labels, &n_names)) || n_names < classes)
            rc = legr_fail(err, errlen, "%s: labels= list %s missing or shorter than classes=%d",
                           datacfg, d.labels ? d.labels : "(none)", classes);
    }
    if (rc == 0) rc = load_list(listfile, classes, names, 1, net, max_images, cache_bytes, vs, err, errlen);
    legr_datafile_free(&d);
    legr_free_strings(names, n_names);
    return rc;
}

int legr_imageset_load(const char *listfile, const network *net, int max_images,
                       legr_valset *vs, char *err, size_t errlen)
{
    size_t bytes;
    memset(vs, 0, sizeof(*vs));
    if (legr_image_cache_bytes(&bytes, err, errlen) != 0) return -1;
    return legr_imageset_load_cached(listfile, net, max_images, bytes, vs, err, errlen);
}

int legr_imageset_load_cached(const char *listfile, const network *net, int max_images,
                              size_t cache_bytes, legr_valset *vs, char *err, size_t errlen)
{
    memset(vs, 0, sizeof(*vs));
    if (!file_exists(listfile)) return legr_fail(err, errlen, "%s: image list does not exist", listfile);
    return load_list(listfile, legr_network_classes(net), NULL, 0, net, max_images, cache_bytes,
                     vs, err, errlen);
}

void legr_valset_free(legr_valset *vs)
{
    for (int i = 0; i < vs->n_images; ++i) {
        if (vs->paths) free(vs->paths[i]);
        if (vs->pixels) free(vs->pixels[i]);
        if (vs->truth) free(vs->truth[i]);
    }
    free(vs->paths); free(vs->pixels); free(vs->orig_w); free(vs->orig_h);
    free(vs->truth); free(vs->n_truth); free(vs->label);
    memset(vs, 0, sizeof(*vs));
}

void legr_metrics_free(legr_metrics *m)
{
    free(m->ap50);
    free(m->gt_per_class);
    memset(m, 0, sizeof(*m));
}

/* A relative box cut to the image, as `detector valid` cuts what it writes. */
static legr_box clip_box(box b, int cls)
{
    float l = b.x - b.w / 2, r = b.x + b.w / 2, t = b.y - b.h / 2, d = b.y + b.h / 2;
    if (l < 0) l = 0;
    if (t < 0) t = 0;
    if (r > 1) r = 1;
    if (d > 1) d = 1;
    if (r < l) r = l;
    if (d < t) d = t;
    return (legr_box){ (l + r) / 2, (t + d) / 2, r - l, d - t, cls };
}

/* Appends the detections of image i (after NMS) to *dets. */
static int collect_dets(network *net, const legr_valset *vs, int i, float thresh,
                        legr_det **dets, int *n, int *cap)
{
    int nboxes = 0;
    detection *d = get_network_boxes(net, vs->orig_w[i], vs->orig_h[i], thresh, .5, 0, 1, &nboxes);
    do_nms_sort(d, nboxes, vs->classes, .45);
    for (int b = 0; b < nboxes; ++b) {
        for (int k = 0; k < vs->classes; ++k) {
            if (d[b].prob[k] <= thresh) continue;
            if (*n == *cap) {
                int nc = *cap ? 2 * *cap : 1024;
                legr_det *nd = realloc(*dets, nc * sizeof(legr_det));
                if (!nd) { free_detections(d, nboxes); return -1; }
                *dets = nd;
                *cap = nc;
            }
            legr_box bx = clip_box(d[b].bbox, k);
            (*dets)[(*n)++] = (legr_det){ i, k, d[b].prob[k], bx };
        }
    }
    free_detections(d, nboxes);
    return 0;
}

static int score_detector(network *net, const legr_valset *vs, float *buf, float thresh, float iou,
                          legr_metrics *m, char *err, size_t errlen)
{
    legr_det *dets = NULL;
    int n = 0, cap = 0;
    for (int i = 0; i < vs->n_images; ++i) {
        const float *px = legr_valset_image(vs, i, buf, err, errlen);
        if (!px) { free(dets); return -1; }
        double t = what_time_is_it_now();
        network_predict(net, (float *)px);
        double t2 = what_time_is_it_now();
        m->forward_s += t2 - t;
        if (collect_dets(net, vs, i, thresh, &dets, &n, &cap) != 0) {
            free(dets);
            return legr_fail(err, errlen, "out of memory");
        }
        m->score_s += what_time_is_it_now() - t2;
        m->n_truth += vs->n_truth[i];
    }
    double t = what_time_is_it_now();
    m->n_dets = n;
    m->ap50 = legr_calloc(vs->classes, sizeof(double));
    m->gt_per_class = legr_calloc(vs->classes, sizeof(int));
    double sum50 = 0, sum_coco = 0;
    const legr_box *const *truth = (const legr_box *const *)vs->truth;
    for (int k = 0; k < vs->classes; ++k) {
        int ngt;
        m->ap50[k] = legr_ap_voc(dets, n, truth, vs->n_truth, vs->n_images, k, iou, &ngt);
        m->gt_per_class[k] = ngt;
        if (!ngt) continue;
        m->classes_with_gt++;
        sum50 += m->ap50[k];
        double c = 0;
        for (int s = 0; s < 10; ++s)
            c += legr_ap_coco(dets, n, truth, vs->n_truth, vs->n_images, k, .5f + .05f * s, &ngt);
        sum_coco += c / 10;
    }
    if (m->classes_with_gt) {
        m->map50 = sum50 / m->classes_with_gt;
        m->map5095 = sum_coco / m->classes_with_gt;
    }
    m->score_s += what_time_is_it_now() - t;
    free(dets);
    return 0;
}

static int score_classifier(network *net, const legr_valset *vs, float *buf, legr_metrics *m,
                            char *err, size_t errlen)
{
    int hit1 = 0, hit5 = 0, idx[5];
    int k = vs->classes < 5 ? vs->classes : 5;
    for (int i = 0; i < vs->n_images; ++i) {
        const float *px = legr_valset_image(vs, i, buf, err, errlen);
        if (!px) return -1;
        double t = what_time_is_it_now();
        float *pred = network_predict(net, (float *)px);
        if (net->hierarchy) hierarchy_predictions(pred, net->outputs, net->hierarchy, 1, 1);
        double t2 = what_time_is_it_now();
        m->forward_s += t2 - t;
        top_k(pred, vs->classes, k, idx);
        hit1 += idx[0] == vs->label[i];
        for (int j = 0; j < k; ++j) hit5 += idx[j] == vs->label[i];
        m->score_s += what_time_is_it_now() - t2;
    }
    m->top1 = vs->n_images ? (double)hit1 / vs->n_images : 0;
    m->top5 = vs->n_images ? (double)hit5 / vs->n_images : 0;
    return 0;
}

int legr_evaluate(network *net, const legr_valset *vs, float thresh, float iou,
                  legr_metrics *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof(*m));
    if (net->w != vs->w || net->h != vs->h || net->c != vs->c)
        return legr_fail(err, errlen, "validation images were prepared for %dx%dx%d, network is %dx%dx%d",
                         vs->w, vs->h, vs->c, net->w, net->h, net->c);
    float *buf = legr_calloc((size_t)vs->w * vs->h * vs->c, sizeof(float));
    if (!buf) return legr_fail(err, errlen, "out of memory");
    int batch = net->batch;
    set_batch_network(net, 1);
    m->n_images = vs->n_images;
    int rc = vs->is_detector ? score_detector(net, vs, buf, thresh, iou, m, err, errlen)
                             : score_classifier(net, vs, buf, m, err, errlen);
    set_batch_network(net, batch);
    free(buf);
    if (rc != 0) legr_metrics_free(m);
    return rc;
}

void legr_valset_truth(const legr_valset *vs, int i, float *t, int truths)
{
    memset(t, 0, (size_t)truths * sizeof(float));
    if (!vs->is_detector) {
        if (vs->label[i] >= 0 && vs->label[i] < truths) t[vs->label[i]] = 1;
        return;
    }
    /* boxes into letterboxed coordinates, as training sees them */
    float sw = vs->w / (float)vs->orig_w[i], sh = vs->h / (float)vs->orig_h[i];
    float s = sw < sh ? sw : sh;
    float nw = vs->orig_w[i] * s, nh = vs->orig_h[i] * s;
    int dx = (vs->w - (int)nw) / 2, dy = (vs->h - (int)nh) / 2;
    for (int j = 0; j < vs->n_truth[i] && j < truths / 5; ++j) {
        const legr_box *bx = &vs->truth[i][j];
        t[5 * j + 0] = (bx->x * nw + dx) / vs->w;
        t[5 * j + 1] = (bx->y * nh + dy) / vs->h;
        t[5 * j + 2] = bx->w * nw / vs->w;
        t[5 * j + 3] = bx->h * nh / vs->h;
        t[5 * j + 4] = bx->cls;
    }
}

int legr_valset_fill(network *net, const legr_valset *vs, int first, int truth,
                     char *err, size_t errlen)
{
    int per = vs->w * vs->h * vs->c;
    for (int k = 0; k < net->batch; ++k) {
        int i = (first + k) % vs->n_images;
        float *dst = net->input + (size_t)k * per;
        const float *px = legr_valset_image(vs, i, dst, err, errlen);
        if (!px) return -1;
        if (px != dst) memcpy(dst, px, per * sizeof(float));
        if (truth) legr_valset_truth(vs, i, net->truth + (size_t)k * net->truths, net->truths);
    }
    return 0;
}

int legr_forward_batch(const network *net)
{
#ifdef GPU
    if (net->gpu_index >= 0) return net->batch;
#endif
    return net->batch < LEGR_FORWARD_BATCH ? net->batch : LEGR_FORWARD_BATCH;
}
