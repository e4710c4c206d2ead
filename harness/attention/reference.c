/* Double-precision masked attention, straight from the definition:
 * o = softmax(scale * q k^T restricted to allowed keys) v, with the rule
 * evaluated per pair by pf_mask_allowed. */
#include "attention/reference.h"

#include <math.h>
#include <stdlib.h>

#include "core/pf_error.h"
#include "kernels/pf_numeric.h"

int pf_attention_reference(const pf_layout *layout, pf_rule rule, pf_layer layer, int window,
                           double scale, int hq, int hkv, int d, const float *q, const float *k,
                           const float *v, float *o, float *lse_or_null)
{
    pf_mask_spec spec = {rule, layer, window};
    if (pf_mask_spec_check(&spec) < 0)
        return -1;
    if (hq <= 0 || hkv <= 0 || d <= 0 || hq % hkv != 0)
        return pf_error_set("reference: bad head shape (Hq %d, Hkv %d, D %d)", hq, hkv, d);
    int64_t max_kv = 0;
    for (int r = 0; r < layout->n_req; r++)
        if (layout->req[r].kv_len > max_kv)
            max_kv = layout->req[r].kv_len;
    double *s = malloc((size_t)max_kv * sizeof(double));
    double *acc = malloc((size_t)d * sizeof(double));
    if (!s || !acc) {
        free(s);
        free(acc);
        return pf_error_set("reference: out of memory");
    }
    int group = hq / hkv;
    for (int r = 0; r < layout->n_req; r++) {
        const pf_request *rq = &layout->req[r];
        for (int64_t i = 0; i < rq->q_len; i++) {
            int64_t qpos = rq->prefix + i, qrow = layout->qo_indptr[r] + i;
            for (int h = 0; h < hq; h++) {
                const float *qv = q + ((size_t)qrow * hq + h) * d;
                int kh = h / group;
                double m = -INFINITY;
                for (int64_t kp = 0; kp < rq->kv_len; kp++) {
                    s[kp] = -INFINITY;
                    if (!pf_mask_allowed(layout, r, qpos, kp, rule, layer, window))
                        continue;
                    const float *kv = k + ((size_t)(layout->kv_indptr[r] + kp) * hkv + kh) * d;
                    double dot = 0;
                    for (int c = 0; c < d; c++)
                        dot += (double)qv[c] * (double)kv[c];
                    s[kp] = dot * scale;
                    if (s[kp] > m)
                        m = s[kp];
                }
                double sum = 0;
                for (int c = 0; c < d; c++)
                    acc[c] = 0;
                if (m != -INFINITY) {
                    for (int64_t kp = 0; kp < rq->kv_len; kp++) {
                        if (s[kp] == -INFINITY)
                            continue;
                        double p = exp(s[kp] - m);
                        sum += p;
                        const float *vv = v + ((size_t)(layout->kv_indptr[r] + kp) * hkv + kh) * d;
                        for (int c = 0; c < d; c++)
                            acc[c] += p * (double)vv[c];
                    }
                }
                float *ov = o + ((size_t)qrow * hq + h) * d;
                for (int c = 0; c < d; c++)
                    ov[c] = sum > 0 ? (float)(acc[c] / sum) : 0.0f;
                if (lse_or_null)
                    lse_or_null[(size_t)qrow * hq + h] =
                        sum > 0 ? (float)(m + log(sum)) : -INFINITY;
            }
        }
    }
    free(s);
    free(acc);
    return 0;
}

void pf_round_bf16_array(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = pf_bf16_to_f32(pf_f32_to_bf16(x[i]));
}
