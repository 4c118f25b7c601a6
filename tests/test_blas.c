/* test_blas.c: our libdarknet's gemm_cpu (oneDNN's dnnl_sgemm when built
 * with BLAS=1, patches/gemm-cpu-use-blas.patch; cblas_sgemm with
 * BLASIMPL=openblas) computes what stock Darknet computes.
 *
 * gemm_cpu against a plain triple loop for all four transpose combinations,
 * with alpha/beta and leading dimensions larger than the matrices; then whole
 * forward passes: yolov3-tiny at 416x416 with seeded random weights, and the
 * zoo's Tiny Darknet with its real weights, through our library and through
 * stock Debian Darknet (build/tests/stock_forward); every [yolo] output, a
 * classifier's logits and the final output agree within 1e-3 relative. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"
#include "gemm.h"

#ifndef TEST_BLAS
#define TEST_BLAS 1
#endif
#ifndef TEST_BLAS_SYMBOL
#define TEST_BLAS_SYMBOL "dnnl_sgemm"
#endif

static void test_linked_with_blas(void **state)
{
    char *out = NULL;
    int rc = tu_run("nm build/darknet/libdarknet.a 2>/dev/null | "
                    "grep -c ' U \\(dnnl\\|cblas\\)_sgemm$'", &out, NULL);
    int refs = atoi(out);
    char *cmd = tu_fmt("nm build/darknet/libdarknet.a 2>/dev/null | grep -c ' U %s$'",
                       TEST_BLAS_SYMBOL);
    char *out2 = NULL;
    int rc2 = tu_run(cmd, &out2, NULL);
    int mine = atoi(out2);
    printf("  libdarknet.a references a BLAS SGEMM %d time(s), %s %d time(s); built with "
           "BLAS=%d\n", refs, TEST_BLAS_SYMBOL, mine, TEST_BLAS);
    if (TEST_BLAS) assert_true(rc == 0 && rc2 == 0 && mine > 0 && mine == refs);
    else assert_int_equal(refs, 0);
    free(cmd);
    free(out);
    free(out2);
}

/* C = alpha * op(A) op(B) + beta * C, the plain way, in double. */
static void ref_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                     const float *B, int ldb, float beta, float *C, int ldc)
{
    int i, j, k;
    for (i = 0; i < M; ++i) {
        for (j = 0; j < N; ++j) {
            double s = 0;
            for (k = 0; k < K; ++k) {
                double a = ta ? A[k * lda + i] : A[i * lda + k];
                double b = tb ? B[j * ldb + k] : B[k * ldb + j];
                s += a * b;
            }
            C[i * ldc + j] = (float)(alpha * s + beta * C[i * ldc + j]);
        }
    }
}

static void test_gemm_matches_reference(void **state)
{
    const int M = 37, N = 53, K = 29;
    int ta, tb, i;
    unsigned seed = 1;
    for (ta = 0; ta < 2; ++ta) {
        for (tb = 0; tb < 2; ++tb) {
            int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 5, ldc = N + 2;
            int arows = ta ? K : M, brows = tb ? N : K;
            float *A = malloc(sizeof(float) * arows * lda);
            float *B = malloc(sizeof(float) * brows * ldb);
            float *C1 = malloc(sizeof(float) * M * ldc);
            float *C2 = malloc(sizeof(float) * M * ldc);
            float alpha = 0.75f, beta = 0.5f;
            for (i = 0; i < arows * lda; ++i) A[i] = (float)((seed = seed * 1103515245u + 12345u) >> 16) / 32768.0f - 1;
            for (i = 0; i < brows * ldb; ++i) B[i] = (float)((seed = seed * 1103515245u + 12345u) >> 16) / 32768.0f - 1;
            for (i = 0; i < M * ldc; ++i) C1[i] = C2[i] = (float)((seed = seed * 1103515245u + 12345u) >> 16) / 32768.0f - 1;
            gemm_cpu(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C1, ldc);
            ref_gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C2, ldc);
            {
                char label[64];
                snprintf(label, sizeof(label), "gemm_cpu TA=%d TB=%d", ta, tb);
                /* padding columns of C must be untouched: compare all of it */
                assert_true(tu_close(label, C1, C2, (size_t)M * ldc, 1e-5));
            }
            free(A);
            free(B);
            free(C1);
            free(C2);
        }
    }
}

static void test_yolov3_tiny_416(void **state)
{
    char *dir = tu_mkdtemp("blas");
    char *cfg = tu_path(dir, "yolov3-tiny.cfg");
    char *w = tu_path(dir, "yolov3-tiny.weights");
    assert_int_equal(tu_cfg_copy(TU_STOCK_CFG "/yolov3-tiny.cfg", cfg, 416, 416), 0);
    assert_int_equal(tu_random_weights(cfg, w, 21), 0);
    tu_assert_stock_forward_matches(cfg, w, dir, 1e-3);
    tu_rmtree(dir);
    free(dir);
    free(cfg);
    free(w);
}

static void test_tiny_darknet_zoo(void **state)
{
    char *src = tu_zoo_file("tiny-darknet-imagenet/tiny.cfg");
    char *w = src ? tu_zoo_file("tiny-darknet-imagenet/tiny.weights") : NULL;
    char *dir, *cfg;
    if (!src || !w) {
        free(src);
        skip();
        return;
    }
    dir = tu_mkdtemp("blas-tiny");
    cfg = tu_path(dir, "tiny.cfg");
    assert_int_equal(tu_cfg_copy(src, cfg, 0, 0), 0);   /* batch=1, same size */
    tu_assert_stock_forward_matches(cfg, w, dir, 1e-3);
    tu_rmtree(dir);
    free(dir);
    free(cfg);
    free(w);
    free(src);
}

int main(void)
{
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linked_with_blas),
        cmocka_unit_test(test_gemm_matches_reference),
        cmocka_unit_test(test_yolov3_tiny_416),
        cmocka_unit_test(test_tiny_darknet_zoo),
    };
    return cmocka_run_group_tests_name("blas", tests, NULL, NULL);
}
