/* An expert's GeGLU on its fused gate_up output (g4_params.h): the gate is
 * the first half of each row, up the second; gelu_tanh in fp32 in torch's
 * order, rounded, then the product rounded (as kernels/ops/gelu.cu). */
#include "pf_dialect.h"
#include "ops/g4_params.h"

PF_DEVICE float g4_gelu_tanh(float x)
{
    float cube = x * x * x;
    float inner = 0.7978845608028654f * (x + 0.044715f * cube);
    return 0.5f * x * (1.0f + tanhf(inner));
}

PF_KERNEL(g4_geglu, pf_g4_geglu_params, p)
{
    long long total = p.rows * p.inter, stride = (long long)blockDim.x * gridDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        long long r = i / p.inter;
        int c = (int)(i % p.inter);
        const unsigned short *row = p.gu + r * 2 * p.inter;
        float g = pf_round_bf16(g4_gelu_tanh(pf_bf16_to_f32(row[c])));
        p.out[i] = pf_f32_to_bf16(g * pf_bf16_to_f32(row[p.inter + c]));
    }
}
