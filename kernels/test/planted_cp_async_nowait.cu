/* Planted bug for --sanitize race: each thread copies 16 bytes into shared
 * memory with cp.async, commits, and the block reads a neighbour's copy
 * after a barrier but without cp_async_wait, so the copy may not have
 * landed. fixed_cp_async_nowait waits before the barrier. */
#include "pf_dialect.h"
#include "sanitize_params.h"

PF_KERNEL(planted_cp_async_nowait, sanitize_params, p)
{
    PF_SHARED(float, tile, 256);
    int t = (int)threadIdx.x;
    pf_cp_async_16(tile + 4 * t, p.in + 4 * t);
    pf_cp_async_commit();
    __syncthreads(); /* bug: no pf_cp_async_wait(0) before it */
    p.out[t] = tile[4 * ((t + 33) % 64)];
}

PF_KERNEL(fixed_cp_async_nowait, sanitize_params, p)
{
    PF_SHARED(float, tile, 256);
    int t = (int)threadIdx.x;
    pf_cp_async_16(tile + 4 * t, p.in + 4 * t);
    pf_cp_async_commit();
    pf_cp_async_wait(0);
    __syncthreads();
    p.out[t] = tile[4 * ((t + 33) % 64)];
}
