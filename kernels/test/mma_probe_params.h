/* The kernel's one parameter struct, shared by the kernel and the host tests
 * (included after pf_dialect.h or <stdint.h>: no system headers here). */
#ifndef PF_TEST_MMA_PROBE_PARAMS_H
#define PF_TEST_MMA_PROBE_PARAMS_H

typedef struct pf_mma_probe_params {
    const void *a;   /* 16-bit [m][k] row-major */
    const void *b;   /* 16-bit [k][n] row-major */
    const float *c;  /* tile probe: f32 [16][8] */
    float *d;        /* f32 [m][n] */
    int m, n, k;     /* gemm sizes (the tile probe is 16, 8, 16) */
    int dtype;
    int mode;        /* tile probe only */
} pf_mma_probe_params;

typedef struct pf_numeric_probe_params {
    const float *x;     /* [n] */
    uint16_t *bf, *hf;  /* [n] */
    uint32_t *pack_bf, *pack_hf; /* [n]: pack(x[i], x[(i+1) % n]) */
    float *bf_back, *hf_back;    /* [65536]: pattern -> f32 */
    int n;
} pf_numeric_probe_params;

#endif
