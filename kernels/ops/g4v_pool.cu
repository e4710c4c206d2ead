/* Gemma-4 vision pooling by patch position, then the sqrt(dim) scale and
 * standardize (g4v_params.h): fp32 sum of x / k^2 over the cell's patches,
 * rounded, scaled and standardized in fp32, rounded. One thread per output
 * element. */
#include "pf_dialect.h"
#include "ops/g4v_params.h"

PF_KERNEL(g4v_pool, pf_g4v_pool_params, p)
{
    long long total = (long long)p.cells * p.dim;
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += stride) {
        int c = (int)(e / p.dim), d = (int)(e % p.dim);
        float s = 0.0f;
        for (int j = p.cell_ptr[c]; j < p.cell_ptr[c + 1]; j++)
            s += pf_bf16_to_f32(p.x[(long long)p.members[j] * p.dim + d]) * p.inv_kk;
        float h = pf_round_bf16(s) * p.root;
        if (p.std_bias)
            h = (h - pf_bf16_to_f32(p.std_bias[d])) * pf_bf16_to_f32(p.std_scale[d]);
        p.out[e] = pf_f32_to_bf16(h);
    }
}
