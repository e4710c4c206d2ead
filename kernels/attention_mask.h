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

#if MASK_STORAGE == PF_MASK_SPANS
/* Under spans the allowed keys of one query row form one interval [lo, hi]:
 * with causal, k <= q or k in q's image group [gs, ge] (gs <= q), so
 * [0, max(q, ge)]; the window cuts it at q - window + 1; without causal
 * (bidirectional, no window) it is every key. Rows past q_len get an empty
 * interval, and hi < kv_len, so the interval is also the bounds check.
 * ge is a binary search (the run of q's group id starting at q is the only
 * place that id occurs). Called once per row per block, before the key loop. */
PF_DEVICE void attn_row_interval(const attn_mask_view *p, int i, int q_len, int *lo, int *hi)
{
    if (i >= q_len) {
        *lo = 1;
        *hi = 0;
        return;
    }
    const int q = p->prefix + i;
    int h = p->kv_len - 1;
    if (p->use_causal) {
        h = q;
        if (p->use_same) {
            const int *gid = p->group_ids + p->kv_start;
            const int gq = gid[q];
            if (gq >= 0) {
                int a = q, b = p->kv_len; /* gid[a] == gq, gid[b..] != gq */
                while (b - a > 1) {
                    const int mid = a + (b - a) / 2;
                    if (gid[mid] == gq)
                        a = mid;
                    else
                        b = mid;
                }
                h = a;
            }
        }
    }
    *lo = p->window ? pf_max_i(0, q - p->window + 1) : 0;
    *hi = pf_min_i(h, p->kv_len - 1);
}
#endif

#endif
