/* Mask readers of the attention kernel, one per MASK_STORAGE (the encodings
 * are fixed by attention_params.h; harness/attention/mask_encode.h writes them).
 * Included by attention.cu after the variant defines. */
#ifndef PF_ATTENTION_MASK_H
#define PF_ATTENTION_MASK_H

/* 16- and 8-byte vectors for wide global loads and stores */
#ifdef __CUDACC_RTC__
typedef uint4 attn_u32x4;
typedef uint2 attn_u32x2;
#define ATTN_LDG(p) __ldg(p) /* read-only path; keeps the global space */
#else
typedef struct attn_u32x4 {
    uint32_t x, y, z, w;
} __attribute__((aligned(16))) attn_u32x4;
typedef struct attn_u32x2 {
    uint32_t x, y;
} __attribute__((aligned(8))) attn_u32x2;
#define ATTN_LDG(p) (*(p))
#endif

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

#if MASK_STORAGE != PF_MASK_SPANS
/* PARTIAL tiles of dense / bitmap / window: once per tile the block turns
 * the tile's mask into bits in shared memory (one 32-bit word per row and 32
 * keys), read with 16-byte loads; the score loop then applies them with
 * selects. A load reads only aligned 16-byte chunks that hold at least one
 * byte the tile needs, so it never leaves the 16-byte-rounded extent of the
 * mask buffer (every CUDA allocation is at least 256-byte aligned; the emu
 * guard places buffers so that extent is mapped). */
#define ATTN_MW_BITS (BLOCK_N < 32 ? BLOCK_N : 32) /* keys per mask word */
#define ATTN_MW (BLOCK_N / ATTN_MW_BITS)           /* mask words per tile row */

PF_DEVICE uint32_t attn_low_bits(int n) /* n in [0, 32] */
{
    return n >= 32 ? 0xffffffffu : (1u << n) - 1u;
}

/* 32 bits of a little-bit-order bit string starting at bit b0 of the bytes
 * at base; only bits up to b_last (>= b0, < b0 + 32) are meaningful. Two
 * aligned 8-byte loads (the second only when a needed byte lies in it). */
PF_DEVICE uint32_t attn_bits32(const unsigned char *base, long long b0, long long b_last)
{
    const unsigned char *first = base + (b0 >> 3);
    const int mis = (int)((unsigned long long)first & 7ull);
    const attn_u32x2 *a = (const attn_u32x2 *)(first - mis);
    const int second = (int)((b_last >> 3) - (b0 >> 3)) + mis >= 8;
    const attn_u32x2 w0 = ATTN_LDG(a);
    attn_u32x2 w1;
    w1.x = w1.y = 0u;
    if (second)
        w1 = ATTN_LDG(a + 1);
    const int s = mis * 8 + (int)(b0 & 7); /* 0..63 */
    const uint32_t lo = s >= 32 ? w0.y : w0.x;
    const uint32_t hi = s >= 32 ? w1.x : w0.y;
    return (uint32_t)((((unsigned long long)hi << 32) | lo) >> (s & 31));
}

/* One bit per byte: bit b of the result is byte b != 0 (4 bytes -> 4 bits). */
PF_DEVICE uint32_t attn_nonzero4(uint32_t x)
{
    x |= x >> 4;
    x |= x >> 2;
    x |= x >> 1;
    return ((x & 0x01010101u) * 0x10204080u) >> 28;
}

/* What one query row's mask words need, computed once per block (a thread
 * builds the same row's words on every tile): a few integers; the mask
 * pointer and band constants are read from the kernel parameter at the use
 * (constant bank), so the key loop holds no more registers than these. */
typedef struct attn_mask_row {
    INDPTR_T off;   /* dense: byte of the row's key 0; bitmap: the request's
                       first byte; window: the row's band */
    INDPTR_T e_row; /* bitmap: bit index of the row's key 0 in the request */
    int kv_len;     /* keys in range; 0 for rows past q_len */
    int d_k0;       /* window: band bit of key 0 (band_left - q) */
} attn_mask_row;

PF_DEVICE attn_mask_row attn_mask_row_init(const attn_mask_view *p, int i, int q_len)
{
    attn_mask_row m;
    m.kv_len = i < q_len ? p->kv_len : 0;
    m.e_row = (INDPTR_T)i * (INDPTR_T)p->kv_len;
    m.d_k0 = p->band_left - (p->prefix + i);
#if MASK_STORAGE == PF_MASK_DENSE
    m.off = p->mask_base + m.e_row;
#elif MASK_STORAGE == PF_MASK_BITMAP
    m.off = p->mask_base;
#else
    m.off = p->mask_base + (INDPTR_T)i * (INDPTR_T)p->band_stride;
#endif
    return m;
}

/* Allowed bits of keys [kb, kb + ATTN_MW_BITS) of a row: bit j for key
 * kb + j; 0 for keys >= kv_len and rows past q_len. full: bounds only.
 * mask, width (band bits per row) and past (value left of the band) as in
 * the kernel parameter. */
PF_DEVICE uint32_t attn_mask_word(const unsigned char *mask, int width, int past,
                                  const attn_mask_row *m, int kb, int full)
{
    const int nk = pf_max_i(0, pf_min_i(ATTN_MW_BITS, m->kv_len - kb));
    const uint32_t valid = attn_low_bits(nk);
    if (full || nk == 0)
        return valid;
#if MASK_STORAGE == PF_MASK_DENSE
    /* the row's bytes [kb, kb + nk): aligned 16-byte chunks, each folded to
     * 16 bits (byte != 0) */
    const unsigned char *first = mask + (m->off + (INDPTR_T)kb);
    const int mis = (int)((unsigned long long)first & 15ull);
    const attn_u32x4 *a = (const attn_u32x4 *)(first - mis);
    const int n_chunks = (mis + nk - 1) / 16 + 1;
    unsigned long long bits = 0ull;
    PF_UNROLL
    for (int c = 0; c < (ATTN_MW_BITS + 15) / 16 + 1; c++) {
        if (c < n_chunks) {
            const attn_u32x4 v = ATTN_LDG(a + c);
            const uint32_t nib = attn_nonzero4(v.x) | attn_nonzero4(v.y) << 4 |
                                 attn_nonzero4(v.z) << 8 | attn_nonzero4(v.w) << 12;
            bits |= (unsigned long long)nib << (16 * c);
        }
    }
    return (uint32_t)(bits >> mis) & valid;
#elif MASK_STORAGE == PF_MASK_BITMAP
    const long long e0 = (long long)(m->e_row + (INDPTR_T)kb);
    return attn_bits32(mask + m->off, e0, e0 + nk - 1) & valid;
#else /* PF_MASK_WINDOW */
    const int d0 = m->d_k0 + kb; /* band bit of key kb */
    const int dlo = pf_max_i(d0, 0), dhi = pf_min_i(d0 + nk - 1, width - 1);
    uint32_t bits = 0u;
    if (dlo <= dhi)
        bits = (attn_bits32(mask + m->off, dlo, dhi) & attn_low_bits(dhi - dlo + 1)) << (dlo - d0);
    if (past && d0 < 0)
        bits |= attn_low_bits(pf_min_i(-d0, 32));
    return bits & valid;
#endif
}
#endif

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
