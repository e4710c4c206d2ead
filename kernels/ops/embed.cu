/* Token embedding: text rows bf16(E[id] * bf16(sqrt(H))), image-token rows
 * copied unscaled from the projector's features (facts section 1). */
#include "pf_dialect.h"
#include "ops/ops_params.h"

PF_KERNEL(embed, pf_embed_params, p)
{
    long long total = (long long)p.tokens * p.hidden;
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += stride) {
        int t = (int)(e / p.hidden), j = (int)(e % p.hidden);
        int f = p.feat_row ? p.feat_row[t] : -1;
        if (f >= 0)
            p.out[e] = p.feat[(long long)f * p.hidden + j];
        else
            p.out[e] = pf_f32_to_bf16(
                pf_bf16_to_f32(p.table[(long long)p.ids[t] * p.hidden + j]) * p.scale);
    }
}
