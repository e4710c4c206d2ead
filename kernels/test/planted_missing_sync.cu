/* Planted bug for --sanitize race: every thread writes its shared slot and
 * reads the slot of a thread in the other warp with no __syncthreads in
 * between. fixed_missing_sync is the same kernel with the barrier. */
#include "pf_dialect.h"
#include "sanitize_params.h"

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

/* The same bug after a correct barrier: each thread reads a slot of the
 * other warp, then overwrites its own slot with no barrier in between
 * (write-after-read on a reused buffer). The fix is a second barrier. */
PF_KERNEL(planted_reuse_sync, sanitize_params, p)
{
    PF_SHARED(float, slot, 64);
    int t = (int)threadIdx.x;
    slot[t] = p.in[t];
    __syncthreads();
    float other = slot[(t + 32) % 64];
    slot[t] = other * 2.0f; /* bug: the other warp may not have read it yet */
    __syncthreads();
    p.out[t] = slot[t];
}

PF_KERNEL(fixed_reuse_sync, sanitize_params, p)
{
    PF_SHARED(float, slot, 64);
    int t = (int)threadIdx.x;
    slot[t] = p.in[t];
    __syncthreads();
    float other = slot[(t + 32) % 64];
    __syncthreads();
    slot[t] = other * 2.0f;
    __syncthreads();
    p.out[t] = slot[t];
}
