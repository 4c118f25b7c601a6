/* fuzz_util.c: helpers shared by the fuzz targets (see fuzz.h). */
#define _GNU_SOURCE
#include "fuzz.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* libFuzzer's report stream survives -close_fd_mask=2; ours is the
 * sanitizers' (stderr may be /dev/null then), so the message goes through
 * the sanitizer runtime's printer. */
void __sanitizer_report_error_summary(const char *error_summary);

void fuzz_fail(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char line[1100];
    snprintf(line, sizeof line, "fuzz: %s", msg);
    __sanitizer_report_error_summary(line);
    abort();
}

const char *fuzz_input_path(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("legr-fuzz-input", 0);
        if (fd < 0) { perror("memfd_create"); abort(); }
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0) { perror("ftruncate"); abort(); }
    size_t done = 0;
    while (done < size) {
        ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);
        if (n <= 0) { perror("pwrite"); abort(); }
        done += (size_t)n;
    }
    return path;
}

const char *fuzz_tmpdir(void)
{
    static const char dir[] = "/tmp/legr-fuzz";
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) { perror(dir); abort(); }
    return dir;
}

legr_model *fuzz_net(const char *name)
{
    static legr_model det, cls;
    static int have_det, have_cls;
    legr_model *m = !strcmp(name, "det") ? &det : &cls;
    int *have = !strcmp(name, "det") ? &have_det : &have_cls;
    if (!*have) {
        char path[512], err[1024];
        snprintf(path, sizeof path, "%s/%s.cfg", FUZZ_NET_DIR, name);
        srand(1);   /* Darknet's random initial weights: the same every run */
        if (legr_model_load(path, NULL, m, err, sizeof err) != 0) {
            fprintf(stderr, "fuzz: cannot load %s: %s\n", path, err);
            abort();
        }
        *have = 1;
    }
    return m;
}

void fuzz_check_error(const char *what, const char *err)
{
    if (!err[0]) fuzz_fail("%s failed with an empty message", what);
    if (strchr(err, '\n')) fuzz_fail("%s failed with a message of more than one line: %s", what, err);
}

int fuzz_finite(float x)
{
    uint32_t b;
    memcpy(&b, &x, sizeof b);
    return ((b >> 23) & 0xff) != 0xff;
}
