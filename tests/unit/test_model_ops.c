/* The model op kernels (kernels/ops/) on emu against their plain C
 * references (models/ops_ref.c): odd sizes, outputs poisoned with NaN
 * bytes before every launch. Elementwise ops must match bit for bit; the
 * row reductions and the pool mean (fp32 sums in another order than the
 * reference's double) within one bf16 ulp. Also the RoPE tables. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"
#include "device/device.h"
#include "jit/jit.h"
#include "kernels/pf_numeric.h"
#include "models/ops.h"
#include "models/ops_ref.h"
#include "pf_test.h"

static pf_device *dev;
static pf_ops ops;

#include "pf_test_dev.h"

static void test_norms(void)
{
    int rows = 7, n = 203;
    uint16_t *x = rand_bf16((size_t)rows * n, 4), *w = rand_bf16(n, 1), *b = rand_bf16(n, 1);
    uint16_t *ref = malloc((size_t)rows * n * 2);
    pf_dptr dx = up(x, (size_t)rows * n * 2), dw = up(w, n * 2), db = up(b, n * 2);

    pf_dptr dy = poisoned((size_t)rows * n * 2);
    pf_ref_rmsnorm(x, ref, w, rows, n, 1e-6f);
    CHECK_MSG(pf_op_rmsnorm(&ops, dx, dy, dw, rows, n, 1e-6f) == 0, "%s", pf_error_get());
    CHECK(same(dy, ref, (size_t)rows * n, 1, "rmsnorm"));

    dy = poisoned((size_t)rows * n * 2);
    pf_ref_layernorm(x, ref, w, b, rows, n, 1e-6f);
    CHECK_MSG(pf_op_layernorm(&ops, dx, dy, dw, db, rows, n, 1e-6f) == 0, "%s", pf_error_get());
    CHECK(same(dy, ref, (size_t)rows * n, 1, "layernorm"));

    /* q/k norm: rows of head_dim (64) over tokens x heads, in place */
    int qrows = 5 * 3, hd = 64;
    uint16_t *q = rand_bf16((size_t)qrows * hd, 3), *qw = rand_bf16(hd, 1);
    pf_dptr dq = up(q, (size_t)qrows * hd * 2), dqw = up(qw, hd * 2);
    pf_ref_rmsnorm(q, q, qw, qrows, hd, 1e-6f);
    CHECK(pf_op_rmsnorm(&ops, dq, dq, dqw, qrows, hd, 1e-6f) == 0);
    CHECK(same(dq, q, (size_t)qrows * hd, 1, "q norm in place"));
    pf_dev_free(dev, dx);
    pf_dev_free(dev, dw);
    pf_dev_free(dev, db);
    pf_dev_free(dev, dqw);
    free(x), free(w), free(b), free(ref), free(q), free(qw);
}

static void test_elementwise(void)
{
    long long n = 1237;
    uint16_t *g = rand_bf16(n, 5), *u = rand_bf16(n, 2), *ref = malloc(n * 2);
    pf_dptr dg = up(g, n * 2), du = up(u, n * 2), dout;

    dout = poisoned(n * 2);
    pf_ref_gelu(g, u, ref, n);
    CHECK(pf_op_gelu(&ops, dg, du, dout, n) == 0);
    CHECK(same(dout, ref, n, 0, "gelu*up"));
    dout = poisoned(n * 2);
    pf_ref_gelu(g, NULL, ref, n);
    CHECK(pf_op_gelu(&ops, dg, 0, dout, n) == 0);
    CHECK(same(dout, ref, n, 0, "gelu"));

    dout = poisoned(n * 2);
    pf_ref_add(g, u, ref, n, 0);
    CHECK(pf_op_add(&ops, dg, du, dout, n, 0) == 0);
    CHECK(same(dout, ref, n, 0, "add"));
    dout = poisoned(n * 2);
    pf_ref_add(g, u, ref, n, 37); /* position table repeated per image */
    CHECK(pf_op_add(&ops, dg, du, dout, n, 37) == 0);
    CHECK(same(dout, ref, n, 0, "add periodic"));

    int m = 13, cols = 97;
    float *c = malloc((size_t)m * cols * sizeof *c);
    for (int i = 0; i < m * cols; i++)
        c[i] = pf_test_frand() * 10;
    uint16_t *bias = rand_bf16(cols, 1), *ref2 = malloc((size_t)m * cols * 2);
    pf_dptr dc = up(c, (size_t)m * cols * 4), dbias = up(bias, cols * 2);
    dout = poisoned((size_t)m * cols * 2);
    pf_ref_bias_round(c, bias, ref2, m, cols);
    CHECK(pf_op_bias_round(&ops, dc, dbias, dout, m, cols) == 0);
    CHECK(same(dout, ref2, (size_t)m * cols, 0, "bias round"));
    dout = poisoned((size_t)m * cols * 2);
    pf_ref_bias_round(c, NULL, ref2, m, cols);
    CHECK(pf_op_bias_round(&ops, dc, 0, dout, m, cols) == 0);
    CHECK(same(dout, ref2, (size_t)m * cols, 0, "round"));
    /* pad 13 rows of 48 columns to 64 (the family's head dim) and back
     * (same() frees what it checks: the unpad reads a fresh upload) */
    pf_dptr dpad = poisoned((size_t)m * 64 * 2), dback = poisoned((size_t)m * 48 * 2);
    uint16_t *padded = malloc((size_t)m * 64 * 2), *back = malloc((size_t)m * 48 * 2);
    pf_ref_copy_cols(g, 48, padded, 64, m, 48);
    CHECK(pf_op_copy_cols(&ops, dg, 48, dpad, 64, m, 48) == 0);
    CHECK(same(dpad, padded, (size_t)m * 64, 0, "copy_cols pad"));
    pf_ref_copy_cols(padded, 64, back, 48, m, 48);
    dpad = up(padded, (size_t)m * 64 * 2);
    CHECK_MSG(pf_op_copy_cols(&ops, dpad, 64, dback, 48, m, 48) == 0, "%s", pf_error_get());
    CHECK(same(dback, back, (size_t)m * 48, 0, "copy_cols unpad"));
    CHECK(memcmp(back, g, (size_t)m * 48 * 2) == 0);
    CHECK(pf_op_copy_cols(&ops, dg, 48, dpad, 40, m, 48) != 0);
    pf_dev_free(dev, dpad), pf_dev_free(dev, dg), pf_dev_free(dev, du), pf_dev_free(dev, dc), pf_dev_free(dev, dbias);
    free(g), free(u), free(ref), free(c), free(bias), free(ref2), free(padded), free(back);
}

static void test_rope(void)
{
    int tokens = 11, heads = 3, hd = 64, npos = 9;
    uint16_t *cs = malloc((size_t)npos * hd / 2 * 2), *sn = malloc((size_t)npos * hd / 2 * 2);
    pf_rope_tables(1e4, 1.0, hd, npos, cs, sn);
    /* table spot checks: position 0 is cos 1 / sin 0; position 1, i = 0 is angle 1 */
    CHECK(cs[0] == pf_f32_to_bf16(1.0f) && sn[0] == 0);
    CHECK(cs[hd / 2] == pf_f32_to_bf16(cosf(1.0f)) && sn[hd / 2] == pf_f32_to_bf16(sinf(1.0f)));
    uint16_t *cs8 = malloc((size_t)npos * hd / 2 * 2), *sn8 = malloc((size_t)npos * hd / 2 * 2);
    pf_rope_tables(1e6, 8.0, hd, npos, cs8, sn8); /* linear: angle 1/8 at pos 1, i = 0 */
    CHECK(sn8[hd / 2] == pf_f32_to_bf16(sinf(0.125f)));

    int pos[11] = {0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 8}; /* two requests */
    uint16_t *x = rand_bf16((size_t)tokens * heads * hd, 3);
    pf_dptr dx = up(x, (size_t)tokens * heads * hd * 2), dc = up(cs, (size_t)npos * hd),
            ds = up(sn, (size_t)npos * hd), dp = up(pos, sizeof pos);
    pf_ref_rope(x, cs, sn, pos, tokens, heads, hd);
    CHECK(pf_op_rope(&ops, dx, dc, ds, dp, tokens, heads, hd) == 0);
    CHECK(same(dx, x, (size_t)tokens * heads * hd, 0, "rope"));
    pf_dev_free(dev, dc), pf_dev_free(dev, ds), pf_dev_free(dev, dp);
    free(cs), free(sn), free(cs8), free(sn8), free(x);
}

static void test_embed(void)
{
    int vocab = 29, hidden = 67, tokens = 9;
    uint16_t *table = rand_bf16((size_t)vocab * hidden, 1), *feat = rand_bf16(3 * hidden, 2);
    int ids[9] = {3, 28, 0, 5, 5, 5, 7, 1, 2};
    int frow[9] = {-1, -1, -1, 0, 1, 2, -1, -1, -1};
    float scale = pf_round_bf16(sqrtf((float)hidden));
    uint16_t *ref = malloc((size_t)tokens * hidden * 2);
    pf_dptr dt = up(table, (size_t)vocab * hidden * 2), df = up(feat, 3 * hidden * 2),
            di = up(ids, sizeof ids), dr = up(frow, sizeof frow);
    pf_dptr dout = poisoned((size_t)tokens * hidden * 2);
    pf_ref_embed(ids, frow, table, feat, ref, tokens, hidden, scale);
    CHECK(pf_op_embed(&ops, di, dr, dt, df, dout, tokens, hidden, scale) == 0);
    CHECK(same(dout, ref, (size_t)tokens * hidden, 0, "embed with features"));
    CHECK(ref[3 * hidden + 4] == feat[4]); /* features placed unscaled */
    dout = poisoned((size_t)tokens * hidden * 2);
    pf_ref_embed(ids, NULL, table, NULL, ref, tokens, hidden, scale);
    CHECK(pf_op_embed(&ops, di, 0, dt, 0, dout, tokens, hidden, scale) == 0);
    CHECK(same(dout, ref, (size_t)tokens * hidden, 0, "embed text"));
    pf_dev_free(dev, dt), pf_dev_free(dev, df), pf_dev_free(dev, di), pf_dev_free(dev, dr);
    free(table), free(feat), free(ref);
}

static void test_vision_ops(void)
{
    int images = 2, g = 6, k = 3, dim = 19, t = g / k;
    size_t in = (size_t)images * g * g * dim, out = (size_t)images * t * t * dim;
    uint16_t *x = rand_bf16(in, 2), *ref = malloc(out * 2);
    pf_dptr dx = up(x, in * 2), dout = poisoned(out * 2);
    pf_ref_avgpool(x, ref, images, g, k, dim);
    CHECK(pf_op_avgpool(&ops, dx, dout, images, g, k, dim) == 0);
    CHECK(same(dout, ref, out, 1, "avgpool"));
    CHECK(pf_op_avgpool(&ops, dx, dout, images, g, 4, dim) == -1);

    int ch = 3, size = 12, P = 4, gg = size / P;
    size_t npix = (size_t)images * ch * size * size;
    float *pix = malloc(npix * sizeof *pix);
    for (size_t i = 0; i < npix; i++)
        pix[i] = pf_test_frand() * 2;
    uint16_t *pref = malloc(npix * 2);
    pf_dptr dp = up(pix, npix * 4);
    dout = poisoned(npix * 2);
    pf_ref_patchify(pix, pref, images, ch, size, P);
    CHECK(pf_op_patchify(&ops, dp, dout, images, ch, size, P) == 0);
    CHECK(same(dout, pref, npix, 0, "patchify"));
    /* row gy*g+gx of image 1, column c*P*P+ky*P+kx is pixel (c, gy*P+ky, gx*P+kx) */
    size_t row = (size_t)1 * gg * gg + 2 * gg + 1, col = 2 * P * P + 3 * P + 1;
    CHECK(pref[row * (ch * P * P) + col] ==
          pf_f32_to_bf16(pix[(((size_t)1 * ch + 2) * size + 2 * P + 3) * size + 1 * P + 1]));
    pf_dev_free(dev, dx), pf_dev_free(dev, dp);
    free(x), free(ref), free(pix), free(pref);
}

static void test_nvrtc(void)
{
    static const char *const files[] = {"rmsnorm", "layernorm", "gelu",       "rope",     "embed",
                                        "add",     "avgpool",   "bias_round", "patchify", "copy_cols"};
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
    pf_ops_init(&ops, dev, NULL);
    test_norms();
    test_elementwise();
    test_rope();
    test_embed();
    test_vision_ops();
    pf_ops_release(&ops);
    pf_device_close(dev);
    return PF_TEST_RESULT();
}
