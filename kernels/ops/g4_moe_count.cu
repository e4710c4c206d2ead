/* Tokens per expert (g4_params.h): block e counts the routing entries equal
 * to e (a block reduction; no atomics, so the result is the same on every
 * run). */
#include "pf_dialect.h"
#include "ops/g4_params.h"

PF_KERNEL(g4_moe_count, pf_g4_moe_count_params, p)
{
    PF_SHARED(int, part, PF_G4_GROUP_THREADS);
    int e = (int)blockIdx.x, tid = (int)threadIdx.x;
    int c = 0;
    for (long long i = tid; i < p.n; i += blockDim.x)
        c += p.idx[i] == e;
    part[tid] = c;
    __syncthreads();
    for (int s = (int)blockDim.x / 2; s > 0; s >>= 1) {
        if (tid < s)
            part[tid] += part[tid + s];
        __syncthreads();
    }
    if (tid == 0)
        p.counts[e] = part[0];
}
