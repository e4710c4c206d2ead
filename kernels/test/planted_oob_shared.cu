/* Planted bugs in shared memory: a static array written one element past
 * its end, and a dynamic region indexed past its size. */
#include "pf_dialect.h"

typedef struct smem_oob_params {
    float *out;
    int extra; /* how far past the end to write */
} smem_oob_params;

PF_KERNEL(planted_oob_shared, smem_oob_params, p)
{
    PF_SHARED(float, staging, 128);
    PF_SHARED(float, other, 128);
    int t = (int)threadIdx.x;
    other[t] = 1.0f;
    staging[t + p.extra] = (float)t; /* bug when extra > 0 */
    __syncthreads();
    p.out[t] = staging[t] + other[t];
}

PF_KERNEL(planted_oob_dynamic, smem_oob_params, p)
{
    PF_DYNAMIC_SHARED(float, buf); /* launched with blockDim.x floats */
    int t = (int)threadIdx.x;
    buf[t + p.extra] = (float)t;
    __syncthreads();
    p.out[t] = buf[t];
}
