/* Plain C references of the Gemma-4 ops (see ops_g4_ref.h). Section
 * numbers refer to ../shared/models/gemma4-facts.md. */
#include "models/ops_g4_ref.h"

#include <math.h>
#include <string.h>

#include "kernels/pf_numeric.h"

#define F(h) pf_bf16_to_f32(h)
#define B(f) pf_f32_to_bf16(f)
#define R(f) pf_round_bf16(f)

/* Section 0: x * (mean(x^2) + eps)^-0.5 * w, fp32, one rounding. */
void pf_g4_ref_rmsnorm(const uint16_t *x, uint16_t *y, const uint16_t *w, int rows, int n,
                       float eps)
{
    for (long long r = 0; r < rows; r++) {
        const uint16_t *xr = x + r * n;
        double ss = 0;
        for (int i = 0; i < n; i++)
            ss += (double)F(xr[i]) * F(xr[i]);
        float inv = 1.0f / sqrtf((float)(ss / n) + eps);
        for (int i = 0; i < n; i++)
            y[r * n + i] = B(w ? F(xr[i]) * inv * F(w[i]) : F(xr[i]) * inv);
    }
}

/* Section 2 MoE: s = bf16(bf16(norm(r) * scale) * H^-0.5). */
void pf_g4_ref_scale(const uint16_t *x, const uint16_t *w, uint16_t *out, long long total, int n,
                     float c)
{
    for (long long i = 0; i < total; i++)
        out[i] = B(R(F(x[i]) * F(w[i % n])) * c);
}

/* Section 2: x = bf16(bf16(r + h) * layer_scalar). */
void pf_g4_ref_add_scale(const uint16_t *a, const uint16_t *b, uint16_t s, uint16_t *out,
                         long long n)
{
    for (long long i = 0; i < n; i++)
        out[i] = B(R(F(a[i]) + F(b[i])) * F(s));
}

/* Section 2 MoE: softmax in fp32, top-k, w /= sum w, w *= per_expert_scale. */
void pf_g4_ref_router(const uint16_t *logits, const uint16_t *pes, int *idx, float *w,
                      int tokens, int experts, int top_k)
{
    float prob[4096];
    unsigned char used[4096];
    for (long long t = 0; t < tokens; t++) {
        const uint16_t *lg = logits + t * experts;
        float m = -INFINITY, sum = 0;
        for (int e = 0; e < experts; e++)
            m = F(lg[e]) > m ? F(lg[e]) : m;
        for (int e = 0; e < experts; e++) {
            prob[e] = expf(F(lg[e]) - m);
            sum += prob[e];
        }
        for (int e = 0; e < experts; e++)
            prob[e] /= sum;
        memset(used, 0, (size_t)experts);
        float wsum = 0;
        int *it = idx + t * top_k;
        float *wt = w + t * top_k;
        for (int k = 0; k < top_k; k++) { /* torch.topk: descending, ties to the lower index */
            int best = -1;
            for (int e = 0; e < experts; e++)
                if (!used[e] && (best < 0 || prob[e] > prob[best]))
                    best = e;
            used[best] = 1;
            it[k] = best;
            wt[k] = prob[best];
            wsum += wt[k];
        }
        for (int k = 0; k < top_k; k++)
            wt[k] = wt[k] / wsum * F(pes[it[k]]);
    }
}

void pf_g4_ref_moe_group(const int *idx, long long n, int experts, int top_k, int *counts,
                         int *perm, int *slot_of)
{
    memset(counts, 0, (size_t)experts * sizeof *counts);
    for (long long i = 0; i < n; i++)
        counts[idx[i]]++;
    long long slot = 0;
    for (int e = 0; e < experts; e++) /* slots by expert, then entry order */
        for (long long i = 0; i < n; i++)
            if (idx[i] == e) {
                slot_of[i] = (int)slot;
                perm[slot++] = (int)(i / top_k);
            }
}

void pf_g4_ref_gather_rows(const uint16_t *x, const int *rows, uint16_t *out, long long n_rows,
                           int n)
{
    for (long long s = 0; s < n_rows; s++)
        memcpy(out + s * n, x + (long long)rows[s] * n, (size_t)n * sizeof *out);
}

/* gelu_tanh in fp32 in torch's order (x^3 first), rounded; times up, rounded. */
void pf_g4_ref_geglu(const uint16_t *gu, uint16_t *out, long long rows, int inter)
{
    for (long long r = 0; r < rows; r++)
        for (int c = 0; c < inter; c++) {
            float x = F(gu[r * 2 * inter + c]), cube = x * x * x;
            float g = R(0.5f * x * (1.0f + tanhf(0.7978845608028654f * (x + 0.044715f * cube))));
            out[r * inter + c] = B(g * F(gu[r * 2 * inter + inter + c]));
        }
}

/* Section 2 MoE, grouped_mm: bf16(sum_k fp32(out_k) * w_k), summed in fp32. */
void pf_g4_ref_combine(const uint16_t *eo, const int *slot_of, const float *w, uint16_t *out,
                       int tokens, int hidden, int top_k)
{
    for (long long t = 0; t < tokens; t++)
        for (int j = 0; j < hidden; j++) {
            float acc = 0;
            for (int k = 0; k < top_k; k++) {
                long long e = t * top_k + k;
                float prod = F(eo[(long long)slot_of[e] * hidden + j]) * w[e];
                acc = acc + prod;
            }
            out[t * hidden + j] = B(acc);
        }
}

/* Section 3: tanh(l / cap) * cap as three rounded bf16 ops after the lm_head. */
void pf_g4_ref_softcap(const float *x, float *out, long long n, float cap)
{
    for (long long i = 0; i < n; i++) {
        float l = R(x[i]);
        out[i] = cap > 0 ? R(R(tanhf(R(l / cap))) * cap) : l;
    }
}
