/* The named-barrier test kernel's parameters, shared with the host test
 * (included after pf_dialect.h or <stdint.h>: no system headers here). */
#ifndef PF_TEST_NAMED_BARRIER_PARAMS_H
#define PF_TEST_NAMED_BARRIER_PARAMS_H

#define NB_THREADS 256   /* the block: 8 warps */
#define NB_MAX_ROUNDS 16 /* out holds this many rounds per thread */

typedef struct named_barrier_params {
    const float *in;     /* [grid][groups][32]: the writers' inputs */
    float *out;          /* [grid][NB_THREADS][NB_MAX_ROUNDS]: readers' values */
    float *tail;         /* [grid][NB_THREADS]: read after a final __syncthreads */
    int group;           /* warps per group: 2 or 4 */
    int rounds;          /* group g runs rounds + g rounds */
} named_barrier_params;

#endif
