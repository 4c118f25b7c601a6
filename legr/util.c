/* util.c: error formatting, checked allocation, strict number parsing,
 * regular-file checks, atomic and staged file writes, the cache directory,
 * and the janitor that removes a work directory however its owner ends. */
#define _GNU_SOURCE
#include "util.h"

#include "darknet.h"
#include "option_list.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int legr_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

char *legr_fmt(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    return n < 0 ? NULL : s;
}

const char *legr_fmt_duration(double seconds, char *buf, size_t len)
{
    long t = legr_finite(seconds) && seconds > 0 && seconds < 1e9 ? (long)(seconds + .5) : 0;
    if (t < 90) snprintf(buf, len, "%lds", t);
    else if (t < 5400) snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
    else snprintf(buf, len, "%ldh%02ldm", t / 3600, t / 60 % 60);
    return buf;
}

int legr_finite(double x)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    return ((bits >> 52) & 0x7ff) != 0x7ff;
}

int legr_isnan(double x)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    return ((bits >> 52) & 0x7ff) == 0x7ff && (bits & 0xfffffffffffffull) != 0;
}

int legr_parse_int(const char *s, int *v)
{
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (end == s || *end || errno || x < -2147483647L - 1 || x > 2147483647L) return -1;
    *v = (int)x;
    return 0;
}

int legr_parse_double(const char *s, double *v)
{
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || !legr_finite(x)) return -1;
    *v = x;
    return 0;
}

void *legr_calloc(size_t n, size_t size)
{
    if (n == 0 || size == 0) return calloc(1, 1);
    if (n > (size_t)-1 / size) return NULL;
    return calloc(n, size);
}

char *legr_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

FILE *legr_open_temp(const char *path, char **tmp, char *err, size_t errlen)
{
    size_t n = strlen(path) + 32;
    *tmp = malloc(n);
    if (!*tmp) { legr_fail(err, errlen, "%s: out of memory", path); return NULL; }
    snprintf(*tmp, n, "%s.tmp.%ld", path, (long)getpid());
    FILE *fp = fopen(*tmp, "wb");
    if (!fp) {
        legr_fail(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        free(*tmp);
        *tmp = NULL;
    }
    return fp;
}

int legr_commit_temp(FILE *fp, char *tmp, const char *path, int ok,
                     char *err, size_t errlen)
{
    int failed = !ok;
    if (ferror(fp)) failed = 1;
    if (fclose(fp) != 0) failed = 1;
    if (!failed && rename(tmp, path) != 0) failed = 1;
    if (failed) {
        int e = errno;
        remove(tmp);
        free(tmp);
        if (ok) return legr_fail(err, errlen, "%s: write failed: %s", path, strerror(e));
        return -1;
    }
    free(tmp);
    return 0;
}

int legr_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) != 0 || stat(b, &sb) != 0) return 0;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int legr_clobbers_input(const char *out, const char *const *inputs, int n)
{
    for (int k = 0; k < n; ++k)
        if (inputs[k] && legr_same_file(out, inputs[k])) return 1;
    return 0;
}

int legr_check_regular(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0) return legr_fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return legr_fail(err, errlen, "%s: not a regular file", path);
    return 0;
}

FILE *legr_fopen_regular(const char *path, const char *mode, char *err, size_t errlen)
{
    if (legr_check_regular(path, err, errlen) != 0) return NULL;
    /* O_NONBLOCK: a FIFO swapped in after the stat cannot block the open */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0) { legr_fail(err, errlen, "%s: cannot open: %s", path, strerror(errno)); return NULL; }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        legr_fail(err, errlen, "%s: not a regular file", path);
        return NULL;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    FILE *fp = fdopen(fd, mode);
    if (!fp) {
        legr_fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        close(fd);
    }
    return fp;
}

int legr_check_output(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return legr_fail(err, errlen, "%s: exists and is not a regular file (choose another -out)", path);
    char *copy = legr_strdup(path);
    if (!copy) return legr_fail(err, errlen, "out of memory");
    const char *dir = dirname(copy);
    int rc = 0;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        rc = legr_fail(err, errlen, "%s: cannot write: directory %s does not exist", path, dir);
    else if (access(dir, W_OK | X_OK) != 0)
        rc = legr_fail(err, errlen, "%s: cannot write in %s: %s", path, dir, strerror(errno));
    free(copy);
    return rc;
}

char **legr_read_lines(const char *path, int *n)
{
    FILE *fp = legr_fopen_regular(path, "r", NULL, 0);
    *n = 0;
    if (!fp) return NULL;
    char line[4096], **v = NULL;
    while (fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!*line) continue;
        char **nv = realloc(v, (*n + 1) * sizeof(char *));
        char *copy = legr_strdup(line);
        if (!nv || !copy) { free(nv ? nv : v); free(copy); fclose(fp); *n = 0; return NULL; }
        v = nv;
        v[(*n)++] = copy;
    }
    fclose(fp);
    if (!v) v = calloc(1, sizeof(char *));
    return v;
}

void legr_free_strings(char **v, int n)
{
    for (int i = 0; v && i < n; ++i) free(v[i]);
    free(v);
}

int legr_mute_fd(int fd)
{
    fflush(stdout);
    fflush(stderr);
    int saved = dup(fd);
    int null = open("/dev/null", O_WRONLY);
    if (saved >= 0 && null >= 0) dup2(null, fd);
    if (null >= 0) close(null);
    return saved;
}

void legr_unmute_fd(int fd, int handle)
{
    fflush(stdout);
    fflush(stderr);
    if (handle >= 0) {
        dup2(handle, fd);
        close(handle);
    }
}

int legr_mute_stdout(void)
{
    return legr_mute_fd(1);
}

void legr_unmute_stdout(int handle)
{
    legr_unmute_fd(1, handle);
}

void legr_free_options(struct list *opt)
{
    for (node *n = opt->front; n; n = n->next) {
        kvp *p = n->val;
        free(p->key);   /* the line buffer; val points into it */
        free(p);
    }
    free_list(opt);
}

/* --- staged outputs ------------------------------------------------------ */

const char *legr_stage(legr_staged *s, const char *dst)
{
    char **nt = realloc(s->tmp, (s->n + 1) * sizeof(char *));
    if (nt) s->tmp = nt;
    char **nd = realloc(s->dst, (s->n + 1) * sizeof(char *));
    if (nd) s->dst = nd;
    if (!nt || !nd) return NULL;
    char *t = legr_fmt("%s.tmp.%ld", dst, (long)getpid()), *d = legr_strdup(dst);
    if (!t || !d) { free(t); free(d); return NULL; }
    s->tmp[s->n] = t;
    s->dst[s->n] = d;
    s->n++;
    return t;
}

static void staged_free(legr_staged *s)
{
    legr_free_strings(s->tmp, s->n);
    legr_free_strings(s->dst, s->n);
    memset(s, 0, sizeof *s);
}

void legr_staged_abort(legr_staged *s)
{
    for (int i = 0; i < s->n; ++i) remove(s->tmp[i]);
    staged_free(s);
}

int legr_staged_commit(legr_staged *s, char *err, size_t errlen)
{
    int rc = 0;
    for (int i = 0; i < s->n; ++i) {
        if (rename(s->tmp[i], s->dst[i]) == 0) continue;
        rc = legr_fail(err, errlen, "%s: cannot rename into place: %s", s->dst[i], strerror(errno));
        for (int j = 0; j < i; ++j) remove(s->dst[j]);     /* no half-written set */
        break;
    }
    if (rc != 0) legr_staged_abort(s);
    else staged_free(s);
    return rc;
}

/* --- work directories and their janitor --------------------------------- */

int legr_remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char *p = legr_fmt("%s/%s", dir, e->d_name);
            if (p) unlink(p);
            free(p);
        }
        closedir(d);
    }
    return rmdir(dir);
}

/* The janitor: out of the parent's session and deaf to its signals, it reads
 * the directory's name, then waits for end of file, which comes when every
 * process holding the write end (the parent and the workers it forks) has
 * ended, and removes the directory. */
static void janitor_main(int rd)
{
    setsid();
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    for (int fd = 0; fd < 1024; ++fd)
        if (fd != rd) close(fd);
    char dir[4096];
    size_t len = 0;
    for (;;) {
        ssize_t r = read(rd, dir + len, sizeof dir - 1 - len);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        len += (size_t)r;
        if (len == sizeof dir - 1) len = 0;     /* not a path we wrote: ignore */
    }
    dir[len] = 0;
    if (len > 0 && dir[len - 1] == '\n') {
        dir[len - 1] = 0;
        legr_remove_dir(dir);
    }
    _exit(0);
}

int legr_janitor_start(void)
{
    int p[2];
    if (pipe(p) != 0) return -1;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) { close(p[0]); close(p[1]); return -1; }
    if (pid == 0) {
        close(p[1]);
        janitor_main(p[0]);
    }
    close(p[0]);
    fcntl(p[1], F_SETFD, FD_CLOEXEC);   /* programs run with exec do not hold it */
    return p[1];
}

int legr_janitor_watch(int fd, const char *dir)
{
    if (fd < 0) return -1;
    char *line = legr_fmt("%s\n", dir);
    if (!line) return -1;
    size_t n = strlen(line);
    ssize_t w = write(fd, line, n);
    free(line);
    return w == (ssize_t)n ? 0 : -1;
}

char *legr_read_file(const char *path, size_t *len)
{
    FILE *fp = legr_fopen_regular(path, "rb", NULL, 0);
    if (!fp) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n - 1, fp)) > 0) {
        n += got;
        if (n + 1 >= cap) {
            char *b = realloc(buf, cap * 2);
            if (!b) { free(buf); buf = NULL; break; }
            buf = b;
            cap *= 2;
        }
    }
    int bad = ferror(fp);
    fclose(fp);
    if (!buf || bad) { free(buf); return NULL; }
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

unsigned long long legr_fnv1a(const void *p, size_t n, unsigned long long h)
{
    const unsigned char *b = p;
    if (!h) h = 1469598103934665603ull;
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

void legr_cache_dir(char *buf, size_t len)
{
    const char *c = getenv("LEGR_CACHE"), *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    if (c && *c) snprintf(buf, len, "%s", c);
    else if (x && *x) snprintf(buf, len, "%s/darknet-legr", x);
    else snprintf(buf, len, "%s/.cache/darknet-legr", h && *h ? h : "/tmp");
}

void legr_cache_mkdir(void)
{
    char dir[512];
    legr_cache_dir(dir, sizeof dir);
    char *parent = legr_fmt("%s/..", dir);
    if (parent) mkdir(parent, 0755);
    free(parent);
    mkdir(dir, 0755);
}

char *legr_default_prefix(const char *path, const char *ext, const char *suffix)
{
    char *copy = legr_strdup(path);
    if (!copy) return NULL;
    char *base = basename(copy);
    size_t n = strlen(base), ne = strlen(ext);
    if (n > ne && !strcmp(base + n - ne, ext)) base[n - ne] = 0;
    char *p = legr_fmt("%s%s", base, suffix);
    free(copy);
    return p;
}
