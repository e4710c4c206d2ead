/* safetensors header parser and converters (see safetensors.h). */
#include "models/safetensors.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"
#include "models/msg_clean.h"
#include "kernels/pf_numeric.h"

/* A header larger than this is refused (HF's own limit is 100 MB). */
#define MAX_HEADER (100u << 20)

static const struct {
    const char *name;
    pf_st_dtype d;
    int size;
} dtypes[] = {
    {"BF16", PF_ST_BF16, 2}, {"F16", PF_ST_F16, 2},         {"F32", PF_ST_F32, 4},
    {"F64", PF_ST_F64, 8},   {"I64", PF_ST_I64, 8},         {"I32", PF_ST_I32, 4},
    {"I16", PF_ST_I16, 2},   {"I8", PF_ST_I8, 1},           {"U8", PF_ST_U8, 1},
    {"BOOL", PF_ST_BOOL, 1}, {"F8_E4M3", PF_ST_F8_E4M3, 1}, {"F8_E5M2", PF_ST_F8_E5M2, 1},
};
#define N_DTYPES ((int)(sizeof dtypes / sizeof dtypes[0]))

const char *pf_st_dtype_name(pf_st_dtype d)
{
    for (int i = 0; i < N_DTYPES; i++)
        if (dtypes[i].d == d)
            return dtypes[i].name;
    return "?";
}

void pf_st_tensors_free(pf_st_tensor *t, int n)
{
    if (!t)
        return;
    for (int i = 0; i < n; i++)
        free(t[i].name);
    free(t);
}

static int cmp_begin(const void *a, const void *b)
{
    const pf_st_tensor *x = a, *y = b;
    const char *px = x->data, *py = y->data;
    return px < py ? -1 : px > py;
}

/* One header entry into t. data/dsize: the data section. */
static int parse_entry(const char *file, const char *raw_name, json_t *e, const uint8_t *data,
                       size_t dsize, pf_st_tensor *t)
{
    char name[101];
    pf_msg_clean(raw_name, name, sizeof name);
    if (!json_is_object(e))
        return pf_error_set("%s: tensor '%.100s': expected an object", file, name);
    json_t *jd = json_object_get(e, "dtype"), *js = json_object_get(e, "shape"),
           *jo = json_object_get(e, "data_offsets");
    char dsb[21];
    const char *ds = json_string_value(jd);
    int esize = 0;
    for (int i = 0; ds && i < N_DTYPES; i++)
        if (strcmp(ds, dtypes[i].name) == 0) {
            t->dtype = dtypes[i].d;
            esize = dtypes[i].size;
        }
    if (!esize)
        return pf_error_set("%s: tensor '%.100s': unsupported dtype '%s'", file, name,
                            ds ? pf_msg_clean(ds, dsb, sizeof dsb) : "(missing)");
    if (!json_is_array(js) || json_array_size(js) > PF_ST_MAX_DIMS)
        return pf_error_set("%s: tensor '%.100s': shape must be an array of at most %d ints",
                            file, name, PF_ST_MAX_DIMS);
    t->ndim = (int)json_array_size(js);
    uint64_t count = 1;
    for (int i = 0; i < t->ndim; i++) {
        json_t *x = json_array_get(js, (size_t)i);
        json_int_t v = json_is_integer(x) ? json_integer_value(x) : -1;
        if (v < 0 || v > (json_int_t)1 << 40)
            return pf_error_set("%s: tensor '%.100s': bad shape[%d]", file, name, i);
        t->shape[i] = v;
        if (v && count > (UINT64_MAX >> 8) / (uint64_t)v) /* keeps count * esize in range */
            return pf_error_set("%s: tensor '%.100s': shape too large", file, name);
        count *= (uint64_t)v;
    }
    json_t *b = json_array_get(jo, 0), *en = json_array_get(jo, 1);
    if (!json_is_array(jo) || json_array_size(jo) != 2 || !json_is_integer(b) ||
        !json_is_integer(en))
        return pf_error_set("%s: tensor '%.100s': data_offsets must be [begin, end]", file,
                            name);
    json_int_t ob = json_integer_value(b), oe = json_integer_value(en);
    if (ob < 0 || oe < ob || (uint64_t)oe > dsize)
        return pf_error_set("%s: tensor '%.100s': data_offsets [%lld, %lld] outside the %zu "
                            "data bytes (truncated file?)", file, name, (long long)ob,
                            (long long)oe, dsize);
    if ((uint64_t)(oe - ob) != count * (uint64_t)esize)
        return pf_error_set("%s: tensor '%.100s': %llu bytes of data for %llu %s elements",
                            file, name, (unsigned long long)(oe - ob), (unsigned long long)count,
                            ds);
    t->count = (int64_t)count;
    t->data = data + ob;
    t->bytes = (size_t)(oe - ob);
    return 0;
}

int pf_st_parse(const void *buf, size_t size, const char *file, pf_st_tensor **out, int *n)
{
    *out = NULL;
    *n = 0;
    const uint8_t *p = buf;
    if (size < 8)
        return pf_error_set("%s: truncated (%zu bytes, no header length)", file, size);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | p[i];
    if (hlen > size - 8)
        return pf_error_set("%s: header length %llu runs past the file (%zu bytes)", file,
                            (unsigned long long)hlen, size);
    if (hlen > MAX_HEADER)
        return pf_error_set("%s: header of %llu bytes is too large", file,
                            (unsigned long long)hlen);
    json_error_t jerr;
    char eb[201];
    json_t *root = json_loadb((const char *)p + 8, (size_t)hlen, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return pf_error_set("%s: header: %s", file, pf_msg_clean(jerr.text, eb, sizeof eb));
    if (!json_is_object(root)) {
        json_decref(root);
        return pf_error_set("%s: header is not a JSON object", file);
    }
    size_t cap = json_object_size(root);
    pf_st_tensor *t = calloc(cap ? cap : 1, sizeof *t);
    int cnt = 0, rc = 0;
    const char *key;
    json_t *e;
    const uint8_t *data = p + 8 + hlen;
    size_t dsize = size - 8 - (size_t)hlen;
    if (!t)
        rc = pf_error_set("%s: out of memory", file);
    json_object_foreach(root, key, e) {
        if (rc)
            break;
        if (strcmp(key, "__metadata__") == 0)
            continue;
        t[cnt].file = file;
        if (parse_entry(file, key, e, data, dsize, &t[cnt]) ||
            !(t[cnt].name = strdup(key))) {
            rc = -1;
            break;
        }
        cnt++;
    }
    json_decref(root);
    if (rc == 0 && cnt > 1) { /* overlapping ranges: sort by begin, compare neighbours */
        pf_st_tensor *s = malloc((size_t)cnt * sizeof *s);
        if (!s) {
            rc = pf_error_set("%s: out of memory", file);
        } else {
            memcpy(s, t, (size_t)cnt * sizeof *s);
            qsort(s, (size_t)cnt, sizeof *s, cmp_begin);
            char n1[101], n2[101];
            for (int i = 1; i < cnt && !rc; i++)
                if ((const char *)s[i - 1].data + s[i - 1].bytes > (const char *)s[i].data)
                    rc = pf_error_set("%s: tensors '%s' and '%s' overlap", file,
                                      pf_msg_clean(s[i - 1].name, n1, sizeof n1),
                                      pf_msg_clean(s[i].name, n2, sizeof n2));
            free(s);
        }
    }
    if (rc) {
        pf_st_tensors_free(t, cnt);
        return -1;
    }
    *out = t;
    *n = cnt;
    return 0;
}

static int convertible(const pf_st_tensor *t)
{
    if (t->dtype == PF_ST_BF16 || t->dtype == PF_ST_F16 || t->dtype == PF_ST_F32)
        return 0;
    char nb[101];
    return pf_error_set("%s: tensor '%s': dtype %s is not supported (bf16, f16, f32)", t->file,
                        pf_msg_clean(t->name, nb, sizeof nb), pf_st_dtype_name(t->dtype));
}

/* Element i of a convertible tensor as f32 (exact for all three dtypes). */
static float elem_f32(const pf_st_tensor *t, int64_t i)
{
    const uint8_t *s = t->data;
    uint16_t h;
    float f;
    if (t->dtype == PF_ST_F32) {
        memcpy(&f, s + 4 * i, 4);
        return f;
    }
    memcpy(&h, s + 2 * i, 2);
    return t->dtype == PF_ST_BF16 ? pf_bf16_to_f32(h) : pf_f16_to_f32(h);
}

int pf_st_to_bf16(const pf_st_tensor *t, uint16_t *out)
{
    if (convertible(t))
        return -1;
    if (t->dtype == PF_ST_BF16) { /* bits as stored (NaN payloads too) */
        memcpy(out, t->data, t->bytes);
        return 0;
    }
    for (int64_t i = 0; i < t->count; i++)
        out[i] = pf_f32_to_bf16(elem_f32(t, i));
    return 0;
}

int pf_st_to_f32(const pf_st_tensor *t, float *out)
{
    if (convertible(t))
        return -1;
    for (int64_t i = 0; i < t->count; i++)
        out[i] = elem_f32(t, i);
    return 0;
}
