/* Comparing logits in the forward tests: relative Frobenius error, and the
 * argmax wherever the reference's top-2 margin is clear (more than 5% of
 * the row's largest magnitude); NaN never passes. Also reading a reference
 * logits .npy. */
#ifndef PF_TEST_LOGITS_H
#define PF_TEST_LOGITS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/npy.h"
#include "core/pf_error.h"

typedef struct cmp {
    double rel;       /* ||a - b|| / ||b||; infinite when a holds NaN */
    int clear, agree; /* rows with a clear top-2 margin in b; argmax equal there */
} cmp;

static inline cmp compare(const float *a, const float *b, int rows, int vocab)
{
    cmp c = {0, 0, 0};
    double num = 0, den = 0;
    for (int r = 0; r < rows; r++) {
        const float *x = a + (size_t)r * vocab, *y = b + (size_t)r * vocab;
        int ax = 0, ay = 0;
        float top = -INFINITY, second = -INFINITY, amax = 0;
        for (int i = 0; i < vocab; i++) {
            num += ((double)x[i] - y[i]) * ((double)x[i] - y[i]);
            den += (double)y[i] * y[i];
            ax = x[i] > x[ax] || isnan(x[ax]) ? i : ax;
            if (y[i] > top) {
                second = top;
                top = y[i];
                ay = i;
            } else if (y[i] > second) {
                second = y[i];
            }
            amax = fabsf(y[i]) > amax ? fabsf(y[i]) : amax;
        }
        if (top - second > 0.05f * amax) {
            c.clear++;
            c.agree += ax == ay;
        }
    }
    c.rel = den > 0 && num == num ? sqrt(num / den) : INFINITY;
    return c;
}

/* <dir>/<file>: float32 [rows, vocab] (malloc'd), or NULL with a message. */
static inline float *load_logits(const char *dir, const char *file, int rows, int vocab)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    pf_npy a;
    if (pf_npy_read(path, &a)) {
        fprintf(stderr, "%s\n", pf_error_get());
        return NULL;
    }
    if (a.dtype == PF_NPY_F32 && a.ndim == 2 && a.shape[0] == rows && a.shape[1] == vocab)
        return (float *)a.data;
    fprintf(stderr, "%s: not float32 [%d, %d]\n", path, rows, vocab);
    pf_npy_free(&a);
    return NULL;
}

#endif
