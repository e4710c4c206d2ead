/* The parameter block of the planted-bug kernels for the emu checks
 * (planted_*.cu with a fixed_* twin; tests/pf_test_sanitize.h launches them). */
#ifndef SANITIZE_PARAMS_H
#define SANITIZE_PARAMS_H

typedef struct sanitize_params {
    const float *in;
    float *out;
} sanitize_params;

#endif
