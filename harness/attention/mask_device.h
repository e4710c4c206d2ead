/* Mask encoders on the device (kernels/mask_build.cu): the dense, bitmap and
 * window storages and the tile classes, built where the attention kernel
 * reads them instead of on the host and copied. The bytes are identical to
 * pf_mask_encode / pf_tile_classify for the same layout and spec (the tests
 * memcmp them), so either path can feed the attention kernel.
 *
 * The input is the per-kv-token group ids (int32, -1 text: the spans
 * storage), plus qo/kv indptr; offsets, band and int32 refusal are decided
 * on the host from the layout exactly as pf_mask_encode does (same
 * messages), so nothing large is ever computed there. */
#ifndef PF_MASK_DEVICE_H
#define PF_MASK_DEVICE_H

#include <stddef.h>

#include "device/device.h"
#include "attention/layout.h"
#include "attention/mask_encode.h"
#include "attention/mask_rule.h"

typedef struct pf_mask_device_opts {
    /* Inputs already on the device (0: uploaded from the layout for this
     * call and freed before it returns). group_ids: int32 [total_kv];
     * qo/kv indptr: indptr_bytes-wide [n_req+1] row offsets. */
    pf_dptr group_ids, qo_indptr, kv_indptr;
    int poison;        /* 0..255: fill the output with this byte first (tests catch
                          unwritten bytes); -1: no fill */
    int rows_per_work; /* query rows per block (mask only); 0: chosen from the row size */
    int threads;       /* threads per block; 0: 128 */
} pf_mask_device_opts;

/* The defaults above (poison -1, everything else 0). */
void pf_mask_device_opts_init(pf_mask_device_opts *o);

/* One mask encoded on the device (free with pf_mask_dev_free). */
typedef struct pf_mask_dev {
    int storage;        /* PF_MASK_DENSE / BITMAP / WINDOW */
    int indptr_bytes;   /* 4 or 8 */
    pf_dptr mask;       /* mask_bytes bytes */
    size_t mask_bytes;
    pf_dptr indptr;     /* int32/int64 [n_req+1], the storage's unit */
    pf_band band;       /* window only (zeros otherwise) */
    int use_causal, use_same, window; /* flags for attention_params */
} pf_mask_dev;

/* Encode (layout, spec) in `storage` on dev. Refuses (-1, pf_error) spans
 * (nothing to build), a bad spec, and an int32 indptr that does not fit
 * (pf_indptr_check's message, as the host encoder). opts may be NULL. On
 * failure nothing stays allocated and *out is zeroed. */
int pf_mask_encode_device(pf_device *dev, const pf_layout *layout, int storage,
                          const pf_mask_spec *spec, int indptr_bytes,
                          const pf_mask_device_opts *opts, pf_mask_dev *out);
/* Free both buffers (safe on a zeroed struct); -1 if the backend failed. */
int pf_mask_dev_free(pf_device *dev, pf_mask_dev *m);

/* Tile classes of tile_class.h (pf_tile_classify's bytes; the counts are
 * not computed) for BLOCK_M x BLOCK_N on the device, indptr refused as
 * "tile classes" when int32 does not fit. opts->rows_per_work is unused. */
typedef struct pf_tile_dev {
    int block_m, block_n, indptr_bytes;
    pf_dptr cls;        /* PF_TILE_* per tile */
    size_t n_tiles;
    pf_dptr indptr;     /* int32/int64 [n_req+1] byte offsets */
} pf_tile_dev;

int pf_tile_classify_device(pf_device *dev, const pf_layout *layout, const pf_mask_spec *spec,
                            int block_m, int block_n, int indptr_bytes,
                            const pf_mask_device_opts *opts, pf_tile_dev *out);
int pf_tile_dev_free(pf_device *dev, pf_tile_dev *t);

#endif
