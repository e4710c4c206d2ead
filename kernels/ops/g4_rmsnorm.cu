/* Gemma4RMSNorm (g4_params.h): x * rsqrt(mean(x^2) + eps) * w in fp32, one
 * rounding; no w for v_norm, the router's and embed_vision's norms. Unlike
 * Gemma-3's rmsnorm.cu the weight is used as is (x*w, not x*(1+w)).
 * Optionally the residual add after it (the vision layers). One block of
 * PF_G4_ROW_THREADS per row. */
#include "pf_dialect.h"
#include "ops/g4_params.h"
#include "ops/row_sum.h"

PF_KERNEL(g4_rmsnorm, pf_g4_rmsnorm_params, p)
{
    PF_SHARED(float, part, PF_G4_ROW_THREADS / 32);
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
