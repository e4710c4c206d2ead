/* The kernel's one parameter struct, shared by the kernel and the host tests
 * (included after pf_dialect.h or <stdint.h>: no system headers here). */
#ifndef PF_TEST_ATOMICS_PARAMS_H
#define PF_TEST_ATOMICS_PARAMS_H

typedef struct atomics_params {
    const int *in;
    int n;
    int bins;
    int *hist;          /* [bins] */
    unsigned *hist_u;   /* [bins] */
    float *sum;         /* 1 */
    int *max_v, *min_v; /* 1 each */
    unsigned *cas_count; /* 1 */
    int *cas_count_i;    /* 1 */
} atomics_params;

#endif
