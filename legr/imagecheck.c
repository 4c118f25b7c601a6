/* imagecheck.c: decoding every image of a training list once, and the cache
 * file that says a list of unchanged files decoded (see imagecheck.h). */
#include "imagecheck.h"
#include "eval.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECK_VERSION "legr-images v1\n"

static unsigned long long hash_stat(const struct stat *st, unsigned long long h)
{
    long long f[6] = { (long long)st->st_dev, (long long)st->st_ino, (long long)st->st_size,
                       (long long)st->st_mtim.tv_sec, (long long)st->st_mtim.tv_nsec,
                       (long long)st->st_ctim.tv_nsec };
    return legr_fnv1a(f, sizeof f, h);
}

/* The cache file's path for these paths as they are now, or NULL when one
 * of them (or this binary) cannot be stat'ed: then there is nothing to trust. */
static char *fingerprint_path(char *const *paths, int n)
{
    struct stat st;
    if (stat("/proc/self/exe", &st) != 0) return NULL;
    unsigned long long h = hash_stat(&st, legr_fnv1a(CHECK_VERSION, strlen(CHECK_VERSION), 0));
    for (int i = 0; i < n; ++i) {
        if (stat(paths[i], &st) != 0 || !S_ISREG(st.st_mode)) return NULL;
        h = legr_fnv1a(paths[i], strlen(paths[i]) + 1, h);
        h = hash_stat(&st, h);
    }
    char dir[512];
    legr_cache_dir(dir, sizeof dir);
    return legr_fmt("%s/images-%016llx.ok", dir, h);
}

static int cache_says_checked(const char *path)
{
    FILE *fp = legr_fopen_regular(path, "r", NULL, 0);
    if (!fp) return 0;
    char line[64];
    int ok = fgets(line, sizeof line, fp) && !strcmp(line, CHECK_VERSION);
    fclose(fp);
    return ok;
}

static void cache_remember(const char *path, const char *listfile, int n)
{
    legr_cache_mkdir();
    char *tmp = NULL;
    FILE *fp = legr_open_temp(path, &tmp, NULL, 0);
    if (!fp) return;
    fprintf(fp, CHECK_VERSION "list %s\nimages %d\n", listfile ? listfile : "(none)", n);
    legr_commit_temp(fp, tmp, path, 1, NULL, 0);
}

/* "\r" progress on a terminal, every half second after the first two. */
static void show_progress(int i, int n, double t0, double *last)
{
    double now = what_time_is_it_now();
    if (now - t0 < 2 || now - *last < 0.5) return;
    *last = now;
    char eta[32];
    legr_fmt_duration((now - t0) / i * (n - i), eta, sizeof eta);
    fprintf(stderr, "\rlegr: checking that the training images decode: %d/%d, ETA %s ", i, n, eta);
}

int legr_images_check(char *const *paths, int n, const char *listfile, char *err, size_t errlen)
{
    char *cache = fingerprint_path(paths, n);
    if (cache && cache_says_checked(cache)) { free(cache); return 0; }
    int tty = isatty(2), rc = 0;
    double t0 = what_time_is_it_now(), last = 0;   /* last > 0: a progress line is shown */
    for (int i = 0; i < n && rc == 0; ++i) {
        image im;
        if (legr_image_decode(paths[i], listfile, &im, err, errlen) != 0) rc = -1;
        else free_image(im);
        if (tty && i > 0) show_progress(i, n, t0, &last);
    }
    if (last > 0) fprintf(stderr, "\r%*s\r", 78, "");
    if (rc == 0 && cache) cache_remember(cache, listfile, n);
    free(cache);
    return rc;
}
