/* util.c: error formatting, checked allocation and atomic file writes. */
#define _GNU_SOURCE
#include "util.h"

#include "darknet.h"
#include "option_list.h"

#include <errno.h>
#include <fcntl.h>
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

int legr_finite(double x)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    return ((bits >> 52) & 0x7ff) != 0x7ff;
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

char **legr_read_lines(const char *path, int *n)
{
    FILE *fp = fopen(path, "r");
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
