/* Gemma-4 vision 2D axial RoPE in place (g4v_params.h): the first half of
 * each head by the patch's column, the second by its row, each product and
 * sum rounded to bf16 as HF's bf16 path does. One thread per (token, head,
 * half, i < head_dim/4). */
#include "pf_dialect.h"
#include "ops/g4v_params.h"

PF_KERNEL(g4v_rope2d, pf_g4v_rope2d_params, p)
{
    int q = p.head_dim / 4;
    long long total = (long long)p.tokens * p.heads * 2 * q;
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += stride) {
        int i = (int)(e % q);
        long long rest = e / q;
        int part = (int)(rest % 2);
        long long th = rest / 2; /* token * heads + head */
        long long t = th / p.heads;
        unsigned short *x = p.x + th * p.head_dim + part * 2 * q;
        long long c = (long long)p.pos[2 * t + part] * q + i;
        float cs = pf_bf16_to_f32(p.cos[c]), sn = pf_bf16_to_f32(p.sin[c]);
        float x1 = pf_bf16_to_f32(x[i]), x2 = pf_bf16_to_f32(x[i + q]);
        float a = pf_round_bf16(x1 * cs) + pf_round_bf16(-x2 * sn);
        float b = pf_round_bf16(x2 * cs) + pf_round_bf16(x1 * sn);
        x[i] = pf_f32_to_bf16(a);
        x[i + q] = pf_f32_to_bf16(b);
    }
}
