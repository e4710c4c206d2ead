/* Device mask encoders: the dense / bitmap / window bytes of
 * harness/attention/mask_encode.c (byte for byte, padding bits included) and the tile
 * classes of harness/attention/tile_class.c, built from per-kv-token group ids.
 *
 * Defines:
 *   INDPTR_T      int or long long (all indptrs)
 *   MASK_STORAGE  PF_MASK_DENSE / BITMAP / WINDOW -> kernel mask_build
 *   TILE_BUILD=1  instead: kernel tile_build (MASK_STORAGE unused)
 * Parameters and work split: mask_build_params.h.
 *
 * Every row's keys form one interval [lo, hi] (mask_rule.h): the end of a
 * query's vision group is found by binary search, which is valid because
 * group ids are unique per request, so "g[k] == g[q]" holds on [q, end)
 * and nowhere after. Bytes are then pure comparisons: no per-element group
 * reads, O(log S) per row. */
#include "pf_dialect.h"
#include "attention_params.h"
#include "mask_build_params.h"

#if !defined(INDPTR_T)
#error "mask_build.cu needs INDPTR_T"
#endif
#if !defined(TILE_BUILD) && !defined(MASK_STORAGE)
#error "mask_build.cu needs MASK_STORAGE (dense, bitmap, window) or TILE_BUILD=1"
#endif

PF_DEVICE long long mb_indptr(const void *base, int i)
{
    return (long long)((const INDPTR_T *)base)[i];
}

/* One request as the kernels see it. */
typedef struct mb_request {
    const int *g; /* group ids of the request's keys */
    int kv_len, prefix, q_len;
} mb_request;

/* (Fields are passed one by one: taking the kernel parameter's address
 * would force a local copy of it.) */
PF_DEVICE mb_request mb_request_at(const void *qo_indptr, const void *kv_indptr,
                                   const int *group_ids, int r)
{
    mb_request rq;
    long long kv0 = mb_indptr(kv_indptr, r), qo0 = mb_indptr(qo_indptr, r);
    rq.g = group_ids + kv0;
    rq.kv_len = (int)(mb_indptr(kv_indptr, r + 1) - kv0);
    rq.q_len = (int)(mb_indptr(qo_indptr, r + 1) - qo0);
    rq.prefix = rq.kv_len - rq.q_len;
    return rq;
}

/* pf_mask_row_interval for query position q. */
PF_DEVICE void mb_row_interval(const mb_request *rq, int use_causal, int use_same, int window,
                               int q, int *lo, int *hi)
{
    int h = q;
    if (!use_causal) {
        h = rq->kv_len - 1;
    } else if (use_same) {
        int gq = rq->g[q];
        if (gq >= 0) { /* last key of q's group */
            int a = q, b = rq->kv_len - 1;
            while (a < b) {
                int mid = a + (b - a + 1) / 2;
                if (rq->g[mid] == gq)
                    a = mid;
                else
                    b = mid - 1;
            }
            h = a;
        }
    }
    *hi = h;
    *lo = window > 0 && q - window + 1 > 0 ? q - window + 1 : 0;
}

#ifndef TILE_BUILD

#if MASK_STORAGE != PF_MASK_DENSE && MASK_STORAGE != PF_MASK_BITMAP && \
    MASK_STORAGE != PF_MASK_WINDOW
#error "mask_build.cu builds PF_MASK_DENSE, PF_MASK_BITMAP or PF_MASK_WINDOW"
#endif

PF_KERNEL(mask_build, pf_mask_build_params, p)
{
    const int work = (int)blockIdx.x;
    if (work >= p.num_work)
        return;
    const int r = p.work_request[work];
    const mb_request rq = mb_request_at(p.qo_indptr, p.kv_indptr, p.group_ids, r);
    const int row0 = p.work_row[work];
    const int row1 = pf_min_i(row0 + p.rows_per_work, rq.q_len);
    unsigned char *out = p.out + mb_indptr(p.out_indptr, r);
    const int tid = (int)threadIdx.x, nthr = (int)blockDim.x;

    for (int i = row0; i < row1; i++) {
        const int q = rq.prefix + i;
        int lo, hi;
        mb_row_interval(&rq, p.use_causal, p.use_same, p.window, q, &lo, &hi);
#if MASK_STORAGE == PF_MASK_DENSE
        unsigned char *row = out + (long long)i * rq.kv_len;
        for (int k = tid; k < rq.kv_len; k += nthr)
            row[k] = (unsigned char)(k >= lo && k <= hi);
#elif MASK_STORAGE == PF_MASK_WINDOW
        /* bit d of the row is key q - band_left + d; bits past the band are 0 */
        unsigned char *row = out + (long long)i * p.band_stride;
        const int width = p.band_left + p.band_right + 1;
        const int first = q - p.band_left;
        for (int j = tid; j < p.band_stride; j += nthr) {
            unsigned v = 0;
            for (int b = 0; b < 8; b++) {
                int d = j * 8 + b, k = first + d;
                if (d < width && k >= lo && k <= hi)
                    v |= 1u << b;
            }
            row[j] = (unsigned char)v;
        }
#else /* bitmap: row i owns bytes [ceil(i*kv/8), ceil((i+1)*kv/8)); bit indices
       * are 64-bit here, the int32 limit of the reader is the host's
       * (pf_mask_indptr_check) */
        const long long kv = rq.kv_len;
        const long long n_elems = (long long)rq.q_len * kv;
        const long long b0 = ((long long)i * kv + 7) / 8, b1 = ((long long)(i + 1) * kv + 7) / 8;
        for (long long byte = b0 + tid; byte < b1; byte += nthr) {
            long long e = byte * 8;
            int ii = i, k = (int)(e - (long long)i * kv);
            int rlo = lo, rhi = hi;
            unsigned v = 0;
            for (int b = 0; b < 8 && e + b < n_elems; b++, k++) {
                if (k == rq.kv_len) { /* the byte runs into the next row(s) */
                    ii++;
                    k = 0;
                    mb_row_interval(&rq, p.use_causal, p.use_same, p.window, rq.prefix + ii,
                                    &rlo, &rhi);
                }
                if (k >= rlo && k <= rhi)
                    v |= 1u << b;
            }
            out[byte] = (unsigned char)v;
        }
#endif
    }
}

#else /* TILE_BUILD */

/* pf_tile_class_one for key tile u; q0/q1 are the first/last query
 * positions of the tile with their intervals precomputed. */
PF_DEVICE int mb_tile_class(const mb_request *rq, int use_causal, int use_same, int window,
                            int block_n, int q0, int q1, int lo1, int hi0, int u)
{
    int k0 = u * block_n;
    int k1 = pf_min_i(k0 + block_n, rq->kv_len) - 1;
    if (lo1 <= k0 && hi0 >= k1)
        return PF_TILE_FULL;
    /* rows whose interval starts by k1 are a prefix [q0, qs] of the tile */
    int qs = q1;
    if (window > 0 && k1 + window - 1 < qs)
        qs = k1 + window - 1; /* lo(q) = q-W+1 <= k1 */
    if (qs < q0)
        return PF_TILE_EMPTY;
    int lo, hi;
    mb_row_interval(rq, use_causal, use_same, window, qs, &lo, &hi);
    return lo <= k1 && hi >= k0 ? PF_TILE_PARTIAL : PF_TILE_EMPTY;
}

PF_KERNEL(tile_build, pf_mask_build_params, p)
{
    const int work = (int)blockIdx.x;
    if (work >= p.num_work)
        return;
    const int r = p.work_request[work], t = p.work_row[work];
    const mb_request rq = mb_request_at(p.qo_indptr, p.kv_indptr, p.group_ids, r);
    const int n_kt = (rq.kv_len + p.block_n - 1) / p.block_n;
    const int q0 = rq.prefix + t * p.block_m;
    const int q1 = rq.prefix + pf_min_i(t * p.block_m + p.block_m, rq.q_len) - 1;
    int lo0, hi0, lo1, hi1;
    mb_row_interval(&rq, p.use_causal, p.use_same, p.window, q0, &lo0, &hi0);
    mb_row_interval(&rq, p.use_causal, p.use_same, p.window, q1, &lo1, &hi1);
    (void)lo0;
    (void)hi1;
    unsigned char *out = p.out + mb_indptr(p.out_indptr, r) + (long long)t * n_kt;
    for (int u = (int)threadIdx.x; u < n_kt; u += (int)blockDim.x)
        out[u] = (unsigned char)mb_tile_class(&rq, p.use_causal, p.use_same, p.window, p.block_n,
                                              q0, q1, lo1, hi0, u);
}

#endif
