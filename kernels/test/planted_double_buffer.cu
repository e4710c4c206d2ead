/* Planted bug for --sanitize race: a double-buffered pipeline that
 * prefetches tile k+1 with cp.async into the buffer the block read for
 * tile k-1, with no barrier after that read (a write-after-read hazard on
 * the reused buffer). fixed_double_buffer ends each step with
 * __syncthreads. 64 threads, 4 floats each per tile, TILES tiles. */
#include "pf_dialect.h"
#include "sanitize_params.h"

#define TILES 4

PF_DEVICE void prefetch(float *buf, const float *in, int k, int t)
{
    pf_cp_async_16(buf + (k & 1) * 256 + 4 * t, in + k * 256 + 4 * t);
    pf_cp_async_commit();
}

/* Step k: start tile k+1, wait for tile k, read another thread's element. */
PF_DEVICE float step(float *buf, const float *in, int k, int t)
{
    if (k + 1 < TILES) {
        prefetch(buf, in, k + 1, t);
        pf_cp_async_wait(1);
    } else {
        pf_cp_async_wait(0);
    }
    __syncthreads();
    return buf[(k & 1) * 256 + (4 * t + 133) % 256];
}

PF_KERNEL(planted_double_buffer, sanitize_params, p)
{
    PF_SHARED(float, buf, 2 * 256);
    int t = (int)threadIdx.x;
    float acc = 0.0f;
    prefetch(buf, p.in, 0, t);
    for (int k = 0; k < TILES; k++)
        acc += step(buf, p.in, k, t); /* bug: no barrier: the next prefetch overwrites what others read */
    p.out[t] = acc;
}

PF_KERNEL(fixed_double_buffer, sanitize_params, p)
{
    PF_SHARED(float, buf, 2 * 256);
    int t = (int)threadIdx.x;
    float acc = 0.0f;
    prefetch(buf, p.in, 0, t);
    for (int k = 0; k < TILES; k++) {
        acc += step(buf, p.in, k, t);
        __syncthreads();
    }
    p.out[t] = acc;
}
