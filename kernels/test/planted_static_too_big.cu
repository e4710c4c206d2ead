/* Planted bug: more static shared memory than any NVIDIA GPU allows
 * (48 KiB per block). For a GPU target ptxas refuses it ("too much shared
 * data"); the emu backend refuses it at run time, naming the array. */
#include "pf_dialect.h"

typedef struct too_big_params {
    float *out;
    int unused;
} too_big_params;

PF_KERNEL(planted_static_too_big, too_big_params, p)
{
    PF_SHARED(float, small, 64);
    PF_SHARED(float, huge, 12288 + 1);
    int t = (int)threadIdx.x;
    small[t & 63] = 1.0f;
    huge[t] = (float)t;
    __syncthreads();
    p.out[t] = huge[t] + small[t & 63];
}
