/* Device-buffer helpers of the op tests (tests/unit/test_*ops.c). Include
 * after declaring `static pf_device *dev;` (and pf_test.h). */
#ifndef PF_TEST_DEV_H
#define PF_TEST_DEV_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"
#include "device/device.h"
#include "jit/jit.h"
#include "kernels/pf_numeric.h"
#include "pf_test_kernel.h"

/* A device copy of h (NULL: uninitialized). */
static inline pf_dptr up(const void *h, size_t bytes)
{
    pf_dptr d = 0;
    if (pf_dev_alloc(dev, bytes ? bytes : 1, "op test", &d) == 0 && h)
        pf_dev_copy_htod(dev, d, h, bytes, NULL);
    return d;
}

/* An output buffer poisoned with 0xff bytes: NaN in bf16 and f32, -1 in
 * int32, so an element the kernel forgets shows up. */
static inline pf_dptr poisoned(size_t bytes)
{
    pf_dptr d = up(NULL, bytes);
    pf_dev_memset8(dev, d, 0xff, bytes, NULL);
    return d;
}

/* A host copy (malloc'd) after the stream drains. */
static inline void *down(pf_dptr d, size_t bytes)
{
    void *h = malloc(bytes ? bytes : 1);
    pf_dev_stream_sync(dev, NULL);
    pf_dev_copy_dtoh(dev, h, d, bytes, NULL);
    return h;
}

static inline uint16_t *rand_bf16(size_t n, float amp)
{
    uint16_t *x = (uint16_t *)malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++)
        x[i] = pf_f32_to_bf16(pf_test_frand() * amp);
    return x;
}

/* Device bf16 output against the reference within ulps (NaN never
 * passes); frees d unless keep. */
static inline int same_keep(pf_dptr d, const uint16_t *ref, size_t n, int ulps, const char *what,
                            int keep)
{
    uint16_t *got = (uint16_t *)down(d, n * sizeof *got);
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < n; i++) {
        int diff = abs((int)(int16_t)got[i] - (int)(int16_t)ref[i]);
        if (((got[i] & 0x7fff) > 0x7f80 || diff > ulps) && !bad++)
            first = i;
    }
    if (bad)
        fprintf(stderr, "  %s: %zu of %zu differ; first at %zu: got %04x, want %04x\n", what, bad,
                n, first, got[first], ref[first]);
    free(got);
    if (!keep)
        pf_dev_free(dev, d);
    return bad == 0;
}

static inline int same(pf_dptr d, const uint16_t *ref, size_t n, int ulps, const char *what)
{
    return same_keep(d, ref, n, ulps, what, 0);
}

/* Each kernels/ops/<file>.cu compiles with NVRTC for sm_80 and sm_90. */
static inline void check_nvrtc(const char *const *files, int n)
{
    pf_test_check_nvrtc("ops", files, n);
}

#endif
