/* Host encoders for the mask storages of kernels/attention_params.h, the
 * decoders that read them back (for tests), byte counts computed without
 * allocating, and int32/int64 indptr encoding with the int32 refusal.
 *
 * What the kernel reads, per request r with prefix P, query row i (position
 * q = P+i) and key position k:
 *   dense : mask[indptr[r] + i*kv_len + k] != 0          (indptr in elements)
 *   bitmap: e = i*kv_len + k; byte indptr[r] + (e>>3), bit (e&7)   (bytes;
 *           every request starts on a byte)
 *   window: d = k - (q - band_left); 0 <= d <= band_left+band_right:
 *           bit d of row mask[indptr[r] + i*band_stride ...] (LSB first);
 *           d < 0 -> band_past; d > band_left+band_right -> 0    (bytes)
 *   spans : group_ids[kv_indptr[r] + k] compared in the kernel with the
 *           flags; no mask and no mask indptr.
 * Window band (chosen from the layout and spec):
 *   band_right = longest vision group - 1 when same applies (gemma3, or
 *                gemma4 sliding), 0 otherwise; for bidirectional the longest
 *                q_len - 1 (every later key is visible);
 *   band_left  = W-1 (capped at the longest request - 1, where a wider
 *                window changes nothing) and band_past = 0 on sliding layers,
 *                0 and band_past = 1 on full layers;
 *   band_stride = ceil((band_left+band_right+1)/8) bytes. */
#ifndef PF_MASK_ENCODE_H
#define PF_MASK_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/attention_params.h"
#include "attention/layout.h"
#include "attention/mask_rule.h"

/* "dense", "bitmap", "window", "spans" <-> PF_MASK_*. */
int pf_storage_parse(const char *s, int *out);
const char *pf_storage_name(int storage);

typedef struct pf_band {
    int left, right, stride, past;
} pf_band;

/* The window band for this layout and spec (see above). -1 if a row would
 * not fit an int (never for real models). */
int pf_mask_band(const pf_layout *layout, const pf_mask_spec *spec, pf_band *out);

/* Per-request mask offsets in the storage's indptr unit (elements for dense,
 * bytes for bitmap/window; spans: group-id offsets = kv_indptr), written to
 * offsets[0..n_req]; offsets[n_req] is the total. Nothing is allocated, so
 * this works for layouts whose mask would be terabytes. */
int pf_mask_offsets(const pf_layout *layout, int storage, const pf_mask_spec *spec,
                    int64_t *offsets);

/* Metadata bytes of one storage: mask bytes + mask indptr ((n_req+1) *
 * indptr_bytes; none for spans) + group ids (spans: 4 bytes per kv token).
 * Returns -1 with a message on a bad spec/storage. Computed, not allocated. */
int64_t pf_mask_bytes(const pf_layout *layout, int storage, pf_rule rule, pf_layer layer,
                      int window, int indptr_bytes);

/* Check that offsets[0..n_req] fit an indptr of indptr_bytes (4 or 8).
 * For 4: an offset > INT32_MAX is refused with e.g.
 * "dense mask with int32 indptr: request 0 offset 2147483648 exceeds
 *  INT32_MAX (2147483647); use int64 indptr" (what = "dense mask"; the
 * request named is the one that ends at the offset). */
int pf_indptr_check(const int64_t *offsets, int n_req, int indptr_bytes, const char *what);

/* What an int32 indptr must hold for this storage's mask: the offsets
 * (pf_indptr_check) and, for bitmap, every request's largest bit index
 * q_len*kv_len - 1, which the kernel computes in INDPTR_T; refused with e.g.
 * "bitmap mask with int32 indptr: request 0 bit index 2147488280 (46341 x
 *  46341 bits) exceeds INT32_MAX (2147483647); use int64 indptr".
 * One request of S tokens fits dense and bitmap up to S = 46340. The host
 * and device encoders and `pftune masks` all decide with this. */
int pf_mask_indptr_check(const pf_layout *layout, int storage, const int64_t *offsets,
                         int indptr_bytes, const char *what);

/* Check, then write offsets as int32 or int64 into a malloc'd array of
 * n_req+1 entries (*out). */
int pf_indptr_encode(const int64_t *offsets, int n_req, int indptr_bytes, const char *what,
                     void **out);

/* One encoded mask, ready to copy to the device. */
typedef struct pf_mask_enc {
    int storage;         /* PF_MASK_* */
    int indptr_bytes;    /* 4 or 8 */
    unsigned char *mask; /* dense/bitmap/window bytes; NULL for spans */
    size_t mask_bytes;
    void *indptr;        /* int32/int64 [n_req+1]; NULL for spans */
    int32_t *group_ids;  /* spans: [total_kv]; NULL otherwise */
    size_t group_ids_count;
    pf_band band;        /* window only (zeros otherwise) */
    int use_causal, use_same, window; /* flags for attention_params */
} pf_mask_enc;

/* Encode the mask of (layout, spec) in `storage`. Refuses (-1) an int32
 * indptr that does not fit, a bad spec, or a mask over the memory it can
 * allocate. */
int pf_mask_encode(const pf_layout *layout, int storage, const pf_mask_spec *spec,
                   int indptr_bytes, pf_mask_enc *out);
void pf_mask_enc_free(pf_mask_enc *enc);

/* Decode one pair back, following the kernel's reading rules above (tests
 * compare this with pf_mask_allowed). Spans evaluate the flag formula on
 * group_ids, as the kernel does. */
int pf_mask_enc_get(const pf_mask_enc *enc, const pf_layout *layout, int req, int64_t qpos,
                    int64_t kpos);

/* qo/kv indptr of the layout as int32/int64 (refusal as above). */
int pf_layout_indptr_encode(const pf_layout *layout, int indptr_bytes, void **qo_out,
                            void **kv_out);

#endif
