/* Planted bugs that hang a GPU: half a warp shuffles (full mask) while the
 * other half waits at __syncthreads(); and unbounded recursion that runs
 * off the end of the thread's stack. */
#include "pf_dialect.h"

typedef struct deadlock_params {
    float *out;
    int depth;
} deadlock_params;

PF_KERNEL(planted_deadlock, deadlock_params, p)
{
    int t = (int)threadIdx.x;
    float v = (float)t;
    if ((t & 31) < 16)
        v = __shfl_xor_sync(0xffffffffu, v, 1); /* bug: lanes 16-31 never come */
    __syncthreads();
    p.out[t] = v;
}

/* Each level keeps a 1 KiB frame alive; depth 1000 needs ~1 MiB. */
PF_DEVICE float deep(volatile float *prev, int depth)
{
    volatile float frame[256];
    frame[depth & 255] = prev ? prev[0] + 1.0f : 0.0f;
    if (depth == 0)
        return frame[0];
    return deep(frame + (depth & 255), depth - 1) + frame[depth & 255];
}

PF_KERNEL(planted_stack_overflow, deadlock_params, p)
{
    p.out[threadIdx.x] = deep(0, p.depth);
}
