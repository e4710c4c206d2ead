/* A clipped linear's bounds (g4v_params.h): clamp to [*lo, *hi], the
 * bounds read from the device. */
#include "pf_dialect.h"
#include "ops/g4v_params.h"

PF_KERNEL(g4v_clamp, pf_g4v_clamp_params, p)
{
    float lo = pf_bf16_to_f32(p.lo[0]), hi = pf_bf16_to_f32(p.hi[0]);
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < p.n; i += stride) {
        unsigned short h = p.x[i]; /* torch.clamp: min(max(x, lo), hi) */
        if (pf_bf16_to_f32(h) < lo)
            h = p.lo[0];
        if (pf_bf16_to_f32(h) > hi)
            h = p.hi[0];
        p.out[i] = h;
    }
}
