/* gemm_bf16 (cuBLASLt) and gemm_bf16_grouped (cuBLAS) against a
 * double-precision CPU reference on random bf16-rounded inputs with odd
 * sizes, both B layouts. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cuda_test_util.h"
#include "pf_test.h"
#include "pf_test_grouped.h"

static void check_gemm(pf_device *d, int m, int n, int k, int b_trans)
{
    uint16_t *a = malloc((size_t)m * k * 2), *b = malloc((size_t)k * n * 2);
    float *c = malloc((size_t)m * n * 4);
    for (size_t i = 0; i < (size_t)m * k; i++)
        a[i] = cuda_test_f32_to_bf16(cuda_test_uniform(-1, 1));
    for (size_t i = 0; i < (size_t)k * n; i++)
        b[i] = cuda_test_f32_to_bf16(cuda_test_uniform(-1, 1));
    pf_dptr da = 0, db = 0, dc = 0;
    CHECK(pf_dev_alloc(d, (size_t)m * k * 2, "A", &da) == 0);
    CHECK(pf_dev_alloc(d, (size_t)k * n * 2, "B", &db) == 0);
    CHECK(pf_dev_alloc(d, (size_t)m * n * 4, "C", &dc) == 0);
    CHECK(pf_dev_copy_htod(d, da, a, (size_t)m * k * 2, NULL) == 0);
    CHECK(pf_dev_copy_htod(d, db, b, (size_t)k * n * 2, NULL) == 0);
    CHECK(pf_dev_memset8(d, dc, 0xff, (size_t)m * n * 4, NULL) == 0); /* NaN fill */
    int rc = pf_dev_gemm_bf16(d, m, n, k, da, db, b_trans, dc, NULL);
    CHECK_MSG(rc == 0, "gemm %dx%dx%d b_trans %d: %s", m, n, k, b_trans, pf_error_get());
    CHECK(pf_dev_copy_dtoh(d, c, dc, (size_t)m * n * 4, NULL) == 0);

    double err2 = 0, ref2 = 0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double r = 0;
            for (int p = 0; p < k; p++) {
                double bv = cuda_test_bf16_to_f32(b_trans ? b[(size_t)j * k + p]
                                                          : b[(size_t)p * n + j]);
                r += (double)cuda_test_bf16_to_f32(a[(size_t)i * k + p]) * bv;
            }
            double diff = c[(size_t)i * n + j] - r;
            err2 += diff * diff;
            ref2 += r * r;
        }
    double rel = sqrt(err2 / ref2);
    printf("gemm %dx%dx%d b_trans=%d: relative Frobenius error %.3g\n", m, n, k, b_trans, rel);
    CHECK(rel < 1e-2); /* NaN fails too */
    pf_dev_free(d, da);
    pf_dev_free(d, db);
    pf_dev_free(d, dc);
    free(a);
    free(b);
    free(c);
}

int main(void)
{
    pf_test_srand(); /* fresh inputs each run; PF_TEST_SEED=N replays one */
    pf_device *d = cuda_test_open();
    for (int b_trans = 0; b_trans <= 1; b_trans++) {
        check_gemm(d, 77, 131, 53, b_trans);
        check_gemm(d, 1, 1, 1, b_trans);
        check_gemm(d, 64 + rand() % 200, 64 + rand() % 200, 8 + rand() % 300, b_trans);
        check_gemm(d, 512, 256, 1024, b_trans);
    }
    pf_dptr x = 0;
    CHECK(pf_dev_gemm_bf16(d, 0, 4, 4, x, x, 0, x, NULL) == -1);
    /* the MoE expert GEMMs: cublasGemmGroupedBatchedEx, twice so the
     * pointer table is reused, then more problems so it grows */
    pf_test_seed();
    pf_test_grouped_gemm(d, 9, 24, 40);
    pf_test_grouped_gemm(d, 7, 77, 53);
    pf_test_grouped_gemm(d, 32, 256, 512);
    pf_device_close(d);
    return PF_TEST_RESULT();
}
