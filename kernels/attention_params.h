/* The one parameter struct of the attention kernel family, shared by the
 * host launcher (harness/) and the kernel (kernels/attention.cu). Plain C,
 * no system headers: it is included by NVRTC, by the emu host compiler and
 * by the harness, so pointers are 64-bit addresses on every side.
 *
 * Token positions: request r owns query rows [qo_indptr[r], qo_indptr[r+1])
 * and key/value rows [kv_indptr[r], kv_indptr[r+1]). With a cached prefix of
 * P = kv_len - q_len tokens, query row i of the request sits at position
 * P + i; key row j at position j.
 *
 * Mask semantics (DESIGN.md), evaluated from per-token group ids under
 * MASK_STORAGE == spans, or read from an encoded mask otherwise:
 *   allowed(q,k) = (!use_causal || k <= q || (use_same && same(q,k)))
 *                  && (window == 0 || k > q - window)
 * rule/layer -> flags: causal: causal=1 same=0; gemma3: causal=1 same=1;
 * gemma4: causal=1, same = (layer sliding); bidirectional: causal=0 same=0;
 * window = W on sliding layers, 0 on full layers. */
#ifndef PF_ATTENTION_PARAMS_H
#define PF_ATTENTION_PARAMS_H

/* MASK_STORAGE values */
#define PF_MASK_DENSE 0  /* 1 byte per (q,k), row-major [q_len, kv_len] per request;
                            mask_indptr[r] = element offset of request r */
#define PF_MASK_BITMAP 1 /* 1 bit per (q,k), same order, little bit order
                            (element e -> byte e>>3, bit e&7), each request
                            starts on a byte; mask_indptr[r] = byte offset */
#define PF_MASK_WINDOW 2 /* per query row, bits for k in [q-band_left, q+band_right]
                            (band_left+band_right+1 bits, LSB first, row stride
                            band_stride bytes); k < q-band_left -> band_past,
                            k > q+band_right -> 0. mask_indptr[r] = byte offset */
#define PF_MASK_SPANS 3  /* no matrix: group_ids[kv row] (-1 text, else group),
                            rule evaluated in the kernel */

/* Tile classes (tile_class array, one byte per (q tile, k tile) of the
 * kernel's BLOCK_M x BLOCK_N, row-major per request, tile_indptr[r] = byte
 * offset of request r; only read when TILE_SKIP=1). */
#define PF_TILE_EMPTY 0   /* no allowed pair: skipped */
#define PF_TILE_FULL 1    /* every in-range pair allowed: no mask reads */
#define PF_TILE_PARTIAL 2 /* mask applied per element (spans: row intervals;
                             else the tile's bits, read once per tile) */

typedef struct pf_attn_params {
    /* tensors (device addresses) */
    const void *q;         /* bf16 [total_q, num_qo_heads, HEAD_DIM] */
    const void *k;         /* bf16 [total_kv, num_kv_heads, HEAD_DIM] */
    const void *v;         /* bf16 [total_kv, num_kv_heads, HEAD_DIM] */
    void *o;               /* bf16 [total_q, num_qo_heads, HEAD_DIM] */
    float *lse;            /* [total_q, num_qo_heads] natural-log LSE, or 0 */
    const void *qo_indptr; /* INDPTR_T [batch+1] */
    const void *kv_indptr; /* INDPTR_T [batch+1] */

    /* work list: one entry per (request, query tile of BLOCK_M rows);
     * grid = (num_work, num_qo_heads, 1) */
    const int *work_request;
    const int *work_qtile;
    int num_work;

    int batch;
    int num_qo_heads;
    int num_kv_heads;
    float sm_scale_log2;   /* softmax scale * log2(e) */

    /* rule flags (used by spans, and for documentation elsewhere) */
    int use_causal;
    int use_same;
    int window;            /* 0: none */

    /* mask storage */
    const unsigned char *mask;  /* dense / bitmap / window bytes; read in aligned
                                   8/16-byte chunks that hold a needed byte, so the
                                   buffer's 16-byte-rounded extent must be mapped
                                   (true of every CUDA allocation) */
    const void *mask_indptr;    /* INDPTR_T [batch+1] (unit per storage above) */
    const int *group_ids;       /* spans: [total_kv], -1 for text */
    int band_left, band_right, band_stride, band_past;

    /* tile classification (TILE_SKIP=1) */
    const unsigned char *tile_class;
    const void *tile_indptr;    /* INDPTR_T [batch+1] */
} pf_attn_params;

#endif
