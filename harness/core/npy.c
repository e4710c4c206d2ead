/* .npy reading and writing (see npy.h). */
#include "core/npy.h"

#include "core/atomic_file.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/pf_error.h"
#include "kernels/pf_numeric.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "pftune's .npy I/O assumes a little-endian host"
#endif

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
/* numpy itself refuses headers over 10000 bytes unless told otherwise; a
 * generous cap keeps hostile length fields from causing huge allocations. */
#define NPY_HEADER_MAX (1u << 20)

static const struct {
    pf_npy_dtype dtype;
    const char *descr;
    size_t size;
} npy_dtypes[] = {
    {PF_NPY_F16, "<f2", 2}, {PF_NPY_F32, "<f4", 4}, {PF_NPY_F64, "<f8", 8},
    {PF_NPY_I32, "<i4", 4}, {PF_NPY_I64, "<i8", 8}, {PF_NPY_U8, "|u1", 1},
    {PF_NPY_BOOL, "|b1", 1},
};
#define NPY_NDTYPES (sizeof npy_dtypes / sizeof npy_dtypes[0])

const char *pf_npy_dtype_descr(pf_npy_dtype dtype)
{
    for (size_t i = 0; i < NPY_NDTYPES; i++)
        if (npy_dtypes[i].dtype == dtype)
            return npy_dtypes[i].descr;
    return "?";
}

size_t pf_npy_dtype_size(pf_npy_dtype dtype)
{
    for (size_t i = 0; i < NPY_NDTYPES; i++)
        if (npy_dtypes[i].dtype == dtype)
            return npy_dtypes[i].size;
    return 0;
}

void pf_npy_free(pf_npy *a)
{
    if (!a)
        return;
    free(a->data);
    a->data = NULL;
}

/* ---- header dict parsing: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } */

typedef struct cursor {
    const char *p, *end;
} cursor;

static void skip_ws(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int expect(cursor *c, char ch)
{
    skip_ws(c);
    if (c->p >= c->end || *c->p != ch)
        return pf_error_set("bad header: expected '%c'", ch);
    c->p++;
    return 0;
}

/* A quoted Python string without escapes, copied into out. Control bytes
 * are refused: the string may end up in a (one-line) error message. */
static int parse_string(cursor *c, char *out, size_t out_size)
{
    skip_ws(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
        return pf_error_set("bad header: expected a quoted string");
    char quote = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != quote) {
        if (*c->p < 0x20)
            return pf_error_set("bad header: control character in a string");
        if (*c->p == '\\' || n + 1 >= out_size)
            return pf_error_set("bad header: unsupported or over-long string");
        out[n++] = *c->p++;
    }
    if (c->p >= c->end)
        return pf_error_set("bad header: unterminated string");
    c->p++;
    out[n] = '\0';
    return 0;
}

static int parse_bool(cursor *c, int *out)
{
    skip_ws(c);
    size_t left = (size_t)(c->end - c->p);
    if (left >= 4 && memcmp(c->p, "True", 4) == 0) {
        c->p += 4;
        *out = 1;
        return 0;
    }
    if (left >= 5 && memcmp(c->p, "False", 5) == 0) {
        c->p += 5;
        *out = 0;
        return 0;
    }
    return pf_error_set("bad header: fortran_order must be True or False");
}

static int parse_dim(cursor *c, int64_t *out)
{
    skip_ws(c);
    if (c->p < c->end && *c->p == '-')
        return pf_error_set("bad header: negative dimension in shape");
    if (c->p >= c->end || *c->p < '0' || *c->p > '9')
        return pf_error_set("bad header: expected a dimension in shape");
    int64_t v = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        int digit = *c->p++ - '0';
        if (v > (INT64_MAX - digit) / 10)
            return pf_error_set("bad header: dimension too large");
        v = v * 10 + digit;
    }
    *out = v;
    return 0;
}

static int parse_shape(cursor *c, pf_npy *a)
{
    if (expect(c, '('))
        return -1;
    a->ndim = 0;
    for (;;) {
        skip_ws(c);
        if (c->p < c->end && *c->p == ')') {
            c->p++;
            break;
        }
        if (a->ndim == PF_NPY_MAX_DIMS)
            return pf_error_set("bad header: more than %d dimensions", PF_NPY_MAX_DIMS);
        if (parse_dim(c, &a->shape[a->ndim]))
            return -1;
        a->ndim++;
        skip_ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (expect(c, ')'))
            return -1;
        /* Python needs "(n,)" for a 1-tuple; "(n)" is just n. */
        if (a->ndim == 1)
            return pf_error_set("bad header: shape (n) is not a tuple; expected (n,)");
        break;
    }
    return 0;
}

static int parse_dict(const char *text, size_t len, pf_npy *a)
{
    cursor c = {text, text + len};
    int have_descr = 0, have_order = 0, have_shape = 0, fortran = 0;
    if (expect(&c, '{'))
        return -1;
    for (;;) {
        skip_ws(&c);
        if (c.p < c.end && *c.p == '}') {
            c.p++;
            break;
        }
        char key[32], descr[16];
        if (parse_string(&c, key, sizeof key) || expect(&c, ':'))
            return -1;
        if (strcmp(key, "descr") == 0 && !have_descr) {
            if (parse_string(&c, descr, sizeof descr))
                return -1;
            size_t i = 0;
            while (i < NPY_NDTYPES && strcmp(npy_dtypes[i].descr, descr) != 0)
                i++;
            if (i == NPY_NDTYPES)
                return pf_error_set("unsupported dtype '%s' (supported: <f2 <f4 <f8 <i4 <i8 |u1 |b1)",
                                    descr);
            a->dtype = npy_dtypes[i].dtype;
            a->item_size = npy_dtypes[i].size;
            have_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0 && !have_order) {
            if (parse_bool(&c, &fortran))
                return -1;
            have_order = 1;
        } else if (strcmp(key, "shape") == 0 && !have_shape) {
            if (parse_shape(&c, a))
                return -1;
            have_shape = 1;
        } else {
            return pf_error_set("bad header: unexpected or repeated key '%s'", key);
        }
        skip_ws(&c);
        if (c.p < c.end && *c.p == ',')
            c.p++;
        else if (c.p < c.end && *c.p != '}')
            return pf_error_set("bad header: expected ',' or '}' after '%s'", key);
    }
    skip_ws(&c);
    if (c.p != c.end)
        return pf_error_set("bad header: trailing characters after the dict");
    if (!have_descr || !have_order || !have_shape)
        return pf_error_set("bad header: missing %s", !have_descr   ? "'descr'"
                                                       : !have_order ? "'fortran_order'"
                                                                     : "'shape'");
    if (fortran)
        return pf_error_set("fortran_order arrays are not supported (save with C order, "
                            "e.g. np.ascontiguousarray)");
    return 0;
}

/* Element count and byte size, overflow-checked. */
static int array_size(pf_npy *a, size_t *bytes)
{
    size_t count = 1;
    for (int i = 0; i < a->ndim; i++) {
        uint64_t d = (uint64_t)a->shape[i];
        if (d != 0 && count > SIZE_MAX / d)
            return pf_error_set("shape too large: element count overflows");
        count *= (size_t)d;
    }
    if (count > SIZE_MAX / a->item_size)
        return pf_error_set("shape too large: byte size overflows");
    a->count = count;
    *bytes = count * a->item_size;
    return 0;
}

/* Length of the preamble (magic, version, header length) and of the header
 * text that follows, from the first bytes of a file. */
static int parse_preamble(const unsigned char *buf, size_t avail, size_t *preamble,
                          size_t *header_len)
{
    if (avail < 10 || memcmp(buf, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
        return pf_error_set("not a .npy file (bad magic)");
    int major = buf[6], minor = buf[7];
    if (minor != 0 || major < 1 || major > 3)
        return pf_error_set("unsupported .npy format version %d.%d", major, minor);
    if (major == 1) {
        *preamble = 10;
        *header_len = (size_t)buf[8] | (size_t)buf[9] << 8;
    } else {
        if (avail < 12)
            return pf_error_set("truncated .npy preamble");
        *preamble = 12;
        *header_len = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 |
                      (size_t)buf[11] << 24;
    }
    if (*header_len > NPY_HEADER_MAX)
        return pf_error_set("header length %zu exceeds %u bytes", *header_len, NPY_HEADER_MAX);
    return 0;
}

static int parse_header_text(const unsigned char *text, size_t len, pf_npy *a, size_t *data_bytes)
{
    for (size_t i = 0; i < len; i++)
        if (text[i] == 0 || text[i] > 0x7e)
            return pf_error_set("bad header: non-ASCII byte at offset %zu", i);
    memset(a, 0, sizeof *a);
    if (parse_dict((const char *)text, len, a))
        return -1;
    return array_size(a, data_bytes);
}

int pf_npy_parse(const void *buf, size_t size, pf_npy *out)
{
    const unsigned char *b = buf;
    size_t pre, hlen, bytes;
    memset(out, 0, sizeof *out);
    if (parse_preamble(b, size, &pre, &hlen))
        return -1;
    if (size - pre < hlen)
        return pf_error_set("truncated header (%zu of %zu bytes)", size - pre, hlen);
    pf_npy a;
    if (parse_header_text(b + pre, hlen, &a, &bytes))
        return -1;
    size_t have = size - pre - hlen;
    if (have != bytes)
        return pf_error_set("data size mismatch: the header says %zu bytes, the file holds %zu",
                            bytes, have);
    a.data = malloc(bytes ? bytes : 1);
    if (!a.data)
        return pf_error_set("out of memory for %zu bytes of array data", bytes);
    if (bytes)
        memcpy(a.data, b + pre + hlen, bytes);
    *out = a;
    return 0;
}

static int read_exact(FILE *f, void *dst, size_t n)
{
    return fread(dst, 1, n, f) == n ? 0 : -1;
}

static int read_open_file(FILE *f, pf_npy *out)
{
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))
        return pf_error_set("not a regular file");
    size_t size = (size_t)st.st_size;
    unsigned char pre_buf[12];
    size_t pre, hlen, bytes;
    size_t first = size < sizeof pre_buf ? size : sizeof pre_buf;
    if (read_exact(f, pre_buf, first))
        return pf_error_set("read error: %s", strerror(errno));
    if (parse_preamble(pre_buf, first, &pre, &hlen))
        return -1;
    if (size - pre < hlen)
        return pf_error_set("truncated header (%zu of %zu bytes)", size - pre, hlen);
    unsigned char *text = malloc(hlen ? hlen : 1);
    if (!text)
        return pf_error_set("out of memory");
    /* We consumed `first` bytes; the header starts at `pre`. */
    int rc = fseek(f, (long)pre, SEEK_SET) != 0 || read_exact(f, text, hlen)
                 ? pf_error_set("read error in header")
                 : 0;
    pf_npy a;
    if (rc == 0)
        rc = parse_header_text(text, hlen, &a, &bytes);
    free(text);
    if (rc)
        return -1;
    size_t have = size - pre - hlen;
    if (have != bytes)
        return pf_error_set("data size mismatch: the header says %zu bytes, the file holds %zu",
                            bytes, have);
    a.data = malloc(bytes ? bytes : 1);
    if (!a.data)
        return pf_error_set("out of memory for %zu bytes of array data", bytes);
    if (read_exact(f, a.data, bytes)) {
        free(a.data);
        return pf_error_set("read error in array data");
    }
    *out = a;
    return 0;
}

int pf_npy_read(const char *path, pf_npy *out)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return pf_error_set("%s: %s", path, strerror(errno));
    int rc = read_open_file(f, out);
    fclose(f);
    if (rc)
        pf_error_prefix("%s", path);
    return rc;
}

/* ---- conversion */

static double element_f64(const pf_npy *a, size_t i)
{
    const unsigned char *p = (const unsigned char *)a->data + i * a->item_size;
    switch (a->dtype) {
    case PF_NPY_F16: { uint16_t v; memcpy(&v, p, 2); return pf_f16_to_f32(v); }
    case PF_NPY_F32: { float v; memcpy(&v, p, 4); return v; }
    case PF_NPY_F64: { double v; memcpy(&v, p, 8); return v; }
    case PF_NPY_I32: { int32_t v; memcpy(&v, p, 4); return v; }
    case PF_NPY_I64: { int64_t v; memcpy(&v, p, 8); return (double)v; }
    case PF_NPY_U8: return *p;
    case PF_NPY_BOOL: return *p != 0;
    }
    return 0;
}

int pf_npy_to_f32(const pf_npy *a, float **out)
{
    float *r = malloc(a->count ? a->count * sizeof *r : 1);
    if (!r)
        return pf_error_set("out of memory converting %zu elements", a->count);
    for (size_t i = 0; i < a->count; i++) {
        if (a->dtype == PF_NPY_I64) {
            int64_t v;
            memcpy(&v, (const char *)a->data + i * 8, 8);
            if (v > (1 << 24) || v < -(1 << 24)) {
                free(r);
                return pf_error_set("element %zu (%lld) is not exactly representable as float32",
                                    i, (long long)v);
            }
        }
        r[i] = (float)element_f64(a, i);
    }
    *out = r;
    return 0;
}

int pf_npy_to_i64(const pf_npy *a, int64_t **out)
{
    int64_t *r = malloc(a->count ? a->count * sizeof *r : 1);
    if (!r)
        return pf_error_set("out of memory converting %zu elements", a->count);
    for (size_t i = 0; i < a->count; i++) {
        if (a->dtype == PF_NPY_I64) {
            memcpy(&r[i], (const char *)a->data + i * 8, 8);
            continue;
        }
        double v = element_f64(a, i);
        /* 2^63 is exactly representable; anything at or beyond it is not an int64. */
        if (!(v == floor(v)) || v >= 9223372036854775808.0 || v < -9223372036854775808.0) {
            free(r);
            return pf_error_set("element %zu (%g) is not an integer in int64 range", i, v);
        }
        r[i] = (int64_t)v;
    }
    *out = r;
    return 0;
}

/* ---- writing */

/* Header text padded with spaces and a final newline so that the data starts
 * on a 64-byte boundary, as numpy writes it. Returns the preamble+header. */
static int format_header(pf_npy_dtype dtype, int ndim, const int64_t *shape, char **out,
                         size_t *out_len)
{
    char dict[512];
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                     pf_npy_dtype_descr(dtype));
    for (int i = 0; i < ndim; i++)
        n += snprintf(dict + n, sizeof dict - (size_t)n, "%s%lld", i ? ", " : "",
                      (long long)shape[i]);
    n += snprintf(dict + n, sizeof dict - (size_t)n, "%s), }", ndim == 1 ? "," : "");
    size_t text = (size_t)n + 1; /* + '\n' */
    size_t total = (10 + text + 63) / 64 * 64;
    char *buf = malloc(total);
    if (!buf)
        return pf_error_set("out of memory");
    memcpy(buf, NPY_MAGIC, NPY_MAGIC_LEN);
    buf[6] = 1;
    buf[7] = 0;
    size_t hlen = total - 10;
    buf[8] = (char)(hlen & 0xff);
    buf[9] = (char)(hlen >> 8);
    memcpy(buf + 10, dict, (size_t)n);
    memset(buf + 10 + n, ' ', total - 10 - (size_t)n - 1);
    buf[total - 1] = '\n';
    *out = buf;
    *out_len = total;
    return 0;
}

int pf_npy_write(const char *path, pf_npy_dtype dtype, const void *data, int ndim,
                 const int64_t *shape)
{
    if (ndim < 0 || ndim > PF_NPY_MAX_DIMS)
        return pf_error_set("%s: %d dimensions (at most %d)", path, ndim, PF_NPY_MAX_DIMS);
    pf_npy shape_only = {.dtype = dtype, .ndim = ndim, .item_size = pf_npy_dtype_size(dtype)};
    if (shape_only.item_size == 0)
        return pf_error_set("%s: unknown dtype %d", path, (int)dtype);
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return pf_error_set("%s: negative dimension %lld", path, (long long)shape[i]);
        shape_only.shape[i] = shape[i];
    }
    size_t bytes;
    if (array_size(&shape_only, &bytes))
        return pf_error_prefix("%s", path);
    char *header = NULL;
    size_t header_len = 0;
    if (format_header(dtype, ndim, shape, &header, &header_len))
        return -1;

    pf_atomic_file f;
    int rc = pf_atomic_open(&f, path, 0644);
    if (rc == 0 && (pf_atomic_put(&f, header, header_len) || pf_atomic_put(&f, data, bytes))) {
        pf_atomic_abort(&f);
        rc = -1;
    } else if (rc == 0) {
        rc = pf_atomic_commit(&f);
    }
    free(header);
    return rc;
}

int pf_npy_write_f32(const char *path, const float *data, int ndim, const int64_t *shape)
{
    return pf_npy_write(path, PF_NPY_F32, data, ndim, shape);
}
