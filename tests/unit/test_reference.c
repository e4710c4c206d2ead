/* The double-precision reference: hand-computed softmax cases, exactly the
 * right keys per row (a huge value in one key's V), GQA head mapping, the
 * scale, and bf16 rounding. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attention/layout.h"
#include "attention/mask_rule.h"
#include "core/pf_error.h"
#include "kernels/pf_numeric.h"
#include "pf_test.h"
#include "attention/reference.h"

static int near(double a, double b, double tol)
{
    return fabs(a - b) <= tol * (1 + fabs(b));
}

/* "t1,i2": positions 0 text, 1-2 image. D = 1, scale 1, q = 1 on every row,
 * k = (0, ln 2, ln 3) so the weights are 1, 2, 3; v = (6, 12, 0). */
static void test_hand_case(void)
{
    pf_layout *l;
    if (pf_layout_parse("t1,i2", &l) < 0) {
        CHECK(0);
        return;
    }
    float q[3] = {1, 1, 1}, k[3] = {0, (float)log(2.0), (float)log(3.0)}, v[3] = {6, 12, 0};
    float o[3], lse[3];
    /* gemma3 full: row 0 sees {0}; rows 1 and 2 (image) see {0,1,2} */
    CHECK(pf_attention_reference(l, PF_RULE_GEMMA3, PF_LAYER_FULL, 0, 1.0, 1, 1, 1, q, k, v, o,
                                 lse) == 0);
    CHECK(near(o[0], 6, 1e-6) && near(lse[0], 0, 1e-6));
    CHECK(near(o[1], (6 * 1 + 12 * 2 + 0 * 3) / 6.0, 1e-6) && near(lse[1], log(6.0), 1e-6));
    CHECK(near(o[2], 5, 1e-6) && near(lse[2], log(6.0), 1e-6));
    /* causal: row 1 sees {0,1}: (6 + 24) / 3 */
    CHECK(pf_attention_reference(l, PF_RULE_CAUSAL, PF_LAYER_FULL, 0, 1.0, 1, 1, 1, q, k, v, o,
                                 lse) == 0);
    CHECK(near(o[1], 10, 1e-6) && near(lse[1], log(3.0), 1e-6) && near(o[2], 5, 1e-6));
    /* sliding W=1: every row sees only itself */
    CHECK(pf_attention_reference(l, PF_RULE_GEMMA3, PF_LAYER_SLIDING, 1, 1.0, 1, 1, 1, q, k, v,
                                 o, lse) == 0);
    /* ... except image row 1, which also sees image token 2 ahead of it */
    CHECK(near(o[0], 6, 1e-6) && near(o[1], (12 * 2 + 0 * 3) / 5.0, 1e-6) && near(o[2], 0, 1e-6));
    CHECK(near(lse[2], log(3.0), 1e-6));
    /* scale halves the scores: weights 1, sqrt2, sqrt3 */
    CHECK(pf_attention_reference(l, PF_RULE_BIDIRECTIONAL, PF_LAYER_FULL, 0, 0.5, 1, 1, 1, q, k,
                                 v, o, NULL) == 0);
    double w1 = sqrt(2.0), w2 = sqrt(3.0);
    CHECK(near(o[0], (6 + 12 * w1) / (1 + w1 + w2), 1e-6));
    /* refusals */
    CHECK(pf_attention_reference(l, PF_RULE_GEMMA3, PF_LAYER_SLIDING, 0, 1, 1, 1, 1, q, k, v, o,
                                 NULL) == -1);
    CHECK(pf_attention_reference(l, PF_RULE_GEMMA3, PF_LAYER_FULL, 0, 1, 3, 2, 1, q, k, v, o,
                                 NULL) == -1);
    pf_layout_free(l);
}

static float frand(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((*s >> 40) / (double)(1 << 24)) - 0.5f;
}

/* Each key in turn carries a huge V value; a row's output jumps iff the
 * table allows that key. Hand-listed visibility for "t2,i3,t1" gemma3 full. */
static void test_visibility(void)
{
    pf_layout *l;
    if (pf_layout_parse("t1|t1,i3,t1;t2,v1|a1,i2", &l) < 0) {
        CHECK(0);
        return;
    }
    const int hq = 2, hkv = 1, d = 3;
    uint64_t seed = 99;
    size_t nq = (size_t)l->total_q * hq * d, nk = (size_t)l->total_kv * hkv * d;
    float *q = malloc(nq * sizeof(float)), *k = malloc(nk * sizeof(float));
    float *v = malloc(nk * sizeof(float)), *o = malloc(nq * sizeof(float));
    for (size_t i = 0; i < nq; i++)
        q[i] = frand(&seed);
    for (size_t i = 0; i < nk; i++)
        k[i] = frand(&seed);
    static const pf_rule rules[] = {PF_RULE_CAUSAL, PF_RULE_GEMMA3, PF_RULE_GEMMA4,
                                    PF_RULE_BIDIRECTIONAL};
    for (int ri = 0; ri < 4; ri++)
        for (int layer = 0; layer < 2; layer++) {
            if (ri == 3 && layer)
                continue;
            int W = layer ? 2 : 0;
            for (int r = 0; r < l->n_req; r++)
                for (int64_t kk = 0; kk < l->req[r].kv_len; kk++) {
                    memset(v, 0, nk * sizeof(float));
                    v[(size_t)(l->kv_indptr[r] + kk) * d + 1] = 1e6f;
                    if (pf_attention_reference(l, rules[ri], (pf_layer)layer, W, 0.3, hq, hkv, d,
                                               q, k, v, o, NULL) < 0) {
                        CHECK(0);
                        continue;
                    }
                    for (int rr = 0; rr < l->n_req; rr++)
                        for (int64_t i = 0; i < l->req[rr].q_len; i++)
                            for (int h = 0; h < hq; h++) {
                                float got = o[((size_t)(l->qo_indptr[rr] + i) * hq + h) * d + 1];
                                int want = rr == r && pf_mask_allowed(l, r, l->req[r].prefix + i,
                                                                      kk, rules[ri],
                                                                      (pf_layer)layer, W);
                                CHECK((got > 1e3f) == want);
                                CHECK(o[((size_t)(l->qo_indptr[rr] + i) * hq + h) * d] == 0);
                            }
                }
        }
    /* Hand-listed: request 0 "t1|t1,i3,t1" gemma3 full. New rows are
     * positions 1..5; image 2..4 sees through 4. Bit k of rows[i] = visible. */
    static const int rows_g3[5] = {0x03, 0x1f, 0x1f, 0x1f, 0x3f};
    for (int64_t kk = 0; kk < 6; kk++) {
        memset(v, 0, nk * sizeof(float));
        v[(size_t)kk * d + 2] = 1e6f;
        pf_attention_reference(l, PF_RULE_GEMMA3, PF_LAYER_FULL, 0, 0.3, hq, hkv, d, q, k, v, o,
                               NULL);
        for (int i = 0; i < 5; i++)
            CHECK((o[((size_t)i * hq) * d + 2] > 1e3f) == ((rows_g3[i] >> kk) & 1));
    }
    free(q);
    free(k);
    free(v);
    free(o);
    pf_layout_free(l);
}

/* GQA: q head h reads kv head h / (Hq/Hkv); V is constant per kv head. */
static void test_gqa(void)
{
    pf_layout *l;
    if (pf_layout_parse("t3,i2;t4", &l) < 0)
        return;
    const int hq = 6, hkv = 3, d = 5;
    size_t nq = (size_t)l->total_q * hq * d, nk = (size_t)l->total_kv * hkv * d;
    float *q = malloc(nq * sizeof(float)), *k = malloc(nk * sizeof(float));
    float *v = malloc(nk * sizeof(float)), *o = malloc(nq * sizeof(float));
    float *lse = malloc((size_t)l->total_q * hq * sizeof(float));
    uint64_t seed = 7;
    for (size_t i = 0; i < nq; i++)
        q[i] = frand(&seed);
    for (size_t i = 0; i < nk; i++) {
        k[i] = frand(&seed);
        v[i] = (float)((i / d) % hkv + 1); /* kv head index + 1 */
    }
    CHECK(pf_attention_reference(l, PF_RULE_GEMMA3, PF_LAYER_FULL, 0, 0.125, hq, hkv, d, q, k, v,
                                 o, lse) == 0);
    for (int64_t row = 0; row < l->total_q; row++)
        for (int h = 0; h < hq; h++)
            for (int c = 0; c < d; c++)
                CHECK(near(o[((size_t)row * hq + h) * d + c], h / 2 + 1, 1e-6));
    /* first row of each request sees only itself: lse = scale * q.k */
    for (int r = 0; r < 2; r++) {
        int64_t row = l->qo_indptr[r];
        for (int h = 0; h < hq; h++) {
            double dot = 0;
            for (int c = 0; c < d; c++)
                dot += (double)q[((size_t)row * hq + h) * d + c] *
                       k[((size_t)l->kv_indptr[r] * hkv + h / 2) * d + c];
            CHECK(near(lse[row * hq + h], 0.125 * dot, 1e-5));
        }
    }
    free(q);
    free(k);
    free(v);
    free(o);
    free(lse);
    pf_layout_free(l);
}

static void test_round_bf16(void)
{
    /* bf16 steps by 2^-7 near 1: halfway cases tie to the even mantissa */
    float x[6] = {1.0f, 1.00390625f, 1.001953125f, -3.14159f, 65504.0f, 1.01171875f};
    pf_round_bf16_array(x, 6);
    CHECK(x[0] == 1.0f);
    CHECK(x[1] == 1.0f);       /* 1 + 2^-8: tie, 1.0 is even */
    CHECK(x[5] == 1.015625f);  /* 1 + 3*2^-8: tie, 1 + 2^-6 is even */
    CHECK(x[2] == 1.0f);       /* below halfway */
    CHECK(fabsf(x[3] + 3.140625f) < 1e-7f);
    CHECK(x[4] == 65536.0f);
}

int main(void)
{
    test_hand_case();
    test_visibility();
    test_gqa();
    test_round_bf16();
    return PF_TEST_RESULT();
}
