/* libFuzzer target for the .npy parser: any byte string must parse or fail
 * cleanly; an accepted array must be self-consistent and convertible.
 * Build: tests/fuzz/build.sh (clang), or cmake -DPF_FUZZ=ON with clang once
 * tests/fuzz/fuzz.cmake is included. Not part of ctest. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pf_npy a;
    if (pf_npy_parse(data, size, &a) != 0)
        return 0;
    size_t product = 1;
    for (int i = 0; i < a.ndim; i++)
        product *= (size_t)a.shape[i];
    if (a.ndim < 0 || a.ndim > PF_NPY_MAX_DIMS || product != a.count || !a.data ||
        a.count * a.item_size > size)
        abort();
    float *f = NULL;
    if (pf_npy_to_f32(&a, &f) == 0)
        free(f);
    int64_t *l = NULL;
    if (pf_npy_to_i64(&a, &l) == 0)
        free(l);
    pf_npy_free(&a);
    return 0;
}
