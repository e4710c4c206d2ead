/* NumPy .npy files (format versions 1.0, 2.0 and 3.0), C order only.
 *
 * Supported dtypes: '<f2' '<f4' '<f8' '<i4' '<i8' '|u1' '|b1' (little-endian
 * hosts only). Parsing is strict and bounded so that a hostile file yields an
 * error, never a crash: the header dict must hold exactly 'descr',
 * 'fortran_order' and 'shape', sizes are overflow-checked, and the data must
 * fill the rest of the file exactly. Writers replace the target atomically
 * (temp file in the same directory, then rename). */
#ifndef PF_NPY_H
#define PF_NPY_H

#include <stddef.h>
#include <stdint.h>

#define PF_NPY_MAX_DIMS 8

typedef enum pf_npy_dtype {
    PF_NPY_F16,  /* '<f2' */
    PF_NPY_F32,  /* '<f4' */
    PF_NPY_F64,  /* '<f8' */
    PF_NPY_I32,  /* '<i4' */
    PF_NPY_I64,  /* '<i8' */
    PF_NPY_U8,   /* '|u1' */
    PF_NPY_BOOL, /* '|b1' */
} pf_npy_dtype;

typedef struct pf_npy {
    pf_npy_dtype dtype;
    int ndim;                       /* 0 for a scalar */
    int64_t shape[PF_NPY_MAX_DIMS];
    size_t count;                   /* product of shape (1 for a scalar) */
    size_t item_size;               /* bytes per element */
    void *data;                     /* count * item_size bytes, malloc'd (never NULL on success) */
} pf_npy;

/* The descr string of a dtype ("<f4") and its element size. */
const char *pf_npy_dtype_descr(pf_npy_dtype dtype);
size_t pf_npy_dtype_size(pf_npy_dtype dtype);

/* Read a whole file. On error `out` holds nothing to free. */
int pf_npy_read(const char *path, pf_npy *out);
/* Parse an in-memory file image (same checks as pf_npy_read). */
int pf_npy_parse(const void *buf, size_t size, pf_npy *out);
void pf_npy_free(pf_npy *a);

/* Converted copies (malloc'd, a->count elements). Integer conversion of
 * floating data fails unless every value is integral and in range; f32
 * conversion of 64-bit integers fails for values beyond 2^24 in magnitude. */
int pf_npy_to_f32(const pf_npy *a, float **out);
int pf_npy_to_i64(const pf_npy *a, int64_t **out);

/* Write `data` (count = product of shape elements of `dtype`) atomically. */
int pf_npy_write(const char *path, pf_npy_dtype dtype, const void *data, int ndim,
                 const int64_t *shape);
int pf_npy_write_f32(const char *path, const float *data, int ndim, const int64_t *shape);

#endif
