/* LayerNorm with weight and bias (SigLIP): fp32 mean and biased variance
 * (two passes), one rounding at the end. One block per row. */
#include "pf_dialect.h"
#include "ops/ops_params.h"
#include "ops/row_sum.h"

PF_KERNEL(layernorm, pf_layernorm_params, p)
{
    PF_SHARED(float, part, PF_OPS_ROW_THREADS / 32);
    long long row = (long long)blockIdx.x * p.n;
    float s = 0.0f;
    for (int i = (int)threadIdx.x; i < p.n; i += (int)blockDim.x)
        s += pf_bf16_to_f32(p.x[row + i]);
    float mean = pf_row_sum(s, part) / (float)p.n;
    float ss = 0.0f;
    for (int i = (int)threadIdx.x; i < p.n; i += (int)blockDim.x) {
        float d = pf_bf16_to_f32(p.x[row + i]) - mean;
        ss += d * d;
    }
    float rstd = 1.0f / sqrtf(pf_row_sum(ss, part) / (float)p.n + p.eps);
    for (int i = (int)threadIdx.x; i < p.n; i += (int)blockDim.x) {
        float d = (pf_bf16_to_f32(p.x[row + i]) - mean) * rstd;
        p.y[row + i] = pf_f32_to_bf16(d * pf_bf16_to_f32(p.w[i]) + pf_bf16_to_f32(p.b[i]));
    }
}
