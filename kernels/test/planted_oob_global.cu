/* Planted bug: an off-by-one bound (`<=`) writes one element past the end
 * of the output buffer. */
#include "pf_dialect.h"

#include "planted_oob_params.h"

PF_KERNEL(planted_oob_global, oob_params, p)
{
    int i = (int)(blockIdx.x * blockDim.x + threadIdx.x);
    if (i <= p.n) /* bug: should be i < p.n */
        p.out[i] = 2.0f * (i < p.n ? p.in[i] : 0.0f);
}

/* Planted bug: reads 8 elements before the start of the input. */
PF_KERNEL(planted_oob_underflow, oob_params, p)
{
    int i = (int)(blockIdx.x * blockDim.x + threadIdx.x);
    if (i < p.n)
        p.out[i] = p.in[i - 1024];
}
