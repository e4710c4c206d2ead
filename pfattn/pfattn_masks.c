/* pfattn: mask metadata builders. They write the bytes the kernel reads
 * (kernels/attention_params.h documents each storage) and are kept
 * byte-identical to the tuner's encoders, which the exporter's tests
 * check: every row's allowed keys form one interval [lo, hi], nondecreasing
 * in the query position, which fills masks and decides tile classes in O(1)
 * per tile. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pfattn_internal.h"

/* The mask's storage and tile constants are the kernel's own. */
#include "../kernels/attention_params.h"

_Static_assert(PF_MASK_DENSE == PFATTN_MASK_DENSE && PF_MASK_BITMAP == PFATTN_MASK_BITMAP &&
                   PF_MASK_WINDOW == PFATTN_MASK_WINDOW && PF_MASK_SPANS == PFATTN_MASK_SPANS &&
                   PF_TILE_EMPTY == PFATTN_TILE_EMPTY && PF_TILE_FULL == PFATTN_TILE_FULL &&
                   PF_TILE_PARTIAL == PFATTN_TILE_PARTIAL,
               "pfattn.h constants differ from kernels/attention_params.h");

typedef struct spec {
    int use_causal, use_same, window, sliding;
} spec;

static int spec_get(int rule, int layer, int window, spec *s)
{
    s->sliding = layer == PFATTN_LAYER_SLIDING;
    return pfattn_flags(rule, layer, window, &s->use_causal, &s->use_same, &s->window);
}

/* Keys [*lo, *hi] visible to position q of request r. */
static void row_interval(const pfattn_layout *l, int r, int64_t q, const spec *s, int64_t *lo,
                         int64_t *hi)
{
    int64_t off = l->kv[r];
    *hi = q;
    if (!s->use_causal)
        *hi = l->kv_len[r] - 1;
    else if (s->use_same && l->group[off + q] >= 0)
        *hi = l->group_end[off + q] - 1;
    *lo = 0;
    if (s->window > 0 && q - s->window + 1 > 0)
        *lo = q - s->window + 1;
}

static int check_indptr_bytes(int indptr_bytes, const char *what)
{
    if (indptr_bytes != 4 && indptr_bytes != 8)
        return pfattn_fail(PFATTN_ERR_INVALID, "%s: indptr must be 4 or 8 bytes (got %d)", what,
                           indptr_bytes);
    return PFATTN_OK;
}

/* offsets[0..batch] must fit the indptr. */
static int offsets_check(const int64_t *offsets, int batch, int indptr_bytes, const char *what)
{
    int rc = check_indptr_bytes(indptr_bytes, what);
    if (rc || indptr_bytes == 8)
        return rc;
    for (int i = 0; i <= batch; i++)
        if (offsets[i] > INT32_MAX)
            return pfattn_fail(PFATTN_ERR_OVERFLOW, "%s with int32 indptr: request %d offset "
                               "%lld exceeds INT32_MAX (%d); use int64 indptr",
                               what, i > 0 ? i - 1 : 0, (long long)offsets[i], INT32_MAX);
    return PFATTN_OK;
}

static int offsets_write(const int64_t *offsets, int batch, int indptr_bytes, const char *what,
                         void *out)
{
    int rc = offsets_check(offsets, batch, indptr_bytes, what);
    if (rc)
        return rc;
    if (!out)
        return pfattn_fail(PFATTN_ERR_INVALID, "%s: no output array", what);
    for (int i = 0; i <= batch; i++) {
        if (indptr_bytes == 4)
            ((int32_t *)out)[i] = (int32_t)offsets[i];
        else
            ((int64_t *)out)[i] = offsets[i];
    }
    return PFATTN_OK;
}

int pfattn_indptr(const pfattn_layout *l, int indptr_bytes, void *qo_indptr, void *kv_indptr)
{
    if (!l)
        return pfattn_fail(PFATTN_ERR_INVALID, "indptr: no layout");
    int rc = offsets_write(l->qo, l->batch, indptr_bytes, "qo indptr", qo_indptr);
    return rc ? rc : offsets_write(l->kv, l->batch, indptr_bytes, "kv indptr", kv_indptr);
}

int pfattn_group_ids(const pfattn_layout *l, int32_t *out)
{
    if (!l || !out)
        return pfattn_fail(PFATTN_ERR_INVALID, "group ids: null argument");
    memcpy(out, l->group, (size_t)l->total_kv * sizeof *out);
    return PFATTN_OK;
}

int pfattn_mask_band(const pfattn_layout *l, int rule, int layer, int window, pfattn_band *out)
{
    spec s;
    int rc = spec_get(rule, layer, window, &s);
    if (rc)
        return rc;
    if (!l || !out)
        return pfattn_fail(PFATTN_ERR_INVALID, "band: null argument");
    int64_t right = 0;
    if (!s.use_causal)
        right = l->max_q_len - 1;
    else if (s.use_same && l->max_group_len > 0)
        right = l->max_group_len - 1;
    /* A window longer than every request changes nothing: cap it there. */
    int64_t max_kv = l->max_kv_len > 1 ? l->max_kv_len : 1;
    int64_t left = s.window > 0 ? s.window - 1 : 0;
    if (left > max_kv - 1)
        left = max_kv - 1;
    int64_t width = left + right + 1;
    if (width > (int64_t)1 << 30)
        return pfattn_fail(PFATTN_ERR_INVALID, "window mask band of %lld keys per row is too "
                           "wide", (long long)width);
    out->left = (int32_t)left;
    out->right = (int32_t)right;
    out->stride = (int32_t)((width + 7) / 8);
    out->past = s.window > 0 ? 0 : 1;
    return PFATTN_OK;
}

/* Per-request mask offsets of a storage into offsets[0..batch] (malloc'd). */
static int mask_offsets(const pfattn_layout *l, int storage, int rule, int layer, int window,
                        int64_t **out, pfattn_band *band)
{
    *out = NULL;
    spec s;
    int rc = spec_get(rule, layer, window, &s);
    if (rc)
        return rc;
    if (!l)
        return pfattn_fail(PFATTN_ERR_INVALID, "mask: no layout");
    if (storage < PFATTN_MASK_DENSE || storage > PFATTN_MASK_SPANS)
        return pfattn_fail(PFATTN_ERR_INVALID, "unknown mask storage %d", storage);
    memset(band, 0, sizeof *band);
    if (storage == PFATTN_MASK_WINDOW && (rc = pfattn_mask_band(l, rule, layer, window, band)))
        return rc;
    int64_t *o = malloc(((size_t)l->batch + 1) * sizeof *o);
    if (!o)
        return pfattn_fail(PFATTN_ERR_NOMEM, "mask: out of memory");
    o[0] = 0;
    for (int r = 0; r < l->batch; r++) {
        int64_t q = l->q_len[r], kv = l->kv_len[r], n = kv;
        if (storage == PFATTN_MASK_DENSE)
            n = q * kv;
        else if (storage == PFATTN_MASK_BITMAP)
            n = (q * kv + 7) / 8;
        else if (storage == PFATTN_MASK_WINDOW)
            n = q * band->stride;
        o[r + 1] = o[r] + n;
    }
    *out = o;
    return PFATTN_OK;
}

/* The int32 limits of a mask: its offsets and, for bitmap, every request's
 * last bit index q_len*kv_len - 1, which the kernel computes in INDPTR_T. */
static int mask_int32_check(const pfattn_layout *l, int storage, const int64_t *offsets,
                            int indptr_bytes, const char *what)
{
    int rc = offsets_check(offsets, l->batch, indptr_bytes, what);
    if (rc || indptr_bytes == 8 || storage != PFATTN_MASK_BITMAP)
        return rc;
    for (int r = 0; r < l->batch; r++) {
        int64_t last = l->q_len[r] * l->kv_len[r] - 1;
        if (last > INT32_MAX)
            return pfattn_fail(PFATTN_ERR_OVERFLOW, "%s with int32 indptr: request %d bit index "
                               "%lld (%lld x %lld bits) exceeds INT32_MAX (%d); use int64 indptr",
                               what, r, (long long)last, (long long)l->q_len[r],
                               (long long)l->kv_len[r], INT32_MAX);
    }
    return PFATTN_OK;
}

int pfattn_mask_size(const pfattn_layout *l, int storage, int rule, int layer, int window,
                     int64_t *mask_bytes)
{
    int64_t *o;
    pfattn_band band;
    int rc = mask_offsets(l, storage, rule, layer, window, &o, &band);
    if (rc)
        return rc;
    *mask_bytes = storage == PFATTN_MASK_SPANS ? 0 : o[l->batch];
    free(o);
    return PFATTN_OK;
}

/* Set bits [first, last] (little bit order). */
static void set_bits(unsigned char *bits, int64_t first, int64_t last)
{
    for (int64_t e = first; e <= last;) {
        if ((e & 7) == 0 && e + 7 <= last) {
            int64_t bytes = (last + 1 - e) / 8;
            memset(bits + (e >> 3), 0xff, (size_t)bytes);
            e += bytes * 8;
        } else {
            bits[e >> 3] |= (unsigned char)(1u << (e & 7));
            e++;
        }
    }
}

static void encode_request(const pfattn_layout *l, int r, int storage, const spec *s,
                           const pfattn_band *b, unsigned char *m)
{
    int64_t kv = l->kv_len[r];
    for (int64_t i = 0; i < l->q_len[r]; i++) {
        int64_t q = l->prefix[r] + i, lo, hi;
        row_interval(l, r, q, s, &lo, &hi);
        if (storage == PFATTN_MASK_DENSE) {
            memset(m + i * kv + lo, 1, (size_t)(hi - lo + 1));
        } else if (storage == PFATTN_MASK_BITMAP) {
            set_bits(m, i * kv + lo, i * kv + hi);
        } else {
            int64_t first = q - b->left; /* key of bit 0 */
            int64_t k0 = lo > first ? lo : first;
            int64_t k1 = hi < q + b->right ? hi : q + b->right;
            if (k0 <= k1)
                set_bits(m + i * b->stride, k0 - first, k1 - first);
        }
    }
}

int pfattn_mask_encode(const pfattn_layout *l, int storage, int rule, int layer, int window,
                       int indptr_bytes, unsigned char *mask, void *mask_indptr)
{
    int64_t *o;
    pfattn_band band;
    int rc = mask_offsets(l, storage, rule, layer, window, &o, &band);
    if (rc || storage == PFATTN_MASK_SPANS) {
        free(o);
        return rc;
    }
    spec s;
    spec_get(rule, layer, window, &s);
    char what[32];
    snprintf(what, sizeof what, "%s mask", pfattn_storage_name(storage));
    rc = mask_int32_check(l, storage, o, indptr_bytes, what);
    if (!rc)
        rc = offsets_write(o, l->batch, indptr_bytes, what, mask_indptr);
    if (!rc && !mask && o[l->batch] > 0)
        rc = pfattn_fail(PFATTN_ERR_INVALID, "%s: no output array", what);
    if (!rc) {
        memset(mask, 0, (size_t)o[l->batch]);
        for (int r = 0; r < l->batch; r++)
            encode_request(l, r, storage, &s, &band, mask + o[r]);
    }
    free(o);
    return rc;
}

static int64_t ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

static int tile_offsets(const pfattn_layout *l, int bm, int bn, int64_t **out)
{
    *out = NULL;
    if (!l)
        return pfattn_fail(PFATTN_ERR_INVALID, "tile classes: no layout");
    if (bm <= 0 || bn <= 0)
        return pfattn_fail(PFATTN_ERR_INVALID, "tile sizes must be positive (got %d x %d)", bm,
                           bn);
    int64_t *o = malloc(((size_t)l->batch + 1) * sizeof *o);
    if (!o)
        return pfattn_fail(PFATTN_ERR_NOMEM, "tile classes: out of memory");
    o[0] = 0;
    for (int r = 0; r < l->batch; r++)
        o[r + 1] = o[r] + ceil_div(l->q_len[r], bm) * ceil_div(l->kv_len[r], bn);
    *out = o;
    return PFATTN_OK;
}

int pfattn_tile_size(const pfattn_layout *l, int block_m, int block_n, int64_t *bytes)
{
    int64_t *o;
    int rc = tile_offsets(l, block_m, block_n, &o);
    if (!rc)
        *bytes = o[l->batch];
    free(o);
    return rc;
}

/* EMPTY / FULL / PARTIAL from the tile's extreme rows: lo and hi grow with
 * q, so the first row reaching furthest left and right decide. */
static int tile_class(const pfattn_layout *l, int r, const spec *s, int bm, int bn, int64_t t,
                      int64_t u)
{
    int64_t p = l->prefix[r], ql = l->q_len[r], kv = l->kv_len[r];
    int64_t q0 = p + t * bm;
    int64_t q1 = p + (t * bm + bm < ql ? t * bm + bm : ql) - 1;
    int64_t k0 = u * bn;
    int64_t k1 = (k0 + bn < kv ? k0 + bn : kv) - 1;
    int64_t lo0, hi0, lo1, hi1;
    row_interval(l, r, q0, s, &lo0, &hi0);
    row_interval(l, r, q1, s, &lo1, &hi1);
    if (lo1 <= k0 && hi0 >= k1)
        return PFATTN_TILE_FULL;
    /* Rows whose interval starts by k1 are a prefix [q0, qs] of the tile;
     * of those, the last reaches furthest right. */
    int64_t qs = q1;
    if (s->sliding && k1 + s->window - 1 < qs)
        qs = k1 + s->window - 1;
    if (qs < q0)
        return PFATTN_TILE_EMPTY;
    int64_t lo, hi;
    row_interval(l, r, qs, s, &lo, &hi);
    return lo <= k1 && hi >= k0 ? PFATTN_TILE_PARTIAL : PFATTN_TILE_EMPTY;
}

int pfattn_tile_classes(const pfattn_layout *l, int rule, int layer, int window, int block_m,
                        int block_n, int indptr_bytes, unsigned char *cls, void *tile_indptr)
{
    spec s;
    int rc = spec_get(rule, layer, window, &s);
    int64_t *o = NULL;
    if (!rc)
        rc = tile_offsets(l, block_m, block_n, &o);
    if (!rc)
        rc = offsets_write(o, l->batch, indptr_bytes, "tile classes", tile_indptr);
    if (!rc && !cls && o[l->batch] > 0)
        rc = pfattn_fail(PFATTN_ERR_INVALID, "tile classes: no output array");
    for (int r = 0; !rc && r < l->batch; r++) {
        int64_t nq = ceil_div(l->q_len[r], block_m), nk = ceil_div(l->kv_len[r], block_n);
        unsigned char *c = cls + o[r];
        for (int64_t t = 0; t < nq; t++)
            for (int64_t u = 0; u < nk; u++)
                c[t * nk + u] = (unsigned char)tile_class(l, r, &s, block_m, block_n, t, u);
    }
    free(o);
    return rc;
}

int pfattn_work_size(const pfattn_layout *l, int block_m, int64_t *num_work)
{
    if (!l || block_m <= 0)
        return pfattn_fail(PFATTN_ERR_INVALID, "work list: needs a layout and BLOCK_M > 0");
    int64_t n = 0;
    for (int r = 0; r < l->batch; r++)
        n += ceil_div(l->q_len[r], block_m);
    if (n > INT32_MAX)
        return pfattn_fail(PFATTN_ERR_OVERFLOW, "%lld work items exceed the grid limit",
                           (long long)n);
    *num_work = n;
    return PFATTN_OK;
}

int pfattn_work_list(const pfattn_layout *l, int block_m, int32_t *work_request,
                     int32_t *work_qtile)
{
    int64_t n;
    int rc = pfattn_work_size(l, block_m, &n);
    if (rc)
        return rc;
    if (n > 0 && (!work_request || !work_qtile))
        return pfattn_fail(PFATTN_ERR_INVALID, "work list: no output arrays");
    int64_t i = 0;
    for (int r = 0; r < l->batch; r++)
        for (int64_t t = ceil_div(l->q_len[r], block_m) - 1; t >= 0; t--, i++) {
            work_request[i] = r;
            work_qtile[i] = (int32_t)t;
        }
    return PFATTN_OK;
}

int pfattn_int32_check(const pfattn_layout *l, int storage, int rule, int layer, int window,
                       int block_m, int block_n)
{
    int64_t *o;
    pfattn_band band;
    int rc = mask_offsets(l, storage, rule, layer, window, &o, &band);
    if (rc)
        return rc;
    char what[32];
    snprintf(what, sizeof what, "%s mask", pfattn_storage_name(storage));
    rc = offsets_check(l->qo, l->batch, 4, "qo indptr");
    if (!rc)
        rc = offsets_check(l->kv, l->batch, 4, "kv indptr");
    if (!rc && storage != PFATTN_MASK_SPANS)
        rc = mask_int32_check(l, storage, o, 4, what);
    free(o);
    if (!rc && block_m > 0 && block_n > 0 && !(rc = tile_offsets(l, block_m, block_n, &o))) {
        rc = offsets_check(o, l->batch, 4, "tile classes");
        free(o);
    }
    return rc;
}
