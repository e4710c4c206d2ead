/* safetensors files, memory-mapped: one model.safetensors or the shards
 * named by model.safetensors.index.json. The header parser is strict and
 * bounded (it is fuzzed): 8-byte little-endian header length inside the file,
 * a JSON object without duplicate names, each tensor's dtype known, its
 * shape's byte size (overflow-checked) equal to its data_offsets range, the
 * range inside the data section, no two ranges overlapping. Tensor data is
 * read in place; only bf16, f16 and f32 can be converted. */
#ifndef PF_SAFETENSORS_H
#define PF_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#define PF_ST_MAX_DIMS 8

typedef enum pf_st_dtype {
    PF_ST_BF16, PF_ST_F16, PF_ST_F32, /* convertible */
    PF_ST_F64, PF_ST_I64, PF_ST_I32, PF_ST_I16, PF_ST_I8, PF_ST_U8, PF_ST_BOOL,
    PF_ST_F8_E4M3, PF_ST_F8_E5M2, /* known, sized, not convertible */
} pf_st_dtype;

typedef struct pf_st_tensor {
    char *name;
    pf_st_dtype dtype;
    int ndim;
    int64_t shape[PF_ST_MAX_DIMS];
    int64_t count;     /* product of shape */
    const void *data;  /* inside the mapped file */
    size_t bytes;
    const char *file;  /* the file it lives in (for messages) */
} pf_st_tensor;

const char *pf_st_dtype_name(pf_st_dtype d);

/* Parse one file image (header + data). Tensors point into buf; `file`
 * names it in messages and in each tensor. *out is malloc'd (free with
 * pf_st_tensors_free). */
int pf_st_parse(const void *buf, size_t size, const char *file, pf_st_tensor **out, int *n);
void pf_st_tensors_free(pf_st_tensor *t, int n);

typedef struct pf_safetensors pf_safetensors;

/* Open <dir>/model.safetensors.index.json (shards) if present, else
 * <dir>/model.safetensors. */
int pf_st_open(const char *dir, pf_safetensors **out);
/* Open one .safetensors file. */
int pf_st_open_file(const char *path, pf_safetensors **out);
void pf_st_close(pf_safetensors *st);

/* Tensor by exact name, or NULL (no message). */
const pf_st_tensor *pf_st_find(const pf_safetensors *st, const char *name);
int pf_st_count(const pf_safetensors *st);
const pf_st_tensor *pf_st_at(const pf_safetensors *st, int i);

/* Convert a tensor's elements to bf16 bits (bf16: copy; f16/f32: RNE) or to
 * f32 into out (t->count elements). Other dtypes: error naming the tensor. */
int pf_st_to_bf16(const pf_st_tensor *t, uint16_t *out);
int pf_st_to_f32(const pf_st_tensor *t, float *out);

#endif
