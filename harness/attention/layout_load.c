/* Layouts from files: JSON (spans or HF-style token_types per request) and
 * .npy token-type arrays (see layout.h for both formats). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attention/layout.h"
#include "attention/layout_internal.h"
#include "core/npy.h"
#include "core/pf_error.h"

/* Spans of all requests being collected (token_types arrive run-length
 * encoded), so a huge count costs nothing until the layout is built. */
typedef struct json_acc {
    pf_span *spans;
    int n_spans, cap_spans;
    int *first;      /* [n_req+1] */
    int64_t *prefix; /* [n_req] */
    int64_t total;
} json_acc;

static int add_tokens(json_acc *a, int type, int64_t n)
{
    if (n > PF_LAYOUT_MAX_TOKENS - a->total)
        return pf_error_set("layout: more than %lld tokens in total",
                            (long long)PF_LAYOUT_MAX_TOKENS);
    a->total += n;
    if (a->n_spans == a->cap_spans) {
        int cap = a->cap_spans ? a->cap_spans * 2 : 64;
        pf_span *sp = realloc(a->spans, (size_t)cap * sizeof(*sp));
        if (!sp)
            return pf_error_set("layout: out of memory");
        a->spans = sp;
        a->cap_spans = cap;
    }
    a->spans[a->n_spans].type = type;
    a->spans[a->n_spans].count = n;
    a->n_spans++;
    return 0;
}

static int span_kind(const char *s)
{
    if (strlen(s) != 1)
        return -1;
    const char *k = strchr("tiva", s[0]);
    return k && s[0] ? (int)(k - "tiva") : -1;
}

/* Append the spans of one JSON request; *len = its token count. */
static int json_request_spans(json_t *jr, int r, json_acc *a, int64_t *len)
{
    json_t *spans = json_object_get(jr, "spans");
    json_t *tt = json_object_get(jr, "token_types");
    if ((spans != NULL) == (tt != NULL))
        return pf_error_set("layout: request %d: needs exactly one of \"spans\" or \"token_types\"",
                            r);
    int64_t before = a->total;
    if (tt) {
        if (!json_is_array(tt))
            return pf_error_set("layout: request %d: \"token_types\" is not an array", r);
        size_t i, n = json_array_size(tt);
        for (i = 0; i < n;) {
            json_t *x = json_array_get(tt, i);
            if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) > 3)
                return pf_error_set("layout: request %d: token_types[%zu] is not 0..3", r, i);
            size_t j = i + 1; /* run of equal types */
            while (j < n && json_is_integer(json_array_get(tt, j)) &&
                   json_integer_value(json_array_get(tt, j)) == json_integer_value(x))
                j++;
            if (add_tokens(a, (int)json_integer_value(x), (int64_t)(j - i)) < 0)
                return -1;
            i = j;
        }
    } else {
        if (!json_is_array(spans))
            return pf_error_set("layout: request %d: \"spans\" is not an array", r);
        size_t i;
        json_t *sp;
        json_array_foreach(spans, i, sp) {
            json_t *k = json_array_get(sp, 0), *c = json_array_get(sp, 1);
            if (!json_is_array(sp) || json_array_size(sp) != 2 || !json_is_string(k) ||
                !json_is_integer(c))
                return pf_error_set("layout: request %d: spans[%zu] is not [\"t|i|v|a\", count]",
                                    r, i);
            int kind = span_kind(json_string_value(k));
            if (kind < 0)
                return pf_error_set("layout: request %d: spans[%zu]: unknown span kind '%s' "
                                    "(expected t, i, v, a)", r, i, json_string_value(k));
            if (json_integer_value(c) <= 0)
                return pf_error_set("layout: request %d: spans[%zu]: count must be positive", r,
                                    i);
            if (add_tokens(a, kind, (int64_t)json_integer_value(c)) < 0)
                return -1;
        }
    }
    *len = a->total - before;
    return 0;
}

int pf_layout_from_json_text(const char *text, pf_layout **out)
{
    *out = NULL;
    json_error_t jerr;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return pf_error_set("layout: JSON line %d: %s", jerr.line, jerr.text);
    int rc = -1;
    json_acc a = {0};
    json_t *reqs = json_object_get(root, "requests");
    size_t n_req = json_array_size(reqs);
    if (!json_is_array(reqs) || n_req == 0) {
        pf_error_set("layout: JSON needs a non-empty \"requests\" array");
        goto done;
    }
    if (n_req > PF_LAYOUT_MAX_REQUESTS) {
        pf_error_set("layout: more than %d requests", PF_LAYOUT_MAX_REQUESTS);
        goto done;
    }
    a.first = malloc((n_req + 1) * sizeof(*a.first));
    a.prefix = malloc(n_req * sizeof(*a.prefix));
    if (!a.first || !a.prefix) {
        pf_error_set("layout: out of memory");
        goto done;
    }
    a.first[0] = 0;
    size_t r;
    json_t *jr;
    json_array_foreach(reqs, r, jr) {
        if (!json_is_object(jr)) {
            pf_error_set("layout: request %zu is not an object", r);
            goto done;
        }
        json_t *jp = json_object_get(jr, "prefix");
        int64_t p = 0, len = 0;
        if (jp) {
            if (!json_is_integer(jp) || json_integer_value(jp) < 0) {
                pf_error_set("layout: request %zu: \"prefix\" is not a non-negative integer", r);
                goto done;
            }
            p = json_integer_value(jp);
        }
        if (json_request_spans(jr, (int)r, &a, &len) < 0)
            goto done;
        if (len == 0) {
            pf_error_set("layout: request %zu: empty request", r);
            goto done;
        }
        if (p >= len) {
            pf_error_set("layout: request %zu: no new tokens (prefix %lld, %lld tokens)", r,
                         (long long)p, (long long)len);
            goto done;
        }
        a.prefix[r] = p;
        a.first[r + 1] = a.n_spans;
    }
    rc = pf_layout_from_spans((int)n_req, a.first, a.spans, a.prefix, out);
done:
    free(a.spans);
    free(a.first);
    free(a.prefix);
    json_decref(root);
    return rc;
}

/* The whole file as a NUL-terminated string (malloc'd). */
static char *read_text_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        pf_error_set("layout: cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 65536;
            char *b = realloc(buf, cap);
            if (!b) {
                free(buf);
                fclose(f);
                pf_error_set("layout: %s: out of memory", path);
                return NULL;
            }
            buf = b;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        pf_error_set("layout: cannot read %s", path);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

static int load_json_file(const char *path, pf_layout **out)
{
    char *text = read_text_file(path);
    if (!text)
        return -1;
    int rc = pf_layout_from_json_text(text, out);
    free(text);
    return rc;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int load_npy_file(const char *path, pf_layout **out);

int pf_layout_load(const char *path, pf_layout **out)
{
    *out = NULL;
    if (ends_with(path, ".json"))
        return load_json_file(path, out);
    if (ends_with(path, ".npy"))
        return load_npy_file(path, out);
    return pf_error_set("layout: %s: unknown file type (expected .json or .npy)", path);
}

/* .npy token types: 1-D = one request, 2-D [batch, seq] = batch requests. */
int pf_layout_from_npy(const pf_npy *a, pf_layout **out)
{
    *out = NULL;
    if (a->ndim != 1 && a->ndim != 2)
        return pf_error_set("layout: token types must be 1-D or 2-D (got %d-D)", a->ndim);
    int64_t batch = a->ndim == 2 ? a->shape[0] : 1;
    int64_t seq = a->ndim == 2 ? a->shape[1] : a->shape[0];
    if (batch <= 0 || seq <= 0 || batch > PF_LAYOUT_MAX_REQUESTS ||
        seq > PF_LAYOUT_MAX_TOKENS / batch)
        return pf_error_set("layout: token types of shape %lld x %lld are empty or too large",
                            (long long)batch, (long long)seq);
    int64_t *types = NULL;
    if (pf_npy_to_i64(a, &types) < 0)
        return pf_error_prefix("layout: token types");
    int64_t *lens = malloc((size_t)batch * sizeof(*lens));
    if (!lens) {
        free(types);
        return pf_error_set("layout: out of memory");
    }
    for (int64_t r = 0; r < batch; r++)
        lens[r] = seq;
    int rc = pf_layout_from_types((int)batch, lens, NULL, types, out);
    free(types);
    free(lens);
    return rc;
}

static int load_npy_file(const char *path, pf_layout **out)
{
    *out = NULL;
    pf_npy a;
    if (pf_npy_read(path, &a) < 0)
        return pf_error_prefix("layout: %s", path);
    int rc = pf_layout_from_npy(&a, out);
    pf_npy_free(&a);
    return rc;
}
