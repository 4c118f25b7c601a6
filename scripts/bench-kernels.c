/* bench-kernels.c: each CPU kernel patch timed against the same function of
 * stock Debian Darknet (its libdarknet.so, opened with dlopen as
 * tests/test_kernels.c does), on the tensors of a fashion-det training
 * batch and of yolov3-tiny's first layer at 416x416.  Built and run by
 * `make bench` (scripts/bench-speed.sh); figures only.  "+ copy": each run
 * first restores its input with a memcpy, timed on both sides.  The fused
 * batchnorm rows include the batchnorm kernels of variance-mean-vectorised;
 * convolution-gemm-overwrites-output has no row (it removes one memset of
 * each conv output, which the GEMM then overwrites).
 *
 *   bench-kernels [reps]
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "darknet.h"
#include "activations.h"
#include "batchnorm_layer.h"
#include "blas.h"
#include "col2im.h"
#include "convolutional_layer.h"
#include "im2col.h"
#include "maxpool_layer.h"

#define STOCK_LIB "/usr/lib/darknet/libdarknet.so"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static float *rnd(size_t n, float lo, float hi)
{
    float *x = malloc(sizeof(float) * n);
    size_t i;
    unsigned s = 7;
    for (i = 0; i < n; ++i) {
        s = s * 1103515245u + 12345u;
        x[i] = lo + (hi - lo) * (float)((s >> 8) & 0xffff) / 65536.0f;
    }
    return x;
}

static int reps = 5;

/* best of reps runs of each, printed with the ratio */
#define TIME(var, stmt) do { int r_; var = 1e30; for (r_ = 0; r_ < reps; ++r_) { \
        double t0_ = now(); stmt; t0_ = now() - t0_; if (t0_ < var) var = t0_; } } while (0)
static void row(const char *patch, const char *what, double s, double o)
{
    printf("  %-28s %-48s stock %7.2f ms  ours %6.2f ms  %5.1fx\n", patch, what, s * 1e3, o * 1e3,
           s / o);
}

int main(int argc, char **argv)
{
    void *h;
    double ts, to;
    if (argc > 1) reps = atoi(argv[1]);
    h = dlopen(STOCK_LIB, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (!h) {
        printf("  bench-kernels: cannot open %s: skipped\n", STOCK_LIB);
        return 0;
    }
#define STOCK(name) __typeof__(&name) name##_s = (__typeof__(&name))dlsym(h, #name)
    STOCK(activate_array);
    STOCK(gradient_array);
    STOCK(im2col_cpu);
    STOCK(col2im_cpu);
    STOCK(mean_cpu);
    STOCK(variance_cpu);
    STOCK(normalize_cpu);
    STOCK(forward_maxpool_layer);
    STOCK(forward_batchnorm_layer);
    STOCK(backward_batchnorm_layer);
    STOCK(fill_cpu);
    STOCK(copy_cpu);
    if (!activate_array_s || !backward_batchnorm_layer_s || !copy_cpu_s) {
        printf("  bench-kernels: %s lacks a kernel: skipped\n", STOCK_LIB);
        return 0;
    }

    /* fashion-det's second conv in training: batch 32, 16 x 80 x 80 output,
     * input 8 x 80 x 80 (3x3, pad 1); yolov3-tiny's first conv at 416: 16 x
     * 416 x 416 from 3 x 416 x 416. */
    {
        const int B = 32, C = 16, HW = 80 * 80, CI = 8;
        const size_t n = (size_t)B * C * HW;
        float *x = rnd(n, -2, 2), *y = malloc(sizeof(float) * n), *d = rnd(n, -1, 1);
        float *im = rnd((size_t)CI * HW, -1, 1), *col = malloc(sizeof(float) * CI * 9 * HW);
        float *imd = malloc(sizeof(float) * CI * HW);
        float mean[16], var[16];
        int i;
        printf("  fashion-det conv 2 in training (batch 32, 16 x 80 x 80; im2col/col2im per image):\n");
        TIME(ts, memcpy(y, x, n * 4); activate_array_s(y, n, LEAKY));
        TIME(to, memcpy(y, x, n * 4); activate_array(y, n, LEAKY));
        row("activations-leaky-fast-path", "activate_array leaky (+ copy)", ts, to);
        TIME(ts, memcpy(y, d, n * 4); gradient_array_s(x, n, LEAKY, y));
        TIME(to, memcpy(y, d, n * 4); gradient_array(x, n, LEAKY, y));
        row("activations-leaky-fast-path", "gradient_array leaky (+ copy)", ts, to);
        TIME(ts, im2col_cpu_s(im, CI, 80, 80, 3, 1, 1, col));
        TIME(to, im2col_cpu(im, CI, 80, 80, 3, 1, 1, col));
        row("im2col-contiguous-rows", "im2col_cpu 8 x 80 x 80, 3x3", ts, to);
        TIME(ts, memset(imd, 0, CI * HW * 4); col2im_cpu_s(col, CI, 80, 80, 3, 1, 1, imd));
        TIME(to, memset(imd, 0, CI * HW * 4); col2im_cpu(col, CI, 80, 80, 3, 1, 1, imd));
        row("im2col-contiguous-rows", "col2im_cpu 8 x 80 x 80, 3x3", ts, to);
        TIME(ts, mean_cpu_s(x, B, C, HW, mean); variance_cpu_s(x, mean, B, C, HW, var));
        TIME(to, mean_cpu(x, B, C, HW, mean); variance_cpu(x, mean, B, C, HW, var));
        row("variance-mean-vectorised", "mean_cpu + variance_cpu", ts, to);
        for (i = 0; i < C; ++i) var[i] = 1 + i * 0.1f;
        TIME(ts, memcpy(y, x, n * 4); normalize_cpu_s(y, mean, var, B, C, HW));
        TIME(to, memcpy(y, x, n * 4); normalize_cpu(y, mean, var, B, C, HW));
        row("variance-mean-vectorised", "normalize_cpu (+ copy)", ts, to);
        TIME(ts, fill_cpu_s(n, 0, y, 1); copy_cpu_s(n, x, 1, y, 1));
        TIME(to, fill_cpu(n, 0, y, 1); copy_cpu(n, x, 1, y, 1));
        row("fill-copy-use-memset-memcpy", "fill_cpu(0) + copy_cpu", ts, to);
        free(x); free(y); free(d); free(im); free(col); free(imd);
    }
    {
        /* a conv layer with batchnorm and leaky, as Darknet makes it */
        const int B = 32, C = 16, W = 80;
        int quiet = dup(2), nul = open("/dev/null", O_WRONLY), i;
        layer l;
        network net = {0};
        size_t n = (size_t)B * C * W * W;
        float *out0, *d0;
        dup2(nul, 2);
        l = make_convolutional_layer(B, W, W, 8, C, 1, 3, 1, 1, LEAKY, 1, 0, 0, 0);
        dup2(quiet, 2);
        close(nul);
        close(quiet);
        out0 = rnd(n, -2, 3);
        d0 = rnd(n, -1, 1);
        for (i = 0; i < C; ++i) { l.scales[i] = 1 + 0.01f * i; l.rolling_variance[i] = 1; }
        net.train = 1;
        TIME(ts, memcpy(l.output, out0, n * 4); forward_batchnorm_layer_s(l, net);
             activate_array_s(l.output, n, LEAKY));
        TIME(to, memcpy(l.output, out0, n * 4); forward_batchnorm_activate(l, net, LEAKY));
        row("batchnorm-forward-fused", "batchnorm + leaky forward, train (+ copy)", ts, to);
        net.train = 0;
        TIME(ts, memcpy(l.output, out0, n * 4); forward_batchnorm_layer_s(l, net);
             activate_array_s(l.output, n, LEAKY));
        TIME(to, memcpy(l.output, out0, n * 4); forward_batchnorm_activate(l, net, LEAKY));
        row("batchnorm-forward-fused", "batchnorm + leaky forward, inference (+ copy)", ts, to);
        net.train = 1;
        memcpy(l.output, out0, n * 4);
        forward_batchnorm_activate(l, net, LEAKY);
        TIME(ts, memcpy(l.delta, d0, n * 4); gradient_array_s(l.output, n, LEAKY, l.delta);
             backward_batchnorm_layer_s(l, net));
        TIME(to, memcpy(l.delta, d0, n * 4); backward_batchnorm_activate(l, net, LEAKY));
        row("batchnorm-backward-fused", "leaky gradient + batchnorm backward (+ copy)", ts, to);
        free(out0); free(d0);
        free_layer(l);
    }
    {
        /* maxpool 2x2 stride 2 after that conv; yolov3-tiny's 2x2 stride 1 */
        int quiet = dup(2), nul = open("/dev/null", O_WRONLY);
        maxpool_layer a, b;
        network net = {0};
        dup2(nul, 2);
        a = make_maxpool_layer(32, 80, 80, 16, 2, 2, 1);
        b = make_maxpool_layer(1, 13, 13, 512, 2, 1, 1);
        dup2(quiet, 2);
        close(nul);
        close(quiet);
        net.input = rnd((size_t)32 * 16 * 80 * 80, -1, 1);
        TIME(ts, forward_maxpool_layer_s(a, net));
        TIME(to, forward_maxpool_layer(a, net));
        row("maxpool-fast-path", "maxpool 2x2/2, batch 32, 16 x 80 x 80", ts, to);
        TIME(ts, forward_maxpool_layer_s(b, net));
        TIME(to, forward_maxpool_layer(b, net));
        row("maxpool-fast-path", "maxpool 2x2/1, 512 x 13 x 13", ts, to);
        free(net.input);
        free_layer(a);
        free_layer(b);
    }
    {
        /* yolov3-tiny's first conv at 416: im2col of the image */
        float *im = rnd((size_t)3 * 416 * 416, 0, 1), *col = malloc(sizeof(float) * 27 * 416 * 416);
        printf("  yolov3-tiny at 416:\n");
        TIME(ts, im2col_cpu_s(im, 3, 416, 416, 3, 1, 1, col));
        TIME(to, im2col_cpu(im, 3, 416, 416, 3, 1, 1, col));
        row("im2col-contiguous-rows", "im2col_cpu 3 x 416 x 416, 3x3", ts, to);
        free(im); free(col);
    }
    dlclose(h);
    return 0;
}
