/* cfgcheck.c: the model boundary.  Decides whether a cfg that cfgfile.c has
 * read is one legr hands to Darknet's parser:
 *   - only the layer types legr handles (others refused by name);
 *   - every key read the way Darknet reads it: integers as atoi() would, and
 *     within an int; floats finite; lists well formed; names Darknet knows
 *     (activations, policies, cost types); files that exist;
 *   - keys whose meaning only AlexeyAB's Darknet knows refused by name, keys
 *     this Darknet ignores turned into warnings;
 *   - every layer's output shape computed as Darknet's constructors will, in
 *     64 bits, so that no constructor divides by zero, overflows an int,
 *     fails an assert or calls exit(), and no tensor exceeds the limits below.
 * Nothing here calls Darknet; model.c compares the shapes computed here with
 * those Darknet builds. */
#include "cfgcheck.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef enum {
    K_INT, K_FLOAT, K_INTS, K_FLOATS, K_ACTIVATION, K_POLICY, K_COST, K_FILE
} key_kind;

typedef struct { const char *key; key_kind kind; } key_def;

/* Keys every layer section reads (parse_network_cfg's loop). */
static const key_def layer_keys[] = {
    {"truth", K_INT}, {"onlyforward", K_INT}, {"stopbackward", K_INT},
    {"dontsave", K_INT}, {"dontload", K_INT}, {"numload", K_INT},
    {"dontloadscales", K_INT}, {"learning_rate", K_FLOAT}, {"smooth", K_FLOAT},
    {NULL, 0}
};

static const key_def net_keys[] = {
    {"batch", K_INT}, {"subdivisions", K_INT}, {"time_steps", K_INT},
    {"notruth", K_INT}, {"random", K_INT}, {"adam", K_INT}, {"height", K_INT},
    {"width", K_INT}, {"channels", K_INT}, {"inputs", K_INT},
    {"max_crop", K_INT}, {"min_crop", K_INT}, {"center", K_INT},
    {"burn_in", K_INT}, {"step", K_INT}, {"max_batches", K_INT},
    {"learning_rate", K_FLOAT}, {"momentum", K_FLOAT}, {"decay", K_FLOAT},
    {"B1", K_FLOAT}, {"B2", K_FLOAT}, {"eps", K_FLOAT}, {"max_ratio", K_FLOAT},
    {"min_ratio", K_FLOAT}, {"clip", K_FLOAT}, {"angle", K_FLOAT},
    {"aspect", K_FLOAT}, {"saturation", K_FLOAT}, {"exposure", K_FLOAT},
    {"hue", K_FLOAT}, {"power", K_FLOAT}, {"scale", K_FLOAT},
    {"gamma", K_FLOAT}, {"policy", K_POLICY}, {"steps", K_INTS},
    {"scales", K_FLOATS}, {NULL, 0}
};

static const key_def conv_keys[] = {
    {"filters", K_INT}, {"size", K_INT}, {"stride", K_INT}, {"pad", K_INT},
    {"padding", K_INT}, {"groups", K_INT}, {"batch_normalize", K_INT},
    {"binary", K_INT}, {"xnor", K_INT}, {"flipped", K_INT}, {"dot", K_FLOAT},
    {"activation", K_ACTIVATION}, {NULL, 0}
};
static const key_def maxpool_keys[] = {
    {"stride", K_INT}, {"size", K_INT}, {"padding", K_INT}, {NULL, 0}
};
static const key_def none_keys[] = { {NULL, 0} };
static const key_def route_keys[] = { {"layers", K_INTS}, {NULL, 0} };
static const key_def shortcut_keys[] = {
    {"from", K_INT}, {"activation", K_ACTIVATION}, {"alpha", K_FLOAT},
    {"beta", K_FLOAT}, {NULL, 0}
};
static const key_def upsample_keys[] = {
    {"stride", K_INT}, {"scale", K_FLOAT}, {NULL, 0}
};
static const key_def yolo_keys[] = {
    {"classes", K_INT}, {"num", K_INT}, {"max", K_INT}, {"random", K_INT},
    {"jitter", K_FLOAT}, {"ignore_thresh", K_FLOAT}, {"truth_thresh", K_FLOAT},
    {"mask", K_INTS}, {"anchors", K_FLOATS}, {"map", K_FILE}, {NULL, 0}
};
static const key_def region_keys[] = {
    {"coords", K_INT}, {"classes", K_INT}, {"num", K_INT}, {"log", K_INT},
    {"sqrt", K_INT}, {"softmax", K_INT}, {"background", K_INT}, {"max", K_INT},
    {"rescore", K_INT}, {"classfix", K_INT}, {"absolute", K_INT},
    {"random", K_INT}, {"bias_match", K_INT}, {"jitter", K_FLOAT},
    {"thresh", K_FLOAT}, {"coord_scale", K_FLOAT}, {"object_scale", K_FLOAT},
    {"noobject_scale", K_FLOAT}, {"mask_scale", K_FLOAT},
    {"class_scale", K_FLOAT}, {"tree", K_FILE}, {"map", K_FILE},
    {"anchors", K_FLOATS}, {NULL, 0}
};
static const key_def detection_keys[] = {
    {"coords", K_INT}, {"classes", K_INT}, {"rescore", K_INT}, {"num", K_INT},
    {"side", K_INT}, {"softmax", K_INT}, {"sqrt", K_INT}, {"max", K_INT},
    {"forced", K_INT}, {"random", K_INT}, {"reorg", K_INT},
    {"coord_scale", K_FLOAT}, {"object_scale", K_FLOAT},
    {"noobject_scale", K_FLOAT}, {"class_scale", K_FLOAT}, {"jitter", K_FLOAT},
    {NULL, 0}
};
static const key_def softmax_keys[] = {
    {"groups", K_INT}, {"noloss", K_INT}, {"temperature", K_FLOAT},
    {"spatial", K_FLOAT}, {"tree", K_FILE}, {NULL, 0}
};
static const key_def dropout_keys[] = { {"probability", K_FLOAT}, {NULL, 0} };
static const key_def connected_keys[] = {
    {"output", K_INT}, {"batch_normalize", K_INT}, {"activation", K_ACTIVATION},
    {NULL, 0}
};
static const key_def cost_keys[] = {
    {"type", K_COST}, {"scale", K_FLOAT}, {"ratio", K_FLOAT}, {"noobj", K_FLOAT},
    {"thresh", K_FLOAT}, {NULL, 0}
};
static const key_def reorg_keys[] = {
    {"stride", K_INT}, {"reverse", K_INT}, {"flatten", K_INT}, {"extra", K_INT},
    {NULL, 0}
};
static const key_def crop_keys[] = {
    {"crop_height", K_INT}, {"crop_width", K_INT}, {"flip", K_INT},
    {"noadjust", K_INT}, {"angle", K_FLOAT}, {"saturation", K_FLOAT},
    {"exposure", K_FLOAT}, {"shift", K_FLOAT}, {NULL, 0}
};
static const key_def activation_keys[] = {
    {"activation", K_ACTIVATION}, {NULL, 0}
};

typedef enum {
    S_NET, S_CONV, S_MAXPOOL, S_AVGPOOL, S_ROUTE, S_SHORTCUT, S_UPSAMPLE,
    S_YOLO, S_REGION, S_DETECTION, S_SOFTMAX, S_DROPOUT, S_CONNECTED, S_COST,
    S_REORG, S_CROP, S_BATCHNORM, S_ACTIVATION, S_UNSUPPORTED
} sec_kind;

typedef struct { const char *name; sec_kind kind; const key_def *keys; } sec_def;

static const sec_def sections[] = {
    {"[net]", S_NET, net_keys}, {"[network]", S_NET, net_keys},
    {"[convolutional]", S_CONV, conv_keys}, {"[conv]", S_CONV, conv_keys},
    {"[maxpool]", S_MAXPOOL, maxpool_keys}, {"[max]", S_MAXPOOL, maxpool_keys},
    {"[avgpool]", S_AVGPOOL, none_keys}, {"[avg]", S_AVGPOOL, none_keys},
    {"[route]", S_ROUTE, route_keys}, {"[shortcut]", S_SHORTCUT, shortcut_keys},
    {"[upsample]", S_UPSAMPLE, upsample_keys}, {"[yolo]", S_YOLO, yolo_keys},
    {"[region]", S_REGION, region_keys},
    {"[detection]", S_DETECTION, detection_keys},
    {"[softmax]", S_SOFTMAX, softmax_keys}, {"[soft]", S_SOFTMAX, softmax_keys},
    {"[dropout]", S_DROPOUT, dropout_keys},
    {"[connected]", S_CONNECTED, connected_keys},
    {"[conn]", S_CONNECTED, connected_keys}, {"[cost]", S_COST, cost_keys},
    {"[reorg]", S_REORG, reorg_keys}, {"[crop]", S_CROP, crop_keys},
    {"[batchnorm]", S_BATCHNORM, none_keys},
    {"[activation]", S_ACTIVATION, activation_keys},
    {NULL, S_UNSUPPORTED, NULL}
};

static const char *activations[] = {
    "logistic", "loggy", "relu", "elu", "selu", "relie", "plse", "hardtan",
    "lhtan", "linear", "ramp", "leaky", "tanh", "stair", NULL
};
/* Activations of AlexeyAB's Darknet; this one would silently use ReLU. */
static const char *alexeyab_activations[] = {
    "mish", "hard_mish", "swish", "gelu", "relu6", "revleaky", "normalize_channels",
    "normalize_channels_softmax", "normalize_channels_softmax_maxval", NULL
};
static const char *policies[] = {
    "random", "poly", "constant", "step", "exp", "sigmoid", "steps", NULL
};
static const char *cost_types[] = { "seg", "sse", "masked", "smooth", "L1", "wgan", NULL };

/* Keys that change a layer's output in AlexeyAB's Darknet, which this one
 * would ignore: a different network.  (section, key, value allowed or NULL) */
static const struct { const char *sec, *key, *harmless; } alexeyab_keys[] = {
    {"[route]", "groups", "1"}, {"[route]", "group_id", "0"},
    {"[convolutional]", "dilation", "1"}, {"[convolutional]", "antialiasing", "0"},
    {"[convolutional]", "share_index", NULL}, {"[convolutional]", "stride_x", NULL},
    {"[convolutional]", "stride_y", NULL}, {"[convolutional]", "deform", "0"},
    {"[convolutional]", "coordconv", "0"},
    {"[convolutional]", "assisted_excitation", "0"},
    {"[shortcut]", "weights_type", "none"},
    {"[shortcut]", "weights_normalization", "none"},
    {"[maxpool]", "maxpool_depth", "0"}, {"[maxpool]", "out_channels", NULL},
    {"[maxpool]", "stride_x", NULL}, {"[maxpool]", "stride_y", NULL},
    {"[maxpool]", "antialiasing", "0"},
    {"[yolo]", "scale_x_y", "1"}, {"[yolo]", "new_coords", "0"},
    {NULL, NULL, NULL}
};

static int in_list(const char **list, const char *s)
{
    for (int i = 0; list[i]; ++i)
        if (strcmp(list[i], s) == 0) return 1;
    return 0;
}

static const sec_def *find_section(const char *type)
{
    int i = 0;
    for (; sections[i].name; ++i)
        if (strcmp(sections[i].name, type) == 0) break;
    return &sections[i];
}

static const key_def *find_key(const key_def *keys, const char *key)
{
    for (int i = 0; keys[i].key; ++i)
        if (strcmp(keys[i].key, key) == 0) return &keys[i];
    return NULL;
}

/* The canonical name AlexeyAB uses for a section ([conv] -> [convolutional]). */
static const char *long_name(const char *type)
{
    if (!strcmp(type, "[conv]")) return "[convolutional]";
    if (!strcmp(type, "[max]")) return "[maxpool]";
    return type;
}

/* --- value syntax: exactly what atoi()/atof() would read, nothing more ----- */

/* An int as atoi() reads it, from a string that holds only that int. */
static int parse_int(const char *s, long *v)
{
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (!*s || *end || errno || x < INT_MIN || x > INT_MAX) return 0;
    *v = x;
    return 1;
}

static int parse_float(const char *s, double *v)
{
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (!*s || *end || !legr_finite(x) || x > 3.4e38 || x < -3.4e38) return 0;
    *v = x;
    return 1;
}

/* Number of comma-separated items (ints, or floats when `floats`), the first
 * `cap` stored in out; -1 if an item is empty or does not parse. */
static int parse_list(const char *s, int floats, double *out, int cap)
{
    int n = 0;
    char item[64];
    const char *p = s;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0 || len >= sizeof item) return -1;
        memcpy(item, p, len);
        item[len] = 0;
        double d;
        long l;
        if (floats ? !parse_float(item, &d) : !parse_int(item, &l)) return -1;
        if (n < cap) out[n] = floats ? d : (double)l;
        ++n;
        if (!comma) break;
        p = comma + 1;
    }
    return n;
}

/* --- a checking context ----------------------------------------------------- */

/* A key this Darknet ignores: where first seen and how often. */
typedef struct { const char *sec, *key; int line, n; } ignored_key;

typedef struct {
    legr_cfg *cfg;
    char *err;
    size_t errlen;
    int64_t batch;          /* Darknet's net->batch: batch / subdivisions */
    int64_t total_floats;   /* what Darknet allocates, in floats */
    ignored_key *ignored;   /* distinct (section, key) pairs */
    int n_ignored;
} checker;

static int warn(checker *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int warn(checker *c, const char *fmt, ...)
{
    if (c->cfg->n_warnings >= 64) return 0;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    char *copy = legr_strdup(line);
    char **w = realloc(c->cfg->warnings, (c->cfg->n_warnings + 1) * sizeof(char *));
    if (!copy || !w) { free(copy); if (w) c->cfg->warnings = w; return -1; }
    c->cfg->warnings = w;
    w[c->cfg->n_warnings++] = copy;
    return 0;
}

/* Notes a key this Darknet ignores (reported in one warning at the end). */
static int note_ignored(checker *c, const legr_section *s, const legr_kv *kv)
{
    for (int i = 0; i < c->n_ignored; ++i)
        if (!strcmp(c->ignored[i].sec, s->type) && !strcmp(c->ignored[i].key, kv->key)) {
            c->ignored[i].n++;
            return 0;
        }
    ignored_key *n = realloc(c->ignored, (c->n_ignored + 1) * sizeof(*n));
    if (!n) return legr_fail(c->err, c->errlen, "out of memory");
    c->ignored = n;
    n[c->n_ignored++] = (ignored_key){ s->type, kv->key, kv->line, 1 };
    return 0;
}

/* One warning line for all the keys this Darknet ignores. */
static int warn_ignored(checker *c)
{
    if (!c->n_ignored) return 0;
    char line[400];
    size_t len = 0;
    int i = 0;
    for (; i < c->n_ignored && len < sizeof line - 80; ++i) {
        const ignored_key *k = &c->ignored[i];
        char times[32] = "";
        if (k->n > 1) snprintf(times, sizeof times, ", %d times", k->n);
        int w = snprintf(line + len, sizeof line - len, "%s%s %s (line %d%s)", i ? ", " : "",
                         k->sec, k->key, k->line, times);
        len += w > 0 ? (size_t)w : 0;
    }
    return warn(c, "%s: keys this Darknet ignores: %s%s", c->cfg->path, line,
                i < c->n_ignored ? ", ..." : "");
}

/* Integer value of key in s, or def when absent (already syntax-checked). */
static long ival(const legr_section *s, const char *key, long def)
{
    const char *v = legr_cfg_value(s, key);
    return v ? strtol(v, NULL, 10) : def;
}

static double fval(const legr_section *s, const char *key, double def)
{
    const char *v = legr_cfg_value(s, key);
    return v ? strtod(v, NULL) : def;
}

/* Checks one key=value against the section's schema. */
static int check_key(checker *c, const legr_section *s, const sec_def *def,
                     const legr_kv *kv)
{
    const char *p = c->cfg->path;
    for (int i = 0; alexeyab_keys[i].sec; ++i) {
        if (strcmp(alexeyab_keys[i].sec, long_name(s->type)) || strcmp(alexeyab_keys[i].key, kv->key))
            continue;
        const char *ok = alexeyab_keys[i].harmless;
        double a, b;
        int same = ok && (!strcmp(ok, kv->value) ||
                          (parse_float(ok, &a) && parse_float(kv->value, &b) && a == b));
        if (!same)
            return legr_fail(c->err, c->errlen,
                             "%s:%d: %s %s=%s: this key needs AlexeyAB's Darknet (this Darknet would ignore it and build a different network)",
                             p, kv->line, s->type, kv->key, kv->value);
    }
    const key_def *k = find_key(def->keys, kv->key);
    if (!k && def->kind != S_NET) k = find_key(layer_keys, kv->key);
    if (!k) return note_ignored(c, s, kv);
    long l;
    double d;
    switch (k->kind) {
    case K_INT:
        if (!parse_int(kv->value, &l))
            return legr_fail(c->err, c->errlen, "%s:%d: %s=%s is not an integer%s", p, kv->line,
                             kv->key, kv->value, strchr(kv->value, '.') ? "" : " that fits an int");
        return 0;
    case K_FLOAT:
        if (!parse_float(kv->value, &d))
            return legr_fail(c->err, c->errlen, "%s:%d: %s=%s is not a finite number",
                             p, kv->line, kv->key, kv->value);
        return 0;
    case K_INTS: case K_FLOATS:
        if (parse_list(kv->value, k->kind == K_FLOATS, NULL, 0) < 1)
            return legr_fail(c->err, c->errlen, "%s:%d: %s=%s is not a comma-separated list of %s",
                             p, kv->line, kv->key, kv->value,
                             k->kind == K_FLOATS ? "finite numbers" : "integers");
        return 0;
    case K_ACTIVATION:
        if (in_list(alexeyab_activations, kv->value))
            return legr_fail(c->err, c->errlen,
                             "%s:%d: activation=%s needs AlexeyAB's Darknet (this Darknet would use relu)",
                             p, kv->line, kv->value);
        if (!in_list(activations, kv->value))
            return legr_fail(c->err, c->errlen, "%s:%d: activation=%s is not an activation Darknet knows",
                             p, kv->line, kv->value);
        return 0;
    case K_POLICY:
        if (!in_list(policies, kv->value))
            return legr_fail(c->err, c->errlen, "%s:%d: policy=%s is not a policy Darknet knows",
                             p, kv->line, kv->value);
        return 0;
    case K_COST:
        if (!in_list(cost_types, kv->value))
            return legr_fail(c->err, c->errlen, "%s:%d: type=%s is not a cost type Darknet knows",
                             p, kv->line, kv->value);
        return 0;
    case K_FILE: {
        struct stat st;
        if (stat(kv->value, &st) != 0 || !S_ISREG(st.st_mode))
            return legr_fail(c->err, c->errlen, "%s:%d: %s=%s: no such regular file (Darknet would exit)",
                             p, kv->line, kv->key, kv->value);
        return 0;
    }
    }
    return 0;
}

/* Keys whose meaning would differ between legr's reading and Darknet's. */
static int check_keys(checker *c, const legr_section *s, const sec_def *def)
{
    for (int k = 0; k < s->n_kv; ++k) {
        const legr_kv *kv = &s->kv[k];
        for (int j = 0; j < k; ++j)
            if (!strcmp(s->kv[j].key, kv->key) &&
                warn(c, "%s:%d: %s=%s given again (first on line %d); Darknet uses the first",
                     c->cfg->path, kv->line, kv->key, kv->value, s->kv[j].line) != 0)
                return legr_fail(c->err, c->errlen, "out of memory");
        if (check_key(c, s, def, kv) != 0) return -1;
    }
    static const char *weight_layout[] = {
        "dontload", "dontsave", "numload", "dontloadscales", "flipped", NULL
    };
    for (int i = 0; weight_layout[i]; ++i)
        if (ival(s, weight_layout[i], 0) != 0)
            return legr_fail(c->err, c->errlen,
                             "%s:%d: %s %s=%ld changes how Darknet reads the weights file; legr does not support it",
                             c->cfg->path, s->line, s->type, weight_layout[i], ival(s, weight_layout[i], 0));
    return 0;
}

/* --- shapes ------------------------------------------------------------------ */

typedef struct { int64_t w, h, c, outputs; } shape;

static int is_image(shape x) { return x.w > 0 && x.h > 0 && x.c > 0; }

static int layer_fail(checker *c, const legr_section *s, int layer, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int layer_fail(checker *c, const legr_section *s, int layer, const char *fmt, ...)
{
    char why[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return legr_fail(c->err, c->errlen, "%s:%d: layer %d %s: %s", c->cfg->path, s->line,
                     layer, s->type, why);
}

/* Bounds one tensor of n floats that Darknet allocates with int arithmetic. */
static int fits(checker *c, const legr_section *s, int layer, const char *what, int64_t n)
{
    if (n <= 0 || n > LEGR_MAX_TENSOR)
        return layer_fail(c, s, layer, "%s would be %lld floats (the limit is %lld)", what,
                          (long long)n, (long long)LEGR_MAX_TENSOR);
    c->total_floats += n;
    return 0;
}

static int64_t resolve(long v, int layer) { return v < 0 ? layer + v : v; }

/* An earlier layer named by a [route]/[shortcut] value. */
static int ref_layer(checker *c, const legr_section *s, int layer, long v, int64_t *out)
{
    int64_t r = resolve(v, layer);
    if (r < 0 || r >= layer)
        return layer_fail(c, s, layer, "%ld does not name an earlier layer", v);
    *out = r;
    return 0;
}

static int conv_shape(checker *c, const legr_section *s, int i, shape in, shape *out)
{
    long n = ival(s, "filters", 1), size = ival(s, "size", 1), stride = ival(s, "stride", 1);
    long pad = ival(s, "pad", 0), padding = ival(s, "padding", 0), groups = ival(s, "groups", 1);
    if (!is_image(in)) return layer_fail(c, s, i, "its input is not an image (Darknet would exit)");
    if (n < 1 || size < 1 || stride < 1 || groups < 1)
        return layer_fail(c, s, i, "filters, size, stride and groups must be >= 1");
    if (n > LEGR_MAX_FILTERS || size > LEGR_MAX_KERNEL || stride > LEGR_MAX_KERNEL)
        return layer_fail(c, s, i, "filters <= %d, size and stride <= %d", LEGR_MAX_FILTERS, LEGR_MAX_KERNEL);
    if (pad) padding = size / 2;
    if (padding < 0 || padding > size)
        return layer_fail(c, s, i, "padding=%ld must be within 0..size", padding);
    if (in.c % groups || n % groups)
        return layer_fail(c, s, i, "groups=%ld must divide its %lld input channels and its %ld filters",
                          groups, (long long)in.c, n);
    out->w = (in.w + 2 * padding - size) / stride + 1;
    out->h = (in.h + 2 * padding - size) / stride + 1;
    out->c = n;
    if (out->w < 1 || out->h < 1)
        return layer_fail(c, s, i, "a %ldx%ld kernel does not fit its %lldx%lld input",
                          size, size, (long long)in.w, (long long)in.h);
    out->outputs = out->w * out->h * out->c;
    int64_t weights = in.c / groups * n * size * size;
    int64_t work = out->w * out->h * size * size * (in.c / groups);
    if (fits(c, s, i, "its weights", weights) || fits(c, s, i, "its output", out->outputs * c->batch))
        return -1;
    if (work > LEGR_MAX_WORKSPACE / 4)
        return layer_fail(c, s, i, "its im2col workspace would be %lld bytes (Darknet asserts above %lld)",
                          (long long)work * 4, (long long)LEGR_MAX_WORKSPACE);
    return 0;
}

static int maxpool_shape(checker *c, const legr_section *s, int i, shape in, shape *out)
{
    long stride = ival(s, "stride", 1), size = ival(s, "size", stride);
    long padding = ival(s, "padding", size - 1);
    if (!is_image(in)) return layer_fail(c, s, i, "its input is not an image (Darknet would exit)");
    if (stride < 1 || size < 1 || stride > LEGR_MAX_KERNEL || size > LEGR_MAX_KERNEL)
        return layer_fail(c, s, i, "size and stride must be within 1..%d", LEGR_MAX_KERNEL);
    if (padding < 0 || padding > size)
        return layer_fail(c, s, i, "padding=%ld must be within 0..size", padding);
    out->w = (in.w + padding - size) / stride + 1;
    out->h = (in.h + padding - size) / stride + 1;
    out->c = in.c;
    if (out->w < 1 || out->h < 1)
        return layer_fail(c, s, i, "a %ldx%ld window does not fit its %lldx%lld input",
                          size, size, (long long)in.w, (long long)in.h);
    out->outputs = out->w * out->h * out->c;
    return fits(c, s, i, "its output", out->outputs * c->batch);
}

static int route_shape(checker *c, const legr_section *s, int i, const shape *sh, shape *out)
{
    double refs[64];
    int n = parse_list(legr_cfg_value(s, "layers") ? legr_cfg_value(s, "layers") : "", 0, refs, 64);
    if (n < 1) return layer_fail(c, s, i, "needs layers=");
    if (n > 64) return layer_fail(c, s, i, "more than 64 layers");
    memset(out, 0, sizeof *out);
    for (int k = 0; k < n; ++k) {
        int64_t r = 0;
        if (ref_layer(c, s, i, (long)refs[k], &r) != 0) return -1;
        if (!is_image(sh[r]))
            return layer_fail(c, s, i, "layer %lld does not output an image", (long long)r);
        if (k == 0) { out->w = sh[r].w; out->h = sh[r].h; }
        else if (sh[r].w != out->w || sh[r].h != out->h)
            return layer_fail(c, s, i, "layers %lld and %lld differ in size (%lldx%lld, %lldx%lld)",
                              (long long)resolve((long)refs[0], i), (long long)r, (long long)out->w,
                              (long long)out->h, (long long)sh[r].w, (long long)sh[r].h);
        out->c += sh[r].c;
    }
    out->outputs = out->w * out->h * out->c;
    return fits(c, s, i, "its output", out->outputs * c->batch);
}

static int shortcut_shape(checker *c, const legr_section *s, int i, const shape *sh, shape in, shape *out)
{
    int64_t r = 0;
    const char *v = legr_cfg_value(s, "from");
    if (!v) return layer_fail(c, s, i, "needs from=");
    if (ref_layer(c, s, i, ival(s, "from", 0), &r) != 0) return -1;
    shape a = sh[r];
    if (!is_image(a) || !is_image(in))
        return layer_fail(c, s, i, "both addends must be images");
    /* shortcut_cpu's asserts: the two sizes are integer multiples alike in w and h */
    if (a.w / in.w != a.h / in.h || in.w / a.w != in.h / a.h)
        return layer_fail(c, s, i, "layer %lld (%lldx%lld) and its input (%lldx%lld) are not the same size",
                          (long long)r, (long long)a.w, (long long)a.h, (long long)in.w, (long long)in.h);
    *out = in;
    return fits(c, s, i, "its output", out->outputs * c->batch);
}

static int upsample_shape(checker *c, const legr_section *s, int i, shape in, shape *out)
{
    long stride = ival(s, "stride", 2);
    if (!is_image(in)) return layer_fail(c, s, i, "its input is not an image");
    if (stride == 0 || stride > LEGR_MAX_KERNEL || stride < -LEGR_MAX_KERNEL)
        return layer_fail(c, s, i, "stride=%ld must be within 1..%d (or -%d..-1 to shrink)",
                          stride, LEGR_MAX_KERNEL, LEGR_MAX_KERNEL);
    out->c = in.c;
    out->w = stride > 0 ? in.w * stride : in.w / -stride;
    out->h = stride > 0 ? in.h * stride : in.h / -stride;
    if (out->w < 1 || out->h < 1)
        return layer_fail(c, s, i, "stride=%ld shrinks its %lldx%lld input to nothing",
                          stride, (long long)in.w, (long long)in.h);
    out->outputs = out->w * out->h * out->c;
    return fits(c, s, i, "its output", out->outputs * c->batch);
}

/* Anchors: Darknet writes every listed number into a 2 * num array. */
static int check_anchors(checker *c, const legr_section *s, int i, long total)
{
    const char *a = legr_cfg_value(s, "anchors");
    int n = a ? parse_list(a, 1, NULL, 0) : 0;
    if (n > 2 * total)
        return layer_fail(c, s, i, "%d anchors numbers, more than 2 x num=%ld", n, total);
    return 0;
}

static int yolo_shape(checker *c, const legr_section *s, int i, shape in, shape *out)
{
    long classes = ival(s, "classes", 20), total = ival(s, "num", 1);
    if (classes < 1 || classes > LEGR_MAX_CLASSES || total < 1 || total > LEGR_MAX_ANCHORS)
        return layer_fail(c, s, i, "classes must be within 1..%d and num within 1..%d",
                          LEGR_MAX_CLASSES, LEGR_MAX_ANCHORS);
    double mask[LEGR_MAX_ANCHORS];
    long n = total;
    const char *m = legr_cfg_value(s, "mask");
    if (m) {
        n = parse_list(m, 0, mask, LEGR_MAX_ANCHORS);
        if (n > total) return layer_fail(c, s, i, "mask= has %ld entries, more than num=%ld", n, total);
        for (int k = 0; k < n; ++k)
            if (mask[k] < 0 || mask[k] >= total)
                return layer_fail(c, s, i, "mask=%s: %g is not an anchor index below num=%ld",
                                  m, mask[k], total);
    }
    if (check_anchors(c, s, i, total) != 0) return -1;
    if (!is_image(in)) return layer_fail(c, s, i, "its input is not an image");
    int64_t want = n * (classes + 5);
    if (in.c != want)
        return layer_fail(c, s, i, "expects %ld x (classes=%ld + 5) = %lld input channels, the layer before gives %lld",
                          n, classes, (long long)want, (long long)in.c);
    *out = in;
    return 0;
}

static int region_shape(checker *c, const legr_section *s, int i, shape in, shape *out)
{
    long classes = ival(s, "classes", 20), num = ival(s, "num", 1), coords = ival(s, "coords", 4);
    if (classes < 0 || classes > LEGR_MAX_CLASSES || num < 1 || num > LEGR_MAX_ANCHORS ||
        coords < 0 || coords > 64)
        return layer_fail(c, s, i, "classes must be within 0..%d, num within 1..%d, coords within 0..64",
                          LEGR_MAX_CLASSES, LEGR_MAX_ANCHORS);
    if (check_anchors(c, s, i, num) != 0) return -1;
    if (!is_image(in)) return layer_fail(c, s, i, "its input is not an image");
    int64_t want = num * (classes + coords + 1);
    if (in.c != want)
        return layer_fail(c, s, i, "expects num=%ld x (classes + coords + 1) = %lld input channels, the layer before gives %lld",
                          num, (long long)want, (long long)in.c);
    *out = in;
    return 0;
}

static int detection_shape(checker *c, const legr_section *s, int i, shape in, shape *out)
{
    long coords = ival(s, "coords", 1), classes = ival(s, "classes", 1);
    long num = ival(s, "num", 1), side = ival(s, "side", 7);
    if (coords < 0 || coords > 64 || classes < 0 || classes > LEGR_MAX_CLASSES ||
        num < 1 || num > LEGR_MAX_ANCHORS || side < 1 || side > LEGR_MAX_SIDE)
        return layer_fail(c, s, i, "coords, classes, num or side out of range");
    int64_t want = side * side * ((1 + coords) * num + classes);
    if (in.outputs != want)
        return layer_fail(c, s, i, "expects side^2 x ((1 + coords) x num + classes) = %lld inputs, gets %lld",
                          (long long)want, (long long)in.outputs);
    memset(out, 0, sizeof *out);
    out->outputs = in.outputs;
    return 0;
}

/* Layers whose output is their input, flattened or not. */
static int flat_shape(checker *c, const legr_section *s, int i, shape in, shape *out, int keep_image)
{
    if (in.outputs < 1) return layer_fail(c, s, i, "its input is empty");
    if (keep_image) *out = in;
    else { memset(out, 0, sizeof *out); out->outputs = in.outputs; }
    return fits(c, s, i, "its output", in.outputs * c->batch);
}

static int softmax_shape(checker *c, const legr_section *s, int i, shape in, shape *out)
{
    long groups = ival(s, "groups", 1);
    if (groups < 1 || in.outputs % groups)
        return layer_fail(c, s, i, "groups=%ld must be >= 1 and divide its %lld inputs",
                          groups, (long long)in.outputs);
    return flat_shape(c, s, i, in, out, 0);
}

static int dropout_shape(checker *c, const legr_section *s, int i, shape in, shape *out)
{
    double p = fval(s, "probability", 0.5);
    if (i == 0) return layer_fail(c, s, i, "cannot be the first layer (Darknet reads the layer before it)");
    if (p < 0 || p >= 1) return layer_fail(c, s, i, "probability=%g must be within [0, 1)", p);
    return flat_shape(c, s, i, in, out, 1);
}

static int connected_shape(checker *c, const legr_section *s, int i, shape in, shape *out)
{
    long n = ival(s, "output", 1);
    if (n < 1 || n > LEGR_MAX_TENSOR) return layer_fail(c, s, i, "output=%ld must be >= 1", n);
    if (in.outputs < 1) return layer_fail(c, s, i, "its input is empty");
    if (fits(c, s, i, "its weights", in.outputs * n)) return -1;
    out->w = out->h = 1;
    out->c = out->outputs = n;
    return fits(c, s, i, "its output", n * c->batch);
}

static int reorg_shape(checker *c, const legr_section *s, int i, shape in, shape *out)
{
    long st = ival(s, "stride", 1);
    if (!is_image(in)) return layer_fail(c, s, i, "its input is not an image (Darknet would exit)");
    if (st < 1 || st > LEGR_MAX_KERNEL) return layer_fail(c, s, i, "stride=%ld must be within 1..%d", st, LEGR_MAX_KERNEL);
    if (ival(s, "extra", 0) || ival(s, "flatten", 0))
        return layer_fail(c, s, i, "extra= and flatten= are not supported by legr");
    if (ival(s, "reverse", 0)) {
        if (in.c % (st * st)) return layer_fail(c, s, i, "stride^2 must divide its %lld channels", (long long)in.c);
        out->w = in.w * st; out->h = in.h * st; out->c = in.c / (st * st);
    } else {
        if (in.w % st || in.h % st)
            return layer_fail(c, s, i, "stride=%ld must divide its %lldx%lld input", st,
                              (long long)in.w, (long long)in.h);
        out->w = in.w / st; out->h = in.h / st; out->c = in.c * st * st;
    }
    out->outputs = out->w * out->h * out->c;
    return fits(c, s, i, "its output", out->outputs * c->batch);
}

static int crop_shape(checker *c, const legr_section *s, int i, shape in, shape *out)
{
    long ch = ival(s, "crop_height", 1), cw = ival(s, "crop_width", 1);
    if (!is_image(in)) return layer_fail(c, s, i, "its input is not an image (Darknet would exit)");
    if (ch < 1 || cw < 1 || ch > in.h || cw > in.w)
        return layer_fail(c, s, i, "crop %ldx%ld must fit its %lldx%lld input", cw, ch,
                          (long long)in.w, (long long)in.h);
    out->w = cw; out->h = ch; out->c = in.c;
    out->outputs = out->w * out->h * out->c;
    return fits(c, s, i, "its output", out->outputs * c->batch);
}

static int layer_shape(checker *c, const legr_section *s, const sec_def *def, int i,
                       const shape *sh, shape in, shape *out)
{
    switch (def->kind) {
    case S_CONV: return conv_shape(c, s, i, in, out);
    case S_MAXPOOL: return maxpool_shape(c, s, i, in, out);
    case S_AVGPOOL:
        if (!is_image(in)) return layer_fail(c, s, i, "its input is not an image (Darknet would exit)");
        out->w = out->h = 1; out->c = in.c; out->outputs = in.c;
        return 0;
    case S_ROUTE: return route_shape(c, s, i, sh, out);
    case S_SHORTCUT: return shortcut_shape(c, s, i, sh, in, out);
    case S_UPSAMPLE: return upsample_shape(c, s, i, in, out);
    case S_YOLO: return yolo_shape(c, s, i, in, out);
    case S_REGION: return region_shape(c, s, i, in, out);
    case S_DETECTION: return detection_shape(c, s, i, in, out);
    case S_SOFTMAX: return softmax_shape(c, s, i, in, out);
    case S_DROPOUT: return dropout_shape(c, s, i, in, out);
    case S_CONNECTED: return connected_shape(c, s, i, in, out);
    case S_COST: return flat_shape(c, s, i, in, out, 0);
    case S_REORG: return reorg_shape(c, s, i, in, out);
    case S_CROP: return crop_shape(c, s, i, in, out);
    case S_BATCHNORM:
        if (!is_image(in)) return layer_fail(c, s, i, "its input is not an image");
        return flat_shape(c, s, i, in, out, 1);
    case S_ACTIVATION: return flat_shape(c, s, i, in, out, 1);
    default: return layer_fail(c, s, i, "not supported");
    }
}

/* [net]: the input shape, the batch Darknet allocates at, the schedule. */
static int check_net(checker *c, const legr_section *s, shape *in)
{
    const char *p = c->cfg->path;
    long w = ival(s, "width", 0), h = ival(s, "height", 0), ch = ival(s, "channels", 0);
    if (w < 1 || h < 1 || ch < 1)
        return legr_fail(c->err, c->errlen, "%s:%d: [net] needs width, height and channels > 0", p, s->line);
    if (w > LEGR_MAX_SIDE || h > LEGR_MAX_SIDE || ch > LEGR_MAX_CHANNELS)
        return legr_fail(c->err, c->errlen, "%s:%d: [net] width and height must be <= %d, channels <= %d",
                         p, s->line, LEGR_MAX_SIDE, LEGR_MAX_CHANNELS);
    long b = ival(s, "batch", 1), sd = ival(s, "subdivisions", 1);
    if (b < 1 || sd < 1 || b / sd < 1)
        return legr_fail(c->err, c->errlen, "%s:%d: [net] needs batch >= subdivisions >= 1", p, s->line);
    if (b / sd > LEGR_MAX_BATCH)
        return legr_fail(c->err, c->errlen, "%s:%d: [net] batch / subdivisions must be <= %d",
                         p, s->line, LEGR_MAX_BATCH);
    if (ival(s, "time_steps", 1) != 1)
        return legr_fail(c->err, c->errlen, "%s:%d: [net] time_steps must be 1 (legr has no recurrent layers)",
                         p, s->line);
    long inputs = ival(s, "inputs", w * h * ch);
    if (inputs != w * h * ch)
        return legr_fail(c->err, c->errlen, "%s:%d: [net] inputs=%ld differs from width x height x channels",
                         p, s->line, inputs);
    if (ival(s, "max_batches", 0) < 0 || ival(s, "burn_in", 0) < 0)
        return legr_fail(c->err, c->errlen, "%s:%d: [net] max_batches and burn_in must be >= 0", p, s->line);
    const char *pol = legr_cfg_value(s, "policy");
    if (pol && (!strcmp(pol, "step") || !strcmp(pol, "sigmoid")) && ival(s, "step", 1) < 1)
        return legr_fail(c->err, c->errlen, "%s:%d: [net] policy=%s needs step >= 1", p, s->line, pol);
    if (pol && !strcmp(pol, "steps")) {
        const char *st = legr_cfg_value(s, "steps"), *sc = legr_cfg_value(s, "scales");
        if (!st || !sc)
            return legr_fail(c->err, c->errlen, "%s:%d: [net] policy=steps needs steps= and scales= (Darknet would exit)",
                             p, s->line);
        int ns = parse_list(st, 0, NULL, 0), nc = parse_list(sc, 1, NULL, 0);
        if (ns != nc)
            return legr_fail(c->err, c->errlen, "%s:%d: [net] steps= has %d entries, scales= %d",
                             p, s->line, ns, nc);
    }
    c->batch = b / sd;
    in->w = w; in->h = h; in->c = ch; in->outputs = w * h * ch;
    if (in->outputs * c->batch > LEGR_MAX_TENSOR)
        return legr_fail(c->err, c->errlen, "%s:%d: [net] the input batch would be %lld floats (the limit is %lld)",
                         p, s->line, (long long)(in->outputs * c->batch), (long long)LEGR_MAX_TENSOR);
    return 0;
}

int legr_cfg_check(legr_cfg *cfg, legr_cfg_shape *shapes, char *err, size_t errlen)
{
    checker c = { cfg, err, errlen, 1, 0, NULL, 0 };
    shape *sh = legr_calloc(cfg->n_sec, sizeof(shape));
    if (!sh) return legr_fail(err, errlen, "%s: out of memory", cfg->path);
    int rc = 0;
    shape in = {0};
    for (int i = 0; i < cfg->n_sec && rc == 0; ++i) {
        const legr_section *s = &cfg->sec[i];
        const sec_def *def = find_section(s->type);
        int layer = i - 1;
        if (def->kind == S_UNSUPPORTED) {
            rc = legr_fail(err, errlen, "%s:%d: layer %d: %s layers are not supported by legr", cfg->path,
                           s->line, layer, s->type);
            break;
        }
        if ((def->kind == S_NET) != (i == 0)) {
            rc = legr_fail(err, errlen, "%s:%d: %s", cfg->path, s->line,
                           i == 0 ? "the first section must be [net] or [network]"
                                  : "[net] may only be the first section");
            break;
        }
        rc = check_keys(&c, s, def);
        if (rc == 0 && i == 0) rc = check_net(&c, s, &in);
        else if (rc == 0) {
            rc = layer_shape(&c, s, def, layer, sh, in, &sh[layer]);
            in = sh[layer];
        }
    }
    if (rc == 0) rc = warn_ignored(&c);
    free(c.ignored);
    /* every tensor counted is allocated twice (output and delta, weights and
     * their updates) */
    double bytes = (double)c.total_floats * 4 * 2;
    if (rc == 0 && bytes > LEGR_MAX_TOTAL)
        rc = legr_fail(err, errlen, "%s: Darknet would allocate about %.1f GB for this network (legr's limit is %.0f GB)",
                       cfg->path, bytes / 1e9, LEGR_MAX_TOTAL / 1e9);
    if (rc == 0 && shapes) {
        for (int i = 0; i + 1 < cfg->n_sec; ++i) {
            shapes[i].w = (int)sh[i].w; shapes[i].h = (int)sh[i].h;
            shapes[i].c = (int)sh[i].c; shapes[i].outputs = (int)sh[i].outputs;
        }
    }
    free(sh);
    return rc;
}

int legr_cfg_load(const char *path, legr_cfg *cfg, char *err, size_t errlen)
{
    if (legr_cfg_read(path, cfg, err, errlen) != 0) return -1;
    if (legr_cfg_check(cfg, NULL, err, errlen) != 0) {
        legr_cfg_free(cfg);
        return -1;
    }
    return 0;
}

void legr_cfg_print_warnings(const legr_cfg *cfg)
{
    for (int i = 0; i < cfg->n_warnings; ++i)
        fprintf(stderr, "legr: warning: %s\n", cfg->warnings[i]);
}
