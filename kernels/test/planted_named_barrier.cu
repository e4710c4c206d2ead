/* Planted named-barrier bugs (pf_bar_sync) for the emu checks, one block
 * of {in, out}: pairs of warps (pair q = warps 2q, 2q+1, barrier 1 + q);
 * the even warp writes its slot, the odd warp reads one. */
#include "pf_dialect.h"
#include "sanitize_params.h"

/* The pair exchange, with the barrier (id, n) when sync is set; the odd
 * warp reads pair `from`'s slot. */
PF_DEVICE void exchange(sanitize_params p, int sync, int id, int n, int from)
{
    PF_SHARED(float, slot, 128);
    int t = (int)threadIdx.x, lane = t & 31, q = t >> 6;
    if (((t >> 5) & 1) == 0)
        slot[q * 32 + lane] = p.in[t] * 2.0f;
    if (sync)
        pf_bar_sync(id, n);
    if ((t >> 5) & 1)
        p.out[q * 32 + lane] = slot[from * 32 + (lane + 1) % 32];
}

/* --sanitize race: no barrier between the write and the read */
PF_KERNEL(planted_named_nosync, sanitize_params, p)
{
    exchange(p, 0, 0, 0, (int)threadIdx.x >> 6);
}

/* --sanitize race: each pair syncs, then reads the other pair's slot */
PF_KERNEL(planted_named_cross, sanitize_params, p)
{
    int q = (int)threadIdx.x >> 6;
    exchange(p, 1, 1 + q, 64, 1 - q);
}

/* the twin of both: the pair reads its own slot after its barrier */
PF_KERNEL(fixed_named_race, sanitize_params, p)
{
    int q = (int)threadIdx.x >> 6;
    exchange(p, 1, 1 + q, 64, q);
}

/* the odd warp of each pair skips the barrier and exits */
PF_KERNEL(planted_named_skip, sanitize_params, p)
{
    if (((threadIdx.x >> 5) & 1) == 0)
        pf_bar_sync(1 + (int)(threadIdx.x >> 6), 64);
    p.out[threadIdx.x & 63] = 1.0f;
}

/* warp 0 waits at barrier 1 while warp 1 waits at __syncthreads */
PF_KERNEL(planted_named_vs_syncthreads, sanitize_params, p)
{
    if (threadIdx.x < 32)
        pf_bar_sync(1, 64);
    else
        __syncthreads();
    p.out[threadIdx.x & 63] = 1.0f;
}

/* the two warps disagree on the thread count (128-thread block) */
PF_KERNEL(planted_named_mismatch, sanitize_params, p)
{
    pf_bar_sync(1, threadIdx.x < 32 ? 64 : 96);
    p.out[threadIdx.x & 63] = 1.0f;
}

/* half of warps 1 and 2 arrive: 64 threads, but not whole warps */
PF_KERNEL(planted_named_partial_warp, sanitize_params, p)
{
    if (threadIdx.x < 32 || (threadIdx.x & 31) < 16)
        pf_bar_sync(1, 64);
    p.out[threadIdx.x & 63] = 1.0f;
}

/* ids and counts bar.sync does not take */
PF_KERNEL(planted_named_id0, sanitize_params, p)
{
    exchange(p, 1, 0, 64, (int)threadIdx.x >> 6);
}

PF_KERNEL(planted_named_id16, sanitize_params, p)
{
    exchange(p, 1, 16, 64, (int)threadIdx.x >> 6);
}

PF_KERNEL(planted_named_count48, sanitize_params, p)
{
    exchange(p, 1, 1, 48, (int)threadIdx.x >> 6);
}

/* fine for 64 threads, but a 48-thread block has a partial warp */
PF_KERNEL(planted_named_partial_block, sanitize_params, p)
{
    pf_bar_sync(1, 32);
    p.out[threadIdx.x & 63] = 1.0f;
}
