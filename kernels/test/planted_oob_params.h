/* The planted out-of-bounds kernels' parameter struct, shared by the kernel
 * and the host tests (included after pf_dialect.h or <stdint.h>: no system
 * headers here). */
#ifndef PF_TEST_PLANTED_OOB_PARAMS_H
#define PF_TEST_PLANTED_OOB_PARAMS_H

typedef struct oob_params {
    const float *in;
    float *out;
    int n;
} oob_params;

#endif
