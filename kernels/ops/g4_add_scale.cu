/* The end of a Gemma-4 decoder layer (g4_params.h): residual add, rounded,
 * then times layer_scalar (read from the device), rounded again. */
#include "pf_dialect.h"
#include "ops/g4_params.h"

PF_KERNEL(g4_add_scale, pf_g4_add_scale_params, p)
{
    float s = pf_bf16_to_f32(p.s[0]);
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < p.n; i += stride) {
        float v = pf_round_bf16(pf_bf16_to_f32(p.a[i]) + pf_bf16_to_f32(p.b[i]));
        p.out[i] = pf_f32_to_bf16(v * s);
    }
}
