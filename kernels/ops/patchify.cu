/* SigLIP patch extraction: pixels (f32, cast to bf16 first as HF casts
 * them to the conv dtype) into the rows of the patch-embedding GEMM. */
#include "pf_dialect.h"
#include "ops/ops_params.h"

PF_KERNEL(patchify, pf_patchify_params, p)
{
    int P = p.patch, g = p.image_size / P, cols = p.channels * P * P;
    long long total = (long long)p.images * g * g * cols;
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += stride) {
        int col = (int)(e % cols);
        long long row = e / cols;
        int img = (int)(row / (g * g)), pg = (int)(row % (g * g));
        int gy = pg / g, gx = pg % g;
        int c = col / (P * P), ky = (col / P) % P, kx = col % P;
        long long src = (((long long)img * p.channels + c) * p.image_size + gy * P + ky) *
                            p.image_size + gx * P + kx;
        p.out[e] = pf_f32_to_bf16(p.pix[src]);
    }
}
