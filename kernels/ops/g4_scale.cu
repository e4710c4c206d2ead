/* The router's input scaling (g4_params.h): bf16(bf16(x * w) * c), the two
 * bf16 multiplies of HF's Gemma4TextRouter (norm(r) * scale * H^-0.5). */
#include "pf_dialect.h"
#include "ops/g4_params.h"

PF_KERNEL(g4_scale, pf_g4_scale_params, p)
{
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < p.total; i += stride) {
        float v = pf_round_bf16(pf_bf16_to_f32(p.x[i]) * pf_bf16_to_f32(p.w[i % p.n]));
        p.out[i] = pf_f32_to_bf16(v * p.c);
    }
}
