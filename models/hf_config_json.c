/* Typed reads of HF config.json keys (hf_config_json.h). */
#include "models/hf_config_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"
#include "models/msg_clean.h"

json_t *pf_cfg_get(const pf_cfg_sect *s, const char *key)
{
    json_t *v = s->obj ? json_object_get(s->obj, key) : NULL;
    return v && !json_is_null(v) ? v : NULL;
}

int pf_cfg_int(const pf_cfg_sect *s, const char *key, long dflt, long lo, long hi, int *out)
{
    json_t *v = pf_cfg_get(s, key);
    long x = dflt;
    if (v) {
        if (!json_is_integer(v))
            return pf_error_set("config: %s%s: expected an integer", s->pre, key);
        json_int_t j = json_integer_value(v);
        if (j < lo || j > hi)
            return pf_error_set("config: %s%s: %lld is out of range [%ld, %ld]", s->pre, key,
                                (long long)j, lo, hi);
        x = (long)j;
    }
    *out = (int)x;
    return 0;
}

int pf_cfg_num(const pf_cfg_sect *s, const char *key, double dflt, double lo, double hi,
               double *out)
{
    json_t *v = pf_cfg_get(s, key);
    double x = dflt;
    if (v) {
        if (!json_is_number(v))
            return pf_error_set("config: %s%s: expected a number", s->pre, key);
        x = json_number_value(v);
        if (!(x >= lo && x <= hi))
            return pf_error_set("config: %s%s: %g is out of range [%g, %g]", s->pre, key, x, lo,
                                hi);
    }
    *out = x;
    return 0;
}

int pf_cfg_bool(const pf_cfg_sect *s, const char *key, int dflt, int *out)
{
    json_t *v = pf_cfg_get(s, key);
    if (v && !json_is_boolean(v))
        return pf_error_set("config: %s%s: expected true or false", s->pre, key);
    *out = v ? json_is_true(v) : dflt;
    return 0;
}

int pf_cfg_want_str(const pf_cfg_sect *s, const char *key, const char *want)
{
    json_t *v = pf_cfg_get(s, key);
    if (!v)
        return 0;
    if (!json_is_string(v) || strcmp(json_string_value(v), want) != 0)
        return pf_error_set("config: %s%s: only \"%s\" is supported", s->pre, key, want);
    return 0;
}

int pf_cfg_want_off(const pf_cfg_sect *s, const char *key, int zero_ok, const char *why)
{
    json_t *v = pf_cfg_get(s, key);
    if (v && !json_is_false(v) && !(zero_ok && json_is_integer(v) && json_integer_value(v) == 0))
        return pf_error_set("config: %s%s: %s", s->pre, key, why);
    return 0;
}

json_t *pf_cfg_parse_text(const char *text, size_t len)
{
    json_error_t jerr;
    char eb[201];
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        pf_error_set("config: line %d: %s", jerr.line, pf_msg_clean(jerr.text, eb, sizeof eb));
    return root;
}

int pf_cfg_read_file(const char *dir, char *path, size_t path_size, char **out, size_t *out_len)
{
    snprintf(path, path_size, "%s/config.json", dir);
    FILE *f = fopen(path, "rb");
    if (!f)
        return pf_error_set("%s: cannot open", path);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? 2 * cap : 65536;
            char *nb = cap > (64u << 20) ? NULL : realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return pf_error_set("%s: too large", path);
            }
            buf = nb;
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        len += r;
        if (r == 0)
            break;
    }
    fclose(f);
    *out = buf;
    *out_len = len;
    return 0;
}
