/* libFuzzer target for the safetensors header parser (models/safetensors.c):
 * any byte string parses or fails with a one-line message; every accepted
 * tensor lies inside the buffer, its byte size matches its shape, and no two
 * overlap; conversion of an accepted tensor never reads outside it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"
#include "models/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pf_st_tensor *t;
    int n;
    pf_error_clear();
    if (pf_st_parse(data, size, "fuzz", &t, &n) != 0) {
        const char *e = pf_error_get();
        if (!*e || strchr(e, '\n'))
            abort();
        return 0;
    }
    for (int i = 0; i < n; i++) {
        const uint8_t *p = t[i].data;
        if (p < data || p + t[i].bytes > data + size || !t[i].name)
            abort();
        for (int j = 0; j < i; j++) {
            const uint8_t *q = t[j].data;
            if (t[i].bytes && t[j].bytes && p < q + t[j].bytes && q < p + t[i].bytes)
                abort();
        }
        if (t[i].count <= (1 << 16)) {
            float *f = malloc((size_t)(t[i].count ? t[i].count : 1) * sizeof *f);
            if (f && pf_st_to_f32(&t[i], f) == 0 && t[i].dtype > PF_ST_F32)
                abort();
            free(f);
        }
    }
    pf_st_tensors_free(t, n);
    return 0;
}
