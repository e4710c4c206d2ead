/* The MoE router's selection (g4_params.h), one thread per token: fp32
 * softmax over the bf16 router logits (max-subtracted, summed in expert
 * order), top-k with ties to the lower index, renormalized over the chosen,
 * times per_expert_scale (HF Gemma4TextRouter). */
#include "pf_dialect.h"
#include "ops/g4_params.h"

PF_KERNEL(g4_router, pf_g4_router_params, p)
{
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x; t < p.tokens; t += stride) {
        const unsigned short *lg = p.logits + t * p.experts;
        float prob[PF_G4_MAX_EXPERTS];
        float m = -INFINITY, sum = 0.0f;
        for (int e = 0; e < p.experts; e++) {
            float v = pf_bf16_to_f32(lg[e]);
            m = v > m ? v : m;
        }
        for (int e = 0; e < p.experts; e++) {
            prob[e] = expf(pf_bf16_to_f32(lg[e]) - m);
            sum += prob[e];
        }
        for (int e = 0; e < p.experts; e++)
            prob[e] = prob[e] / sum;
        int pick[PF_G4_MAX_TOPK];
        float wk[PF_G4_MAX_TOPK], wsum = 0.0f;
        for (int k = 0; k < p.top_k; k++) {
            int best = -1;
            for (int e = 0; e < p.experts; e++) {
                int taken = 0;
                for (int j = 0; j < k; j++)
                    taken |= pick[j] == e;
                if (!taken && (best < 0 || prob[e] > prob[best]))
                    best = e;
            }
            pick[k] = best;
            wk[k] = prob[best];
            wsum += wk[k];
        }
        for (int k = 0; k < p.top_k; k++) {
            p.idx[t * p.top_k + k] = pick[k];
            p.w[t * p.top_k + k] = wk[k] / wsum * pf_bf16_to_f32(p.pes[pick[k]]);
        }
    }
}
