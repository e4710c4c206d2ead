/* The projector's AvgPool2d(k, stride k) over the g x g patch grid: fp32
 * sum of the k x k patches divided by k*k, rounded once. One thread per
 * output element. */
#include "pf_dialect.h"
#include "ops/ops_params.h"

PF_KERNEL(avgpool, pf_avgpool_params, p)
{
    int t = p.g / p.k;
    long long total = (long long)p.images * t * t * p.dim;
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += stride) {
        int d = (int)(e % p.dim);
        long long tok = e / p.dim;
        int img = (int)(tok / (t * t)), tt = (int)(tok % (t * t));
        int ty = tt / t, tx = tt % t;
        float s = 0.0f;
        for (int dy = 0; dy < p.k; dy++)
            for (int dx = 0; dx < p.k; dx++) {
                long long patch = (long long)img * p.g * p.g + (long long)(ty * p.k + dy) * p.g +
                                  tx * p.k + dx;
                s += pf_bf16_to_f32(p.x[patch * p.dim + d]);
            }
        p.out[e] = pf_f32_to_bf16(s / (float)(p.k * p.k));
    }
}
