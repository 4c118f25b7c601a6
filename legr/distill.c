/* distill.c: head-input distillation (see distill.h). */
#include "distill.h"
#include "util.h"

#include <math.h>
#include <string.h>

int legr_heads_find(const network *net, legr_heads *h, char *err, size_t errlen)
{
    h->n = 0;
    for (int i = 1; i < net->n; ++i) {
        LAYER_TYPE t = net->layers[i].type;
        if (t == REGION || t == DETECTION)
            return legr_fail(err, errlen, "layer %d: distillation handles [yolo] and [softmax] heads, not [%s]",
                             i, t == REGION ? "region" : "detection");
        if (t != YOLO && t != SOFTMAX) continue;
        if (h->n == LEGR_MAX_HEADS) return legr_fail(err, errlen, "more than %d heads", LEGR_MAX_HEADS);
        h->layer[h->n++] = i;
    }
    if (h->n == 0) return legr_fail(err, errlen, "no [yolo] or [softmax] head to distil on");
    return 0;
}

int legr_heads_match(const network *student, const legr_heads *hs, const network *teacher,
                     const legr_heads *ht, char *err, size_t errlen)
{
    if (hs->n != ht->n)
        return legr_fail(err, errlen, "the teacher has %d heads, the student %d", ht->n, hs->n);
    for (int k = 0; k < hs->n; ++k) {
        const layer *a = &student->layers[hs->layer[k]], *b = &teacher->layers[ht->layer[k]];
        if (a->type != b->type || a->inputs != b->inputs || a->n != b->n || a->classes != b->classes ||
            a->w != b->w || a->h != b->h)
            return legr_fail(err, errlen, "head %d (layer %d): the teacher's input is %d values, the student's %d "
                             "(a teacher must have the student's heads)", k + 1, hs->layer[k], b->inputs, a->inputs);
    }
    if (teacher->batch < student->batch)
        return legr_fail(err, errlen, "the teacher's batch (%d) is smaller than the student's (%d)",
                         teacher->batch, student->batch);
    if (teacher->w != student->w || teacher->h != student->h || teacher->c != student->c)
        return legr_fail(err, errlen, "the teacher's input is %dx%dx%d, the student's %dx%dx%d",
                         teacher->w, teacher->h, teacher->c, student->w, student->h, student->c);
    return 0;
}

static float sigmoid(float x) { return 1.f / (1.f + expf(-x)); }

/* Binary cross-entropy of probability p against target q, minus q's own
 * entropy (zero when p == q). */
static double bce(double p, double q)
{
    const double e = 1e-7;
    p = p < e ? e : p > 1 - e ? 1 - e : p;
    double qc = q < e ? e : q > 1 - e ? 1 - e : q;
    return -(q * log(p / qc) + (1 - q) * log((1 - p) / (1 - qc)));
}

static double distill_yolo(const layer *l, const float *s, const float *t, float *delta, float w)
{
    int hw = l->w * l->h, per = 4 + 1 + l->classes;
    double loss = 0;
    for (int b = 0; b < l->batch; ++b)
        for (int n = 0; n < l->n; ++n)
            for (int loc = 0; loc < hw; ++loc) {
                size_t base = (size_t)b * l->outputs + (size_t)n * hw * per + loc;
                float to = sigmoid(t[base + 4 * hw]), so = sigmoid(s[base + 4 * hw]);
                delta[base + 4 * hw] += w * (to - so);
                loss += bce(so, to);
                for (int k = 0; k < per; ++k) {
                    if (k == 4) continue;
                    size_t i = base + (size_t)k * hw;
                    if (k == 2 || k == 3) {
                        float d = t[i] - s[i];
                        delta[i] += w * to * d;
                        loss += to * 0.5 * d * d;
                    } else {
                        float tp = sigmoid(t[i]), sp = sigmoid(s[i]);
                        delta[i] += w * to * (tp - sp);
                        loss += to * bce(sp, tp);
                    }
                }
            }
    return loss;
}

static void softmax_double(const float *x, int n, double *p)
{
    double m = x[0], sum = 0;
    for (int i = 1; i < n; ++i) if (x[i] > m) m = x[i];
    for (int i = 0; i < n; ++i) sum += p[i] = exp(x[i] - m);
    for (int i = 0; i < n; ++i) p[i] /= sum;
}

static double distill_softmax(const layer *l, const float *s, const float *t, float *delta, float w)
{
    int groups = l->groups > 0 ? l->groups : 1, n = l->inputs / groups;
    double loss = 0, ps[4096], pt[4096];
    if (n > 4096) return 0;
    for (int b = 0; b < l->batch; ++b)
        for (int g = 0; g < groups; ++g) {
            size_t off = (size_t)b * l->inputs + (size_t)g * n;
            softmax_double(s + off, n, ps);
            softmax_double(t + off, n, pt);
            for (int i = 0; i < n; ++i) {
                delta[off + i] += w * (pt[i] - ps[i]);
                if (pt[i] > 1e-12) loss += pt[i] * log(pt[i] / (ps[i] > 1e-12 ? ps[i] : 1e-12));
            }
        }
    return loss;
}

double legr_distill(network *student, const legr_heads *hs, const network *teacher,
                    const legr_heads *ht, float w, int replace)
{
    double loss = 0;
    for (int k = 0; k < hs->n; ++k) {
        layer *l = &student->layers[hs->layer[k]];
        const float *s = student->layers[hs->layer[k] - 1].output;
        const float *t = teacher->layers[ht->layer[k] - 1].output;
        if (replace) memset(l->delta, 0, (size_t)l->inputs * l->batch * sizeof(float));
        loss += l->type == YOLO ? distill_yolo(l, s, t, l->delta, w) : distill_softmax(l, s, t, l->delta, w);
    }
    return loss;
}
