/* The grouped GEMM check shared by the emu test and the GPU test: E
 * problems laid out as an MoE layer lays them out (row slices of one A and
 * one C buffer, one [n,k] B per problem), random row counts with some
 * problems empty, C poisoned first. Each output must equal a double
 * reference rounded to bf16 within one bf16 ulp (fp32 sums may round the
 * other way at a tie), and the poison past the last row must survive. */
#ifndef PF_TEST_GROUPED_H
#define PF_TEST_GROUPED_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/pf_error.h"
#include "device/device.h"
#include "kernels/pf_numeric.h"
#include "pf_test.h"

#define PF_TEST_POISON 0x7fc1 /* a NaN no GEMM produces */

static inline double pf_test_grouped_ref(const pf_bf16 *a, const pf_bf16 *b, int k)
{
    double s = 0;
    for (int p = 0; p < k; p++)
        s += (double)pf_bf16_to_f32(a[p]) * pf_bf16_to_f32(b[p]);
    return s;
}

/* Returns the problems' total row count; checks are CHECKs. */
static inline int pf_test_grouped_gemm(pf_device *d, int E, int n, int k)
{
    int *m = malloc((size_t)E * sizeof *m), rows = 0;
    for (int e = 0; e < E; e++) {
        m[e] = rand() % 4 == 0 ? 0 : 1 + rand() % 37; /* empty experts too */
        rows += m[e];
    }
    size_t sa = (size_t)rows * k, sb = (size_t)E * n * k, sc = (size_t)(rows + 1) * n;
    pf_bf16 *a = malloc(sa * 2 + 2), *b = malloc(sb * 2), *c = malloc(sc * 2);
    for (size_t i = 0; i < sa; i++)
        a[i] = pf_f32_to_bf16(pf_test_frand());
    for (size_t i = 0; i < sb; i++)
        b[i] = pf_f32_to_bf16(pf_test_frand());
    for (size_t i = 0; i < sc; i++)
        c[i] = PF_TEST_POISON;
    pf_dptr da = 0, db = 0, dc = 0;
    CHECK(pf_dev_alloc(d, sa * 2 + 2, "grouped A", &da) == 0);
    CHECK(pf_dev_alloc(d, sb * 2, "grouped B", &db) == 0);
    CHECK(pf_dev_alloc(d, sc * 2, "grouped C", &dc) == 0);
    CHECK(pf_dev_copy_htod(d, da, a, sa * 2 + 2, NULL) == 0);
    CHECK(pf_dev_copy_htod(d, db, b, sb * 2, NULL) == 0);
    CHECK(pf_dev_copy_htod(d, dc, c, sc * 2, NULL) == 0);
    pf_gemm_problem *p = calloc((size_t)E, sizeof *p);
    long long off = 0;
    for (int e = 0; e < E; e++) {
        p[e] = (pf_gemm_problem){m[e], da + (size_t)off * k * 2, db + (size_t)e * n * k * 2,
                                 dc + (size_t)off * n * 2};
        off += m[e];
    }
    /* a bad problem anywhere: refused, nothing written */
    int saved = p[E - 1].m;
    p[E - 1].m = -1;
    CHECK(pf_dev_gemm_bf16_grouped(d, n, k, p, E, NULL) == -1);
    p[E - 1].m = saved;
    int rc = pf_dev_gemm_bf16_grouped(d, n, k, p, E, NULL);
    CHECK_MSG(rc == 0, "grouped %d problems n=%d k=%d: %s", E, n, k, pf_error_get());
    CHECK(pf_dev_stream_sync(d, NULL) == 0);
    CHECK(pf_dev_copy_dtoh(d, c, dc, sc * 2, NULL) == 0);
    int far = 0, exact = 0;
    off = 0;
    for (int e = 0; e < E; e++) {
        for (int i = 0; i < m[e]; i++)
            for (int j = 0; j < n; j++) {
                double r = pf_test_grouped_ref(a + (size_t)(off + i) * k, b + ((size_t)e * n + j) * k, k);
                float got = pf_bf16_to_f32(c[(size_t)(off + i) * n + j]);
                float want = pf_bf16_to_f32(pf_f32_to_bf16((float)r));
                double ulp = fabs((double)want) * 0x1p-7 + 1e-30;
                exact += got == want;
                far += !(fabs((double)got - (double)want) <= ulp); /* NaN is far */
            }
        off += m[e];
    }
    int tail_ok = 1;
    for (int j = 0; j < n; j++)
        tail_ok &= c[(size_t)rows * n + j] == PF_TEST_POISON;
    printf("grouped GEMM %d problems, %d rows, n=%d k=%d: %d of %lld exact, %d beyond one ulp\n", E,
           rows, n, k, exact, (long long)rows * n, far);
    CHECK_MSG(far == 0, "%d outputs beyond one bf16 ulp", far);
    CHECK(tail_ok);
    pf_dev_free(d, da);
    pf_dev_free(d, db);
    pf_dev_free(d, dc);
    free(a), free(b), free(c), free(p), free(m);
    return rows;
}

#endif
