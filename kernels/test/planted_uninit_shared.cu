/* Planted bug for --sanitize init: 64 threads stage 60 values in shared
 * memory and every thread reads one back, so the last four read slots this
 * launch never wrote. fixed_uninit_shared writes all 64. */
#include "pf_dialect.h"
#include "sanitize_params.h"

PF_KERNEL(planted_uninit_shared, sanitize_params, p)
{
    PF_SHARED(float, staged, 64);
    int t = (int)threadIdx.x;
    if (t < 60) /* bug: slots 60..63 stay unwritten */
        staged[t] = p.in[t];
    __syncthreads();
    p.out[t] = staged[63 - t];
}

PF_KERNEL(fixed_uninit_shared, sanitize_params, p)
{
    PF_SHARED(float, staged, 64);
    int t = (int)threadIdx.x;
    staged[t] = t < 60 ? p.in[t] : 0.0f;
    __syncthreads();
    p.out[t] = staged[63 - t];
}
