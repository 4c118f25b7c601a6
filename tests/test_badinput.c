/* test_badinput.c: the README's bad-input promise, command by command, on a
 * tiny detector (32x32, 2 classes) and a 4-image data set made here.  Every
 * case must end with a non-zero exit (not a signal, not a hang: 30 s and it
 * is killed), exactly one stderr line, starting "legr:" and naming what is
 * wrong, and no file created or changed anywhere in the test's directory
 * (every file's bytes and every directory's listing compared before and
 * after), nor a search work directory (legr-search-<pid>-*) left in /dev/shm
 * or /tmp.  The cases:
 *   A  an output over an input, by inode: eval -json over the cfg, the
 *      weights, the .data or its train= list; search -out over the .data or
 *      a list, or with its .csv over the cfg; prune with a ranking named like
 *      its output, or its .csv over -eval's valid= list; finetune's PREFIX.cfg
 *      over its train= list; init over its cfg;
 *   B  NaN and inf (Darknet builds with -Ofast): budgets, -min, -thresh, -iou,
 *      -target, -mutate, -lr, alpha/kappa in a ranking file, a checkpoint's
 *      fitness, label coordinates (NaN, > 1, < 0) and class ids out of range,
 *      in eval's valid= labels and in search's and finetune's train= labels;
 *   C  outputs that cannot be written: prune's p-50.cfg (or .weights, .csv)
 *      an existing directory, a missing output directory, two budgets with
 *      one name, -json /dev/null; search -target 1e-9 (unreachable) with no
 *      log and no work directory; with a full disk (a small tmpfs, when this
 *      process may mount one) prune, eval and search leave nothing; a search
 *      killed by SIGTERM or SIGKILL leaves no work directory (the janitor);
 *   D  a FIFO (or a directory, or /dev/zero) as cfg, weights, ranking, .data,
 *      train= or valid= list, checkpoint, label file, -images list;
 *   E  checkpoints: done -5, done 999, best 999, a pool of the wrong size,
 *      text after the pool, alpha <= 0; -lr -1 and 0; eval -bn 1 with an
 *      empty train= list; integer options out of range or not integers. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

static char *g_dir;                 /* everything lives under it */
static char *g_in, *g_out, *g_bad, *g_res;
static char *g_cfg, *g_weights, *g_data, *g_train, *g_valid;


static const char *GOOD_LABEL = "0 0.5 0.5 0.3 0.3\n1 0.2 0.2 0.1 0.1\n";

/* A quick search: the options every search here shares. */
#define SEARCH_OPTS "-evals 2 -pool 2 -sample 2 -tau 1 -val 2 -bn-images 0 -workers 1 -seed 3"

/* ------------------------------------------------------------ running */

typedef struct {
    int rc;                 /* exit status, 128 + signal, or 124 when it hung */
    pid_t pid;              /* the darknet process (sh execs it) */
    char *out, *err;
} run_result;

static void run_free(run_result *r)
{
    free(r->out);
    free(r->err);
}

/* Starts `./darknet <args>` (through sh -c 'exec ...', so the pid is
 * darknet's), stdout/stderr to the given files. */
static pid_t start(const char *args, const char *ofile, const char *efile)
{
    char *cmd = tu_fmt("exec %s %s", TU_OUR_DARKNET, args);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        /* the default actions, however the tests were started: a background
         * job of a non-interactive shell inherits SIGINT and SIGQUIT ignored */
        signal(SIGINT, SIG_DFL);
        signal(SIGQUIT, SIG_DFL);
        int nul = open("/dev/null", O_RDONLY);
        int o = open(ofile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(efile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (nul >= 0) dup2(nul, 0);
        if (o >= 0) dup2(o, 1);
        if (e >= 0) dup2(e, 2);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    free(cmd);
    return pid;
}

static int wait_for(pid_t pid, double seconds)
{
    int status;
    struct timespec ts = {0, 20 * 1000 * 1000};
    for (double t = 0; t < seconds; t += 0.02) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return 124;
}

static run_result run(const char *args)
{
    char *of = tu_path(g_dir, "run.out"), *ef = tu_path(g_dir, "run.err");
    run_result r;
    r.pid = start(args, of, ef);
    r.rc = wait_for(r.pid, 30);
    r.out = tu_read_file(of, NULL);
    r.err = tu_read_file(ef, NULL);
    if (!r.out) r.out = strdup("");
    if (!r.err) r.err = strdup("");
    unlink(of);
    unlink(ef);
    free(of);
    free(ef);
    return r;
}

/* Number of legr-search-<pid>-* directories in /dev/shm and /tmp. */
static int workdirs_of(pid_t pid)
{
    int n = 0;
    const char *bases[] = {"/dev/shm", "/tmp"};
    for (int b = 0; b < 2; ++b) {
        char *pat = tu_fmt("%s/legr-search-%ld-*", bases[b], (long)pid);
        glob_t g;
        if (glob(pat, 0, NULL, &g) == 0) n += (int)g.gl_pathc;
        globfree(&g);
        free(pat);
    }
    return n;
}

/* ----------------------------------------------------- snapshots of g_dir */

typedef struct {
    int n;
    char **path;            /* relative to the root, sorted */
    char **data;            /* regular files' bytes, else NULL */
    size_t *len;
    mode_t *type;
} snapshot;

static void snap_add(snapshot *s, const char *rel, mode_t type, char *data, size_t len)
{
    s->path = realloc(s->path, (s->n + 1) * sizeof *s->path);
    s->data = realloc(s->data, (s->n + 1) * sizeof *s->data);
    s->len = realloc(s->len, (s->n + 1) * sizeof *s->len);
    s->type = realloc(s->type, (s->n + 1) * sizeof *s->type);
    s->path[s->n] = strdup(rel);
    s->data[s->n] = data;
    s->len[s->n] = len;
    s->type[s->n] = type;
    s->n++;
}

static void snap_walk(snapshot *s, const char *root, const char *rel)
{
    char *dir = *rel ? tu_path(root, rel) : strdup(root);
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (!*rel && (!strcmp(e->d_name, "run.out") || !strcmp(e->d_name, "run.err"))) continue;
        char *r = *rel ? tu_fmt("%s/%s", rel, e->d_name) : strdup(e->d_name);
        char *p = tu_path(root, r);
        struct stat st;
        if (lstat(p, &st) == 0) {
            size_t len = 0;
            char *data = S_ISREG(st.st_mode) ? tu_read_file(p, &len) : NULL;
            snap_add(s, r, st.st_mode & S_IFMT, data, len);
            if (S_ISDIR(st.st_mode)) snap_walk(s, root, r);
        }
        free(p);
        free(r);
    }
    if (d) closedir(d);
    free(dir);
}

static snapshot *cmp_snap;     /* for by_path (qsort has no context) */
static int by_path(const void *a, const void *b)
{
    return strcmp(cmp_snap->path[*(const int *)a], cmp_snap->path[*(const int *)b]);
}

static snapshot snap_take(void)
{
    snapshot s = {0}, sorted = {0};
    snap_walk(&s, g_dir, "");
    int *idx = malloc((s.n + 1) * sizeof(int));
    for (int i = 0; i < s.n; ++i) idx[i] = i;
    cmp_snap = &s;
    qsort(idx, s.n, sizeof(int), by_path);
    for (int i = 0; i < s.n; ++i) {
        int k = idx[i];
        snap_add(&sorted, s.path[k], s.type[k], s.data[k], s.len[k]);
        free(s.path[k]);
    }
    free(idx);
    free(s.path); free(s.data); free(s.len); free(s.type);
    return sorted;
}

static void snap_free(snapshot *s)
{
    for (int i = 0; i < s->n; ++i) { free(s->path[i]); free(s->data[i]); }
    free(s->path); free(s->data); free(s->len); free(s->type);
    memset(s, 0, sizeof *s);
}

/* Fails naming the first file created, removed or changed. */
static void snap_expect_same(const char *what, const snapshot *a, const snapshot *b)
{
    int i = 0, j = 0;
    while (i < a->n || j < b->n) {
        int c = i == a->n ? 1 : j == b->n ? -1 : strcmp(a->path[i], b->path[j]);
        if (c < 0) fail_msg("%s: %s was removed", what, a->path[i]);
        if (c > 0) fail_msg("%s: %s was created", what, b->path[j]);
        if (a->type[i] != b->type[j]) fail_msg("%s: %s changed type", what, a->path[i]);
        if (a->len[i] != b->len[j] || (a->data[i] && memcmp(a->data[i], b->data[j], a->len[i])))
            fail_msg("%s: %s was changed", what, a->path[i]);
        ++i;
        ++j;
    }
}

/* ------------------------------------------------------------- checks */

/* The run of `darknet args` must fail cleanly (see the top), its one
 * "legr:" line containing each of the NULL-terminated `want`. */
static void expect_refused(const char *what, const char *args, const char *const *want)
{
    snapshot before = snap_take();
    run_result r = run(args);
    snapshot after = snap_take();
    char *line = NULL;
    int n = tu_count_lines_with_prefix(r.err, "legr:", &line);
    printf("  %-34s exit %d: %s\n", what, r.rc, line ? line : "(no legr: line)");
    if (r.rc == 124) fail_msg("%s: still running after 30 s (hung?)\n`darknet %s`", what, args);
    if (r.rc == 0) fail_msg("%s: exit status 0\n`darknet %s`\nstdout:\n%s", what, args, r.out);
    if (r.rc >= 128) fail_msg("%s: killed by signal %d\nstderr:\n%s", what, r.rc - 128, r.err);
    if (n != 1) fail_msg("%s: %d stderr lines start with \"legr:\", expected 1\nstderr:\n%s", what, n, r.err);
    int lines = 0;
    for (const char *c = r.err; *c; ++c) lines += *c == '\n';
    if (lines != 1) fail_msg("%s: stderr has %d lines, expected the one legr: line\n%s", what, lines, r.err);
    for (; want && *want; ++want)
        if (!strstr(line, *want)) fail_msg("%s: \"%s\" does not mention \"%s\"", what, line, *want);
    snap_expect_same(what, &before, &after);
    if (workdirs_of(r.pid)) fail_msg("%s: a legr-search-%ld-* work directory was left behind", what, (long)r.pid);
    snap_free(&before);
    snap_free(&after);
    free(line);
    run_free(&r);
}

/* The same, with the strings as arguments (NULL-terminated). */
#define REFUSED(what, args, ...) do {                              \
        const char *const want_[] = { __VA_ARGS__, NULL };         \
        char *a_ = (args);                                         \
        expect_refused(what, a_, want_);                           \
        free(a_);                                                  \
    } while (0)

static char *q(const char *s)      /* shell-quoted; leaks (a test) */
{
    return tu_quote(s);
}

static char *in(const char *name) { return tu_path(g_in, name); }
static char *bad(const char *name) { return tu_path(g_bad, name); }
static char *outp(const char *name) { return tu_path(g_out, name); }

/* dst = src with the first `find` replaced by `rep`. */
static void write_edited(const char *src, const char *dst, const char *find, const char *rep)
{
    char *t = tu_read_file(src, NULL);
    assert_non_null(t);
    char *p = strstr(t, find);
    if (!p) fail_msg("%s: no \"%s\" to edit", src, find);
    *p = 0;
    char *e = tu_fmt("%s%s%s", t, rep, p + strlen(find));
    assert_int_equal(tu_write_text(dst, e), 0);
    free(e);
    free(t);
}

/* A data set in g_bad: <name>.data naming <name>-train.txt (images with the
 * given label text each) and <name>-valid.txt (the good images of g_in). */
static char *bad_data(const char *name, int n_train, const char *train_label)
{
    char *imgdir = tu_fmt("%s/%s/images", g_bad, name), *labdir = tu_fmt("%s/%s/labels", g_bad, name);
    char *top = tu_fmt("%s/%s", g_bad, name);
    mkdir(top, 0755);
    mkdir(imgdir, 0755);
    mkdir(labdir, 0755);
    char *list = strdup("");
    for (int i = 0; i < n_train; ++i) {
        char *img = tu_fmt("%s/t%d.jpg", imgdir, i), *lab = tu_fmt("%s/t%d.txt", labdir, i);
        assert_int_equal(tu_copy_file(TU_DOG_JPG, img), 0);
        assert_int_equal(tu_write_text(lab, train_label), 0);
        char *l = tu_fmt("%s%s\n", list, img);
        free(list);
        list = l;
        free(img);
        free(lab);
    }
    char *train = tu_fmt("%s/%s-train.txt", g_bad, name), *data = tu_fmt("%s/%s.data", g_bad, name);
    assert_int_equal(tu_write_text(train, list), 0);
    char *text = tu_fmt("classes=2\ntrain=%s\nvalid=%s\nnames=%s/names.txt\n", train, g_valid, g_in);
    assert_int_equal(tu_write_text(data, text), 0);
    free(text); free(train); free(list); free(imgdir); free(labdir); free(top);
    return data;
}

/* ------------------------------------------------------------- fixture */

static int setup(void **state)
{
    g_dir = tu_mkdtemp("badinput");
    g_in = tu_path(g_dir, "in");
    g_out = tu_path(g_dir, "out");
    g_bad = tu_path(g_dir, "bad");
    g_res = tu_path(g_dir, "res");
    if (mkdir(g_in, 0755) || mkdir(g_out, 0755) || mkdir(g_bad, 0755) || mkdir(g_res, 0755)) return -1;
    if (!tu_exists(TU_OUR_DARKNET)) {
        fprintf(stderr, "%s not found: run the tests from the repository root after make\n", TU_OUR_DARKNET);
        return -1;
    }
    g_cfg = in("det.cfg");
    g_weights = in("det.weights");
    g_data = in("det.data");
    g_train = in("train.txt");
    g_valid = in("valid.txt");
    if (tu_write_text(g_cfg, TU_TINY_DET_CFG) || tu_random_weights(g_cfg, g_weights, 5)) return -1;
    char *imgdir = in("images"), *labdir = in("labels");
    mkdir(imgdir, 0755);
    mkdir(labdir, 0755);
    char *list = strdup("");
    for (int i = 0; i < 4; ++i) {
        char *img = tu_fmt("%s/im%d.jpg", imgdir, i), *lab = tu_fmt("%s/im%d.txt", labdir, i);
        if (tu_copy_file(TU_DOG_JPG, img) || tu_write_text(lab, GOOD_LABEL)) return -1;
        char *l = tu_fmt("%s%s\n", list, img);
        free(list);
        list = l;
        free(img);
        free(lab);
    }
    char *names = in("names.txt");
    char *data = tu_fmt("classes=2\ntrain=%s\nvalid=%s\nnames=%s\n", g_train, g_valid, names);
    if (tu_write_text(g_train, list) || tu_write_text(g_valid, list) || tu_write_text(names, "a\nb\n") ||
        tu_write_text(g_data, data))
        return -1;
    free(data); free(names); free(list); free(imgdir); free(labdir);

    /* a finished search: a good ranking and checkpoint to damage */
    char *rs = tu_path(g_res, "s");
    char *args = tu_fmt("legr search %s %s -data %s " SEARCH_OPTS " -out %s", g_cfg, g_weights, g_data, rs);
    run_result r = run(args);
    if (r.rc != 0) { fprintf(stderr, "setup search failed (%d):\n%s\n%s", r.rc, r.out, r.err); return -1; }
    run_free(&r);
    free(args);
    free(rs);
    return 0;
}

static int teardown(void **state)
{
    tu_rmtree(g_dir);
    free(g_dir); free(g_in); free(g_out); free(g_bad); free(g_res);
    free(g_cfg); free(g_weights); free(g_data); free(g_train); free(g_valid);
    return 0;
}

/* the good inputs, quoted */
#define CFG q(g_cfg)
#define W q(g_weights)
#define DATA q(g_data)

/* ------------------------------------------------- A: outputs over inputs */

static void test_outputs_over_inputs(void **state)
{
    REFUSED("eval -json <cfg>", tu_fmt("legr eval %s %s %s -json %s", DATA, CFG, W, CFG), "det.cfg", "overwrite");
    REFUSED("eval -json <weights>", tu_fmt("legr eval %s %s %s -json %s", DATA, CFG, W, W), "det.weights");
    REFUSED("eval -json <.data>", tu_fmt("legr eval %s %s %s -json %s", DATA, CFG, W, DATA), "det.data");
    REFUSED("eval -json <train= list>", tu_fmt("legr eval %s %s %s -json %s", DATA, CFG, W, q(g_train)), "train.txt");
    REFUSED("flops -json <cfg>", tu_fmt("legr flops %s -json %s", CFG, CFG), "det.cfg", "overwrite");
    REFUSED("prune -json <weights>", tu_fmt("legr prune %s %s 0.5 -out %s -json %s", CFG, W, q(outp("p")), W),
            "det.weights", "overwrite");
    REFUSED("prune -json <its own pair>", tu_fmt("legr prune %s %s 0.5 -out %s -json %s", CFG, W, q(outp("p")),
            q(outp("p-50.cfg"))), "p-50.cfg", "another output");
    REFUSED("prune -json <its own csv>", tu_fmt("legr prune %s %s 0.5 -out %s -eval %s -json %s", CFG, W,
            q(outp("p")), DATA, q(outp("p.csv"))), "p.csv", "another output");
    REFUSED("search -json <.data>", tu_fmt("legr search %s %s -data %s " SEARCH_OPTS " -out %s -json %s", CFG, W,
            DATA, q(outp("s")), DATA), "det.data", "overwrite");
    REFUSED("search -json <its ranking>", tu_fmt("legr search %s %s -data %s " SEARCH_OPTS " -out %s -json %s",
            CFG, W, DATA, q(outp("s")), q(outp("s"))), "another output");
    REFUSED("search -json <its log>", tu_fmt("legr search %s %s -data %s " SEARCH_OPTS " -out %s -json %s",
            CFG, W, DATA, q(outp("s")), q(outp("s.csv"))), "s.csv", "another output");
    setenv("LEGR_IMAGE_CACHE_MB", "abc", 1);     /* the child inherits it */
    REFUSED("eval LEGR_IMAGE_CACHE_MB=abc", tu_fmt("legr eval %s %s %s", DATA, CFG, W), "LEGR_IMAGE_CACHE_MB");
    unsetenv("LEGR_IMAGE_CACHE_MB");
    REFUSED("search -out <.data>", tu_fmt("legr search %s %s -data %s " SEARCH_OPTS " -out %s", CFG, W, DATA, DATA),
            "det.data", "overwrite");
    REFUSED("search -out <valid= list>",
            tu_fmt("legr search %s %s -data %s " SEARCH_OPTS " -out %s", CFG, W, DATA, q(g_valid)), "valid.txt");
    /* -out X writes X.csv: here the cfg itself */
    char *cfgcsv = bad("x.csv"), *x = bad("x");
    assert_int_equal(tu_copy_file(g_cfg, cfgcsv), 0);
    REFUSED("search: X.csv is the cfg", tu_fmt("legr search %s %s -data %s " SEARCH_OPTS " -out %s",
                                                q(cfgcsv), W, DATA, q(x)), "x.csv");
    /* a ranking named like prune's output */
    char *rk = bad("rk-50.cfg"), *rkp = bad("rk"), *rs = tu_path(g_res, "s");
    assert_int_equal(tu_copy_file(rs, rk), 0);
    REFUSED("prune: ranking is PREFIX-50.cfg", tu_fmt("legr prune %s %s %s 0.5 -out %s", CFG, W, q(rk), q(rkp)),
            "rk-50.cfg", "overwrite");
    /* prune -eval D -out P writes P.csv: here D's valid= list */
    char *vl = bad("p.csv"), *pp = bad("p"), *d2 = bad("p.data");
    assert_int_equal(tu_copy_file(g_valid, vl), 0);
    char *text = tu_fmt("classes=2\ntrain=%s\nvalid=%s\n", g_train, vl);
    assert_int_equal(tu_write_text(d2, text), 0);
    REFUSED("prune -eval: P.csv is valid= list", tu_fmt("legr prune %s %s 0.5 -eval %s -n 2 -out %s", CFG, W, q(d2), q(pp)),
            "p.csv");
    /* finetune -out F writes F.cfg: here the train= list */
    char *tl = bad("ft.cfg"), *ft = bad("ft"), *d3 = bad("ft.data");
    assert_int_equal(tu_copy_file(g_train, tl), 0);
    free(text);
    text = tu_fmt("classes=2\ntrain=%s\nvalid=%s\n", tl, g_valid);
    assert_int_equal(tu_write_text(d3, text), 0);
    REFUSED("finetune: F.cfg is train= list", tu_fmt("legr finetune %s %s %s -iters 1 -out %s", q(d3), CFG, W, q(ft)),
            "ft.cfg");
    REFUSED("init <cfg> <cfg>", tu_fmt("legr init %s %s", CFG, CFG), "det.cfg");
    free(text);
    free(cfgcsv); free(x); free(rk); free(rkp); free(rs); free(vl); free(pp); free(d2); free(tl); free(ft); free(d3);
}

/* --------------------------------------------------------- B: NaN, inf */

static void test_nan_options(void **state)
{
    char *p = q(outp("p"));
    const char *budgets[] = {"nan", "inf", "-inf", "1e999"};
    for (int i = 0; i < 4; ++i) {
        char what[64];
        snprintf(what, sizeof what, "prune budget %s", budgets[i]);
        REFUSED(what, tu_fmt("legr prune %s %s %s -out %s", CFG, W, budgets[i], p), budgets[i]);
        snprintf(what, sizeof what, "prune 0.5 %s", budgets[i]);
        REFUSED(what, tu_fmt("legr prune %s %s 0.5 %s -out %s", CFG, W, budgets[i], p), budgets[i]);
    }
    REFUSED("prune -min nan", tu_fmt("legr prune %s %s 0.5 -min nan -out %s", CFG, W, p), "-min");
    REFUSED("prune -min inf", tu_fmt("legr prune %s %s 0.5 -min inf -out %s", CFG, W, p), "-min");
    REFUSED("prune -ridge nan", tu_fmt("legr prune %s %s 0.5 -ridge nan -out %s", CFG, W, p), "-ridge");
    REFUSED("eval -thresh nan", tu_fmt("legr eval %s %s %s -thresh nan", DATA, CFG, W), "-thresh");
    REFUSED("eval -iou nan", tu_fmt("legr eval %s %s %s -iou nan", DATA, CFG, W), "-iou");
    REFUSED("eval -iou inf", tu_fmt("legr eval %s %s %s -iou inf", DATA, CFG, W), "-iou");
    char *s = q(outp("s"));
    const char *opts[][2] = {
        {"-target nan", "-target"}, {"-target 0.5,nan", "-target"}, {"-target inf", "-target"},
        {"-mutate nan", "-mutate"}, {"-min nan", "-min"}, {"-lr nan", "-lr"}, {"-lr inf", "-lr"},
    };
    for (size_t i = 0; i < sizeof opts / sizeof *opts; ++i) {
        char what[64];
        snprintf(what, sizeof what, "search %s", opts[i][0]);
        REFUSED(what, tu_fmt("legr search %s %s -data %s " SEARCH_OPTS " %s -out %s", CFG, W, DATA, opts[i][0], s),
                opts[i][1]);
    }
    REFUSED("finetune -lr-steps 0", tu_fmt("legr finetune %s %s %s -lr-steps 0 -iters 1 -out %s", DATA, CFG, W, p),
            "-lr-steps");
    REFUSED("finetune -lr-steps 2x", tu_fmt("legr finetune %s %s %s -lr-steps 2x -iters 1 -out %s", DATA, CFG, W, p),
            "-lr-steps");
    REFUSED("finetune -lr-steps 4", tu_fmt("legr finetune %s %s %s -lr-steps 4 -iters 1 -out %s", DATA, CFG, W, p),
            "-lr-steps");
    REFUSED("finetune -lr nan", tu_fmt("legr finetune %s %s %s -lr nan -iters 1 -out %s", DATA, CFG, W, p), "-lr");
    const char *aug[] = {"nan", "2", "-0.1", "0.001"};
    for (int i = 0; i < 4; ++i) {
        char what[64];
        snprintf(what, sizeof what, "finetune -augment %s", aug[i]);
        REFUSED(what, tu_fmt("legr finetune %s %s %s -nolabels -teacher %s %s -augment %s -iters 1 -out %s",
                             DATA, CFG, W, CFG, W, aug[i], p), "-augment");
    }
    REFUSED("finetune -augment without -nolabels",
            tu_fmt("legr finetune %s %s %s -augment 0.3 -iters 1 -out %s", DATA, CFG, W, p), "-nolabels");
    REFUSED("finetune -distill nan", tu_fmt("legr finetune %s %s %s -distill nan -iters 1 -out %s", DATA, CFG, W, p),
            "-distill");
}

/* A ranking with the first group's alpha and kappa replaced. */
static void test_nan_ranking(void **state)
{
    char *rs = tu_path(g_res, "s"), *text = tu_read_file(rs, NULL);
    assert_non_null(text);
    /* the first data line: "group layer channels alpha kappa" */
    char *line = text;
    while (*line == '#') line = strchr(line, '\n') + 1;
    int k, lay, ch;
    float al, ka;
    assert_int_equal(sscanf(line, "%d %d %d %f %f", &k, &lay, &ch, &al, &ka), 5);
    const char *eol = strchr(line, '\n');
    const char *repl[][2] = {{"nan", "0"}, {"1", "nan"}, {"inf", "0"}, {"1", "-inf"}, {"1e39", "0"},
                             {"-1", "0"}, {"0", "0"}, {"1", "1e39"}};
    for (size_t i = 0; i < sizeof repl / sizeof *repl; ++i) {
        char *r = tu_path(g_bad, "nan.ranking");
        char *edited = tu_fmt("%.*s%d %d %d %s %s%s", (int)(line - text), text, k, lay, ch, repl[i][0],
                              repl[i][1], eol);
        assert_int_equal(tu_write_text(r, edited), 0);
        char what[64];
        snprintf(what, sizeof what, "ranking alpha %s kappa %s", repl[i][0], repl[i][1]);
        REFUSED(what, tu_fmt("legr prune %s %s %s 0.5 -out %s", CFG, W, q(r), q(outp("p"))), "nan.ranking");
        free(edited);
        free(r);
    }
    free(text);
    free(rs);
}

/* Label files: eval reads valid= labels, search and finetune train= labels. */
static void test_bad_labels(void **state)
{
    const char *labels[][2] = {
        {"0 nan 0.5 0.3 0.3\n", "nan x"}, {"0 0.5 0.5 1.3 0.3\n", "w > 1"}, {"0 0.5 -0.1 0.3 0.3\n", "y < 0"},
        {"0 0.5 0.5 0.3 inf\n", "h inf"}, {"2 0.5 0.5 0.3 0.3\n", "class 2 of 2"}, {"-1 0.5 0.5 0.3 0.3\n", "class -1"},
        {"0 0.5 0.5 0.3\n", "4 fields"},
    };
    for (size_t i = 0; i < sizeof labels / sizeof *labels; ++i) {
        char name[16], what[64];
        snprintf(name, sizeof name, "lab%zu", i);
        char *d = bad_data(name, 2, labels[i][0]);
        char *label = tu_fmt("%s/labels/t0.txt", name);
        /* eval on a .data whose valid= is the bad list */
        char *ed = tu_fmt("%s/%s-eval.data", g_bad, name), *train = tu_fmt("%s/%s-train.txt", g_bad, name);
        char *text = tu_fmt("classes=2\nvalid=%s\n", train);
        assert_int_equal(tu_write_text(ed, text), 0);
        snprintf(what, sizeof what, "eval: label %s", labels[i][1]);
        REFUSED(what, tu_fmt("legr eval %s %s %s", q(ed), CFG, W), label);
        snprintf(what, sizeof what, "search: train label %s", labels[i][1]);
        REFUSED(what, tu_fmt("legr search %s %s -data %s " SEARCH_OPTS " -out %s", CFG, W, q(d), q(outp("s"))), label);
        snprintf(what, sizeof what, "finetune: train label %s", labels[i][1]);
        REFUSED(what, tu_fmt("legr finetune %s %s %s -iters 1 -out %s", q(d), CFG, W, q(outp("f"))), label);
        free(text); free(ed); free(train); free(label); free(d);
    }
}

/* --------------------------------------------- C: outputs that cannot be */

static void test_unwritable_outputs(void **state)
{
    const char *names[] = {"p-50.cfg", "p-50.weights", "p.csv"};
    for (int i = 0; i < 3; ++i) {
        char *dir = outp(names[i]), what[64];
        assert_int_equal(mkdir(dir, 0755), 0);
        snprintf(what, sizeof what, "prune: %s a directory", names[i]);
        REFUSED(what, tu_fmt("legr prune %s %s 0.7 0.5 -eval %s -n 2 -out %s", CFG, W, DATA, q(outp("p"))), names[i]);
        assert_int_equal(rmdir(dir), 0);
        free(dir);
    }
    REFUSED("prune: no such directory", tu_fmt("legr prune %s %s 0.5 -out %s/nodir/p", CFG, W, q(g_out)), "nodir");
    REFUSED("prune: budgets 0.5 and 0.50", tu_fmt("legr prune %s %s 0.5 0.50 -out %s", CFG, W, q(outp("p"))), "p-50.cfg");
    REFUSED("eval -json /dev/null", tu_fmt("legr eval %s %s %s -json /dev/null", DATA, CFG, W), "/dev/null");
    REFUSED("eval -json <a directory>", tu_fmt("legr eval %s %s %s -json %s", DATA, CFG, W, q(g_out)), "not a regular");
    char *ck = outp("s.ckpt");
    assert_int_equal(mkdir(ck, 0755), 0);
    REFUSED("search: s.ckpt a directory", tu_fmt("legr search %s %s -data %s " SEARCH_OPTS " -out %s", CFG, W, DATA,
                                                 q(outp("s"))), "s.ckpt");
    assert_int_equal(rmdir(ck), 0);
    free(ck);
    REFUSED("init: out a directory", tu_fmt("legr init %s %s", CFG, q(g_out)), "not a regular");
    /* an unreachable budget fails before the log or the work directory exist */
    REFUSED("search -target 1e-9", tu_fmt("legr search %s %s -data %s " SEARCH_OPTS " -target 1e-9 -out %s",
                                          CFG, W, DATA, q(outp("s"))), "-target", "unreachable");
    REFUSED("search -target 0.5,1e-9", tu_fmt("legr search %s %s -data %s " SEARCH_OPTS " -target 0.5,1e-9 -out %s",
                                              CFG, W, DATA, q(outp("s"))), "unreachable");
}

/* Unmounts the full-disk tmpfs however test_full_disk ended. */
static int full_disk_teardown(void **state)
{
    char *full = tu_path(g_dir, "full");
    if (umount(full) == 0) printf("  (unmounted %s)\n", full);
    rmdir(full);
    free(full);
    return 0;
}

/* A full disk: a 16 KiB tmpfs, filled.  Needs the right to mount (root in a
 * container that allows it); skipped otherwise. */
static void test_full_disk(void **state)
{
    char *full = tu_path(g_dir, "full");
    assert_int_equal(mkdir(full, 0755), 0);
    if (mount("tmpfs", full, "tmpfs", 0, "size=16k") != 0) {
        printf("SKIP: cannot mount a small tmpfs here (%s): the full-disk cases need it\n", strerror(errno));
        rmdir(full);
        free(full);
        skip();
    }
    /* filled to the last block: every write fails */
    char *fill = tu_path(full, "fill");
    FILE *fp = fopen(fill, "wb");
    char block[512] = {0};
    while (fp && fwrite(block, 1, sizeof block, fp) == sizeof block && fflush(fp) == 0) {}
    if (fp) fclose(fp);
    char *p = tu_fmt("%s/p", full), *s = tu_fmt("%s/s", full), *j = tu_fmt("%s/x.json", full);
    REFUSED("prune: disk full", tu_fmt("legr prune %s %s 0.9 0.5 -out %s", CFG, W, q(p)), "p-");
    REFUSED("search: disk full", tu_fmt("legr search %s %s -data %s " SEARCH_OPTS " -out %s", CFG, W, DATA, q(s)),
            "No space");
    unlink(fill);
    fp = fopen(fill, "wb");
    while (fp && fwrite(block, 1, sizeof block, fp) == sizeof block && fflush(fp) == 0) {}
    if (fp) fclose(fp);
    REFUSED("eval -json: disk full", tu_fmt("legr eval %s %s %s -json %s", DATA, CFG, W, q(j)), "x.json");
    unlink(fill);
    free(p); free(s); free(j); free(fill); free(full);
}

/* Killed searches: SIGTERM to the driver alone (its workers finish their
 * candidate and exit), and SIGKILL; the janitor removes the work dir. */
static void test_killed_search(void **state)
{
    int sigs[] = {SIGTERM, SIGKILL, SIGINT};
    for (int i = 0; i < 3; ++i) {
        char *o = tu_path(g_dir, "kill.out"), *e = tu_path(g_dir, "kill.err");
        char *args = tu_fmt("legr search %s %s -data %s -evals 400 -pool 4 -sample 2 -tau 20 -val 2 "
                            "-bn-images 0 -workers 2 -out %s", CFG, W, DATA, q(tu_path(g_dir, "kill")));
        /* SIGINT is ignored by background jobs of a non-interactive shell;
         * the child here gets it with the default action */
        pid_t pid = start(args, o, e);
        int seen = 0;
        struct timespec ts = {0, 20 * 1000 * 1000};
        for (int t = 0; t < 1500 && !seen; ++t) {
            seen = workdirs_of(pid) > 0;
            if (!seen) nanosleep(&ts, NULL);
        }
        if (!seen) {
            kill(pid, SIGKILL);
            int rc = wait_for(pid, 5);
            char *err = tu_read_file(e, NULL);
            fail_msg("signal %d: the search (status %d) never made its work directory\n%s", sigs[i], rc,
                     err ? err : "");
        }
        kill(pid, sigs[i]);
        int rc = wait_for(pid, 30);
        int left = 1;
        for (int t = 0; t < 1500 && left; ++t) {
            left = workdirs_of(pid);
            if (left) nanosleep(&ts, NULL);
        }
        printf("  search killed by signal %d (status %d): work directory %s\n", sigs[i], rc,
               left ? "LEFT BEHIND" : "removed");
        assert_int_equal(rc, 128 + sigs[i]);
        assert_int_equal(left, 0);
        free(args); free(o); free(e);
    }
}

/* ------------------------------------------- D: FIFOs, directories, devices */

static void test_not_regular(void **state)
{
    char *fifo = bad("fifo"), *qf;
    assert_int_equal(mkfifo(fifo, 0644), 0);
    qf = q(fifo);
    char *p = q(outp("p")), *s = q(outp("s"));
    REFUSED("flops: cfg a FIFO", tu_fmt("legr flops %s", qf), "fifo", "not a regular file");
    REFUSED("prune: cfg a FIFO", tu_fmt("legr prune %s %s 0.5 -out %s", qf, W, p), "not a regular file");
    REFUSED("prune: cfg a directory", tu_fmt("legr prune %s %s 0.5 -out %s", q(g_bad), W, p), "not a regular file");
    REFUSED("prune: weights a FIFO", tu_fmt("legr prune %s %s 0.5 -out %s", CFG, qf, p), "not a regular file");
    REFUSED("prune: weights /dev/zero", tu_fmt("legr prune %s /dev/zero 0.5 -out %s", CFG, p), "/dev/zero");
    REFUSED("prune: ranking a FIFO", tu_fmt("legr prune %s %s %s 0.5 -out %s", CFG, W, qf, p), "not a regular file");
    REFUSED("prune: -images a FIFO", tu_fmt("legr prune %s %s 0.5 -recover 2 -images %s -out %s", CFG, W, qf, p),
            "not a regular file");
    REFUSED("eval: .data a FIFO", tu_fmt("legr eval %s %s %s", qf, CFG, W), "not a regular file");
    REFUSED("eval: cfg a FIFO", tu_fmt("legr eval %s %s %s", DATA, qf, W), "not a regular file");
    REFUSED("eval: weights a FIFO", tu_fmt("legr eval %s %s %s", DATA, CFG, qf), "not a regular file");
    char *fd = bad("fifo.data");
    char *text = tu_fmt("classes=2\ntrain=%s\nvalid=%s\n", fifo, fifo);
    assert_int_equal(tu_write_text(fd, text), 0);
    REFUSED("eval: valid= a FIFO", tu_fmt("legr eval %s %s %s", q(fd), CFG, W), "not a regular file");
    free(text);
    char *fd2 = bad("fifo2.data");
    text = tu_fmt("classes=2\ntrain=%s\nvalid=%s\n", fifo, g_valid);
    assert_int_equal(tu_write_text(fd2, text), 0);
    REFUSED("eval -bn: train= a FIFO", tu_fmt("legr eval %s %s %s -bn 1", q(fd2), CFG, W), "not a regular file");
    REFUSED("search: train= a FIFO", tu_fmt("legr search %s %s -data %s " SEARCH_OPTS " -out %s", CFG, W, q(fd2), s),
            "not a regular file");
    REFUSED("search: -data a FIFO", tu_fmt("legr search %s %s -data %s " SEARCH_OPTS " -out %s", CFG, W, qf, s),
            "not a regular file");
    REFUSED("finetune: .data a FIFO", tu_fmt("legr finetune %s %s %s -iters 1 -out %s", qf, CFG, W, p),
            "not a regular file");
    REFUSED("finetune: train= a FIFO", tu_fmt("legr finetune %s %s %s -iters 1 -out %s", q(fd2), CFG, W, p),
            "not a regular file");
    REFUSED("init: cfg a FIFO", tu_fmt("legr init %s %s", qf, q(outp("w.weights"))), "not a regular file");
    /* a label file that is a FIFO, in valid= (eval) and train= (search) */
    char *d = bad_data("fifolab", 2, GOOD_LABEL);
    char *lab = tu_fmt("%s/fifolab/labels/t1.txt", g_bad);
    assert_int_equal(unlink(lab), 0);
    assert_int_equal(mkfifo(lab, 0644), 0);
    char *ed = bad("fifolab-eval.data"), *train = bad("fifolab-train.txt");
    free(text);
    text = tu_fmt("classes=2\nvalid=%s\n", train);
    assert_int_equal(tu_write_text(ed, text), 0);
    REFUSED("eval: a label file a FIFO", tu_fmt("legr eval %s %s %s", q(ed), CFG, W), "t1.txt", "not a regular file");
    REFUSED("search: a label file a FIFO", tu_fmt("legr search %s %s -data %s " SEARCH_OPTS " -out %s", CFG, W, q(d), s),
            "t1.txt", "not a regular file");
    /* the checkpoint a FIFO: -resume must not block on it */
    char *r = bad("r"), *rck = bad("r.ckpt");
    assert_int_equal(mkfifo(rck, 0644), 0);
    REFUSED("search -resume: ckpt a FIFO", tu_fmt("legr search %s %s -data %s " SEARCH_OPTS " -out %s -resume",
                                                  CFG, W, DATA, q(r)), "r.ckpt", "not a regular file");
    unlink(rck);
    free(r); free(rck); free(text); free(ed); free(train); free(lab); free(d); free(fd); free(fd2); free(fifo);
}

/* ------------------------------------------------ E: checkpoints, options */

/* Copies the finished search of res/ to bad/ck* with its checkpoint edited
 * (the first find replaced by rep; find NULL: rep appended) and resumes it
 * with -evals 3. */
static void resume_edited(const char *what, const char *find, const char *rep, const char *want)
{
    char *base = bad("ck"), *ck = bad("ck.ckpt"), *csv = bad("ck.csv");
    char *rs = tu_path(g_res, "s"), *rck = tu_path(g_res, "s.ckpt"), *rcsv = tu_path(g_res, "s.csv");
    assert_int_equal(tu_copy_file(rs, base), 0);
    assert_int_equal(tu_copy_file(rcsv, csv), 0);
    if (find) {
        write_edited(rck, ck, find, rep);
    } else {                                /* rep appended */
        char *t = tu_read_file(rck, NULL), *e = tu_fmt("%s%s", t, rep);
        assert_int_equal(tu_write_text(ck, e), 0);
        free(t);
        free(e);
    }
    /* SEARCH_OPTS has -evals 2; a later -evals is a repeated option, so
     * spell the options out with -evals 3 */
    REFUSED(what, tu_fmt("legr search %s %s -data %s -evals 3 -pool 2 -sample 2 -tau 1 -val 2 -bn-images 0 "
                         "-workers 1 -seed 3 -out %s -resume", CFG, W, DATA, q(base)), want);
    unlink(base);
    unlink(ck);
    unlink(csv);
    free(base); free(ck); free(csv); free(rs); free(rck); free(rcsv);
}

static void test_bad_checkpoints(void **state)
{
    char *rck = tu_path(g_res, "s.ckpt"), *text = tu_read_file(rck, NULL);
    assert_non_null(text);
    /* the checkpoint as written: "done 2", "best B F ...", "pool 2", 2 members */
    assert_non_null(strstr(text, "\ndone 2\n"));
    char *best = strstr(text, "\nbest ") + 1, *pool = strstr(text, "\npool 2\n") + 1;
    char *member = strchr(pool, '\n') + 1;
    char *fit_end = strchr(member, ' ');
    char *fit = strndup(member, fit_end - member);
    char *bestline = strndup(best, strchr(best, ' ') - best + 2);     /* "best B" */
    printf("  checkpoint: %.*s, first pool member's fitness %s\n", (int)(strchr(best, '\n') - best), best, fit);
    resume_edited("ckpt: done -5", "\ndone 2\n", "\ndone -5\n", "done");
    resume_edited("ckpt: done 999", "\ndone 2\n", "\ndone 999\n", "done");
    resume_edited("ckpt: best 999", bestline, "best 998", "best");
    resume_edited("ckpt: pool 1", "\npool 2\n", "\npool 1\n", "pool");
    char *nanfit = tu_fmt("\n%s ", fit), *bad_fit[] = {"\nnan ", "\ninf ", "\n-nan "};
    for (int i = 0; i < 3; ++i) {
        char what[64];
        snprintf(what, sizeof what, "ckpt: pool fitness %s", bad_fit[i] + 1);
        /* the first member's line: after "pool 2" */
        char *edited_pool = tu_fmt("pool 2%s", nanfit), *rep = tu_fmt("pool 2%s", bad_fit[i]);
        resume_edited(what, edited_pool, rep, "fitness");
        free(edited_pool);
        free(rep);
    }
    /* the first pool member's line, anchored on "pool 2" (the best line
     * holds the same numbers) */
    char *pm_line = strndup(member, strchr(member, '\n') - member);
    char *sp = strchr(pm_line, ' '), *sp2 = strchr(sp + 1, ' ');     /* " alpha kappa ..." */
    char *anchored = tu_fmt("pool 2\n%s", pm_line);
    char *alpha_neg = tu_fmt("pool 2\n%.*s -1%s", (int)(sp - pm_line), pm_line, sp2);
    resume_edited("ckpt: pool member alpha -1", anchored, alpha_neg, "pool member 1");
    char *bl = strndup(best, strchr(best, '\n') - best);            /* "best B F alpha ..." */
    char *b1 = strchr(bl, ' '), *b2 = strchr(b1 + 1, ' '), *b3 = strchr(b2 + 1, ' ');
    char *best_bad = tu_fmt("%.*s 0%s", (int)(b3 - bl), bl, strchr(b3 + 1, ' '));
    resume_edited("ckpt: best alpha 0", bl, best_bad, "best candidate");
    resume_edited("ckpt: text after the pool", NULL, "extra\n", "after the pool");
    free(bl); free(best_bad); free(anchored);
    free(alpha_neg); free(pm_line);
    free(nanfit); free(fit); free(bestline); free(text); free(rck);
}

static void test_bad_option_values(void **state)
{
    char *p = q(outp("p")), *s = q(outp("s"));
    const char *search_bad[][2] = {
        {"-evals 0", "-evals"}, {"-pool -1", "-pool"}, {"-workers 0", "-workers"}, {"-sample 0", "-sample"},
        {"-tau -1", "-tau"}, {"-batch -1", "-batch"}, {"-val -1", "-val"}, {"-bn-images -1", "-bn-images"},
        {"-tau abc", "-tau"}, {"-evals 1.5", "-evals"}, {"-seed x", "-seed"}, {"-evals 99999999999", "-evals"},
        {"-lr -1", "-lr"}, {"-lr 0", "-lr"}, {"-mutate 0", "-mutate"}, {"-min 1.5", "-min"},
        {"-recover -1", "-recover"}, {"-round 0", "-round"}, {"-batch 5000", "-batch"},
        {"-budget speed", "-budget"},
    };
    for (size_t i = 0; i < sizeof search_bad / sizeof *search_bad; ++i) {
        char what[64];
        snprintf(what, sizeof what, "search %s", search_bad[i][0]);
        REFUSED(what, tu_fmt("legr search %s %s -data %s -out %s %s", CFG, W, DATA, s, search_bad[i][0]),
                search_bad[i][1]);
    }
    const char *eval_bad[][2] = {{"-n -3", "-n"}, {"-bn -1", "-bn"}, {"-n x", "-n"}, {"-thresh 1", "-thresh"},
                                 {"-iou 0", "-iou"}};
    for (size_t i = 0; i < sizeof eval_bad / sizeof *eval_bad; ++i) {
        char what[64];
        snprintf(what, sizeof what, "eval %s", eval_bad[i][0]);
        REFUSED(what, tu_fmt("legr eval %s %s %s %s", DATA, CFG, W, eval_bad[i][0]), eval_bad[i][1]);
    }
    const char *prune_bad[][2] = {{"-bn -1", "-bn"}, {"-recover -1", "-recover"}, {"-n -1", "-n"},
                                  {"-seed 1x", "-seed"}, {"-recover 2x", "-recover"}, {"-round 0", "-round"},
                                  {"-round 2000", "-round"}, {"-round nan", "-round"}};
    for (size_t i = 0; i < sizeof prune_bad / sizeof *prune_bad; ++i) {
        char what[64];
        snprintf(what, sizeof what, "prune %s", prune_bad[i][0]);
        REFUSED(what, tu_fmt("legr prune %s %s 0.5 -out %s %s", CFG, W, p, prune_bad[i][0]), prune_bad[i][1]);
    }
    const char *ft_bad[][2] = {{"-iters 0", "-iters"}, {"-batch -1", "-batch"}, {"-snapshot -1", "-snapshot"},
                               {"-lr -1", "-lr"}, {"-lr 0", "-lr"}, {"-iters 1e3", "-iters"}};
    for (size_t i = 0; i < sizeof ft_bad / sizeof *ft_bad; ++i) {
        char what[64];
        snprintf(what, sizeof what, "finetune %s", ft_bad[i][0]);
        REFUSED(what, tu_fmt("legr finetune %s %s %s -out %s %s", DATA, CFG, W, p, ft_bad[i][0]), ft_bad[i][1]);
    }
    REFUSED("init -seed abc", tu_fmt("legr init %s %s -seed abc", CFG, q(outp("w.weights"))), "-seed");
    /* legr bench writes nothing; its options and cfgs are checked all the same */
    REFUSED("bench -runs 0", tu_fmt("legr bench %s -runs 0", CFG), "-runs");
    REFUSED("bench -runs x", tu_fmt("legr bench %s -runs x", CFG), "-runs");
    REFUSED("bench -threads 0", tu_fmt("legr bench %s -threads 0", CFG), "-threads");
    REFUSED("bench -warmup -1", tu_fmt("legr bench %s -warmup -1", CFG), "-warmup");
    REFUSED("bench -turn 0", tu_fmt("legr bench %s %s -turn 0", CFG, CFG), "-turn");
    REFUSED("bench -turn x", tu_fmt("legr bench %s %s -turn x", CFG, CFG), "-turn");
    REFUSED("bench missing cfg", tu_fmt("legr bench %s /nonexistent/x.cfg", CFG), "/nonexistent/x.cfg");
}

/* eval -bn with an empty train= list: no "+BN" figures equal to the plain
 * ones, an error. */
static void test_bn_empty_train(void **state)
{
    char *empty = bad("empty.txt"), *d = bad("empty.data");
    assert_int_equal(tu_write_text(empty, ""), 0);
    char *text = tu_fmt("classes=2\ntrain=%s\nvalid=%s\n", empty, g_valid);
    assert_int_equal(tu_write_text(d, text), 0);
    REFUSED("eval -bn 1: empty train=", tu_fmt("legr eval %s %s %s -bn 1", q(d), CFG, W), "train=", "empty");
    REFUSED("prune -eval -bn 1: empty train=", tu_fmt("legr prune %s %s 0.5 -eval %s -bn 1 -out %s", CFG, W, q(d),
                                                      q(outp("p"))), "empty");
    free(text); free(empty); free(d);
}

/* The good runs still work: the checks refuse nothing they should not. */
static void test_good_runs(void **state)
{
    char *json = outp("e.json"), *p = outp("p");
    char *args = tu_fmt("legr eval %s %s %s -bn 1 -json %s", DATA, CFG, W, q(json));
    run_result r = run(args);
    if (r.rc != 0) fail_msg("%s: exit %d\n%s", args, r.rc, r.err);
    assert_true(tu_file_size(json) > 0);
    run_free(&r);
    free(args);
    args = tu_fmt("legr prune %s %s 0.7 0.5 -eval %s -n 2 -recover 2 -out %s", CFG, W, DATA, q(p));
    r = run(args);
    if (r.rc != 0) fail_msg("%s: exit %d\n%s", args, r.rc, r.err);
    const char *files[] = {"p-70.cfg", "p-70.weights", "p-50.cfg", "p-50.weights", "p.csv"};
    for (int i = 0; i < 5; ++i) {
        char *f = outp(files[i]);
        if (tu_file_size(f) <= 0) fail_msg("%s missing after a good prune -eval", files[i]);
        free(f);
    }
    /* no temporary left beside them */
    char *names = NULL;
    int n = tu_dir_entries(g_out, &names);
    if (strstr(names, ".tmp.")) fail_msg("temporary files left:\n%s", names);
    printf("  good eval + prune: %d files in the output directory\n", n);
    run_free(&r);
    free(names);
    free(args);
    /* a finished search resumed with more -evals continues its log */
    char *rs = outp("rs"), *rck = outp("rs.ckpt"), *rcsv = outp("rs.csv");
    char *ss = tu_path(g_res, "s"), *sck = tu_path(g_res, "s.ckpt"), *scsv = tu_path(g_res, "s.csv");
    assert_int_equal(tu_copy_file(ss, rs), 0);
    assert_int_equal(tu_copy_file(sck, rck), 0);
    assert_int_equal(tu_copy_file(scsv, rcsv), 0);
    args = tu_fmt("legr search %s %s -data %s -evals 3 -pool 2 -sample 2 -tau 1 -val 2 -bn-images 0 -workers 1 "
                  "-seed 3 -out %s -resume", CFG, W, DATA, q(rs));
    r = run(args);
    if (r.rc != 0) fail_msg("%s: exit %d\n%s", args, r.rc, r.err);
    char *log = tu_read_file(rcsv, NULL);
    assert_non_null(log);
    assert_int_equal(tu_count_lines_with_prefix(log, "1,", NULL), 1);
    assert_int_equal(tu_count_lines_with_prefix(log, "3,", NULL), 1);
    assert_int_equal(workdirs_of(r.pid), 0);
    run_free(&r);
    free(log); free(args); free(rs); free(rck); free(rcsv); free(ss); free(sck); free(scsv);
    tu_rmtree(g_out);
    assert_int_equal(mkdir(g_out, 0755), 0);
    free(json);
    free(p);
}

int main(void)
{
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_runs),
        cmocka_unit_test(test_outputs_over_inputs),
        cmocka_unit_test(test_nan_options),
        cmocka_unit_test(test_nan_ranking),
        cmocka_unit_test(test_bad_labels),
        cmocka_unit_test(test_unwritable_outputs),
        cmocka_unit_test_teardown(test_full_disk, full_disk_teardown),
        cmocka_unit_test(test_killed_search),
        cmocka_unit_test(test_not_regular),
        cmocka_unit_test(test_bad_checkpoints),
        cmocka_unit_test(test_bad_option_values),
        cmocka_unit_test(test_bn_empty_train),
    };
    return cmocka_run_group_tests_name("badinput", tests, setup, teardown);
}
