/* Planted bug for --sanitize race: every thread writes its shared slot and
 * reads the slot of a thread in the other warp with no __syncthreads in
 * between. fixed_missing_sync is the same kernel with the barrier. */
#include "pf_dialect.h"

typedef struct sanitize_params {
    const float *in;
    float *out;
} sanitize_params;

PF_KERNEL(planted_missing_sync, sanitize_params, p)
{
    PF_SHARED(float, slot, 64);
    int t = (int)threadIdx.x;
    slot[t] = p.in[t] * 2.0f;
    p.out[t] = slot[(t + 32) % 64]; /* bug: no barrier since the write */
}

PF_KERNEL(fixed_missing_sync, sanitize_params, p)
{
    PF_SHARED(float, slot, 64);
    int t = (int)threadIdx.x;
    slot[t] = p.in[t] * 2.0f;
    __syncthreads();
    p.out[t] = slot[(t + 32) % 64];
}
