/* Gemma RMSNorm (ops_params.h): fp32 throughout, (1 + w) in fp32, one
 * rounding at the end. One block of PF_OPS_ROW_THREADS per row. */
#include "pf_dialect.h"
#include "ops/ops_params.h"
#include "ops/row_sum.h"

PF_KERNEL(rmsnorm, pf_rmsnorm_params, p)
{
    PF_SHARED(float, part, PF_OPS_ROW_THREADS / 32);
    long long row = (long long)blockIdx.x * p.n;
    float ss = 0.0f;
    for (int i = (int)threadIdx.x; i < p.n; i += (int)blockDim.x) {
        float v = pf_bf16_to_f32(p.x[row + i]);
        ss += v * v;
    }
    ss = pf_row_sum(ss, part);
    float r = 1.0f / sqrtf(ss / (float)p.n + p.eps);
    for (int i = (int)threadIdx.x; i < p.n; i += (int)blockDim.x) {
        float v = pf_bf16_to_f32(p.x[row + i]) * r;
        p.y[row + i] = pf_f32_to_bf16(v * (1.0f + pf_bf16_to_f32(p.w[i])));
    }
}
