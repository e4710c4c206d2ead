/* The kernel's one parameter struct, shared by the kernel and the host tests
 * (included after pf_dialect.h or <stdint.h>: no system headers here). */
#ifndef PF_TEST_COLLECTIVES_PARAMS_H
#define PF_TEST_COLLECTIVES_PARAMS_H

#define SHFL_VARIANTS 4 /* idx, up, down, xor */

typedef struct collectives_params {
    const int *in_i;
    const float *in_f;
    const int *arg;    /* per-thread srcLane / delta / laneMask */
    const int *pred;
    int *out_i;        /* [2 * SHFL_VARIANTS][threads]: width 32 (default), then p.width */
    unsigned *out_u;   /* [SHFL_VARIANTS][threads], width p.width */
    float *out_f;      /* [SHFL_VARIANTS][threads], width p.width */
    double *out_d;     /* [threads]: __shfl_xor_sync on doubles */
    unsigned *out_vote; /* [3][threads]: ballot, any, all */
    int width;
    int threads;
} collectives_params;

#endif
