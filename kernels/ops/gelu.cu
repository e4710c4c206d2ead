/* GeGLU gate (gelu_tanh(gate) * up) or plain gelu_tanh, as HF rounds it:
 * gelu in fp32 rounded to bf16, then the product rounded again. */
#include "pf_dialect.h"
#include "ops/ops_params.h"

/* torch's order (Activation.cpp, fp32 opmath for bf16): x^3 first, then
 * kBeta * (x + kKappa * x^3); in fp32, so 1 + tanh cancels as torch's does. */
PF_DEVICE float gelu_tanh(float x)
{
    float cube = x * x * x;
    float inner = 0.7978845608028654f * (x + 0.044715f * cube);
    return 0.5f * x * (1.0f + tanhf(inner));
}

PF_KERNEL(gelu_mul, pf_gelu_params, p)
{
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < p.n; i += stride) {
        float g = pf_round_bf16(gelu_tanh(pf_bf16_to_f32(p.g[i])));
        p.out[i] = p.u ? pf_f32_to_bf16(g * pf_bf16_to_f32(p.u[i])) : pf_f32_to_bf16(g);
    }
}
