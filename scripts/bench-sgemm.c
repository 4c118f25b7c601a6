/* bench-sgemm.c: the machine's SGEMM peak as ./darknet sees it: Darknet's
 * own gemm_cpu (linked from the build's libdarknet.a, so the same BLAS the
 * convolutions call: oneDNN's dnnl_sgemm by default, OpenBLAS or Darknet's
 * loops in other builds) on one square NN product, one thread.  Built by the
 * Makefile into build/bench-sgemm; scripts/bench-latency.sh sets a network's
 * forward GFLOPS against it.
 *
 *   bench-sgemm [n 2048] [reps 5]
 *
 * Prints one line: sgemm n=<n> best <seconds> s <GFLOPS> GFLOPS (median
 * <GFLOPS>), 2 n^3 floating point operations per product, after one untimed
 * product. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "gemm.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void fill_pseudo_random(float *v, size_t n)
{
    unsigned s = 1;
    for (size_t i = 0; i < n; ++i) {
        s = s * 1103515245u + 12345u;
        v[i] = (float)((s >> 8) & 0xffff) / 65536.f - .5f;
    }
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2048;
    int reps = argc > 2 ? atoi(argv[2]) : 5;
    if (n < 1 || reps < 1) {
        fprintf(stderr, "usage: bench-sgemm [n 2048] [reps 5]\n");
        return 2;
    }
    size_t nn = (size_t)n * n;
    float *a = malloc(nn * sizeof(float)), *b = malloc(nn * sizeof(float)),
          *c = malloc(nn * sizeof(float));
    double *secs = malloc(reps * sizeof(double));
    if (!a || !b || !c || !secs) {
        fprintf(stderr, "bench-sgemm: out of memory for n=%d\n", n);
        return 1;
    }
    fill_pseudo_random(a, nn);
    fill_pseudo_random(b, nn);
    gemm_cpu_set_threads(1);
    gemm_cpu(0, 0, n, n, n, 1, a, n, b, n, 0, c, n);
    for (int r = 0; r < reps; ++r) {
        double t = now_s();
        gemm_cpu(0, 0, n, n, n, 1, a, n, b, n, 0, c, n);
        secs[r] = now_s() - t;
    }
    qsort(secs, reps, sizeof(double), cmp_double);
    double flops = 2.0 * n * n * (double)n;
    double med = reps % 2 ? secs[reps / 2] : (secs[reps / 2 - 1] + secs[reps / 2]) / 2;
    printf("sgemm n=%d best %.4f s %.1f GFLOPS (median %.1f)\n", n, secs[0],
           flops / secs[0] / 1e9, flops / med / 1e9);
    free(a); free(b); free(c); free(secs);
    return 0;
}
