/* Planted bug for --sanitize race: a shared-memory tree reduction inside
 * one warp that relies on the lanes running in lockstep (no __syncwarp
 * between the steps), which independent thread scheduling does not give.
 * fixed_warp_lockstep has the __syncwarp calls. */
#include "pf_dialect.h"
#include "sanitize_params.h"

PF_KERNEL(planted_warp_lockstep, sanitize_params, p)
{
    PF_SHARED(float, part, 32);
    int t = (int)threadIdx.x;
    volatile float *v = part;
    v[t] = p.in[t];
    for (int off = 16; off > 0; off /= 2)
        if (t < off)
            v[t] = v[t] + v[t + off]; /* bug: lane t+off may not have written yet */
    if (t == 0)
        p.out[0] = v[0];
}

PF_KERNEL(fixed_warp_lockstep, sanitize_params, p)
{
    PF_SHARED(float, part, 32);
    int t = (int)threadIdx.x;
    part[t] = p.in[t];
    __syncwarp();
    for (int off = 16; off > 0; off /= 2) {
        float mine = t < off ? part[t] + part[t + off] : 0.0f;
        __syncwarp();
        if (t < off)
            part[t] = mine;
        __syncwarp();
    }
    if (t == 0)
        p.out[0] = part[0];
}
