/* The MoE combine of HF's default grouped_mm path (g4_params.h): each
 * token's expert outputs (bf16) times their routing weights, summed in fp32
 * in top-k order, one rounding. One thread per (token, column). */
#include "pf_dialect.h"
#include "ops/g4_params.h"

PF_KERNEL(g4_combine, pf_g4_combine_params, p)
{
    long long total = (long long)p.tokens * p.hidden, stride = (long long)blockDim.x * gridDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        long long t = i / p.hidden;
        int j = (int)(i % p.hidden);
        float acc = 0.0f;
        for (int k = 0; k < p.top_k; k++) {
            long long e = t * p.top_k + k;
            float prod = pf_bf16_to_f32(p.eo[(long long)p.slot_of[e] * p.hidden + j]) * p.w[e];
            acc = acc + prod;
        }
        p.out[i] = pf_f32_to_bf16(acc);
    }
}
