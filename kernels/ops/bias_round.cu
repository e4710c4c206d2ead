/* The rounding after a GEMM: fp32 result plus the Linear's bias (if any),
 * rounded to bf16 once, as HF does. */
#include "pf_dialect.h"
#include "ops/ops_params.h"

PF_KERNEL(bias_round, pf_bias_round_params, p)
{
    long long total = p.m * p.n;
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += stride) {
        float v = p.c[e];
        if (p.bias)
            v += pf_bf16_to_f32(p.bias[e % p.n]);
        p.out[e] = pf_f32_to_bf16(v);
    }
}
