/* compat.c: weak fallbacks of the Darknet functions in compat.h, for a Darknet
 * patched with the plugin group alone (make PATCH_GROUPS=plugin).  With the
 * whole series the patches' own definitions (src/gemm.c, src/image.c) are
 * strong and replace these at link time, so nothing here runs there.
 *
 * What differs on the plugin-only build:
 * - gemm_cpu_set_threads sets OpenMP's thread count when OpenMP is linked in
 *   (Darknet's OPENMP=1 loops), else does nothing: stock gemm_cpu has no
 *   threads of its own.
 * - forward_layer_inference is the layer's own forward, as stock's
 *   network_predict runs it.
 * - try_load_image decodes with stb_image (compiled into Darknet's image.c)
 *   even when Darknet is built with OpenCV: stock's OpenCV loader runs a shell
 *   on an undecodable file (system("echo <path> >> bad.list")) and its stb
 *   loader exits, so neither may see a file legr has not decoded.  Formats
 *   only OpenCV reads are refused, and a JPEG's pixels are stb's, which can
 *   differ from OpenCV's decoder by a level or so: legr eval's mAP on the
 *   plugin-only build can differ from the full build's in the last places. */
#include "compat.h"
#include "image.h"
#include "stb_image.h"

#include <stdlib.h>

extern void omp_set_num_threads(int) __attribute__((weak));

__attribute__((weak)) void gemm_cpu_set_threads(int n)
{
    if (omp_set_num_threads) omp_set_num_threads(n);
}

__attribute__((weak)) void forward_layer_inference(layer l, network net)
{
    l.forward(l, net);
}

/* Darknet's planar float image from stb's interleaved bytes, each value as
 * load_image_stb computes it (a double quotient rounded to float). */
static image image_from_interleaved(const unsigned char *data, int w, int h, int c)
{
    image im = make_image(w, h, c);
    for (int k = 0; k < c; ++k)
        for (int j = 0; j < h; ++j)
            for (int i = 0; i < w; ++i)
                im.data[i + w * j + w * h * k] = (float)data[k + c * i + c * w * j] / 255.;
    return im;
}

image legr_stb_load_image(char *filename, int w, int h, int c)
{
    int iw, ih, ic;
    unsigned char *data = stbi_load(filename, &iw, &ih, &ic, c);
    if (!data) return make_empty_image(0, 0, 0);
    image out = image_from_interleaved(data, iw, ih, c ? c : ic);
    free(data);
    if (w && h && (w != out.w || h != out.h)) {
        image resized = resize_image(out, w, h);
        free_image(out);
        out = resized;
    }
    return out;
}

__attribute__((weak)) image try_load_image(char *filename, int w, int h, int c)
{
    return legr_stb_load_image(filename, w, h, c);
}
