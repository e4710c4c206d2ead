/* Residual / position-embedding add: out = bf16(a + b), b repeating every
 * b_period elements (a position table added to every image). */
#include "pf_dialect.h"
#include "ops/ops_params.h"

PF_KERNEL(add, pf_add_params, p)
{
    long long period = p.b_period ? p.b_period : p.n;
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < p.n; i += stride)
        p.out[i] = pf_f32_to_bf16(pf_bf16_to_f32(p.a[i]) + pf_bf16_to_f32(p.b[i % period]));
}
