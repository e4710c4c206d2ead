/* Rows of the expert input in slot order (g4_params.h): out[s] = x[rows[s]]. */
#include "pf_dialect.h"
#include "ops/g4_params.h"

PF_KERNEL(g4_gather_rows, pf_g4_gather_rows_params, p)
{
    long long total = p.n_rows * p.n, stride = (long long)blockDim.x * gridDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        long long s = i / p.n;
        p.out[i] = p.x[(long long)p.rows[s] * p.n + i % p.n];
    }
}
