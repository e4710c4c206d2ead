/* Final logit softcapping (g4_params.h): the lm_head output rounded to
 * bf16, then l/cap, tanh and *cap, each rounded as HF's bf16 model does. */
#include "pf_dialect.h"
#include "ops/g4_params.h"

PF_KERNEL(g4_softcap, pf_g4_softcap_params, p)
{
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < p.n; i += stride) {
        float l = pf_round_bf16(p.x[i]);
        if (p.cap > 0.0f)
            l = pf_round_bf16(pf_round_bf16(tanhf(pf_round_bf16(l / p.cap))) * p.cap);
        p.out[i] = l;
    }
}
