/* The Gemma-4 op kernels (kernels/ops/g4_*.cu) on emu against their plain C
 * references (models/ops_g4_ref.c): odd sizes, outputs poisoned with NaN
 * bytes before every launch. Elementwise ops, the router, the grouping and
 * the combine must match bit for bit; the norm within one bf16 ulp (fp32
 * sum vs the reference's double). Also the NVRTC compile of every kernel
 * for sm_80 and sm_90, and the proportional RoPE tables' identity pairs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"
#include "device/device.h"
#include "jit/jit.h"
#include "kernels/pf_numeric.h"
#include "models/ops.h"
#include "models/ops_g4.h"
#include "models/ops_g4_ref.h"
#include "models/ops_ref.h"
#include "pf_test.h"

static pf_device *dev;
static pf_g4_ops ops;

#include "pf_test_dev.h"

/* Device 32-bit output (int or float) bit for bit; frees d. */
static int same32(pf_dptr d, const void *ref, size_t n, const char *what)
{
    uint32_t *got = down(d, n * 4);
    const uint32_t *want = ref;
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < n; i++)
        if (got[i] != want[i] && !bad++)
            first = i;
    if (bad)
        fprintf(stderr, "  %s: %zu of %zu differ; first at %zu: got %08x, want %08x\n", what,
                bad, n, first, got[first], want[first]);
    free(got);
    pf_dev_free(dev, d);
    return bad == 0;
}

static void test_nvrtc(void)
{
    static const char *const files[] = {"g4_rmsnorm",    "g4_scale",       "g4_add_scale",
                                        "g4_router",     "g4_moe_count",   "g4_moe_gather",
                                        "g4_gather_rows", "g4_geglu",      "g4_combine",
                                        "g4_softcap"};
    check_nvrtc(files, (int)(sizeof files / sizeof files[0]));
}

static void test_norm_scale(void)
{
    int rows = 7, n = 203;
    size_t N = (size_t)rows * n;
    uint16_t *x = rand_bf16(N, 4), *w = rand_bf16(n, 2), *b = rand_bf16(N, 4);
    uint16_t *ref = malloc(N * 2);
    pf_dptr dx = up(x, N * 2), dw = up(w, (size_t)n * 2), db = up(b, N * 2);
    for (int with_w = 0; with_w < 2; with_w++) {
        pf_dptr dy = poisoned(N * 2);
        pf_g4_ref_rmsnorm(x, ref, with_w ? w : NULL, rows, n, 1e-6f);
        CHECK_MSG(pf_g4_op_rmsnorm(&ops, dx, dy, with_w ? dw : 0, rows, n, 1e-6f) == 0, "%s",
                  pf_error_get());
        CHECK(same(dy, ref, N, 1, with_w ? "g4_rmsnorm" : "g4_rmsnorm (no scale)"));
    }
    pf_dptr dy = poisoned(N * 2);
    pf_g4_ref_scale(x, w, ref, (long long)N, n, 0.0883883f);
    CHECK(pf_g4_op_scale(&ops, dx, dw, dy, (long long)N, n, 0.0883883f) == 0);
    CHECK(same(dy, ref, N, 0, "g4_scale"));
    dy = poisoned(N * 2);
    pf_g4_ref_add_scale(x, b, w[3], ref, (long long)N);
    CHECK(pf_g4_op_add_scale(&ops, dx, db, dw + 3 * 2, dy, (long long)N) == 0);
    CHECK(same(dy, ref, N, 0, "g4_add_scale"));
    pf_dev_free(dev, dx), pf_dev_free(dev, dw), pf_dev_free(dev, db);
    free(x), free(w), free(b), free(ref);
}

/* Router, grouping, gather, geglu and combine on one random routing, with a
 * few tied logits (ties go to the lower expert index). */
static void test_moe(int T, int E, int K, int H, int I)
{
    size_t TK = (size_t)T * K;
    uint16_t *lg = rand_bf16((size_t)T * E, 3), *pes = rand_bf16((size_t)E, 2);
    for (int t = 0; t < T; t += 5) /* ties */
        lg[(size_t)t * E + E - 1] = lg[(size_t)t * E];
    int *idx = malloc(TK * sizeof *idx), *counts = malloc((size_t)E * sizeof *counts);
    int *perm = malloc(TK * sizeof *perm), *slot = malloc(TK * sizeof *slot);
    float *w = malloc(TK * sizeof *w);
    pf_g4_ref_router(lg, pes, idx, w, T, E, K);
    pf_g4_ref_moe_group(idx, (long long)TK, E, K, counts, perm, slot);

    pf_dptr dlg = up(lg, (size_t)T * E * 2), dpes = up(pes, (size_t)E * 2);
    pf_dptr didx = poisoned(TK * 4), dw = poisoned(TK * 4);
    CHECK_MSG(pf_g4_op_router(&ops, dlg, dpes, didx, dw, T, E, K) == 0, "%s", pf_error_get());
    CHECK(same32(dw, w, TK, "g4_router weights"));
    /* the grouping from the reference's routing (didx is freed by same32) */
    CHECK(same32(didx, idx, TK, "g4_router experts"));
    didx = up(idx, TK * 4);
    pf_dptr dcnt = poisoned((size_t)E * 4), dperm = poisoned(TK * 4), dslot = poisoned(TK * 4);
    CHECK(pf_g4_op_moe_count(&ops, didx, dcnt, (long long)TK, E) == 0);
    CHECK(pf_g4_op_moe_gather(&ops, didx, dcnt, dperm, dslot, (long long)TK, E, K) == 0);
    CHECK(same32(dperm, perm, TK, "g4_moe_gather perm"));
    CHECK(same32(dslot, slot, TK, "g4_moe_gather slot_of"));
    CHECK(same32(dcnt, counts, (size_t)E, "g4_moe_count"));

    uint16_t *x = rand_bf16((size_t)T * H, 4), *xg = malloc(TK * H * 2);
    pf_dptr dx = up(x, (size_t)T * H * 2), dxg = poisoned(TK * H * 2);
    pf_dptr dp = up(perm, TK * 4);
    pf_g4_ref_gather_rows(x, perm, xg, (long long)TK, H);
    CHECK(pf_g4_op_gather_rows(&ops, dx, dp, dxg, (long long)TK, H) == 0);
    CHECK(same(dxg, xg, TK * H, 0, "g4_gather_rows"));

    uint16_t *gu = rand_bf16(TK * 2 * I, 4), *act = malloc(TK * I * 2);
    pf_dptr dgu = up(gu, TK * 2 * I * 2), dact = poisoned(TK * I * 2);
    pf_g4_ref_geglu(gu, act, (long long)TK, I);
    CHECK(pf_g4_op_geglu(&ops, dgu, dact, (long long)TK, I) == 0);
    CHECK(same(dact, act, TK * I, 0, "g4_geglu"));

    uint16_t *eo = rand_bf16(TK * H, 8), *out = malloc((size_t)T * H * 2);
    pf_dptr deo = up(eo, TK * H * 2), ds = up(slot, TK * 4), dwt = up(w, TK * 4);
    pf_dptr dout = poisoned((size_t)T * H * 2);
    pf_g4_ref_combine(eo, slot, w, out, T, H, K);
    CHECK(pf_g4_op_combine(&ops, deo, ds, dwt, dout, T, H, K) == 0);
    CHECK(same(dout, out, (size_t)T * H, 0, "g4_combine"));

    pf_dptr all[] = {dlg, dpes, didx, dx, dp, dgu, deo, ds, dwt};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        pf_dev_free(dev, all[i]);
    free(lg), free(pes), free(idx), free(counts), free(perm), free(slot), free(w);
    free(x), free(xg), free(gu), free(act), free(eo), free(out);
}

static void test_softcap(void)
{
    long long n = 1001;
    float *x = malloc((size_t)n * 4), *ref = malloc((size_t)n * 4);
    for (long long i = 0; i < n; i++)
        x[i] = pf_test_frand() * 80;
    pf_dptr dx = up(x, (size_t)n * 4);
    for (int capped = 0; capped < 2; capped++) {
        pf_dptr dy = poisoned((size_t)n * 4);
        pf_g4_ref_softcap(x, ref, n, capped ? 30.0f : 0.0f);
        CHECK(pf_g4_op_softcap(&ops, dx, dy, n, capped ? 30.0f : 0.0f) == 0);
        CHECK(same32(dy, ref, (size_t)n, capped ? "g4_softcap" : "g4_softcap (no cap)"));
    }
    pf_dev_free(dev, dx);
    free(x), free(ref);
}

/* Proportional RoPE: pairs past the rotated ones are an exact identity
 * through pf_op_rope; the rotated ones match the default tables. */
static void test_rope_tables(void)
{
    int d = 24, pairs = 3, npos = 9, h = d / 2, heads = 2, T = npos;
    pf_g4_rope prop = {1, 1e6, 0.25, 1.0};
    uint16_t *cs = malloc((size_t)npos * h * 2), *sn = malloc((size_t)npos * h * 2);
    pf_g4_rope_tables(&prop, d, pairs, npos, cs, sn);
    int ident = 1;
    for (int t = 0; t < npos; t++)
        for (int i = pairs; i < h; i++)
            ident &= cs[(size_t)t * h + i] == 0x3f80 && sn[(size_t)t * h + i] == 0;
    CHECK_MSG(ident, "proportional RoPE: pairs past %d are not cos 1, sin 0", pairs);
    uint16_t *x = rand_bf16((size_t)T * heads * d, 4), *y = malloc((size_t)T * heads * d * 2);
    int pos[9];
    for (int t = 0; t < T; t++)
        pos[t] = t;
    memcpy(y, x, (size_t)T * heads * d * 2);
    pf_ref_rope(y, cs, sn, pos, T, heads, d);
    int same_pass = 1;
    for (int t = 0; t < T; t++)
        for (int hh = 0; hh < heads; hh++)
            for (int i = pairs; i < h; i++) {
                size_t o = ((size_t)t * heads + hh) * d;
                same_pass &= y[o + i] == x[o + i] && y[o + i + h] == x[o + i + h];
            }
    CHECK_MSG(same_pass, "proportional RoPE changed a non-rotated pair");
    pf_ops o3;
    pf_ops_init(&o3, dev, NULL);
    pf_dptr dx = up(x, (size_t)T * heads * d * 2), dc = up(cs, (size_t)npos * h * 2);
    pf_dptr dsn = up(sn, (size_t)npos * h * 2), dp = up(pos, sizeof pos);
    CHECK(pf_op_rope(&o3, dx, dc, dsn, dp, T, heads, d) == 0);
    CHECK(same(dx, y, (size_t)T * heads * d, 0, "rope with proportional tables"));
    pf_ops_release(&o3);
    pf_dev_free(dev, dc), pf_dev_free(dev, dsn), pf_dev_free(dev, dp);
    free(cs), free(sn), free(x), free(y);
}

int main(void)
{
    test_nvrtc();
    pf_test_seed();
    if (pf_emu_open("sm_90", &dev) != 0) {
        fprintf(stderr, "emu: %s\n", pf_error_get());
        return 1;
    }
    pf_g4_ops_init(&ops, dev, NULL);
    test_norm_scale();
    test_moe(37, 5, 2, 19, 11);
    test_moe(300, 13, 3, 8, 5); /* more entries than a gather block's threads */
    test_softcap();
    test_rope_tables();
    pf_g4_ops_release(&ops);
    pf_device_close(dev);
    return PF_TEST_RESULT();
}
