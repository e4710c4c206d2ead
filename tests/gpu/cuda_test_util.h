/* Shared by the cuda GPU tests: open cuda:0 or fail loudly (these tests run
 * only in the GPU suite, where a missing GPU is a failure, not a skip), and
 * host-side bf16 rounding for reference computations. */
#ifndef PF_CUDA_TEST_UTIL_H
#define PF_CUDA_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/device.h"
#include "core/pf_error.h"

static inline pf_device *cuda_test_open(void)
{
    char why[PF_ERROR_MAX];
    if (pf_cuda_device_count(why, sizeof why) == 0) {
        fprintf(stderr, "FAIL: GPU test run without a usable GPU: %s\n", why);
        exit(1);
    }
    pf_device *d = NULL;
    if (pf_device_open("cuda:0", &d)) {
        fprintf(stderr, "FAIL: cannot open cuda:0: %s\n", pf_error_get());
        exit(1);
    }
    return d;
}

/* float -> bf16 bits, round to nearest even (inputs here are finite). */
static inline uint16_t cuda_test_f32_to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static inline float cuda_test_bf16_to_f32(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline float cuda_test_uniform(float lo, float hi)
{
    return lo + (hi - lo) * (float)rand() / (float)RAND_MAX;
}

#endif
