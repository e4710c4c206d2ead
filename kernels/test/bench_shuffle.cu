/* Shuffle-bound kernel for emu_bench: `rounds` xor-shuffles per thread, so
 * the run time is dominated by fiber switches (one per lane per shuffle). */
#include "pf_dialect.h"

typedef struct shuffle_bench_params {
    float *out;
    int rounds;
} shuffle_bench_params;

PF_KERNEL(bench_shuffle, shuffle_bench_params, p)
{
    float v = (float)threadIdx.x;
    for (int r = 0; r < p.rounds; r++)
        v += __shfl_xor_sync(0xffffffffu, v, (r & 15) + 1) * 0.5f;
    p.out[blockIdx.x * blockDim.x + threadIdx.x] = v;
}
