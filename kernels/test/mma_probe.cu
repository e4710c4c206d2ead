/* Probe kernels for the tensor-core layer (kernels/pf_tensorcore.h), run by
 * tests on emu and on a GPU, whose outputs are compared with each other and
 * with a host reference.
 *
 * pf_mma_probe_tile: one warp computes D[16x8] = A[16x16] B[16x8] + C.
 *   mode 0: fragments read straight from global memory by the PTX layout
 *   formulas (pins mma alone); mode 1: A via two ldmatrix.x2, B via two
 *   ldmatrix.x1.trans; mode 2: A via four ldmatrix.x1, B via one
 *   ldmatrix.x2.trans (tiles staged in shared memory by cp.async).
 *   Modes 3 and 4 are deliberate faults for emu's checks (never run them on
 *   a GPU): 3 = ldmatrix from a misaligned row address, 4 = cp.async into
 *   global instead of shared memory.
 * pf_mma_probe_gemm: C[m,n] = A[m,k] B[k,n] (f32 out, 16-bit row-major
 *   inputs), 64x64 tiles per block of 4 warps, k in steps of 16 through a
 *   two-stage cp.async pipeline, fragments via ldmatrix.x4 / .x4.trans.
 *   Requires k % 8 == 0 and n % 8 == 0 (16-byte rows); any m. Rows and
 *   columns past the edges are zero-filled with src_bytes = 0.
 * dtype: 0 = bf16, 1 = f16 (the mma variant used). */
#include "pf_dialect.h"

#include "mma_probe_params.h"

PF_DEVICE void probe_mma(int dtype, float d[4], const uint32_t a[4], const uint32_t b[2], const float c[4])
{
    if (dtype)
        pf_mma_m16n8k16_f16(d, a, b, c);
    else
        pf_mma_m16n8k16_bf16(d, a, b, c);
}

PF_DEVICE uint32_t pair_at(const uint16_t *base, int first, int second)
{
    return (uint32_t)base[first] | ((uint32_t)base[second] << 16);
}

#define TILE_A_STRIDE 24 /* 16 + 8 padding, in elements (48-byte rows) */
#define TILE_B_STRIDE 16

PF_KERNEL(pf_mma_probe_tile, pf_mma_probe_params, p)
{
    PF_SHARED(uint16_t, sa, 16 * TILE_A_STRIDE);
    PF_SHARED(uint16_t, sb, 16 * TILE_B_STRIDE);
    const uint16_t *ga = (const uint16_t *)p.a;
    const uint16_t *gb = (const uint16_t *)p.b;
    int lane = threadIdx.x;
    int g = lane >> 2, t = lane & 3;
    uint32_t a[4], b[2];
    float c[4], d[4];

    if (p.mode == 3) {
        pf_ldmatrix_x4(a, (const unsigned char *)sa + 2 * TILE_A_STRIDE * (lane & 15) + 2);
    } else if (p.mode == 4) {
        pf_cp_async_16((void *)p.d, ga);
        pf_cp_async_commit();
        pf_cp_async_wait(0);
    }
    if (p.mode == 0 || p.mode >= 3) {
        a[0] = pair_at(ga, g * 16 + 2 * t, g * 16 + 2 * t + 1);
        a[1] = pair_at(ga, (g + 8) * 16 + 2 * t, (g + 8) * 16 + 2 * t + 1);
        a[2] = pair_at(ga, g * 16 + 2 * t + 8, g * 16 + 2 * t + 9);
        a[3] = pair_at(ga, (g + 8) * 16 + 2 * t + 8, (g + 8) * 16 + 2 * t + 9);
        b[0] = pair_at(gb, (2 * t) * 8 + g, (2 * t + 1) * 8 + g);
        b[1] = pair_at(gb, (2 * t + 8) * 8 + g, (2 * t + 9) * 8 + g);
    } else { /* modes 1, 2 */
        /* A: 16 rows x two 16-byte chunks; B: 16 rows x one chunk (8 n). */
        pf_cp_async_16(sa + (lane >> 1) * TILE_A_STRIDE + (lane & 1) * 8, ga + (lane >> 1) * 16 + (lane & 1) * 8);
        if (lane < 16)
            pf_cp_async_16(sb + lane * TILE_B_STRIDE, gb + lane * 8);
        pf_cp_async_commit();
        pf_cp_async_wait(0);
        __syncthreads();
        if (p.mode == 1) {
            /* x2: lanes 0-7 rows 0-7, lanes 8-15 rows 8-15, at column 0 / 8 */
            pf_ldmatrix_x2(a, sa + (lane & 15) * TILE_A_STRIDE);
            pf_ldmatrix_x2(a + 2, sa + (lane & 15) * TILE_A_STRIDE + 8);
            pf_ldmatrix_x1_trans(b, sb + (lane & 7) * TILE_B_STRIDE);
            pf_ldmatrix_x1_trans(b + 1, sb + (8 + (lane & 7)) * TILE_B_STRIDE);
        } else {
            /* x1 per 8x8 quarter: a[i] = rows 8*(i&1).., cols 8*(i>>1).. */
            int i;
            for (i = 0; i < 4; i++)
                pf_ldmatrix_x1(a + i, sa + (8 * (i & 1) + (lane & 7)) * TILE_A_STRIDE + 8 * (i >> 1));
            pf_ldmatrix_x2_trans(b, sb + (lane & 15) * TILE_B_STRIDE);
        }
    }
    c[0] = p.c[g * 8 + 2 * t];
    c[1] = p.c[g * 8 + 2 * t + 1];
    c[2] = p.c[(g + 8) * 8 + 2 * t];
    c[3] = p.c[(g + 8) * 8 + 2 * t + 1];
    probe_mma(p.dtype, d, a, b, c);
    p.d[g * 8 + 2 * t] = d[0];
    p.d[g * 8 + 2 * t + 1] = d[1];
    p.d[(g + 8) * 8 + 2 * t] = d[2];
    p.d[(g + 8) * 8 + 2 * t + 1] = d[3];
}

#define GEMM_BM 64
#define GEMM_BN 64
#define GEMM_BK 16
#define GEMM_A_STRIDE (GEMM_BK + 8)  /* padded to spread banks */
#define GEMM_B_STRIDE (GEMM_BN + 8)

/* Stage k-tile `kt` into buffer `buf`: 128 threads, one 16-byte chunk each
 * of A (64 rows x 2 chunks) and of B (16 rows x 8 chunks). */
PF_DEVICE void gemm_load_tile(const pf_mma_probe_params *p, uint16_t *sa, uint16_t *sb, int kt, int row0,
                              int col0, int tid)
{
    const uint16_t *ga = (const uint16_t *)p->a;
    const uint16_t *gb = (const uint16_t *)p->b;
    int k0 = kt * GEMM_BK;

    int ar = tid >> 1, ac = (tid & 1) * 8; /* A chunk: row, first k */
    int grow = row0 + ar, gk = k0 + ac;
    int a_bytes = (grow < p->m && gk < p->k) ? 16 : 0;
    const uint16_t *asrc = a_bytes ? ga + (size_t)grow * p->k + gk : ga; /* clamped, unread */
    pf_cp_async_16_zfill(sa + ar * GEMM_A_STRIDE + ac, asrc, a_bytes);

    int br = tid >> 3, bc = (tid & 7) * 8; /* B chunk: k row, first n */
    int gkb = k0 + br, gn = col0 + bc;
    int b_bytes = (gkb < p->k && gn < p->n) ? 16 : 0;
    const uint16_t *bsrc = b_bytes ? gb + (size_t)gkb * p->n + gn : gb;
    pf_cp_async_16_zfill(sb + br * GEMM_B_STRIDE + bc, bsrc, b_bytes);
}

PF_KERNEL(pf_mma_probe_gemm, pf_mma_probe_params, p)
{
    PF_SHARED(uint16_t, sa, 2 * GEMM_BM * GEMM_A_STRIDE);
    PF_SHARED(uint16_t, sb, 2 * GEMM_BK * GEMM_B_STRIDE);
    int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    int row0 = blockIdx.y * GEMM_BM, col0 = blockIdx.x * GEMM_BN;
    int num_kt = (p.k + GEMM_BK - 1) / GEMM_BK;
    float acc[8][4];
    int j, i, kt;
    for (j = 0; j < 8; j++)
        for (i = 0; i < 4; i++)
            acc[j][i] = 0.0f;

    gemm_load_tile(&p, sa, sb, 0, row0, col0, tid);
    pf_cp_async_commit();
    for (kt = 0; kt < num_kt; kt++) {
        int buf = kt & 1;
        if (kt + 1 < num_kt) /* prefetch the next tile into the other buffer */
            gemm_load_tile(&p, sa + (buf ^ 1) * GEMM_BM * GEMM_A_STRIDE,
                           sb + (buf ^ 1) * GEMM_BK * GEMM_B_STRIDE, kt + 1, row0, col0, tid);
        pf_cp_async_commit();
        pf_cp_async_wait(1); /* tile kt has landed; kt+1 may be in flight */
        __syncthreads();

        const uint16_t *ta = sa + buf * GEMM_BM * GEMM_A_STRIDE;
        const uint16_t *tb = sb + buf * GEMM_BK * GEMM_B_STRIDE;
        uint32_t a[4];
        pf_ldmatrix_x4(a, ta + (warp * 16 + (lane & 15)) * GEMM_A_STRIDE + (lane >> 4) * 8);
        for (j = 0; j < 8; j += 2) {
            uint32_t b[4];
            /* k rows 0-15 of n-tiles j (lanes 0-15) and j+1 (lanes 16-31) */
            pf_ldmatrix_x4_trans(b, tb + (lane & 15) * GEMM_B_STRIDE + (j + (lane >> 4)) * 8);
            probe_mma(p.dtype, acc[j], a, b, acc[j]);
            probe_mma(p.dtype, acc[j + 1], a, b + 2, acc[j + 1]);
        }
        __syncthreads(); /* buffer buf is refilled in the next iteration */
    }
    pf_cp_async_wait(0);

    int g = lane >> 2, t = lane & 3;
    for (j = 0; j < 8; j++)
        for (i = 0; i < 4; i++) {
            int r = row0 + warp * 16 + g + 8 * (i >> 1);
            int col = col0 + j * 8 + 2 * t + (i & 1);
            if (r < p.m && col < p.n)
                p.d[(size_t)r * p.n + col] = acc[j][i];
        }
}

/* pf_numeric_probe: the conversions of kernels/pf_numeric.h as a kernel
 * computes them (PTX cvt on a GPU), for comparison with the host versions.
 * Element i: to_bf16/to_f16 of x[i], pairs (x[i], x[i+1]) packed, and the
 * raw 16-bit pattern i decoded as bf16 and as f16. */

PF_KERNEL(pf_numeric_probe, pf_numeric_probe_params, p)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < p.n) {
        float lo = p.x[i], hi = p.x[(i + 1) % p.n];
        p.bf[i] = pf_f32_to_bf16(lo);
        p.hf[i] = pf_f32_to_f16(lo);
        p.pack_bf[i] = pf_pack_bf16x2(lo, hi);
        p.pack_hf[i] = pf_pack_f16x2(lo, hi);
    }
    if (i < 65536) {
        p.bf_back[i] = pf_bf16_to_f32((pf_bf16)i);
        p.hf_back[i] = pf_f16_to_f32((pf_f16)i);
    }
}
