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
    double row_p90;   /* 90th percentile over rows of ||a_r - b_r|| / ||b_r|| */
} cmp;

static inline int pf_test_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static inline cmp compare(const float *a, const float *b, int rows, int vocab)
{
    cmp c = {0, 0, 0, INFINITY};
    double num = 0, den = 0;
    double *row_rel = malloc((size_t)(rows > 0 ? rows : 1) * sizeof *row_rel);
    for (int r = 0; r < rows; r++) {
        const float *x = a + (size_t)r * vocab, *y = b + (size_t)r * vocab;
        int ax = 0, ay = 0;
        float top = -INFINITY, second = -INFINITY, amax = 0;
        double rn = 0, rd = 0;
        for (int i = 0; i < vocab; i++) {
            rn += ((double)x[i] - y[i]) * ((double)x[i] - y[i]);
            rd += (double)y[i] * y[i];
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
        num += rn;
        den += rd;
        if (row_rel)
            row_rel[r] = rd > 0 && rn == rn ? sqrt(rn / rd) : INFINITY; /* NaN sorts last */
    }
    c.rel = den > 0 && num == num ? sqrt(num / den) : INFINITY;
    if (row_rel && rows > 0) {
        qsort(row_rel, (size_t)rows, sizeof *row_rel, pf_test_cmp_double);
        c.row_p90 = row_rel[(size_t)((rows - 1) * 0.9)];
    }
    free(row_rel);
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
