/* Tiled shared-memory GEMM (test kernel): C[M,N] = A[M,K] x B[K,N], fp32,
 * row-major. Block = TILE_THREADS (128) threads computes a TM x TN tile of C;
 * the A tile is static shared memory, the B tile dynamic (TK*TN floats), so
 * both kinds are exercised. Edges are zero-padded for any M, N, K. */
#include "pf_dialect.h"

#define TM 32
#define TN 32
#define TK 16
#define TILE_THREADS 128
#define PER_THREAD (TM * TN / TILE_THREADS) /* 8 outputs per thread */

typedef struct gemm_params {
    const float *a;
    const float *b;
    float *c;
    int m, n, k;
} gemm_params;

PF_KERNEL_BOUNDED(gemm_tiled, gemm_params, p, TILE_THREADS)
{
    PF_SHARED(float, a_tile, TM * TK);
    PF_DYNAMIC_SHARED(float, b_tile); /* TK * TN floats */
    int tid = (int)threadIdx.x;
    int row0 = (int)blockIdx.y * TM, col0 = (int)blockIdx.x * TN;
    /* thread -> column tid % TN, rows (tid / TN) + 4*r */
    int col = tid % TN, row_base = tid / TN;
    float acc[PER_THREAD];
    PF_UNROLL
    for (int r = 0; r < PER_THREAD; r++)
        acc[r] = 0.0f;

    for (int k0 = 0; k0 < p.k; k0 += TK) {
        for (int i = tid; i < TM * TK; i += TILE_THREADS) {
            int r = i / TK, kk = i % TK;
            int gr = row0 + r, gk = k0 + kk;
            a_tile[i] = (gr < p.m && gk < p.k) ? p.a[(long)gr * p.k + gk] : 0.0f;
        }
        for (int i = tid; i < TK * TN; i += TILE_THREADS) {
            int kk = i / TN, c = i % TN;
            int gk = k0 + kk, gc = col0 + c;
            b_tile[i] = (gk < p.k && gc < p.n) ? p.b[(long)gk * p.n + gc] : 0.0f;
        }
        __syncthreads();
        PF_UNROLL
        for (int kk = 0; kk < TK; kk++) {
            float bv = b_tile[kk * TN + col];
            PF_UNROLL
            for (int r = 0; r < PER_THREAD; r++)
                acc[r] += a_tile[(row_base + r * (TILE_THREADS / TN)) * TK + kk] * bv;
        }
        __syncthreads();
    }
    PF_UNROLL
    for (int r = 0; r < PER_THREAD; r++) {
        int gr = row0 + row_base + r * (TILE_THREADS / TN), gc = col0 + col;
        if (gr < p.m && gc < p.n)
            p.c[(long)gr * p.n + gc] = acc[r];
    }
}
