/* cfgfile.c: reads a Darknet .cfg as text and writes it back with chosen
 * values replaced.  Whitespace is removed the way Darknet's own reader does
 * (space, tab and LF anywhere in a line, so "filters = 16" means filters=16),
 * '\r' too, and comments are dropped.  Checks here are lexical: what would
 * make Darknet read the lines differently from legr.  What the values mean
 * is cfgcheck.c's. */
#include "cfgfile.h"
#include "util.h"

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

static int in_list(const char **list, const char *s)
{
    for (int i = 0; list[i]; ++i)
        if (strcmp(list[i], s) == 0) return 1;
    return 0;
}

/* Removes every space, tab and LF, as Darknet's strip() does, and CR (legr
 * reads CRLF files; model.c hands Darknet an LF copy). */
static void strip_all(char *s)
{
    char *d = s;
    for (; *s; ++s)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r') *d++ = *s;
    *d = 0;
}

/* A control character Darknet's strip() keeps but isspace() would not: a
 * line with one means something different to legr's eye and Darknet's. */
static int bad_control_char(const char *s)
{
    for (; *s; ++s) {
        unsigned char c = (unsigned char)*s;
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) return c;
    }
    return 0;
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
    for (int i = 0; i < cfg->n_warnings; ++i) free(cfg->warnings[i]);
    free(cfg->warnings);
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

int legr_cfg_set(legr_cfg *cfg, int sec, const char *key, const char *value)
{
    legr_section *s = &cfg->sec[sec];
    char *line = legr_fmt("%s=%s", key, value);
    if (!line) return -1;
    for (int k = 0; k < s->n_kv; ++k) {
        if (strcmp(s->kv[k].key, key)) continue;
        free(s->kv[k].key);
        s->kv[k].key = line;
        s->kv[k].value = line + strlen(key) + 1;
        s->kv[k].key[strlen(key)] = 0;
        return 0;
    }
    if (add_option(s, line, s->line) != 0) { free(line); return -1; }
    return 0;
}

int legr_cfg_read(const char *path, legr_cfg *cfg, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof(*cfg));
    FILE *fp = legr_fopen_regular(path, "r", err, errlen);
    if (!fp) return -1;
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
        int bad = bad_control_char(line);
        if (bad) {
            rc = legr_fail(err, errlen, "%s:%d: control character 0x%02x: Darknet and legr would read this line differently",
                           path, nline, bad);
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
        if (line[strlen(line) - 1] == '=') {
            rc = legr_fail(err, errlen, "%s:%d: %s has no value (Darknet would skip the line)", path, nline, line);
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
