/* labelpath.c: an image's label path by Darknet's own rewrites (see
 * labelpath.h).  It needs only Darknet's find_replace (src/utils.c), so that
 * scripts/fashion-gen.c compiles it in as well. */
#include "labelpath.h"
#include "darknet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void legr_label_path(const char *image_path, char *out, size_t outlen)
{
    static const char *const rewrite[][2] = {     /* fill_truth_detection's */
        {"images", "labels"}, {"JPEGImages", "labels"}, {"raw", "labels"},
        {".jpg", ".txt"}, {".png", ".txt"}, {".JPG", ".txt"}, {".JPEG", ".txt"},
    };
    /* find_replace writes without a bound; only "raw" -> "labels" lengthens
     * the path, by 3 bytes, and only once */
    size_t len = strlen(image_path), need = len + 4;
    char *s = need <= outlen ? out : malloc(need);
    if (!s) {
        if (outlen) *out = 0;
        return;
    }
    memmove(s, image_path, len + 1);
    for (size_t k = 0; k < sizeof rewrite / sizeof rewrite[0]; ++k)
        find_replace(s, (char *)rewrite[k][0], (char *)rewrite[k][1], s);
    if (s != out) {
        snprintf(out, outlen, "%s", s);
        free(s);
    }
}
