/* Synthetic weights on the device (synth_params.h): the same values, bit for
 * bit, as the host draws. Grid-stride over the tensor. */
#include "pf_dialect.h"
#include "ops/synth_params.h"

PF_KERNEL(synth, pf_synth_params, p)
{
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < p.count; i += stride)
        p.out[i] = pf_synth_value(p.key, p.first + i, p.amp, p.base);
}
