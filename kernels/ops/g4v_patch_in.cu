/* Gemma-4 patch preprocessing (g4v_params.h): pixels cast to bf16, then
 * 2 * (pv - 0.5) in bf16, as the patch embedder's input. */
#include "pf_dialect.h"
#include "ops/g4v_params.h"

PF_KERNEL(g4v_patch_in, pf_g4v_patch_in_params, p)
{
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < p.n; i += stride) {
        float v = pf_round_bf16(pf_round_bf16(p.pix[i]) - 0.5f);
        p.out[i] = pf_f32_to_bf16(2.0f * v);
    }
}
