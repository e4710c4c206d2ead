/* A profile's "axes" (value lists, ranges, powers of two) and
 * "constraints" (tuner/expr.h expressions, checked when the profile loads). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tuner/expr.h"
#include "tuner/profile_parts.h"

static int is_ident(const char *s)
{
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    return 1;
}

static int check_axis_name(const pf_pj *c, const char *path, const char *name)
{
    if (strcmp(name, "SEQ_LEN") == 0)
        return pf_pj_fail(c, path, -1, "SEQ_LEN is set by \"seq_lens\", not an axis");
    if (strcmp(name, "HEAD_DIM") == 0)
        return pf_pj_fail(c, path, -1, "head dims come from \"model\" or \"shape.head_dims\"");
    if (strlen(name) >= sizeof(((pf_profile_axis *)0)->name) || !is_ident(name))
        return pf_pj_fail(c, path, -1, "not an axis name (letters, digits, _; at most 31)");
    if (!c->axis_names)
        return 0;
    char known[400] = "";
    size_t used = 0;
    for (const char *const *n = c->axis_names; *n; n++) {
        if (strcmp(*n, name) == 0)
            return 0;
        if (strcmp(*n, "HEAD_DIM") == 0)
            continue;
        int w = snprintf(known + used, sizeof known - used, "%s%s", used ? ", " : "", *n);
        if (w > 0 && (size_t)w < sizeof known - used)
            used += (size_t)w;
    }
    return pf_pj_fail(c, path, -1, "unknown axis (known: %s)", known);
}

/* Strings become KEY=VALUE variant text and constraint literals. */
static int value_chars_ok(const char *s)
{
    size_t n = strlen(s);
    if (s[0] == ' ' || s[n - 1] == ' ')
        return 0;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-' || *s == '.' || *s == ' '))
            return 0;
    return 1;
}

static int add_value(const pf_pj *c, const char *path, int idx, pf_profile_axis *ax,
                     const char *text)
{
    for (int j = 0; j < ax->n_values; j++)
        if (strcmp(ax->values[j], text) == 0)
            return pf_pj_fail(c, path, idx, "duplicate of [%d] (%s)", j, text);
    if (ax->n_values == PF_PROFILE_MAX_VALUES)
        return pf_pj_fail(c, path, -1, "too many values (at most %d)", PF_PROFILE_MAX_VALUES);
    snprintf(ax->values[ax->n_values++], sizeof ax->values[0], "%s", text);
    return 0;
}

static int parse_list(const pf_pj *c, const char *path, const json_t *v, pf_profile_axis *ax)
{
    size_t n;
    if (pf_pj_list(c, v, path, PF_PROFILE_MAX_VALUES, &n))
        return -1;
    for (size_t i = 0; i < n; i++) {
        const json_t *x = json_array_get(v, i);
        char text[sizeof ax->values[0]];
        if (!json_is_integer(x) && !json_is_string(x))
            return pf_pj_fail(c, path, (int)i, "must be an integer >= 0 or a string");
        if (i == 0)
            ax->is_string = json_is_string(x);
        if (json_is_string(x) != ax->is_string)
            return pf_pj_fail(c, path, (int)i, "mixes integers and strings (one type per axis)");
        if (ax->is_string) {
            if (pf_pj_string(c, x, path, (int)i, text, sizeof text))
                return -1;
            if (!value_chars_ok(text))
                return pf_pj_fail(c, path, (int)i,
                                  "'%s': use letters, digits, _ - . and inner spaces", text);
        } else {
            int64_t k;
            if (pf_pj_int(c, x, path, (int)i, 0, INT64_MAX, &k))
                return -1;
            snprintf(text, sizeof text, "%" PRId64, k);
        }
        if (add_value(c, path, (int)i, ax, text))
            return -1;
    }
    return 0;
}

/* {"range": [lo, hi], "step": s} or {"pow2": [lo, hi]}. */
static int parse_generated(const pf_pj *c, const char *path, const json_t *v, pf_profile_axis *ax)
{
    static const char *const range_keys[] = {"range", "step", NULL}, *const pow2_keys[] = {"pow2", NULL};
    const json_t *range = json_object_get(v, "range"), *pow2 = json_object_get(v, "pow2");
    if (!range == !pow2)
        return pf_pj_fail(c, path, -1, "%s", range ? "give \"range\" or \"pow2\", not both"
                          : "must be a list of values, {\"range\": [lo, hi]} or {\"pow2\": [lo, hi]}");
    if (pf_pj_keys(c, v, path, range ? range_keys : pow2_keys))
        return -1;
    char sub[96], step_path[96];
    pf_pj_path(sub, sizeof sub, path, range ? "range" : "pow2");
    const json_t *bounds = range ? range : pow2;
    if (!json_is_array(bounds) || json_array_size(bounds) != 2)
        return pf_pj_fail(c, sub, -1, "must be [lo, hi]");
    int64_t lo, hi, step = 1;
    if (pf_pj_int(c, json_array_get(bounds, 0), sub, 0, range ? 0 : 1, INT64_MAX / 2, &lo) ||
        pf_pj_int(c, json_array_get(bounds, 1), sub, 1, range ? 0 : 1, INT64_MAX / 2, &hi))
        return -1;
    if (lo > hi)
        return pf_pj_fail(c, sub, -1, "lo %" PRId64 " is above hi %" PRId64, lo, hi);
    if (pow2 && (lo & (lo - 1)))
        return pf_pj_fail(c, sub, 0, "%" PRId64 " is not a power of two", lo);
    if (pow2 && (hi & (hi - 1)))
        return pf_pj_fail(c, sub, 1, "%" PRId64 " is not a power of two", hi);
    if (range && json_object_get(v, "step") &&
        pf_pj_int(c, json_object_get(v, "step"), pf_pj_path(step_path, sizeof step_path, path, "step"),
                  -1, 1, INT64_MAX, &step))
        return -1;
    if (range && (hi - lo) / step >= PF_PROFILE_MAX_VALUES)
        return pf_pj_fail(c, sub, -1, "gives %" PRId64 " values (at most %d)", (hi - lo) / step + 1,
                          PF_PROFILE_MAX_VALUES);
    ax->is_string = 0;
    for (int64_t x = lo; x <= hi; x = pow2 ? 2 * x : x + step) {
        char text[24];
        snprintf(text, sizeof text, "%" PRId64, x);
        if (add_value(c, path, -1, ax, text))
            return -1;
        if (hi - x < (pow2 ? x : step)) /* the next value would pass hi (or overflow) */
            break;
    }
    return 0;
}

int pf_profile_parse_axes(const pf_pj *c, const json_t *v, pf_profile *p)
{
    if (!v)
        return 0; /* every axis of the family with its own values */
    if (pf_pj_object(c, v, "axes"))
        return -1;
    if (json_object_size(v) == 0)
        return pf_pj_fail(c, "axes", -1, "must not be empty (leave it out to sweep every axis)");
    if (json_object_size(v) > PF_PROFILE_MAX_AXES)
        return pf_pj_fail(c, "axes", -1, "too many axes (%zu, at most %d)", json_object_size(v),
                          PF_PROFILE_MAX_AXES);
    const char *name;
    json_t *x;
    json_object_foreach((json_t *)v, name, x) {
        char path[96];
        pf_pj_path(path, sizeof path, "axes", name);
        if (check_axis_name(c, path, name))
            return -1;
        pf_profile_axis *ax = &p->axes[p->n_axes++];
        snprintf(ax->name, sizeof ax->name, "%s", name);
        if (json_is_object(x) ? parse_generated(c, path, x, ax) : parse_list(c, path, x, ax))
            return -1;
    }
    return 0;
}

int pf_profile_parse_constraints(const pf_pj *c, const json_t *v, pf_profile *p)
{
    size_t n, n_names = 0;
    if (!v)
        return 0;
    if (pf_pj_list(c, v, "constraints", PF_PROFILE_MAX_CONSTRAINTS, &n))
        return -1;
    const char **names = NULL;
    if (c->axis_names) { /* the family's axes plus SEQ_LEN */
        while (c->axis_names[n_names])
            n_names++;
        names = malloc((n_names + 2) * sizeof *names);
        if (!names)
            return pf_pj_fail(c, "constraints", -1, "out of memory");
        memcpy(names, c->axis_names, n_names * sizeof *names);
        names[n_names] = "SEQ_LEN";
        names[n_names + 1] = NULL;
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char *text = p->constraints[i];
        rc = pf_pj_string(c, json_array_get(v, i), "constraints", (int)i, text,
                          sizeof p->constraints[0]);
        pf_expr *e = rc ? NULL : pf_expr_parse(text, names);
        if (!rc && !e)
            rc = pf_pj_fail_error(c, "constraints", (int)i);
        pf_expr_free(e);
    }
    free(names);
    p->n_constraints = rc ? 0 : (int)n;
    return rc;
}
