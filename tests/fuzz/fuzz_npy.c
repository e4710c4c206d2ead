/* libFuzzer target for the .npy parser (harness/core/npy.c): any byte string
 * must parse or fail with a one-line message; an accepted array must be
 * self-consistent and convertible. Built and run by tests/fuzz/CMakeLists.txt. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/npy.h"
#include "core/pf_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pf_npy a;
    pf_error_clear();
    if (pf_npy_parse(data, size, &a) != 0) {
        const char *e = pf_error_get();
        if (!*e || strchr(e, '\n'))
            abort();
        return 0;
    }
    size_t product = 1;
    for (int i = 0; i < a.ndim; i++)
        product *= (size_t)a.shape[i];
    if (a.ndim < 0 || a.ndim > PF_NPY_MAX_DIMS || product != a.count || !a.data ||
        a.item_size != pf_npy_dtype_size(a.dtype) || a.count * a.item_size > size)
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
