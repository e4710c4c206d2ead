/* The Gemma-4 vision op kernels (kernels/ops/g4v_*.cu) on emu against their
 * plain C references (models/ops_g4v_ref.c): odd sizes, outputs poisoned
 * with NaN bytes before every launch. Elementwise ops must match bit for
 * bit; the row norm and the pool sum (fp32 in another order than the
 * reference's double) within one bf16 ulp. Also the 2D RoPE tables, and
 * every kernel compiles with NVRTC for sm_80 and sm_90. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"
#include "device/device.h"
#include "jit/jit.h"
#include "kernels/pf_numeric.h"
#include "models/ops_g4v.h"
#include "models/ops_g4v_ref.h"
#include "pf_test.h"

static pf_device *dev;
static pf_g4v_ops ops;

#include "pf_test_dev.h"

static void test_patch_in_pos_add(void)
{
    long long n = 3 * 7 * 7 * 3 + 5;
    float *pix = malloc((size_t)n * sizeof *pix);
    for (long long i = 0; i < n; i++)
        pix[i] = 0.5f + 0.5f * pf_test_frand(); /* [0, 1] like the processor's */
    pix[0] = 0.0f, pix[1] = 1.0f, pix[2] = 0.5f;
    uint16_t *ref = malloc((size_t)n * 2);
    pf_dptr dp = up(pix, (size_t)n * 4), dout = poisoned((size_t)n * 2);
    pf_g4v_ref_patch_in(pix, ref, n);
    CHECK_MSG(pf_g4v_patch_in(&ops, dp, dout, n) == 0, "%s", pf_error_get());
    CHECK(same(dout, ref, (size_t)n, 0, "patch_in"));
    CHECK(ref[0] == pf_f32_to_bf16(-1.0f) && ref[1] == pf_f32_to_bf16(1.0f) && ref[2] == 0);
    pf_dev_free(dev, dp);
    free(pix), free(ref);

    int rows = 11, dim = 37, npos = 9;
    uint16_t *x = rand_bf16((size_t)rows * dim, 2), *table = rand_bf16((size_t)2 * npos * dim, 1);
    int pos[22] = {0, 0, 1, 0, 8, 0, 0, 8, 3, 5, -1, -1, 7, 2, 2, 7, -1, -1, 4, 4, 8, 8};
    uint16_t *r2 = malloc((size_t)rows * dim * 2);
    pf_dptr dx = up(x, (size_t)rows * dim * 2), dt = up(table, (size_t)2 * npos * dim * 2),
            dpos = up(pos, sizeof pos);
    dout = poisoned((size_t)rows * dim * 2);
    pf_g4v_ref_pos_add(x, table, pos, r2, rows, dim, npos);
    CHECK(pf_g4v_pos_add(&ops, dx, dt, dpos, dout, rows, dim, npos) == 0);
    CHECK(same(dout, r2, (size_t)rows * dim, 0, "pos_add"));
    CHECK(r2[5 * dim + 3] == x[5 * dim + 3]); /* padding row unchanged */
    /* in place */
    CHECK(pf_g4v_pos_add(&ops, dx, dt, dpos, dx, rows, dim, npos) == 0);
    CHECK(same(dx, r2, (size_t)rows * dim, 0, "pos_add in place"));
    pf_dev_free(dev, dt), pf_dev_free(dev, dpos);
    free(x), free(table), free(r2);
}

static void test_rmsnorm(void)
{
    int rows = 7, n = 203;
    uint16_t *x = rand_bf16((size_t)rows * n, 4), *w = rand_bf16(n, 1.5f);
    uint16_t *res = rand_bf16((size_t)rows * n, 3), *ref = malloc((size_t)rows * n * 2);
    pf_dptr dx = up(x, (size_t)rows * n * 2), dw = up(w, n * 2), dr = up(res, (size_t)rows * n * 2);
    for (int mode = 0; mode < 4; mode++) { /* weight or none, residual or none */
        const uint16_t *hw = mode & 1 ? w : NULL, *hr = mode & 2 ? res : NULL;
        pf_dptr dy = poisoned((size_t)rows * n * 2);
        pf_g4v_ref_rmsnorm(x, ref, hw, hr, rows, n, 1e-6f);
        CHECK_MSG(pf_g4v_rmsnorm(&ops, dx, dy, hw ? dw : 0, hr ? dr : 0, rows, n, 1e-6f) == 0,
                  "%s", pf_error_get());
        char what[32];
        snprintf(what, sizeof what, "rmsnorm mode %d", mode);
        CHECK(same(dy, ref, (size_t)rows * n, 1, what));
    }
    /* q/k/v norms: rows of head dim 72 over tokens x heads, in place, and
     * the residual form writing over its residual */
    int qrows = 5 * 3, hd = 72;
    uint16_t *q = rand_bf16((size_t)qrows * hd, 3), *qw = rand_bf16(hd, 1);
    pf_dptr dq = up(q, (size_t)qrows * hd * 2), dqw = up(qw, hd * 2);
    pf_g4v_ref_rmsnorm(q, q, qw, NULL, qrows, hd, 1e-6f);
    CHECK(pf_g4v_rmsnorm(&ops, dq, dq, dqw, 0, qrows, hd, 1e-6f) == 0);
    CHECK(same(dq, q, (size_t)qrows * hd, 1, "q norm in place"));
    pf_g4v_ref_rmsnorm(x, ref, w, res, rows, n, 1e-6f);
    CHECK(pf_g4v_rmsnorm(&ops, dx, dr, dw, dr, rows, n, 1e-6f) == 0);
    CHECK(same(dr, ref, (size_t)rows * n, 1, "norm + residual in place"));
    pf_dev_free(dev, dx), pf_dev_free(dev, dw), pf_dev_free(dev, dqw);
    free(x), free(w), free(res), free(ref), free(q), free(qw);
}

static void test_clamp(void)
{
    long long n = 1237;
    uint16_t *x = rand_bf16((size_t)n, 6), *ref = malloc((size_t)n * 2);
    x[0] = 0x7fc1; /* NaN passes through */
    uint16_t lo = pf_f32_to_bf16(-2.5f), hi = pf_f32_to_bf16(3.25f);
    pf_dptr dx = up(x, (size_t)n * 2), dlo = up(&lo, 2), dhi = up(&hi, 2);
    pf_dptr dout = poisoned((size_t)n * 2);
    pf_g4v_ref_clamp(x, ref, lo, hi, n);
    CHECK(pf_g4v_clamp(&ops, dx, dout, dlo, dhi, n) == 0);
    uint16_t *got = malloc((size_t)n * 2);
    pf_dev_stream_sync(dev, NULL);
    pf_dev_copy_dtoh(dev, got, dout, (size_t)n * 2, NULL);
    CHECK(memcmp(got, ref, (size_t)n * 2) == 0 && got[0] == 0x7fc1);
    int lows = 0, highs = 0;
    for (long long i = 1; i < n; i++) {
        lows += ref[i] == lo;
        highs += ref[i] == hi;
        CHECK(pf_bf16_to_f32(ref[i]) >= -2.5f && pf_bf16_to_f32(ref[i]) <= 3.25f);
    }
    CHECK(lows > 10 && highs > 10);
    pf_dev_free(dev, dout);
    /* in place */
    CHECK(pf_g4v_clamp(&ops, dx, dx, dlo, dhi, n) == 0);
    pf_dev_stream_sync(dev, NULL);
    pf_dev_copy_dtoh(dev, got, dx, (size_t)n * 2, NULL);
    CHECK(memcmp(got, ref, (size_t)n * 2) == 0);
    CHECK(pf_g4v_clamp(&ops, dx, dx, 0, dhi, n) == -1);
    pf_dev_free(dev, dx), pf_dev_free(dev, dlo), pf_dev_free(dev, dhi);
    free(x), free(ref), free(got);
}

static void test_rope2d(void)
{
    int npos = 13;
    for (int hd = 64; hd <= 72; hd += 8) {
        int q = hd / 4, tokens = 11, heads = 3;
        uint16_t *cs = malloc((size_t)npos * q * 2), *sn = malloc((size_t)npos * q * 2);
        pf_g4v_rope_tables(100.0, hd, npos, cs, sn);
        /* position 0: cos 1, sin 0; position 1, j = 1: angle 100^(-2/(hd/2)) */
        CHECK(cs[0] == pf_f32_to_bf16(1.0f) && sn[0] == 0);
        float a = 1.0f / powf(100.0f, 2.0f / (float)(hd / 2));
        CHECK(sn[q + 1] == pf_f32_to_bf16(sinf(a)) && cs[q + 1] == pf_f32_to_bf16(cosf(a)));
        int pos[22] = {0, 0, 1, 0, 12, 0, 0, 12, 3, 5, 7, 7, 5, 3, 2, 9, 9, 2, 11, 4, 6, 10};
        uint16_t *x = rand_bf16((size_t)tokens * heads * hd, 3);
        pf_dptr dx = up(x, (size_t)tokens * heads * hd * 2), dc = up(cs, (size_t)npos * q * 2),
                ds = up(sn, (size_t)npos * q * 2), dp = up(pos, sizeof pos);
        uint16_t *orig = malloc((size_t)tokens * heads * hd * 2);
        memcpy(orig, x, (size_t)tokens * heads * hd * 2);
        pf_g4v_ref_rope2d(x, cs, sn, pos, tokens, heads, hd);
        CHECK(pf_g4v_rope2d(&ops, dx, dc, ds, dp, tokens, heads, hd) == 0);
        CHECK(same(dx, x, (size_t)tokens * heads * hd, 0, hd == 64 ? "rope2d 64" : "rope2d 72"));
        /* token 0 at (0, 0) is unchanged; token 1 at (1, 0) keeps its y half */
        CHECK(memcmp(orig, x, (size_t)heads * hd * 2) == 0);
        CHECK(memcmp(orig + (size_t)heads * hd + hd / 2, x + (size_t)heads * hd + hd / 2,
                     (size_t)hd / 2 * 2) == 0);
        CHECK(memcmp(orig + (size_t)heads * hd, x + (size_t)heads * hd, (size_t)hd / 2 * 2) != 0);
        pf_dev_free(dev, dc), pf_dev_free(dev, ds), pf_dev_free(dev, dp);
        free(cs), free(sn), free(x), free(orig);
    }
    CHECK(pf_g4v_rope2d(&ops, 0, 0, 0, 0, 3, 1, 70) == -1);
}

static void test_pool(void)
{
    /* two images: 6x4 patches (k 2: 3x2 cells) and 2x2 (1 cell), rows in a
     * shuffled order, as the device side's member lists give them */
    int k = 2, dim = 23, rows = 28, cells = 7;
    int cell_ptr[8], members[28], fill[7] = {0};
    for (int c = 0; c <= cells; c++)
        cell_ptr[c] = 4 * c;
    for (int r = 0; r < rows; r++) {
        int j = (r * 11) % rows; /* row r holds patch j */
        int c;
        if (j < 24) {
            int x = j % 6, y = j / 6;
            c = x / k + 3 * (y / k);
        } else {
            c = 6;
        }
        members[cell_ptr[c] + fill[c]++] = r;
    }
    uint16_t *x = rand_bf16((size_t)rows * dim, 3), *b = rand_bf16(dim, 0.5f);
    uint16_t *s = rand_bf16(dim, 2), *ref = malloc((size_t)cells * dim * 2);
    pf_dptr dx = up(x, (size_t)rows * dim * 2), dcp = up(cell_ptr, sizeof cell_ptr),
            dm = up(members, sizeof members), db = up(b, dim * 2), ds = up(s, dim * 2);
    pf_dptr dout = poisoned((size_t)cells * dim * 2);
    pf_g4v_ref_pool(x, cell_ptr, members, b, s, ref, cells, dim, k);
    CHECK_MSG(pf_g4v_pool(&ops, dx, dcp, dm, db, ds, dout, cells, dim, k) == 0, "%s",
              pf_error_get());
    CHECK(same(dout, ref, (size_t)cells * dim, 1, "pool + standardize"));
    dout = poisoned((size_t)cells * dim * 2);
    pf_g4v_ref_pool(x, cell_ptr, members, NULL, NULL, ref, cells, dim, k);
    CHECK(pf_g4v_pool(&ops, dx, dcp, dm, 0, 0, dout, cells, dim, k) == 0);
    CHECK(same(dout, ref, (size_t)cells * dim, 1, "pool"));
    CHECK(pf_g4v_pool(&ops, dx, dcp, dm, db, 0, dout, cells, dim, k) == -1);
    pf_dev_free(dev, dx), pf_dev_free(dev, dcp), pf_dev_free(dev, dm);
    pf_dev_free(dev, db), pf_dev_free(dev, ds);
    free(x), free(b), free(s), free(ref);
}

static void test_nvrtc(void)
{
    /* the x*w norm is g4_rmsnorm.cu, compiled by test_g4_ops */
    static const char *const files[] = {"g4v_patch_in", "g4v_pos_add", "g4v_clamp", "g4v_rope2d",
                                        "g4v_pool"};
    check_nvrtc(files, (int)(sizeof files / sizeof files[0]));
}

int main(void)
{
    test_nvrtc();
    pf_test_seed();
    if (pf_emu_open("sm_90", &dev) != 0) {
        fprintf(stderr, "emu: %s\n", pf_error_get());
        return 1;
    }
    pf_g4v_ops_init(&ops, dev, NULL);
    test_patch_in_pos_add();
    test_rmsnorm();
    test_clamp();
    test_rope2d();
    test_pool();
    pf_g4v_ops_release(&ops);
    pf_device_close(dev);
    return PF_TEST_RESULT();
}
