/* Planted bug: a full-mask warp collective that not all 32 lanes can reach. */
#include "pf_dialect.h"

typedef struct partial_params {
    float *out;
    int exit_lane5; /* 1: lane 5 of every warp returns before the shuffle */
} partial_params;

/* A full-mask shuffle in a block whose last warp is partial (48 threads),
 * or after lanes exited: both are errors on emu. */
PF_KERNEL(planted_partial_warp, partial_params, p)
{
    int t = (int)threadIdx.x;
    if (p.exit_lane5 && (t & 31) == 5)
        return;
    float v = __shfl_xor_sync(0xffffffffu, (float)t, 1);
    p.out[t] = v;
}

/* Planted bug: even lanes shuffle while odd lanes vote: two different
 * collectives in one warp at once. */
PF_KERNEL(planted_mixed_collective, partial_params, p)
{
    int t = (int)threadIdx.x;
    float v = (float)t;
    if (t & 1)
        v = (float)__ballot_sync(0xffffffffu, t > 7);
    else
        v = __shfl_xor_sync(0xffffffffu, v, 2);
    p.out[t] = v;
}
