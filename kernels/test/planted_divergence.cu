/* Planted bug: the two halves of the block wait at different
 * __syncthreads() call sites (undefined behaviour on a GPU: a hang or
 * silent corruption). The emu backend must report it. */
#include "pf_dialect.h"

typedef struct divergence_params {
    float *out;
    int split; /* threads below `split` take the first branch */
} divergence_params;

PF_KERNEL(planted_divergence, divergence_params, p)
{
    PF_SHARED(float, s, 256);
    int t = (int)threadIdx.x;
    s[t] = (float)t;
    if (t < p.split) {
        __syncthreads();
        p.out[t] = s[(t + 1) % (int)blockDim.x];
    } else {
        __syncthreads();
        p.out[t] = s[(t + 2) % (int)blockDim.x];
    }
}

/* Planted bug: early exit of some threads before a barrier the rest wait at. */
PF_KERNEL(planted_early_exit, divergence_params, p)
{
    int t = (int)threadIdx.x;
    if (t >= p.split)
        return;
    __syncthreads();
    p.out[t] = 1.0f;
}

/* Correct control: the same shape with the barrier outside the branch. */
PF_KERNEL(uniform_barrier, divergence_params, p)
{
    PF_SHARED(float, s, 256);
    int t = (int)threadIdx.x;
    s[t] = (float)t;
    __syncthreads();
    p.out[t] = t < p.split ? s[(t + 1) % (int)blockDim.x] : s[(t + 2) % (int)blockDim.x];
}
