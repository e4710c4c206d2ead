/* rotate_half RoPE in place with bf16 cos/sin tables (ops_params.h), each
 * product and the sum rounded to bf16 as HF's bf16 eager path does. One
 * thread per (token, head, i < head_dim/2). */
#include "pf_dialect.h"
#include "ops/ops_params.h"

PF_KERNEL(rope, pf_rope_params, p)
{
    int h = p.head_dim / 2;
    long long total = (long long)p.tokens * p.heads * h;
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += stride) {
        int i = (int)(e % h);
        long long th = e / h; /* token * heads + head */
        int t = (int)(th / p.heads);
        unsigned short *x = p.x + th * p.head_dim;
        long long c = (long long)p.pos[t] * h + i;
        float cs = pf_bf16_to_f32(p.cos[c]), sn = pf_bf16_to_f32(p.sin[c]);
        float x1 = pf_bf16_to_f32(x[i]), x2 = pf_bf16_to_f32(x[i + h]);
        float a = pf_round_bf16(x1 * cs) + pf_round_bf16(-x2 * sn);
        float b = pf_round_bf16(x2 * cs) + pf_round_bf16(x1 * sn);
        x[i] = pf_f32_to_bf16(a);
        x[i + h] = pf_f32_to_bf16(b);
    }
}
