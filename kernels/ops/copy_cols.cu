/* Row-wise column copy with zero fill (ops_params.h): heads padded to a
 * head dim the attention family has, and back. Zero columns leave q.k and
 * P.v unchanged. One thread per output element. */
#include "pf_dialect.h"
#include "ops/ops_params.h"

PF_KERNEL(copy_cols, pf_copy_cols_params, p)
{
    long long total = p.rows * p.out_cols;
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += stride) {
        long long r = e / p.out_cols;
        int j = (int)(e % p.out_cols);
        p.out[e] = j < p.cols ? p.in[r * p.in_cols + j] : (unsigned short)0;
    }
}
