/* Gemma-4 RMSNorm (g4v_params.h): x * w, not x * (1 + w); no weight for the
 * v norm and embed_vision's norm; optionally the residual add after it.
 * fp32 statistics, one block of PF_OPS_ROW_THREADS per row. */
#include "pf_dialect.h"
#include "ops/ops_params.h"
#include "ops/g4v_params.h"
#include "ops/row_sum.h"

PF_KERNEL(g4v_rmsnorm, pf_g4v_rmsnorm_params, p)
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
        if (p.w)
            v *= pf_bf16_to_f32(p.w[i]);
        if (p.res)
            v = pf_bf16_to_f32(p.res[row + i]) + pf_round_bf16(v);
        p.y[row + i] = pf_f32_to_bf16(v);
    }
}
