/* Named barriers (test kernel): the block's warps form groups of p.group
 * warps, each syncing only among itself on barrier 1 + group index. Per
 * round the group's first warp writes its slice of one shared buffer,
 * pf_bar_sync, the other warps read lanes of it (rotated), pf_bar_sync
 * again so the buffer may be reused. Groups run different round counts, so
 * a barrier that waited for the whole block would deadlock. A final
 * __syncthreads then lets every thread read another group's last slice. */
#include "pf_dialect.h"

#include "named_barrier_params.h"

PF_KERNEL(named_barrier, named_barrier_params, p)
{
    PF_SHARED(float, buf, NB_THREADS / 32 * 32);
    int t = (int)threadIdx.x, lane = t & 31, warp = t >> 5;
    int g = warp / p.group, k = warp % p.group, groups = NB_THREADS / 32 / p.group;
    int id = 1 + g, nthreads = 32 * p.group, b = (int)blockIdx.x;
    float mine = p.in[(b * groups + g) * 32 + lane];
    for (int r = 0; r < p.rounds + g; r++) {
        if (k == 0)
            buf[g * 32 + lane] = mine * (float)(r + 1) + (float)g;
        pf_bar_sync(id, nthreads);
        if (k != 0)
            p.out[(b * NB_THREADS + t) * NB_MAX_ROUNDS + r] = buf[g * 32 + (lane + r + k) % 32];
        pf_bar_sync(id, nthreads); /* the writer may overwrite buf next round */
    }
    __syncthreads();
    p.tail[b * NB_THREADS + t] = buf[((g + 1) % groups) * 32 + lane];
}
