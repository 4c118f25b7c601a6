/* testutil.c: helpers shared by the darknet-legr tests (see testutil.h). */
#define _GNU_SOURCE
#include "testutil.h"

#include <time.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "forward_dump.h"

const char TU_TINY_DET_CFG[] =
    "[net]\nbatch=2\nsubdivisions=1\nwidth=32\nheight=32\nchannels=3\n"
    "learning_rate=0.001\nmax_batches=100\npolicy=constant\n\n"
    "[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n"
    "[maxpool]\nsize=2\nstride=2\n\n"
    "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n"
    "[convolutional]\nfilters=21\nsize=1\nstride=1\npad=1\nactivation=linear\n\n"
    "[yolo]\nmask=0,1,2\nanchors=4,4, 8,8, 16,16\nclasses=2\nnum=3\njitter=0\n"
    "ignore_thresh=.7\ntruth_thresh=1\nrandom=0\n";


/* ------------------------------------------------------------------ strings */

void tu_init(void)
{
    const char *f = getenv("LEGR_TEST_FILTER");
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (f && *f) cmocka_set_test_filter(f);
}

char *tu_fmt(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0) abort();
    va_end(ap);
    return s;
}

char *tu_path(const char *dir, const char *name)
{
    return tu_fmt("%s/%s", dir, name);
}

char *tu_quote(const char *s)
{
    size_t n = 3, i;
    const char *p;
    char *q;
    for (p = s; *p; ++p) n += (*p == '\'') ? 4 : 1;
    q = malloc(n);
    if (!q) abort();
    i = 0;
    q[i++] = '\'';
    for (p = s; *p; ++p) {
        if (*p == '\'') { memcpy(q + i, "'\\''", 4); i += 4; }
        else q[i++] = *p;
    }
    q[i++] = '\'';
    q[i] = 0;
    return q;
}

int tu_count_lines_with_prefix(const char *text, const char *prefix, char **first)
{
    int count = 0;
    size_t plen = strlen(prefix);
    const char *p = text;
    if (first) *first = NULL;
    if (!text) return 0;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len >= plen && strncmp(p, prefix, plen) == 0) {
            if (count == 0 && first) *first = strndup(p, len);
            ++count;
        }
        if (!e) break;
        p = e + 1;
    }
    return count;
}

/* -------------------------------------------------------------------- files */

/* Every directory tu_mkdtemp made, removed at exit if still there (a failed
 * assertion skips the test's own clean-up). */
static char *made_dirs[256];
static int n_made_dirs;

static void remove_made_dirs(void)
{
    int i;
    for (i = 0; i < n_made_dirs; ++i) {
        if (!getenv("LEGR_KEEP_TMP") && tu_exists(made_dirs[i])) tu_rmtree(made_dirs[i]);
        free(made_dirs[i]);
    }
    n_made_dirs = 0;
}

char *tu_mkdtemp(const char *tag)
{
    const char *base = getenv("TMPDIR");
    char *t = tu_fmt("%s/legr-%s-XXXXXX", (base && *base) ? base : "/tmp", tag);
    if (!mkdtemp(t)) {
        fprintf(stderr, "mkdtemp %s: %s\n", t, strerror(errno));
        abort();
    }
    if (n_made_dirs == 0) atexit(remove_made_dirs);
    if (n_made_dirs < (int)(sizeof(made_dirs) / sizeof(made_dirs[0])))
        made_dirs[n_made_dirs++] = strdup(t);
    return t;
}

void tu_rmtree(const char *dir)
{
    DIR *d;
    struct dirent *e;
    if (!dir) return;
    if (getenv("LEGR_KEEP_TMP")) {
        printf("kept %s\n", dir);
        return;
    }
    d = opendir(dir);
    if (!d) return;
    while ((e = readdir(d))) {
        char *p;
        struct stat st;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        p = tu_path(dir, e->d_name);
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) tu_rmtree(p);
        else unlink(p);
        free(p);
    }
    closedir(d);
    rmdir(dir);
}

char *tu_read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0, r;
    if (!fp) return NULL;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 65536;
            buf = realloc(buf, cap);
            if (!buf) abort();
        }
        r = fread(buf + n, 1, cap - n - 1, fp);
        n += r;
        if (r == 0) break;
    }
    fclose(fp);
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

int tu_write_file(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    if (!fp) return -1;
    if (len && fwrite(data, 1, len, fp) != len) { fclose(fp); return -1; }
    return fclose(fp) == 0 ? 0 : -1;
}

int tu_write_text(const char *path, const char *text)
{
    return tu_write_file(path, text, strlen(text));
}

int tu_copy_file(const char *src, const char *dst)
{
    size_t n;
    char *d = tu_read_file(src, &n);
    int r;
    if (!d) return -1;
    r = tu_write_file(dst, d, n);
    free(d);
    return r;
}

long tu_file_size(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) return -1;
    return (long)st.st_size;
}

int tu_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int tu_dir_entries(const char *dir, char **names)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    char *acc = strdup("");
    if (!d) { free(acc); if (names) *names = NULL; return -1; }
    while ((e = readdir(d))) {
        char *t;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        ++n;
        t = tu_fmt("%s%s\n", acc, e->d_name);
        free(acc);
        acc = t;
    }
    closedir(d);
    if (names) *names = acc; else free(acc);
    return n;
}

/* ------------------------------------------------------------------ running */

int tu_run(const char *cmd, char **out, char **err)
{
    char ofile[] = "/tmp/legr-run-out-XXXXXX";
    char efile[] = "/tmp/legr-run-err-XXXXXX";
    int ofd = mkstemp(ofile), efd = mkstemp(efile), status = -1;
    pid_t pid;

    if (out) *out = NULL;
    if (err) *err = NULL;
    if (ofd < 0 || efd < 0) return -1;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid == 0) {
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0) dup2(nul, 0);
        dup2(ofd, 1);
        dup2(efd, 2);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(ofd);
    close(efd);
    if (pid > 0) {
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        if (WIFEXITED(status)) status = WEXITSTATUS(status);
        else if (WIFSIGNALED(status)) status = 128 + WTERMSIG(status);
    }
    if (out) { *out = tu_read_file(ofile, NULL); if (!*out) *out = strdup(""); }
    if (err) { *err = tu_read_file(efile, NULL); if (!*err) *err = strdup(""); }
    unlink(ofile);
    unlink(efile);
    return pid > 0 ? status : -1;
}

static int quiet_saved[2] = {-1, -1};

void tu_quiet_begin(void)
{
    int nul;
    if (getenv("LEGR_TEST_VERBOSE") || quiet_saved[0] >= 0) return;
    fflush(stdout);
    fflush(stderr);
    nul = open("/dev/null", O_WRONLY);
    if (nul < 0) return;
    quiet_saved[0] = dup(1);
    quiet_saved[1] = dup(2);
    dup2(nul, 1);
    dup2(nul, 2);
    close(nul);
}

void tu_quiet_end(void)
{
    if (quiet_saved[0] < 0) return;
    fflush(stdout);
    fflush(stderr);
    dup2(quiet_saved[0], 1);
    dup2(quiet_saved[1], 2);
    close(quiet_saved[0]);
    close(quiet_saved[1]);
    quiet_saved[0] = quiet_saved[1] = -1;
}

long tu_cmd_flops(const char *cmd)
{
    char *out = NULL, *err = NULL, *line = NULL;
    long v = -1;
    int rc = tu_run(cmd, &out, &err);
    if (rc != 0) {
        printf("`%s` exited with %d; stderr tail:\n%s\n", cmd, rc,
               strlen(err) > 2000 ? err + strlen(err) - 2000 : err);
    } else if (tu_count_lines_with_prefix(out, "Floating Point Operations: ", &line) < 1) {
        printf("`%s` printed no \"Floating Point Operations:\" line:\n%s\n", cmd, out);
    } else {
        char *end = NULL;
        const char *num = line + strlen("Floating Point Operations: ");
        long long x = strtoll(num, &end, 10);
        if (end == num || (*end && *end != '\r')) {
            printf("`%s`: cannot read a whole number from \"%s\"\n", cmd, line);
        } else {
            v = (long)x;
        }
    }
    free(line);
    free(out);
    free(err);
    return v;
}

/* ---------------------------------------------------------------------- zoo */

const char *tu_zoo(void)
{
    static char *zoo = NULL;
    static int done = 0;
    if (!done) {
        const char *e = getenv("LEGR_ZOO");
        struct stat st;
        done = 1;
        zoo = strdup(e && *e ? e : "../shared/zoo");
        if (stat(zoo, &st) != 0 || !S_ISDIR(st.st_mode)) {
            free(zoo);
            zoo = NULL;
        }
    }
    return zoo;
}

char *tu_zoo_file(const char *rel)
{
    const char *z = tu_zoo();
    char *p;
    if (!z) {
        const char *e = getenv("LEGR_ZOO");
        printf("SKIP reason: test zoo not found (%s); set LEGR_ZOO to use real models\n",
               e && *e ? e : "../shared/zoo");
        return NULL;
    }
    p = tu_path(z, rel);
    if (!tu_exists(p)) {
        printf("SKIP reason: %s is missing from the test zoo\n", p);
        free(p);
        return NULL;
    }
    return p;
}

/* ---------------------------------------------------------------- cfg copy */

static char *strip_blanks(const char *s, size_t len)
{
    char *r = malloc(len + 1);
    size_t i, n = 0;
    if (!r) abort();
    for (i = 0; i < len; ++i)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') r[n++] = s[i];
    r[n] = 0;
    return r;
}

/* Splits text into lines (no '\n', trailing '\r' dropped); returns count. */
static int split_lines(char *text, char ***lines)
{
    int n = 0, cap = 64;
    char *p = text;
    *lines = malloc(sizeof(char *) * cap);
    while (*p) {
        char *e = strchr(p, '\n');
        if (e) *e = 0;
        if (n == cap) { cap *= 2; *lines = realloc(*lines, sizeof(char *) * cap); }
        {
            size_t l = strlen(p);
            if (l && p[l - 1] == '\r') p[l - 1] = 0;
        }
        (*lines)[n++] = p;
        if (!e) break;
        p = e + 1;
    }
    return n;
}

static int is_section(const char *line)
{
    while (*line == ' ' || *line == '\t') ++line;
    return *line == '[';
}

int tu_cfg_copy(const char *src, const char *dst, int width, int height)
{
    const char *keys[4] = {"batch", "subdivisions", "width", "height"};
    int vals[4];
    int seen[4] = {0, 0, 0, 0};
    char *text = tu_read_file(src, NULL), **lines;
    FILE *fp;
    int n, i, k, in_net = 0, net_header = -1, sec = 0;

    vals[0] = 1;
    vals[1] = 1;
    vals[2] = width;
    vals[3] = height;
    if (!text) return -1;
    n = split_lines(text, &lines);
    /* pass 1: which keys the first section ([net]) has */
    for (i = 0; i < n; ++i) {
        if (is_section(lines[i])) {
            if (sec++ == 0) { in_net = 1; net_header = i; } else in_net = 0;
            continue;
        }
        if (in_net) {
            char *eq = strchr(lines[i], '=');
            char *key;
            if (!eq) continue;
            key = strip_blanks(lines[i], (size_t)(eq - lines[i]));
            for (k = 0; k < 4; ++k) if (!strcmp(key, keys[k])) seen[k] = 1;
            free(key);
        }
    }
    if (net_header < 0) { free(lines); free(text); return -1; }
    fp = fopen(dst, "w");
    if (!fp) { free(lines); free(text); return -1; }
    sec = 0;
    in_net = 0;
    for (i = 0; i < n; ++i) {
        int replaced = 0;
        if (is_section(lines[i])) {
            in_net = (sec++ == 0);
            fprintf(fp, "%s\n", lines[i]);
            if (i == net_header)
                for (k = 0; k < 4; ++k)
                    if (!seen[k] && vals[k] > 0) fprintf(fp, "%s=%d\n", keys[k], vals[k]);
            continue;
        }
        if (in_net) {
            char *eq = strchr(lines[i], '=');
            if (eq) {
                char *key = strip_blanks(lines[i], (size_t)(eq - lines[i]));
                for (k = 0; k < 4; ++k) {
                    if (!strcmp(key, keys[k]) && vals[k] > 0) {
                        fprintf(fp, "%s=%d\n", keys[k], vals[k]);
                        replaced = 1;
                    }
                }
                free(key);
            }
        }
        if (!replaced) fprintf(fp, "%s\n", lines[i]);
    }
    free(lines);
    free(text);
    return fclose(fp) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------ our cfg parser */

int tu_cfg_parse(const char *path, tu_cfg *c)
{
    char *text = tu_read_file(path, NULL), **lines;
    int n, i;
    memset(c, 0, sizeof(*c));
    if (!text) return -1;
    n = split_lines(text, &lines);
    for (i = 0; i < n; ++i) {
        char *s = strip_blanks(lines[i], strlen(lines[i]));
        if (s[0] == 0 || s[0] == '#' || s[0] == ';') { free(s); continue; }
        if (s[0] == '[') {
            c->sec = realloc(c->sec, sizeof(tu_sec) * (c->n + 1));
            memset(&c->sec[c->n], 0, sizeof(tu_sec));
            c->sec[c->n].type = s;
            c->n++;
            continue;
        }
        {
            char *eq = strchr(s, '=');
            tu_sec *sec;
            if (!eq || c->n == 0) { free(s); free(lines); free(text); tu_cfg_free(c); return -1; }
            sec = &c->sec[c->n - 1];
            sec->key = realloc(sec->key, sizeof(char *) * (sec->n + 1));
            sec->value = realloc(sec->value, sizeof(char *) * (sec->n + 1));
            sec->key[sec->n] = strndup(s, (size_t)(eq - s));
            sec->value[sec->n] = strdup(eq + 1);
            sec->n++;
            free(s);
        }
    }
    free(lines);
    free(text);
    return 0;
}

void tu_cfg_free(tu_cfg *c)
{
    int i, j;
    for (i = 0; i < c->n; ++i) {
        for (j = 0; j < c->sec[i].n; ++j) {
            free(c->sec[i].key[j]);
            free(c->sec[i].value[j]);
        }
        free(c->sec[i].key);
        free(c->sec[i].value);
        free(c->sec[i].type);
    }
    free(c->sec);
    memset(c, 0, sizeof(*c));
}

const char *tu_cfg_get(const tu_sec *s, const char *key)
{
    int j;
    for (j = 0; j < s->n; ++j)
        if (!strcmp(s->key[j], key)) return s->value[j];
    return NULL;
}

/* ------------------------------------------------------------------ darknet */

network *tu_parse(const char *cfg)
{
    network *net;
    tu_quiet_begin();
    net = parse_network_cfg((char *)cfg);
    tu_quiet_end();
    return net;
}

network *tu_load(const char *cfg, const char *weights)
{
    network *net;
    tu_quiet_begin();
    net = parse_network_cfg((char *)cfg);
    if (net && weights) load_weights(net, (char *)weights);
    tu_quiet_end();
    return net;
}

/* xorshift64* and Box-Muller: the same numbers on every machine. */
typedef struct { uint64_t s; } tu_rng;

static uint64_t rng_next(tu_rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 2685821657736338717ULL;
}

static double rng_uniform(tu_rng *r)   /* [0, 1) */
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static double rng_normal(tu_rng *r)
{
    double u1 = rng_uniform(r), u2 = rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

static void fill_normal(tu_rng *r, float *x, long n, double sd)
{
    long i;
    for (i = 0; i < n; ++i) x[i] = (float)(rng_normal(r) * sd);
}

static void fill_uniform(tu_rng *r, float *x, long n, double lo, double hi)
{
    long i;
    for (i = 0; i < n; ++i) x[i] = (float)(lo + (hi - lo) * rng_uniform(r));
}

static void fill_bn(tu_rng *r, float *scales, float *mean, float *var, long n)
{
    fill_uniform(r, scales, n, 0.5, 1.5);
    fill_normal(r, mean, n, 0.05);
    fill_uniform(r, var, n, 0.5, 1.5);
}

/* Sets each BN conv layer's rolling mean and variance, in layer order, to the
 * per-channel mean and variance its convolution actually produces on
 * tu_input (as BN statistics of a trained network would be), so that
 * activations stay O(1) through deep and residual networks instead of
 * growing layer after layer; a comparison relative to the largest output
 * then stays sensitive to every output. */
static void calibrate_bn(network *net)
{
    /* One pass through the layers, the way forward_network runs them; a BN
     * conv first runs once with identity BN and a linear activation to
     * measure its convolution's statistics, then for real. */
    network nn;
    int i;
    float *x = malloc(sizeof(float) * (size_t)net->inputs);
    if (!x) abort();
    set_batch_network(net, 1);
    fd_input(x, (size_t)net->inputs);
    nn = *net;
    nn.input = x;
    nn.truth = 0;
    nn.train = 0;
    nn.delta = 0;
    for (i = 0; i < net->n; ++i) {
        layer l = net->layers[i];
        long hw = (long)l.out_h * l.out_w, k;
        nn.index = i;
        if (l.type == CONVOLUTIONAL && l.batch_normalize && hw > 0) {
            layer t = l;
            float *scales = malloc(sizeof(float) * l.n), *biases = malloc(sizeof(float) * l.n);
            int c;
            memcpy(scales, l.scales, sizeof(float) * l.n);
            memcpy(biases, l.biases, sizeof(float) * l.n);
            for (c = 0; c < l.n; ++c) {
                l.scales[c] = 1;
                l.biases[c] = 0;
                l.rolling_mean[c] = 0;
                l.rolling_variance[c] = 1;
            }
            t.activation = LINEAR;
            t.forward(t, nn);
            for (c = 0; c < l.n; ++c) {
                const float *o = l.output + (long)c * hw;
                double sum = 0, sq = 0, mean, var;
                for (k = 0; k < hw; ++k) sum += o[k];
                mean = sum / hw;
                for (k = 0; k < hw; ++k) sq += (o[k] - mean) * (o[k] - mean);
                var = sq / hw;
                l.rolling_mean[c] = (float)mean;
                l.rolling_variance[c] = (float)(var > 1e-4 ? var : 1e-4);
            }
            memcpy(l.scales, scales, sizeof(float) * l.n);
            memcpy(l.biases, biases, sizeof(float) * l.n);
            free(scales);
            free(biases);
        }
        l.forward(l, nn);
        nn.input = l.output;
    }
    free(x);
}

int tu_randomize_network(network *net, unsigned seed)
{
    tu_rng r;
    int i;
    r.s = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)seed * 0xD1B54A32D192ED03ULL);
    if (r.s == 0) r.s = 1;
    for (i = 0; i < net->n; ++i) {
        layer *l = &net->layers[i];
        if (l->type == CONVOLUTIONAL) {
            long fan_in = (long)(l->c / l->groups) * l->size * l->size;
            long nw = fan_in * l->n;
            fill_normal(&r, l->weights, nw, sqrt(2.0 / (double)fan_in));
            fill_uniform(&r, l->biases, l->n, -0.1, 0.1);
            if (l->batch_normalize)
                fill_bn(&r, l->scales, l->rolling_mean, l->rolling_variance, l->n);
        } else if (l->type == CONNECTED) {
            fill_normal(&r, l->weights, (long)l->inputs * l->outputs,
                        sqrt(2.0 / (double)l->inputs));
            fill_uniform(&r, l->biases, l->outputs, -0.1, 0.1);
            if (l->batch_normalize)
                fill_bn(&r, l->scales, l->rolling_mean, l->rolling_variance, l->outputs);
        } else if (l->type == BATCHNORM) {
            fill_bn(&r, l->scales, l->rolling_mean, l->rolling_variance, l->c);
        } else if (l->type == DECONVOLUTIONAL || l->type == LOCAL || l->type == RNN ||
                   l->type == GRU || l->type == LSTM || l->type == CRNN) {
            return -1;
        }
    }
    calibrate_bn(net);
    return 0;
}

int tu_random_weights(const char *cfg, const char *weights, unsigned seed)
{
    network *net = tu_parse(cfg);
    int rc;
    if (!net) return -1;
    rc = tu_randomize_network(net, seed);
    if (rc == 0) {
        tu_quiet_begin();
        save_weights(net, (char *)weights);
        tu_quiet_end();
    }
    free_network(net);
    return rc == 0 && tu_exists(weights) ? 0 : -1;
}

long tu_weight_floats(const network *net)
{
    long total = 0;
    int i;
    for (i = 0; i < net->n; ++i) {
        const layer *l = &net->layers[i];
        if (l->type == CONVOLUTIONAL) {
            total += l->n + (long)(l->c / l->groups) * l->n * l->size * l->size;
            if (l->batch_normalize) total += 3L * l->n;
        } else if (l->type == CONNECTED) {
            total += l->outputs + (long)l->inputs * l->outputs;
            if (l->batch_normalize) total += 3L * l->outputs;
        } else if (l->type == BATCHNORM) {
            total += 3L * l->c;
        } else if (l->type == DECONVOLUTIONAL || l->type == LOCAL || l->type == RNN ||
                   l->type == GRU || l->type == LSTM || l->type == CRNN) {
            return -1;
        }
    }
    return total;
}

long tu_ops(const network *net)
{
    long ops = 0;
    int i;
    for (i = 0; i < net->n; ++i) {
        const layer *l = &net->layers[i];
        /* the same expression, evaluated in the same order, as stock numops() */
        if (l->type == CONVOLUTIONAL)
            ops += 2l * l->n * l->size * l->size * l->c / l->groups * l->out_h * l->out_w;
        else if (l->type == CONNECTED)
            ops += 2l * l->inputs * l->outputs;
    }
    return ops;
}

void tu_input(float *x, size_t n)
{
    fd_input(x, n);
}

float *tu_forward_dump(network *net, size_t *n)
{
    return fd_forward(net, n);
}

int tu_dumped(const network *net, int i)
{
    return fd_is_dumped(net, i);
}

int tu_compare_dumps(const network *net, const float *a, const float *b, double rel)
{
    int bad = 0, i;
    size_t pos = (size_t)net->outputs;
    if (!tu_close("final output", a, b, (size_t)net->outputs, rel)) ++bad;
    for (i = 0; i < net->n; ++i) {
        const layer *l = &net->layers[i];
        char label[64];
        if (!fd_is_dumped(net, i)) continue;
        snprintf(label, sizeof(label), "layer %d %s", i,
                 l->type == YOLO ? "yolo" : l->type == REGION ? "region" :
                 l->type == DETECTION ? "detection" : "(before softmax)");
        if (!tu_close(label, a + pos, b + pos, (size_t)l->outputs, rel)) ++bad;
        pos += (size_t)l->outputs;
    }
    return bad;
}

double tu_max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    size_t i;
    for (i = 0; i < n; ++i) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > m || d != d) m = (d != d) ? INFINITY : d;
    }
    return m;
}

double tu_max_abs(const float *a, size_t n)
{
    double m = 0;
    size_t i;
    for (i = 0; i < n; ++i) {
        double d = fabs((double)a[i]);
        if (d > m || d != d) m = (d != d) ? INFINITY : d;
    }
    return m;
}

int tu_close(const char *label, const float *a, const float *b, size_t n, double rel)
{
    double diff = tu_max_abs_diff(a, b, n);
    double ma = tu_max_abs(a, n), mb = tu_max_abs(b, n);
    double scale = ma > mb ? ma : mb;
    double tol;
    int ok;
    if (scale < 1) scale = 1;
    tol = rel * scale;
    ok = diff <= tol && isfinite(ma) && isfinite(mb);
    printf("  %-40s %8zu floats  max|a|=%-11.5g max|b|=%-11.5g max|a-b|=%-11.4g tol=%-9.3g %s\n",
           label, n, ma, mb, diff, tol, ok ? "ok" : "MISMATCH");
    return ok;
}

void tu_assert_stock_forward_matches(const char *cfg, const char *weights,
                                     const char *dir, double rel)
{
    char *bin = tu_path(dir, "stock.bin");
    char *qc = tu_quote(cfg), *qw = tu_quote(weights), *qb = tu_quote(bin);
    char *cmd = tu_fmt("%s %s %s %s", TU_STOCK_FORWARD, qc, qw, qb);
    char *out = NULL, *err = NULL;
    size_t len = 0, n = 0;
    struct timespec t0, t1, t2;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = tu_run(cmd, &out, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc != 0) fail_msg("`%s` exited %d:\n%s", cmd, rc, err);
    char *data = tu_read_file(bin, &len);
    assert_non_null(data);
    network *net = tu_load(cfg, weights);
    assert_non_null(net);
    float *ours = tu_forward_dump(net, &n);
    clock_gettime(CLOCK_MONOTONIC, &t2);
    printf("  stock forward (parse+load+run) %.2fs, ours %.2fs\n",
           (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
           (t2.tv_sec - t1.tv_sec) + (t2.tv_nsec - t1.tv_nsec) / 1e9);
    assert_int_equal(len, n * sizeof(float));
    int bad = tu_compare_dumps(net, (float *)data, ours, rel);
    double peak = tu_max_abs(ours, n);
    free_network(net);
    free(ours); free(data); free(out); free(err); free(cmd);
    free(qc); free(qw); free(qb); free(bin);
    assert_true(peak > 0);
    if (bad) fail_msg("stock Darknet's forward pass differs from ours on %s", cfg);
}

/* ------------------------------------------------ OpenCV DNN (test_opencv.c) */

float *tu_letterbox_input(const char *jpg, int w, int h)
{
    image im, sized;
    float *x;
    if (!tu_exists(jpg)) return NULL;
    tu_quiet_begin();
    im = load_image_color((char *)jpg, 0, 0);
    sized = letterbox_image(im, w, h);
    tu_quiet_end();
    x = malloc(sizeof(float) * 3 * (size_t)w * h);
    if (x) memcpy(x, sized.data, sizeof(float) * 3 * (size_t)w * h);
    free_image(im);
    free_image(sized);
    return x;
}

int tu_write_chw(const char *path, const float *x, int c, int h, int w)
{
    int32_t dim[3] = {c, h, w};
    size_t n = (size_t)c * h * w;
    FILE *fp = fopen(path, "wb");
    if (!fp) return -1;
    if (fwrite(dim, sizeof(dim[0]), 3, fp) != 3 || fwrite(x, sizeof(float), n, fp) != n) {
        fclose(fp);
        return -1;
    }
    return fclose(fp) == 0 ? 0 : -1;
}

int tu_count_legr_errors(const char *text, char **first)
{
    int n = 0;
    if (first) *first = NULL;
    for (const char *p = text; p && *p; ) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (!strncmp(p, "legr:", 5) && strncmp(p, "legr: warning:", 14)) {
            if (!n && first) *first = strndup(p, len);
            ++n;
        }
        p = e ? e + 1 : NULL;
    }
    return n;
}
