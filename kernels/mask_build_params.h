/* The one parameter struct of kernels/mask_build.cu (device mask encoders),
 * shared by the host side (harness/attention/mask_device.c) and the kernel. Plain C,
 * no system headers, pointers as 64-bit addresses on every side (as in
 * attention_params.h).
 *
 * mask_build (MASK_STORAGE dense / bitmap / window, INDPTR_T int or long
 * long): writes exactly the bytes of harness/attention/mask_encode.c. Work item w
 * covers query rows [work_row[w], work_row[w] + rows_per_work) of request
 * work_request[w]; grid = (num_work, 1, 1). The rows' output bytes form one
 * contiguous range; threads loop over it and build whole bytes (bitmap: a
 * byte belongs to the row of its first element), so there are no atomics.
 *
 * tile_build: one byte per BLOCK_M x BLOCK_N tile as harness/attention/tile_class.c;
 * work item w is query tile work_row[w] of request work_request[w], threads
 * loop over its key tiles (rows_per_work is unused). */
#ifndef PF_MASK_BUILD_PARAMS_H
#define PF_MASK_BUILD_PARAMS_H

typedef struct pf_mask_build_params {
    unsigned char *out;         /* mask bytes, or tile classes */
    const void *out_indptr;     /* INDPTR_T [batch+1]: mask offsets (storage unit) / tile offsets */
    const void *qo_indptr;      /* INDPTR_T [batch+1] */
    const void *kv_indptr;      /* INDPTR_T [batch+1] */
    const int *group_ids;       /* [total_kv], -1 for text (spans storage) */
    const int *work_request;    /* [num_work] */
    const int *work_row;        /* [num_work] first query row (mask) or query tile (tiles) */
    int num_work;
    int rows_per_work;
    int use_causal, use_same, window; /* rule flags (attention_params.h) */
    int band_left, band_right, band_stride; /* window storage */
    int block_m, block_n;       /* tile_build */
} pf_mask_build_params;

#endif
