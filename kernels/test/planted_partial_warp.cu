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
