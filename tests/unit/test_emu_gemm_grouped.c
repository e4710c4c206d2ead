/* The emu backend's grouped bf16 GEMM (the MoE expert GEMMs) against a
 * double reference: MoE-shaped problems with odd sizes and empty experts,
 * poisoned outputs, a bad problem refused before anything is written, and
 * the emu result bit-identical to gemm_bf16 + one rounding (what the forward
 * did before the grouped call). */
#include <string.h>

#include "pf_test_grouped.h"

static pf_device *dev;

/* Grouped == one gemm_bf16 (fp32 out) rounded to bf16, bit for bit. */
static void test_same_as_single(int m, int n, int k)
{
    size_t sa = (size_t)m * k, sb = (size_t)n * k, sc = (size_t)m * n;
    pf_bf16 *a = malloc(sa * 2), *b = malloc(sb * 2), *c = malloc(sc * 2);
    float *f = malloc(sc * 4);
    for (size_t i = 0; i < sa; i++)
        a[i] = pf_f32_to_bf16(pf_test_frand() * 3);
    for (size_t i = 0; i < sb; i++)
        b[i] = pf_f32_to_bf16(pf_test_frand());
    pf_dptr da, db, dc, df;
    CHECK(pf_dev_alloc(dev, sa * 2, "A", &da) == 0);
    CHECK(pf_dev_alloc(dev, sb * 2, "B", &db) == 0);
    CHECK(pf_dev_alloc(dev, sc * 2, "C", &dc) == 0);
    CHECK(pf_dev_alloc(dev, sc * 4, "F", &df) == 0);
    pf_dev_copy_htod(dev, da, a, sa * 2, NULL);
    pf_dev_copy_htod(dev, db, b, sb * 2, NULL);
    pf_gemm_problem p = {m, da, db, dc};
    CHECK(pf_dev_gemm_bf16_grouped(dev, n, k, &p, 1, NULL) == 0);
    CHECK(pf_dev_gemm_bf16(dev, m, n, k, da, db, 1, df, NULL) == 0);
    pf_dev_copy_dtoh(dev, c, dc, sc * 2, NULL);
    pf_dev_copy_dtoh(dev, f, df, sc * 4, NULL);
    int diff = 0;
    for (size_t i = 0; i < sc; i++)
        diff += c[i] != pf_f32_to_bf16(f[i]);
    CHECK_MSG(diff == 0, "%dx%dx%d: %d outputs differ from gemm_bf16 + rounding", m, n, k, diff);
    /* C one row short: refused, naming the operand */
    pf_dptr small;
    CHECK(pf_dev_alloc(dev, sc * 2 - 2, "short C", &small) == 0);
    p.c = small;
    CHECK(pf_dev_gemm_bf16_grouped(dev, n, k, &p, 1, NULL) == -1);
    CHECK(strstr(pf_error_get(), "grouped gemm C") != NULL);
    CHECK(pf_dev_gemm_bf16_grouped(dev, 0, k, &p, 1, NULL) == -1);
    pf_dev_free(dev, small);
    pf_dev_free(dev, da);
    pf_dev_free(dev, db);
    pf_dev_free(dev, dc);
    pf_dev_free(dev, df);
    free(a), free(b), free(c), free(f);
}

int main(void)
{
    pf_test_seed();
    CHECK_MSG(pf_emu_open("sm_90", &dev) == 0, "%s", pf_error_get());
    if (!dev)
        return PF_TEST_RESULT();
    pf_test_grouped_gemm(dev, 9, 24, 40);
    pf_test_grouped_gemm(dev, 5 + (int)(pf_test_rng() % 12), 1 + (int)(pf_test_rng() % 70),
                         1 + (int)(pf_test_rng() % 90));
    test_same_as_single(37, 29, 61);
    test_same_as_single(1, 1, 1);
    CHECK(pf_dev_gemm_bf16_grouped(dev, 8, 8, NULL, 0, NULL) == 0); /* nothing to do */
    pf_device_close(dev);
    return PF_TEST_RESULT();
}
