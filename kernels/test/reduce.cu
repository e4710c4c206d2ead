/* Block reduction (test kernel): each block sums a grid-stride share of
 * `in` with a warp-shuffle tree and a shared-memory stage, writes its
 * partial sum and adds it atomically to `total`. Any block size that is a
 * multiple of 32 (up to 1024). */
#include "pf_dialect.h"

typedef struct reduce_params {
    const float *in;
    float *partial; /* [gridDim.x] */
    float *total;   /* one float, zeroed by the caller */
    int n;
} reduce_params;

PF_DEVICE float warp_sum(float v)
{
    for (int offset = 16; offset > 0; offset >>= 1)
        v += __shfl_down_sync(0xffffffffu, v, offset);
    return v;
}

PF_KERNEL(reduce_sum, reduce_params, p)
{
    PF_SHARED(float, warp_sums, 32);
    float v = 0.0f;
    int stride = (int)(blockDim.x * gridDim.x);
    for (int i = (int)(blockIdx.x * blockDim.x + threadIdx.x); i < p.n; i += stride)
        v += p.in[i];
    v = warp_sum(v);
    int lane = (int)(threadIdx.x & 31u), warp = (int)(threadIdx.x >> 5);
    if (lane == 0)
        warp_sums[warp] = v;
    __syncthreads();
    if (warp == 0) {
        int nwarps = (int)(blockDim.x >> 5);
        v = lane < nwarps ? warp_sums[lane] : 0.0f;
        v = warp_sum(v);
        if (lane == 0) {
            p.partial[blockIdx.x] = v;
            atomicAdd(p.total, v);
        }
    }
}
