/* Atomics (test kernel): blocks run concurrently (on several host workers in
 * emu), so these are real races. Each thread adds into a histogram bin,
 * adds its value to a float sum, folds max/min, and bumps a counter with a
 * CAS loop. */
#include "pf_dialect.h"

#include "atomics_params.h"

PF_KERNEL(atomics_mix, atomics_params, p)
{
    int i = (int)(blockIdx.x * blockDim.x + threadIdx.x);
    if (i >= p.n)
        return;
    int v = p.in[i];
    int bin = (v % p.bins + p.bins) % p.bins;
    atomicAdd(&p.hist[bin], 1);
    atomicAdd(&p.hist_u[bin], (unsigned)(v & 7));
    atomicAdd(p.sum, (float)(v % 1000) * 0.25f);
    atomicMax(p.max_v, v);
    atomicMin(p.min_v, v);
    unsigned old = *(volatile unsigned *)p.cas_count, seen;
    while ((seen = atomicCAS(p.cas_count, old, old + 1u)) != old)
        old = seen;
    int oi = *(volatile int *)p.cas_count_i, si;
    while ((si = atomicCAS(p.cas_count_i, oi, oi + 2)) != oi)
        oi = si;
}
