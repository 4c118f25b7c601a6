/* cfgfile.c: reads a Darknet .cfg strictly and writes it back with chosen
 * values replaced.  Whitespace is removed the way Darknet's own reader does
 * (so "filters = 16" means filters=16), '\r' included, and comments are
 * dropped.  Checks here are those whose failure would make Darknet's parser
 * crash, exit or silently build a different network. */
#include "cfgfile.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* Section names pjreddie Darknet (2018-09-14) parses. */
static const char *known_sections[] = {
    "[net]", "[network]", "[shortcut]", "[crop]", "[cost]", "[detection]",
    "[region]", "[yolo]", "[iseg]", "[local]", "[conv]", "[convolutional]",
    "[deconv]", "[deconvolutional]", "[activation]", "[logistic]", "[l2norm]",
    "[crnn]", "[gru]", "[lstm]", "[rnn]", "[conn]", "[connected]", "[max]",
    "[maxpool]", "[reorg]", "[avg]", "[avgpool]", "[dropout]", "[lrn]",
    "[normalization]", "[batchnorm]", "[soft]", "[softmax]", "[route]",
    "[upsample]", NULL
};

/* Keys Darknet reads with atoi(): they must be plain integers. */
static const char *int_keys[] = {
    "filters", "size", "stride", "pad", "padding", "groups", "batch_normalize",
    "width", "height", "channels", "batch", "subdivisions", "from", "classes",
    "num", "max_batches", "output", "binary", "xnor", NULL
};

static int in_list(const char **list, const char *s)
{
    for (int i = 0; list[i]; ++i)
        if (strcmp(list[i], s) == 0) return 1;
    return 0;
}

/* Removes every space, tab, CR and LF, as Darknet's strip() does (plus CR). */
static void strip_all(char *s)
{
    char *d = s;
    for (; *s; ++s)
        if (!isspace((unsigned char)*s)) *d++ = *s;
    *d = 0;
}

static int parse_int(const char *s, long *v)
{
    char *end;
    errno = 0;
    *v = strtol(s, &end, 10);
    return *s && !*end && errno == 0;
}

void legr_cfg_free(legr_cfg *cfg)
{
    for (int i = 0; i < cfg->n_sec; ++i) {
        legr_section *s = &cfg->sec[i];
        for (int k = 0; k < s->n_kv; ++k) {
            free(s->kv[k].key);      /* value shares the key's buffer */
        }
        free(s->kv);
        free(s->type);
    }
    free(cfg->sec);
    free(cfg->path);
    memset(cfg, 0, sizeof(*cfg));
}

const char *legr_cfg_value(const legr_section *s, const char *key)
{
    for (int k = 0; k < s->n_kv; ++k)
        if (strcmp(s->kv[k].key, key) == 0) return s->kv[k].value;
    return NULL;
}

static int add_section(legr_cfg *cfg, char *type, int line)
{
    legr_section *n = realloc(cfg->sec, (cfg->n_sec + 1) * sizeof(*n));
    if (!n) return -1;
    cfg->sec = n;
    memset(&n[cfg->n_sec], 0, sizeof(*n));
    n[cfg->n_sec].type = type;
    n[cfg->n_sec].line = line;
    cfg->n_sec++;
    return 0;
}

/* Takes ownership of `line` ("key=value", already stripped). */
static int add_option(legr_section *s, char *line, int nline)
{
    legr_kv *n = realloc(s->kv, (s->n_kv + 1) * sizeof(*n));
    if (!n) return -1;
    s->kv = n;
    char *eq = strchr(line, '=');
    *eq = 0;
    n[s->n_kv].key = line;
    n[s->n_kv].value = eq + 1;
    n[s->n_kv].line = nline;
    s->n_kv++;
    return 0;
}

/* Resolves a layer reference as Darknet does (negative = relative). */
static long resolve_ref(long v, int layer)
{
    return v < 0 ? layer + v : v;
}

/* Checks that would otherwise crash or silently mislead Darknet's parser. */
static int check_values(const legr_cfg *cfg, char *err, size_t errlen)
{
    const char *p = cfg->path;
    for (int i = 0; i < cfg->n_sec; ++i) {
        const legr_section *s = &cfg->sec[i];
        int layer = i - 1;
        for (int k = 0; k < s->n_kv; ++k) {
            long v;
            if (in_list(int_keys, s->kv[k].key) && !parse_int(s->kv[k].value, &v))
                return legr_fail(err, errlen, "%s:%d: %s=%s is not an integer",
                                 p, s->kv[k].line, s->kv[k].key, s->kv[k].value);
        }
        const char *v;
        if (i == 0) {
            int ok = 1;
            const char *keys[] = { "width", "height", "channels" };
            for (int k = 0; k < 3; ++k) {
                v = legr_cfg_value(s, keys[k]);
                if (!v || atol(v) <= 0) ok = 0;
            }
            if (!ok)
                return legr_fail(err, errlen, "%s:%d: [net] needs width, height and channels > 0",
                                 p, s->line);
            long b = (v = legr_cfg_value(s, "batch")) ? atol(v) : 1;
            long sd = (v = legr_cfg_value(s, "subdivisions")) ? atol(v) : 1;
            if (b < 1 || sd < 1 || b / sd < 1)
                return legr_fail(err, errlen, "%s:%d: [net] needs batch >= subdivisions >= 1",
                                 p, s->line);
            continue;
        }
        if (!strcmp(s->type, "[convolutional]") || !strcmp(s->type, "[conv]")) {
            long f = (v = legr_cfg_value(s, "filters")) ? atol(v) : 1;
            long sz = (v = legr_cfg_value(s, "size")) ? atol(v) : 1;
            long st = (v = legr_cfg_value(s, "stride")) ? atol(v) : 1;
            long gr = (v = legr_cfg_value(s, "groups")) ? atol(v) : 1;
            if (f < 1 || sz < 1 || st < 1 || gr < 1)
                return legr_fail(err, errlen, "%s:%d: layer %d: filters, size, stride and groups must be >= 1",
                                 p, s->line, layer);
        }
        if (!strcmp(s->type, "[route]")) {
            v = legr_cfg_value(s, "layers");
            if (!v || !*v)
                return legr_fail(err, errlen, "%s:%d: layer %d: [route] needs layers=", p, s->line, layer);
            char *copy = legr_strdup(v), *save = NULL;
            if (!copy) return legr_fail(err, errlen, "%s: out of memory", p);
            for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                long r;
                if (!parse_int(t, &r) || resolve_ref(r, layer) < 0 || resolve_ref(r, layer) >= layer) {
                    free(copy);
                    return legr_fail(err, errlen, "%s:%d: layer %d: [route] layers=%s does not name an earlier layer",
                                     p, s->line, layer, v);
                }
            }
            free(copy);
        }
        if (!strcmp(s->type, "[shortcut]")) {
            long r;
            v = legr_cfg_value(s, "from");
            if (!v || !parse_int(v, &r) || resolve_ref(r, layer) < 0 || resolve_ref(r, layer) >= layer)
                return legr_fail(err, errlen, "%s:%d: layer %d: [shortcut] from= does not name an earlier layer",
                                 p, s->line, layer);
        }
        if (layer == 0 && (!strcmp(s->type, "[route]") || !strcmp(s->type, "[shortcut]")))
            return legr_fail(err, errlen, "%s:%d: the first layer cannot be %s", p, s->line, s->type);
    }
    return 0;
}

int legr_cfg_read(const char *path, legr_cfg *cfg, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof(*cfg));
    FILE *fp = legr_fopen_regular(path, "r", err, errlen); if (!fp) return -1;
    if (!fp) return legr_fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    cfg->path = legr_strdup(path);
    char *line = NULL;
    size_t cap = 0;
    int nline = 0, rc = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, fp)) >= 0) {
        ++nline;
        if ((size_t)len != strlen(line)) {
            rc = legr_fail(err, errlen, "%s:%d: binary data: not a Darknet cfg", path, nline);
            break;
        }
        if (strchr(line, '\r')) cfg->has_cr = 1;
        strip_all(line);
        if (line[0] == 0 || line[0] == '#' || line[0] == ';') continue;
        if (line[0] == '[') {
            size_t n = strlen(line);
            if (line[n - 1] != ']') {
                rc = legr_fail(err, errlen, "%s:%d: unterminated section header %s", path, nline, line);
                break;
            }
            if (!in_list(known_sections, line)) {
                rc = legr_fail(err, errlen, "%s:%d: section %s is not supported by this Darknet",
                               path, nline, line);
                break;
            }
            char *type = legr_strdup(line);
            if (!type || add_section(cfg, type, nline) != 0) {
                free(type);
                rc = legr_fail(err, errlen, "%s: out of memory", path);
                break;
            }
            continue;
        }
        if (cfg->n_sec == 0) {
            rc = legr_fail(err, errlen, "%s:%d: option '%s' before any [section]", path, nline, line);
            break;
        }
        if (!strchr(line, '=') || line[0] == '=') {
            rc = legr_fail(err, errlen, "%s:%d: expected key=value, got '%s'", path, nline, line);
            break;
        }
        char *opt = legr_strdup(line);
        if (!opt || add_option(&cfg->sec[cfg->n_sec - 1], opt, nline) != 0) {
            free(opt);
            rc = legr_fail(err, errlen, "%s: out of memory", path);
            break;
        }
    }
    free(line);
    if (rc == 0 && ferror(fp)) rc = legr_fail(err, errlen, "%s: read error", path);
    fclose(fp);
    if (rc == 0 && cfg->n_sec == 0)
        rc = legr_fail(err, errlen, "%s: no sections: not a Darknet cfg", path);
    if (rc == 0 && strcmp(cfg->sec[0].type, "[net]") && strcmp(cfg->sec[0].type, "[network]"))
        rc = legr_fail(err, errlen, "%s:%d: first section must be [net] or [network], got %s",
                       path, cfg->sec[0].line, cfg->sec[0].type);
    if (rc == 0 && cfg->n_sec < 2)
        rc = legr_fail(err, errlen, "%s: no layers after [net]", path);
    if (rc == 0) rc = check_values(cfg, err, errlen);
    if (rc != 0) legr_cfg_free(cfg);
    return rc;
}

int legr_cfg_write(const legr_cfg *cfg, const char *path, const int *filters,
                   const int *groups, char *err, size_t errlen)
{
    char *tmp;
    FILE *fp = legr_open_temp(path, &tmp, err, errlen);
    if (!fp) return -1;
    for (int i = 0; i < cfg->n_sec; ++i) {
        const legr_section *s = &cfg->sec[i];
        int layer = i - 1;
        fprintf(fp, "%s%s\n", i ? "\n" : "", s->type);
        for (int k = 0; k < s->n_kv; ++k) {
            const char *key = s->kv[k].key;
            if (layer >= 0 && filters && filters[layer] >= 0 && !strcmp(key, "filters"))
                fprintf(fp, "%s=%d\n", key, filters[layer]);
            else if (layer >= 0 && groups && groups[layer] >= 0 && !strcmp(key, "groups"))
                fprintf(fp, "%s=%d\n", key, groups[layer]);
            else
                fprintf(fp, "%s=%s\n", key, s->kv[k].value);
        }
    }
    return legr_commit_temp(fp, tmp, path, 1, err, errlen);
}
