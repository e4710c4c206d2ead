/* Greedy covering subsets (see covering.h). Requirements are numbered
 * densely: first one slot per (factor, value), then one per (pair, value a,
 * value b); an item meets at most n_factors + n_pairs of them. */
#include "attention/covering.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attention/attn_variant.h"
#include "core/pf_error.h"

typedef struct req_space {
    int *n_values;   /* per factor: max value id + 1 */
    int *factor_off; /* per factor: first slot */
    int *pair_off;   /* per pair: first slot */
    int total;
} req_space;

static void req_space_free(req_space *s)
{
    free(s->n_values);
    free(s->factor_off);
    free(s->pair_off);
}

static int problem_check(const pf_cover_problem *p)
{
    if (!p || p->n_items < 0 || p->n_factors <= 0 || (p->n_items > 0 && !p->values) ||
        p->n_pairs < 0 || (p->n_pairs > 0 && !p->pairs))
        return pf_error_set("covering: malformed problem");
    for (int j = 0; j < p->n_pairs; j++)
        for (int e = 0; e < 2; e++)
            if (p->pairs[j][e] < 0 || p->pairs[j][e] >= p->n_factors)
                return pf_error_set("covering: pair %d names factor %d of %d", j, p->pairs[j][e],
                                    p->n_factors);
    for (long i = 0; i < (long)p->n_items * p->n_factors; i++)
        if (p->values[i] < -1)
            return pf_error_set("covering: negative value id %d", p->values[i]);
    return 0;
}

static int req_space_init(const pf_cover_problem *p, req_space *s)
{
    memset(s, 0, sizeof *s);
    s->n_values = calloc((size_t)p->n_factors, sizeof(int));
    s->factor_off = calloc((size_t)p->n_factors, sizeof(int));
    s->pair_off = calloc((size_t)p->n_pairs + 1, sizeof(int));
    if (!s->n_values || !s->factor_off || !s->pair_off) {
        req_space_free(s);
        return pf_error_set("covering: out of memory");
    }
    for (int i = 0; i < p->n_items; i++)
        for (int f = 0; f < p->n_factors; f++) {
            int v = p->values[(long)i * p->n_factors + f];
            if (v + 1 > s->n_values[f])
                s->n_values[f] = v + 1;
        }
    long total = 0;
    for (int f = 0; f < p->n_factors; f++) {
        s->factor_off[f] = (int)total;
        total += s->n_values[f];
    }
    for (int j = 0; j < p->n_pairs; j++) {
        s->pair_off[j] = (int)total;
        total += (long)s->n_values[p->pairs[j][0]] * s->n_values[p->pairs[j][1]];
    }
    if (total > 100000000L) {
        req_space_free(s);
        return pf_error_set("covering: too many value combinations (%ld)", total);
    }
    s->total = (int)total;
    return 0;
}

/* The requirement slots item i meets; returns how many were written. */
static int item_reqs(const pf_cover_problem *p, const req_space *s, int i, int *out)
{
    const int *row = p->values + (long)i * p->n_factors;
    int n = 0;
    for (int f = 0; f < p->n_factors; f++)
        if (row[f] >= 0)
            out[n++] = s->factor_off[f] + row[f];
    for (int j = 0; j < p->n_pairs; j++) {
        int a = row[p->pairs[j][0]], b = row[p->pairs[j][1]];
        if (a >= 0 && b >= 0)
            out[n++] = s->pair_off[j] + a * s->n_values[p->pairs[j][1]] + b;
    }
    return n;
}

int pf_cover_select(const pf_cover_problem *p, int *out, int max_out)
{
    if (problem_check(p) < 0)
        return -1;
    req_space s;
    if (req_space_init(p, &s) < 0)
        return -1;
    int per_item = p->n_factors + p->n_pairs;
    unsigned char *covered = calloc((size_t)s.total + 1, 1);
    unsigned char *taken = calloc((size_t)p->n_items + 1, 1);
    int *reqs = malloc(sizeof(int) * (size_t)per_item);
    int n_sel = 0, rc = 0;
    if (!covered || !taken || !reqs) {
        rc = pf_error_set("covering: out of memory");
        goto done;
    }
    for (;;) {
        int best = -1, best_gain = 0;
        for (int i = 0; i < p->n_items; i++) {
            if (taken[i])
                continue;
            int n = item_reqs(p, &s, i, reqs), gain = 0;
            for (int r = 0; r < n; r++)
                gain += !covered[reqs[r]];
            if (gain > best_gain) {
                best_gain = gain;
                best = i;
            }
        }
        if (best < 0)
            break; /* every requirement some item meets is covered */
        if (n_sel >= max_out) {
            rc = pf_error_set("covering: selection needs more than %d items", max_out);
            goto done;
        }
        taken[best] = 1;
        out[n_sel++] = best;
        int n = item_reqs(p, &s, best, reqs);
        for (int r = 0; r < n; r++)
            covered[reqs[r]] = 1;
    }
done:
    free(covered);
    free(taken);
    free(reqs);
    req_space_free(&s);
    return rc < 0 ? -1 : n_sel;
}

/* Describe requirement slot r for a message. */
static void describe_req(const pf_cover_problem *p, const req_space *s, int r, char *why,
                         size_t n)
{
    for (int f = 0; f < p->n_factors; f++)
        if (r >= s->factor_off[f] && r < s->factor_off[f] + s->n_values[f]) {
            snprintf(why, n, "factor %d value %d never selected", f, r - s->factor_off[f]);
            return;
        }
    for (int j = 0; j < p->n_pairs; j++) {
        int nb = s->n_values[p->pairs[j][1]];
        int span = s->n_values[p->pairs[j][0]] * nb;
        if (r >= s->pair_off[j] && r < s->pair_off[j] + span) {
            int k = r - s->pair_off[j];
            snprintf(why, n, "pair (factor %d = %d, factor %d = %d) never selected",
                     p->pairs[j][0], k / nb, p->pairs[j][1], k % nb);
            return;
        }
    }
    snprintf(why, n, "requirement %d never selected", r);
}

int pf_cover_check(const pf_cover_problem *p, const int *sel, int n_sel, char *why,
                   size_t why_size)
{
    if (problem_check(p) < 0 || n_sel < 0 || (n_sel > 0 && !sel))
        return -1;
    for (int i = 0; i < n_sel; i++)
        if (sel[i] < 0 || sel[i] >= p->n_items)
            return pf_error_set("covering: selected index %d out of range", sel[i]);
    req_space s;
    if (req_space_init(p, &s) < 0)
        return -1;
    int per_item = p->n_factors + p->n_pairs;
    unsigned char *present = calloc((size_t)s.total + 1, 1);
    unsigned char *covered = calloc((size_t)s.total + 1, 1);
    int *reqs = malloc(sizeof(int) * (size_t)per_item);
    int result = 1;
    if (!present || !covered || !reqs) {
        result = pf_error_set("covering: out of memory");
        goto done;
    }
    for (int i = 0; i < p->n_items; i++) {
        int n = item_reqs(p, &s, i, reqs);
        for (int r = 0; r < n; r++)
            present[reqs[r]] = 1;
    }
    for (int i = 0; i < n_sel; i++) {
        int n = item_reqs(p, &s, sel[i], reqs);
        for (int r = 0; r < n; r++)
            covered[reqs[r]] = 1;
    }
    for (int r = 0; r < s.total; r++)
        if (present[r] && !covered[r]) {
            if (why && why_size)
                describe_req(p, &s, r, why, why_size);
            result = 0;
            break;
        }
done:
    free(present);
    free(covered);
    free(reqs);
    req_space_free(&s);
    return result;
}

int pf_cover_enumerate(const int *sizes, int n_axes, pf_cover_valid_fn valid, void *ctx,
                       int **rows)
{
    *rows = NULL;
    if (n_axes <= 0 || !sizes)
        return pf_error_set("covering: no axes");
    long total = 1;
    for (int a = 0; a < n_axes; a++) {
        if (sizes[a] <= 0)
            return pf_error_set("covering: axis %d has no values", a);
        total *= sizes[a];
        if (total > 10000000L)
            return pf_error_set("covering: cartesian product too large");
    }
    int *out = malloc(sizeof(int) * (size_t)(total * n_axes));
    int *idx = calloc((size_t)n_axes, sizeof(int));
    if (!out || !idx) {
        free(out);
        free(idx);
        return pf_error_set("covering: out of memory");
    }
    int count = 0;
    for (long c = 0; c < total; c++) {
        long rest = c;
        for (int a = n_axes - 1; a >= 0; a--) {
            idx[a] = (int)(rest % sizes[a]);
            rest /= sizes[a];
        }
        if (!valid || valid(idx, ctx))
            memcpy(out + (long)count++ * n_axes, idx, sizeof(int) * (size_t)n_axes);
    }
    free(idx);
    *rows = out;
    return count;
}

/* ---- factor tables from key=value strings ---- */

static int add_factor(pf_cover_table *t, const char *name)
{
    if (t->n_factors >= PF_COVER_MAX_FACTORS)
        return pf_error_set("covering: more than %d factors", PF_COVER_MAX_FACTORS);
    snprintf(t->names[t->n_factors], sizeof t->names[0], "%s", name);
    return t->n_factors++;
}

int pf_cover_table_factor(const pf_cover_table *t, const char *name)
{
    for (int f = 0; f < t->n_factors; f++)
        if (strcmp(t->names[f], name) == 0)
            return f;
    return -1;
}

/* Value id of `text` for factor f, adding it when new. */
static int value_id(pf_cover_table *t, int f, const char *text)
{
    for (int v = 0; v < t->n_value_names[f]; v++)
        if (strcmp(t->value_names[f][v], text) == 0)
            return v;
    char **grown = realloc(t->value_names[f], sizeof(char *) * (size_t)(t->n_value_names[f] + 1));
    if (!grown)
        return pf_error_set("covering: out of memory");
    t->value_names[f] = grown;
    if (!(grown[t->n_value_names[f]] = strdup(text)))
        return pf_error_set("covering: out of memory");
    return t->n_value_names[f]++;
}

/* Value text of `key` in a "K=V,K=V" string, copied to out; 0 if found. */
static int lookup_key(const char *item, const char *key, char *out, size_t n)
{
    size_t klen = strlen(key);
    const char *p = item;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
            size_t vlen = len - klen - 1;
            if (vlen >= n)
                vlen = n - 1;
            memcpy(out, p + klen + 1, vlen);
            out[vlen] = 0;
            return 0;
        }
        p += len + (end ? 1 : 0);
    }
    return -1;
}

/* Collect factor names from all items' keys (in order of first use). */
static int collect_keys(pf_cover_table *t, const char *const *items, int n_items)
{
    for (int i = 0; i < n_items; i++) {
        const char *p = items[i];
        while (*p) {
            const char *end = strchr(p, ',');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            const char *eq = memchr(p, '=', len);
            if (!eq || eq == p || eq - p >= 64)
                return pf_error_set("covering: malformed item '%s'", items[i]);
            char key[64];
            memcpy(key, p, (size_t)(eq - p));
            key[eq - p] = 0;
            if (pf_cover_table_factor(t, key) < 0 && add_factor(t, key) < 0)
                return -1;
            p += len + (end ? 1 : 0);
        }
    }
    return 0;
}

int pf_cover_table_from_keyvals(const char *const *items, int n_items,
                                const char *const *compounds, int n_compounds,
                                pf_cover_table *t)
{
    memset(t, 0, sizeof *t);
    if (n_items < 0 || (n_items > 0 && !items))
        return pf_error_set("covering: no items");
    if (collect_keys(t, items, n_items) < 0)
        goto fail;
    int n_plain = t->n_factors;
    for (int c = 0; c < n_compounds; c++)
        if (add_factor(t, compounds[c]) < 0)
            goto fail;
    t->n_items = n_items;
    t->values = malloc(sizeof(int) * (size_t)(n_items > 0 ? n_items : 1) * (size_t)t->n_factors);
    if (!t->values) {
        pf_error_set("covering: out of memory");
        goto fail;
    }
    for (int i = 0; i < n_items; i++) {
        int *row = t->values + (long)i * t->n_factors;
        char val[256];
        for (int f = 0; f < n_plain; f++) {
            row[f] = -1;
            if (lookup_key(items[i], t->names[f], val, sizeof val) == 0 &&
                (row[f] = value_id(t, f, val)) < 0)
                goto fail;
        }
        for (int c = 0; c < n_compounds; c++) {
            /* "A+B+...": the value is the joined values of the parts */
            char spec[64], joined[512] = "";
            snprintf(spec, sizeof spec, "%s", compounds[c]);
            int missing = 0;
            for (char *save = NULL, *part = strtok_r(spec, "+", &save); part;
                 part = strtok_r(NULL, "+", &save)) {
                if (lookup_key(items[i], part, val, sizeof val) < 0) {
                    missing = 1;
                    break;
                }
                size_t used = strlen(joined);
                if (used + strlen(val) + 2 > sizeof joined)
                    break;
                snprintf(joined + used, sizeof joined - used, "%s%.255s", used ? "x" : "", val);
            }
            int f = n_plain + c;
            row[f] = -1;
            if (!missing && (row[f] = value_id(t, f, joined)) < 0)
                goto fail;
        }
    }
    return 0;
fail:
    pf_cover_table_free(t);
    return -1;
}

void pf_cover_table_free(pf_cover_table *t)
{
    free(t->values);
    for (int f = 0; f < PF_COVER_MAX_FACTORS; f++) {
        for (int v = 0; v < t->n_value_names[f]; v++)
            free(t->value_names[f][v]);
        free(t->value_names[f]);
    }
    memset(t, 0, sizeof *t);
}

int pf_attn_cover_variants(const pf_attn_variant *all, int n, pf_attn_variant *out)
{
    if (n <= 0)
        return 0;
    char **text = calloc((size_t)n, sizeof(char *));
    int *sel = malloc(sizeof(int) * (size_t)n);
    pf_cover_table t;
    memset(&t, 0, sizeof t);
    int k = -1;
    if (!text || !sel) {
        pf_error_set("covering: out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        char buf[256];
        pf_attn_variant_to_string(&all[i], buf, sizeof buf);
        if (!(text[i] = strdup(buf))) {
            pf_error_set("covering: out of memory");
            goto done;
        }
    }
    static const char *const compounds[] = {"BLOCK_M+BLOCK_N"};
    if (pf_cover_table_from_keyvals((const char *const *)text, n, compounds, 1, &t) < 0)
        goto done;
    int pairs[1][2] = {{pf_cover_table_factor(&t, "MASK_STORAGE"),
                        pf_cover_table_factor(&t, "BLOCK_M+BLOCK_N")}};
    if (pairs[0][0] < 0) {
        pf_error_set("covering: variant text has no MASK_STORAGE key");
        goto done;
    }
    pf_cover_problem p = {t.n_items, t.n_factors, t.values, 1, (const int(*)[2])pairs};
    k = pf_cover_select(&p, sel, n);
    for (int i = 0; i < k; i++)
        out[i] = all[sel[i]];
done:
    if (text)
        for (int i = 0; i < n; i++)
            free(text[i]);
    free(text);
    free(sel);
    pf_cover_table_free(&t);
    return k;
}
