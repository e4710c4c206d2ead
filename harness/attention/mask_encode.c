/* Host mask encoders (dense, bitmap, window band, spans) producing exactly
 * the buffers kernels/attention_params.h reads, their byte counts and the
 * int32/int64 indptr encoding. Rows are filled from the rule's per-row key
 * interval; the tests decode every pair and compare with pf_mask_allowed. */
#include "attention/mask_encode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"

static const char *const storage_names[] = {"dense", "bitmap", "window", "spans"};

int pf_storage_parse(const char *s, int *out)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, storage_names[i]) == 0) {
            *out = i;
            return 0;
        }
    return pf_error_set("unknown mask storage '%s' (expected dense, bitmap, window, spans)", s);
}

const char *pf_storage_name(int storage)
{
    return storage >= 0 && storage < 4 ? storage_names[storage] : "?";
}

int pf_mask_band(const pf_layout *layout, const pf_mask_spec *spec, pf_band *out)
{
    int use_causal, use_same, window;
    pf_mask_flags(spec, &use_causal, &use_same, &window);
    int64_t right = 0;
    if (!use_causal) {
        for (int r = 0; r < layout->n_req; r++)
            if (layout->req[r].q_len - 1 > right)
                right = layout->req[r].q_len - 1;
    } else if (use_same && layout->max_group_len > 0) {
        right = layout->max_group_len - 1;
    }
    /* A window longer than every request changes nothing: cap it there. */
    int64_t max_kv = 1;
    for (int r = 0; r < layout->n_req; r++)
        if (layout->req[r].kv_len > max_kv)
            max_kv = layout->req[r].kv_len;
    int64_t left = window > 0 ? window - 1 : 0;
    if (left > max_kv - 1)
        left = max_kv - 1;
    int64_t width = left + right + 1;
    if (width > (int64_t)1 << 30)
        return pf_error_set("window mask band of %lld keys per row is too wide", (long long)width);
    out->left = (int)left;
    out->right = (int)right;
    out->stride = (int)((width + 7) / 8);
    out->past = window > 0 ? 0 : 1;
    return 0;
}

int pf_mask_offsets(const pf_layout *layout, int storage, const pf_mask_spec *spec,
                    int64_t *offsets)
{
    if (pf_mask_spec_check(spec) < 0)
        return -1;
    pf_band band = {0};
    if (storage == PF_MASK_WINDOW && pf_mask_band(layout, spec, &band) < 0)
        return -1;
    offsets[0] = 0;
    for (int r = 0; r < layout->n_req; r++) {
        const pf_request *rq = &layout->req[r];
        int64_t n; /* sizes stay below 2^62: kv_len <= 2^28 */
        switch (storage) {
        case PF_MASK_DENSE: n = rq->q_len * rq->kv_len; break;
        case PF_MASK_BITMAP: n = (rq->q_len * rq->kv_len + 7) / 8; break;
        case PF_MASK_WINDOW: n = rq->q_len * band.stride; break;
        case PF_MASK_SPANS: n = rq->kv_len; break;
        default: return pf_error_set("unknown mask storage %d", storage);
        }
        offsets[r + 1] = offsets[r] + n;
    }
    return 0;
}

int64_t pf_mask_bytes(const pf_layout *layout, int storage, pf_rule rule, pf_layer layer,
                      int window, int indptr_bytes)
{
    if (indptr_bytes != 4 && indptr_bytes != 8)
        return pf_error_set("indptr must be 4 or 8 bytes (got %d)", indptr_bytes);
    pf_mask_spec spec = {rule, layer, window};
    int64_t *offsets = malloc(((size_t)layout->n_req + 1) * sizeof(*offsets));
    if (!offsets)
        return pf_error_set("out of memory");
    int64_t bytes = -1;
    if (pf_mask_offsets(layout, storage, &spec, offsets) == 0) {
        if (storage == PF_MASK_SPANS)
            bytes = offsets[layout->n_req] * (int64_t)sizeof(int32_t);
        else
            bytes = offsets[layout->n_req] + ((int64_t)layout->n_req + 1) * indptr_bytes;
    }
    free(offsets);
    return bytes;
}

int pf_indptr_check(const int64_t *offsets, int n_req, int indptr_bytes, const char *what)
{
    if (indptr_bytes != 4 && indptr_bytes != 8)
        return pf_error_set("%s: indptr must be 4 or 8 bytes (got %d)", what, indptr_bytes);
    if (indptr_bytes == 8)
        return 0;
    for (int i = 0; i <= n_req; i++)
        if (offsets[i] > INT32_MAX)
            return pf_error_set("%s with int32 indptr: request %d offset %lld exceeds INT32_MAX "
                                "(%d); use int64 indptr",
                                what, i > 0 ? i - 1 : 0, (long long)offsets[i], INT32_MAX);
    return 0;
}

/* The bitmap reader computes the bit index i*kv_len + k in INDPTR_T
 * (kernels/attention_mask.h) before shifting it to a byte: with int32 the
 * largest index of request r, q_len*kv_len - 1, must fit, which binds long
 * before the byte offsets do (one request of 46341 tokens). Dense and window
 * indices never exceed the request's end offset, checked above. */
int pf_mask_indptr_check(const pf_layout *layout, int storage, const int64_t *offsets,
                         int indptr_bytes, const char *what)
{
    if (pf_indptr_check(offsets, layout->n_req, indptr_bytes, what) < 0)
        return -1;
    if (indptr_bytes == 8 || storage != PF_MASK_BITMAP)
        return 0;
    for (int r = 0; r < layout->n_req; r++) {
        const pf_request *rq = &layout->req[r];
        int64_t last = rq->q_len * rq->kv_len - 1;
        if (last > INT32_MAX)
            return pf_error_set("%s with int32 indptr: request %d bit index %lld (%lld x %lld "
                                "bits) exceeds INT32_MAX (%d); use int64 indptr",
                                what, r, (long long)last, (long long)rq->q_len,
                                (long long)rq->kv_len, INT32_MAX);
    }
    return 0;
}

int pf_indptr_encode(const int64_t *offsets, int n_req, int indptr_bytes, const char *what,
                     void **out)
{
    *out = NULL;
    if (pf_indptr_check(offsets, n_req, indptr_bytes, what) < 0)
        return -1;
    void *a = malloc(((size_t)n_req + 1) * (size_t)indptr_bytes);
    if (!a)
        return pf_error_set("%s: out of memory", what);
    for (int i = 0; i <= n_req; i++) {
        if (indptr_bytes == 4)
            ((int32_t *)a)[i] = (int32_t)offsets[i];
        else
            ((int64_t *)a)[i] = offsets[i];
    }
    *out = a;
    return 0;
}

int pf_layout_indptr_encode(const pf_layout *layout, int indptr_bytes, void **qo_out,
                            void **kv_out)
{
    *qo_out = *kv_out = NULL;
    if (pf_indptr_encode(layout->qo_indptr, layout->n_req, indptr_bytes, "qo indptr", qo_out) < 0)
        return -1;
    if (pf_indptr_encode(layout->kv_indptr, layout->n_req, indptr_bytes, "kv indptr", kv_out) < 0) {
        free(*qo_out);
        *qo_out = NULL;
        return -1;
    }
    return 0;
}

/* Set bits [first, last] (little bit order) of `bits`. */
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

static void encode_request(const pf_layout *layout, int r, const pf_mask_spec *spec,
                           pf_mask_enc *enc, int64_t off)
{
    const pf_request *rq = &layout->req[r];
    const pf_band *b = &enc->band;
    for (int64_t i = 0; i < rq->q_len; i++) {
        int64_t q = rq->prefix + i, lo, hi;
        pf_mask_row_interval(layout, r, q, spec, &lo, &hi);
        switch (enc->storage) {
        case PF_MASK_DENSE:
            memset(enc->mask + off + i * rq->kv_len + lo, 1, (size_t)(hi - lo + 1));
            break;
        case PF_MASK_BITMAP:
            set_bits(enc->mask + off, i * rq->kv_len + lo, i * rq->kv_len + hi);
            break;
        case PF_MASK_WINDOW: {
            int64_t first = q - b->left; /* key of bit 0 */
            int64_t k0 = lo > first ? lo : first;
            int64_t k1 = hi < q + b->right ? hi : q + b->right;
            if (k0 <= k1)
                set_bits(enc->mask + off + i * b->stride, k0 - first, k1 - first);
            break;
        }
        }
    }
}

int pf_mask_encode(const pf_layout *layout, int storage, const pf_mask_spec *spec,
                   int indptr_bytes, pf_mask_enc *out)
{
    memset(out, 0, sizeof(*out));
    out->storage = storage;
    out->indptr_bytes = indptr_bytes;
    if (pf_mask_spec_check(spec) < 0)
        return -1;
    pf_mask_flags(spec, &out->use_causal, &out->use_same, &out->window);
    if (storage == PF_MASK_SPANS) {
        out->group_ids_count = (size_t)layout->total_kv;
        out->group_ids = malloc(out->group_ids_count * sizeof(int32_t) + 1);
        if (!out->group_ids)
            return pf_error_set("spans mask: out of memory");
        for (int r = 0; r < layout->n_req; r++)
            memcpy(out->group_ids + layout->kv_indptr[r], layout->req[r].group,
                   (size_t)layout->req[r].kv_len * sizeof(int32_t));
        return 0;
    }
    if (storage == PF_MASK_WINDOW && pf_mask_band(layout, spec, &out->band) < 0)
        return -1;
    int64_t *offsets = malloc(((size_t)layout->n_req + 1) * sizeof(*offsets));
    if (!offsets)
        return pf_error_set("out of memory");
    char what[32];
    snprintf(what, sizeof(what), "%s mask", pf_storage_name(storage));
    if (pf_mask_offsets(layout, storage, spec, offsets) < 0 ||
        pf_mask_indptr_check(layout, storage, offsets, indptr_bytes, what) < 0 ||
        pf_indptr_encode(offsets, layout->n_req, indptr_bytes, what, &out->indptr) < 0)
        goto fail;
    out->mask_bytes = (size_t)offsets[layout->n_req];
    out->mask = calloc(out->mask_bytes + 1, 1);
    if (!out->mask) {
        pf_error_set("%s: cannot allocate %zu bytes", what, out->mask_bytes);
        goto fail;
    }
    for (int r = 0; r < layout->n_req; r++)
        encode_request(layout, r, spec, out, offsets[r]);
    free(offsets);
    return 0;
fail:
    free(offsets);
    pf_mask_enc_free(out);
    return -1;
}

void pf_mask_enc_free(pf_mask_enc *enc)
{
    free(enc->mask);
    free(enc->indptr);
    free(enc->group_ids);
    enc->mask = NULL;
    enc->indptr = NULL;
    enc->group_ids = NULL;
}

static int64_t indptr_at(const pf_mask_enc *enc, int r)
{
    return enc->indptr_bytes == 4 ? ((const int32_t *)enc->indptr)[r]
                                  : ((const int64_t *)enc->indptr)[r];
}

static int bit(const unsigned char *bits, int64_t e)
{
    return (bits[e >> 3] >> (e & 7)) & 1;
}

int pf_mask_enc_get(const pf_mask_enc *enc, const pf_layout *layout, int req, int64_t qpos,
                    int64_t kpos)
{
    const pf_request *rq = &layout->req[req];
    int64_t i = qpos - rq->prefix;
    switch (enc->storage) {
    case PF_MASK_DENSE:
        return enc->mask[indptr_at(enc, req) + i * rq->kv_len + kpos] != 0;
    case PF_MASK_BITMAP:
        return bit(enc->mask + indptr_at(enc, req), i * rq->kv_len + kpos);
    case PF_MASK_WINDOW: {
        int64_t d = kpos - (qpos - enc->band.left);
        if (d < 0)
            return enc->band.past;
        if (d > enc->band.left + enc->band.right)
            return 0;
        return bit(enc->mask + indptr_at(enc, req) + i * enc->band.stride, d);
    }
    case PF_MASK_SPANS: {
        const int32_t *g = enc->group_ids + layout->kv_indptr[req];
        return pf_mask_allowed_flags(enc->use_causal, enc->use_same, enc->window, qpos, kpos,
                                     g[qpos], g[kpos]);
    }
    }
    return 0;
}
