/* Mask readers of the attention kernel, one per MASK_STORAGE (the encodings
 * are fixed by attention_params.h; harness/attention/mask_encode.h writes them).
 * Included by attention.cu after the variant defines. */
#ifndef PF_ATTENTION_MASK_H
#define PF_ATTENTION_MASK_H

/* What the readers need for one request, copied out of the kernel parameter
 * once per block (taking the parameter's address would force a local copy). */
typedef struct attn_mask_view {
    const unsigned char *mask;
    const int *group_ids;
    INDPTR_T mask_base;  /* mask_indptr[r] (dense/bitmap/window) */
    long long kv_start;  /* kv_indptr[r] */
    int kv_len, prefix;
    int band_left, band_right, band_stride, band_past;
    int use_causal, use_same, window;
} attn_mask_view;

/* Is key position k allowed for query row i (position prefix + i)?
 * i < q_len and k < kv_len are the caller's to check. */
PF_DEVICE int attn_mask_allowed(const attn_mask_view *p, int i, int k)
{
#if MASK_STORAGE == PF_MASK_DENSE
    INDPTR_T e = p->mask_base + (INDPTR_T)i * (INDPTR_T)p->kv_len + (INDPTR_T)k;
    return p->mask[e] != 0;
#elif MASK_STORAGE == PF_MASK_BITMAP
    /* With int32 INDPTR_T the host refuses any request whose last bit index
     * q_len*kv_len - 1 passes INT32_MAX (pf_mask_indptr_check), so this
     * stays 32-bit arithmetic in the hot loop. */
    INDPTR_T e = (INDPTR_T)i * (INDPTR_T)p->kv_len + (INDPTR_T)k;
    return (p->mask[p->mask_base + (e >> 3)] >> (int)(e & 7)) & 1;
#elif MASK_STORAGE == PF_MASK_WINDOW
    int q = p->prefix + i;
    int d = k - (q - p->band_left);
    if (d < 0)
        return p->band_past;
    if (d > p->band_left + p->band_right)
        return 0;
    const unsigned char *row = p->mask + p->mask_base + (INDPTR_T)i * (INDPTR_T)p->band_stride;
    return (row[d >> 3] >> (d & 7)) & 1;
#elif MASK_STORAGE == PF_MASK_SPANS
    int q = p->prefix + i;
    int ok = !p->use_causal || k <= q;
    if (!ok && p->use_same) {
        int gq = p->group_ids[p->kv_start + q];
        ok = gq >= 0 && gq == p->group_ids[p->kv_start + k];
    }
    return ok && (p->window == 0 || k > q - p->window);
#else
#error "MASK_STORAGE must be PF_MASK_DENSE, PF_MASK_BITMAP, PF_MASK_WINDOW or PF_MASK_SPANS"
#endif
}

#endif
