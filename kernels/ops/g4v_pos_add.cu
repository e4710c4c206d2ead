/* The patch embedder's 2D position table (g4v_params.h): the x and y rows
 * summed and rounded, then added to the projected patch and rounded. One
 * thread per element. */
#include "pf_dialect.h"
#include "ops/g4v_params.h"

PF_KERNEL(g4v_pos_add, pf_g4v_pos_add_params, p)
{
    long long total = (long long)p.rows * p.dim;
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += stride) {
        long long r = e / p.dim;
        int d = (int)(e % p.dim);
        int px = p.pos[2 * r], py = p.pos[2 * r + 1];
        if (px < 0) {
            p.out[e] = p.x[e];
            continue;
        }
        float t = pf_round_bf16(pf_bf16_to_f32(p.table[(long long)px * p.dim + d]) +
                                pf_bf16_to_f32(p.table[((long long)p.npos + py) * p.dim + d]));
        p.out[e] = pf_f32_to_bf16(pf_bf16_to_f32(p.x[e]) + t);
    }
}
