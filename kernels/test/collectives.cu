/* Warp collectives (test kernel): every thread runs each shuffle variant on
 * its int, unsigned and float input with its own per-lane argument, then
 * ballot/any/all on its predicate. Outputs are [variant][thread]. */
#include "pf_dialect.h"

#include "collectives_params.h"

PF_KERNEL(collectives, collectives_params, p)
{
    int t = (int)(threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z));
    int g = t + (int)blockIdx.x * p.threads;
    int vi = p.in_i[g], a = p.arg[g], w = p.width;
    unsigned vu = (unsigned)vi * 2654435761u;
    float vf = p.in_f[g];
    unsigned full = 0xffffffffu;
    int n = p.threads, base = (int)blockIdx.x * p.threads * SHFL_VARIANTS;

    p.out_i[base * 2 + 0 * n + t] = __shfl_sync(full, vi, a);
    p.out_i[base * 2 + 1 * n + t] = __shfl_up_sync(full, vi, (unsigned)a);
    p.out_i[base * 2 + 2 * n + t] = __shfl_down_sync(full, vi, (unsigned)a);
    p.out_i[base * 2 + 3 * n + t] = __shfl_xor_sync(full, vi, a);
    p.out_i[base * 2 + 4 * n + t] = __shfl_sync(full, vi, a, w);
    p.out_i[base * 2 + 5 * n + t] = __shfl_up_sync(full, vi, (unsigned)a, w);
    p.out_i[base * 2 + 6 * n + t] = __shfl_down_sync(full, vi, (unsigned)a, w);
    p.out_i[base * 2 + 7 * n + t] = __shfl_xor_sync(full, vi, a, w);

    p.out_u[base + 0 * n + t] = __shfl_sync(full, vu, a, w);
    p.out_u[base + 1 * n + t] = __shfl_up_sync(full, vu, (unsigned)a, w);
    p.out_u[base + 2 * n + t] = __shfl_down_sync(full, vu, (unsigned)a, w);
    p.out_u[base + 3 * n + t] = __shfl_xor_sync(full, vu, a, w);

    p.out_f[base + 0 * n + t] = __shfl_sync(full, vf, a, w);
    p.out_f[base + 1 * n + t] = __shfl_up_sync(full, vf, (unsigned)a, w);
    p.out_f[base + 2 * n + t] = __shfl_down_sync(full, vf, (unsigned)a, w);
    p.out_f[base + 3 * n + t] = __shfl_xor_sync(full, vf, a, w);

    double vd = (double)vf * 1e10 + (double)vi;
    p.out_d[g] = __shfl_xor_sync(full, vd, a);

    int pr = p.pred[g];
    p.out_vote[(int)blockIdx.x * 3 * n + 0 * n + t] = __ballot_sync(full, pr);
    p.out_vote[(int)blockIdx.x * 3 * n + 1 * n + t] = (unsigned)__any_sync(full, pr);
    p.out_vote[(int)blockIdx.x * 3 * n + 2 * n + t] = (unsigned)__all_sync(full, pr);
}

/* Shuffles with a partial mask: lanes of the low half shuffle among
 * themselves (mask 0x0000ffff), the high half does nothing. */
typedef struct half_params {
    const int *in;
    int *out;
} half_params;

PF_KERNEL(half_warp_xor, half_params, p)
{
    int t = (int)threadIdx.x;
    int v = p.in[t];
    if ((t & 31) < 16)
        v = __shfl_xor_sync(0x0000ffffu, v, 1);
    p.out[t] = v;
}
