/* gemm-shapes.c: times one BLAS's SGEMM on the GEMMs Darknet's convolutions
 * make, row-major as gemm_cpu calls it (scripts/bench-blas.sh builds it once
 * per library).
 *
 *   gemm-shapes fwd|train [reps]
 *
 * fwd:   the 13 forward GEMMs of yolov3-tiny at 416x416 (batch 1);
 * train: per image of fashion-det (160x160), each conv's forward GEMM,
 *        weight gradient (NT) and input gradient (TN).
 * Prints the best of reps passes: seconds and GFLOPS. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifdef USE_DNNL
#include <dnnl.h>
static void sgemm(int ta, int tb, int m, int n, int k, const float *a, int lda, const float *b,
                  int ldb, float beta, float *c, int ldc)
{
    dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, 1.f, a, lda, b, ldb, beta, c, ldc);
}
#else
#include <cblas.h>
static void sgemm(int ta, int tb, int m, int n, int k, const float *a, int lda, const float *b,
                  int ldb, float beta, float *c, int ldc)
{
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                m, n, k, 1.f, a, lda, b, ldb, beta, c, ldc);
}
#endif

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* filters, input channels, kernel size, output pixels */
typedef struct { int n, c, k, s; } conv;
static const conv yolov3_tiny_416[] = {
    {16, 3, 3, 416 * 416}, {32, 16, 3, 208 * 208}, {64, 32, 3, 104 * 104}, {128, 64, 3, 52 * 52},
    {256, 128, 3, 26 * 26}, {512, 256, 3, 13 * 13}, {1024, 512, 3, 13 * 13}, {256, 1024, 1, 13 * 13},
    {512, 256, 3, 13 * 13}, {255, 512, 1, 13 * 13}, {128, 256, 1, 13 * 13}, {256, 384, 3, 26 * 26},
    {255, 256, 1, 26 * 26}};
static const conv fashion_det_160[] = {
    {8, 3, 3, 160 * 160}, {16, 8, 3, 80 * 80}, {32, 16, 3, 40 * 40}, {64, 32, 3, 20 * 20},
    {128, 64, 3, 10 * 10}, {256, 128, 3, 5 * 5}, {256, 256, 3, 5 * 5}, {128, 256, 1, 5 * 5},
    {128, 128, 3, 5 * 5}, {45, 128, 1, 5 * 5}, {64, 128, 1, 5 * 5}, {128, 192, 3, 10 * 10},
    {45, 128, 1, 10 * 10}};

int main(int argc, char **argv)
{
    int train = argc > 1 && argv[1][0] == 't';
    int reps = argc > 2 ? atoi(argv[2]) : 5;
    const conv *L = train ? fashion_det_160 : yolov3_tiny_416;
    const int nl = 13;
    size_t big = (size_t)1 << 24, i;
    float *A = malloc(big * sizeof(float)), *B = malloc(big * sizeof(float)),
          *C = malloc(big * sizeof(float));
    double best = 1e30, flops = 0;
    int r, l;
    if (!A || !B || !C) return 1;
    for (i = 0; i < big; ++i) {
        A[i] = (float)(i % 17) * 0.01f - 0.08f;
        B[i] = (float)(i % 13) * 0.02f - 0.1f;
        C[i] = 0;
    }
    for (r = 0; r < reps; ++r) {
        double t0 = now(), t;
        flops = 0;
        for (l = 0; l < nl; ++l) {
            int m = L[l].n, k = L[l].c * L[l].k * L[l].k, n = L[l].s;
            sgemm(0, 0, m, n, k, A, k, B, n, 0, C, n);              /* forward */
            flops += 2.0 * m * n * k;
            if (train) {
                sgemm(0, 1, m, k, n, A, n, B, n, 1, C, k);          /* weight gradient */
                sgemm(1, 0, k, n, m, A, k, B, n, 0, C, n);          /* input gradient */
                flops += 4.0 * m * n * k;
            }
        }
        t = now() - t0;
        if (t < best) best = t;
    }
    printf("%.5f s %.1f GFLOPS\n", best, flops / best / 1e9);
    free(A);
    free(B);
    free(C);
    return 0;
}
