/* Typed profile JSON reads with key-path messages (profile_json.h). */
#include "tuner/profile_json.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void pf_pj_clean(const char *in, char *out, size_t size)
{
    size_t n = 0;
    for (; in[n] && n + 1 < size; n++) {
        unsigned char ch = (unsigned char)in[n];
        out[n] = ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\' ? '?' : (char)ch;
    }
    out[n] = 0;
    if (in[n] && size > 4)
        memcpy(out + size - 4, "...", 4);
}

int pf_pj_fail(const pf_pj *c, const char *key, int idx, const char *fmt, ...)
{
    char what[PF_ERROR_MAX], k[128] = "", at[24] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (key)
        pf_pj_clean(key, k, sizeof k);
    if (idx >= 0)
        snprintf(at, sizeof at, "[%d]", idx);
    if (!key)
        return pf_error_set("profile %s: %s", c->name, what);
    return pf_error_set("profile %s: \"%s\"%s: %s", c->name, k, at, what);
}

int pf_pj_fail_error(const pf_pj *c, const char *key, int idx)
{
    char msg[PF_ERROR_MAX];
    snprintf(msg, sizeof msg, "%s", pf_error_get());
    return pf_pj_fail(c, key, idx, "%s", msg);
}

const char *pf_pj_path(char *buf, size_t size, const char *key, const char *sub)
{
    char s[64];
    pf_pj_clean(sub, s, sizeof s);
    snprintf(buf, size, "%s.%s", key, s);
    return buf;
}

int pf_pj_keys(const pf_pj *c, const json_t *obj, const char *path, const char *const *known)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        int ok = 0;
        for (const char *const *n = known; *n && !ok; n++)
            ok = strcmp(k, *n) == 0;
        if (ok)
            continue;
        char list[400] = "", full[192];
        size_t used = 0;
        for (const char *const *n = known; *n; n++) {
            int w = snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", *n);
            if (w < 0 || (size_t)w >= sizeof list - used)
                break;
            used += (size_t)w;
        }
        return pf_pj_fail(c, path ? pf_pj_path(full, sizeof full, path, k) : k, -1,
                          "unknown key (known: %s)", list);
    }
    return 0;
}

int pf_pj_object(const pf_pj *c, const json_t *v, const char *key)
{
    return json_is_object(v) ? 0 : pf_pj_fail(c, key, -1, "must be an object");
}

int pf_pj_int(const pf_pj *c, const json_t *v, const char *key, int idx, int64_t lo, int64_t hi,
              int64_t *out)
{
    json_int_t x = json_is_integer(v) ? json_integer_value(v) : 0;
    if (json_is_integer(v) && x >= lo && x <= hi) {
        *out = x;
        return 0;
    }
    if (hi == INT64_MAX && lo == 1)
        return pf_pj_fail(c, key, idx, "must be a positive integer");
    if (lo == 1)
        return pf_pj_fail(c, key, idx, "must be a positive integer (at most %" PRId64 ")", hi);
    if (hi == INT64_MAX)
        return pf_pj_fail(c, key, idx, "must be an integer >= %" PRId64, lo);
    return pf_pj_fail(c, key, idx, "must be an integer in %" PRId64 "..%" PRId64, lo, hi);
}

int pf_pj_int32(const pf_pj *c, const json_t *v, const char *key, int idx, int lo, int hi, int *out)
{
    int64_t x;
    if (pf_pj_int(c, v, key, idx, lo, hi, &x))
        return -1;
    *out = (int)x;
    return 0;
}

int pf_pj_real(const pf_pj *c, const json_t *v, const char *key, double lo, int lo_open, double hi,
               double *out)
{
    double x = json_is_number(v) ? json_number_value(v) : NAN;
    if (isfinite(x) && (lo_open ? x > lo : x >= lo) && x <= hi) {
        *out = x;
        return 0;
    }
    return pf_pj_fail(c, key, -1, "must be a number %s %g and <= %g", lo_open ? ">" : ">=", lo, hi);
}

int pf_pj_bool(const pf_pj *c, const json_t *v, const char *key, int *out)
{
    if (!json_is_boolean(v))
        return pf_pj_fail(c, key, -1, "must be true or false");
    *out = json_is_true(v);
    return 0;
}

int pf_pj_string(const pf_pj *c, const json_t *v, const char *key, int idx, char *out, size_t size)
{
    if (!json_is_string(v))
        return pf_pj_fail(c, key, idx, "must be a string");
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n == 0 || n >= size)
        return pf_pj_fail(c, key, idx, "must be a string of 1..%zu characters", size - 1);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
            return pf_pj_fail(c, key, idx, "byte 0x%02x at offset %zu: only printable ASCII",
                              (unsigned char)s[i], i);
    memcpy(out, s, n + 1);
    return 0;
}

int pf_pj_list(const pf_pj *c, const json_t *v, const char *key, size_t max, size_t *n)
{
    if (!json_is_array(v))
        return pf_pj_fail(c, key, -1, "must be a list");
    *n = json_array_size(v);
    if (*n == 0)
        return pf_pj_fail(c, key, -1, "must not be empty");
    if (*n > max)
        return pf_pj_fail(c, key, -1, "too many values (%zu, at most %zu)", *n, max);
    return 0;
}
