/* Reading a tuned.json into an export plan (export_plan.h). */
#include "export/export_plan.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attention/mask_encode.h"
#include "attention/mask_rule.h"
#include "core/pf_error.h"

void pf_export_plan_free(pf_export_plan *plan)
{
    for (int i = 0; i < plan->n_entries; i++)
        free(plan->entries[i].buckets);
    free(plan->entries);
    free(plan->kernels);
    memset(plan, 0, sizeof *plan);
}

/* "attn_d64_m64_n64_w4_s2_bitmap_i32_skip1": readable, one per variant;
 * "_wr32" appended where the variant sets WARP_ROWS. */
static void kernel_name(const pf_attn_variant *v, char *out, size_t size)
{
    char wr[16] = "";
    if (v->warp_rows)
        snprintf(wr, sizeof wr, "_wr%d", v->warp_rows);
    snprintf(out, size, "attn_d%d_m%d_n%d_w%d_s%d_%s_i%d_skip%d%s", v->head_dim, v->block_m,
             v->block_n, v->warps, v->stages, pf_storage_name(v->mask_storage),
             v->indptr64 ? 64 : 32, v->tile_skip, wr);
}

static int get_int(const json_t *o, const char *key, const char *where, long lo, long hi,
                   long *out)
{
    const json_t *x = json_object_get(o, key);
    if (!json_is_integer(x) || json_integer_value(x) < lo || json_integer_value(x) > hi)
        return pf_error_set("%s.%s: must be an integer in %ld..%ld", where, key, lo, hi);
    *out = (long)json_integer_value(x);
    return 0;
}

static int get_str(const json_t *o, const char *key, const char *where, char *out, size_t size)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (!s || !*s || strlen(s) >= size)
        return pf_error_set("%s.%s: must be a non-empty string (under %zu bytes)", where, key,
                            size);
    snprintf(out, size, "%s", s);
    return 0;
}

/* The kernel index of `text` (added if new), checked valid on every arch. */
static int add_kernel(pf_export_plan *p, const char *text, int head_dim, const char (*archs)[16],
                      int n_archs, const char *where, int *index)
{
    pf_attn_variant v;
    if (pf_attn_variant_parse(text, head_dim, n_archs ? archs[0] : NULL, &v) < 0)
        return pf_error_prefix("%s", where);
    if (v.head_dim != head_dim)
        return pf_error_set("%s: HEAD_DIM=%d differs from the entry's head_dim %d", where,
                            v.head_dim, head_dim);
    for (int a = 0; a < n_archs; a++) {
        char arch[16], why[256];
        snprintf(arch, sizeof arch, "%s", archs[a]);
        size_t n = strlen(arch);
        if (n > 0 && arch[n - 1] == 'a')
            arch[n - 1] = '\0'; /* sm_90a has sm_90's limits */
        if (!pf_attn_variant_valid(&v, arch, why, sizeof why))
            return pf_error_set("%s: not a valid variant on %s: %s (drop %s from --arch)", where,
                                archs[a], why, archs[a]);
    }
    for (int k = 0; k < p->n_kernels; k++)
        if (pf_attn_variant_equal(&p->kernels[k].v, &v)) {
            *index = k;
            return 0;
        }
    pf_export_kernel *ks = realloc(p->kernels, (size_t)(p->n_kernels + 1) * sizeof *ks);
    if (!ks)
        return pf_error_set("out of memory");
    p->kernels = ks;
    pf_export_kernel *k = &ks[p->n_kernels];
    memset(k, 0, sizeof *k);
    k->v = v;
    kernel_name(&v, k->name, sizeof k->name);
    pf_attn_variant_to_string(&v, k->variant, sizeof k->variant);
    *index = p->n_kernels++;
    return 0;
}

static double opt_number(const json_t *o, const char *key)
{
    const json_t *x = json_object_get(o, key);
    return json_is_number(x) ? json_number_value(x) : -1.0;
}

static int read_bucket(pf_export_plan *p, pf_export_entry *e, const json_t *b, const char *where,
                       const char (*archs)[16], int n_archs, pf_export_bucket *out)
{
    long seq;
    char variant[512], w[128];
    if (!json_is_object(b))
        return pf_error_set("%s: must be an object", where);
    if (get_int(b, "seq_len", where, 1, 1L << 40, &seq) < 0 ||
        get_str(b, "variant", where, variant, sizeof variant) < 0)
        return -1;
    out->seq_len = seq;
    snprintf(w, sizeof w, "%s.variant", where);
    if (add_kernel(p, variant, e->head_dim, archs, n_archs, w, &out->kernel) < 0)
        return -1;
    out->median_ms = opt_number(b, "median_ms");
    out->useful_tflops = opt_number(b, "useful_tflops");
    const char *t = json_string_value(json_object_get(b, "timer"));
    snprintf(out->timer, sizeof out->timer, "%s", t ? t : "unknown");
    if (!t || strcmp(t, "emu-host") == 0 || strcmp(t, "host") == 0)
        p->host_timed = 1;
    for (int i = 0; i < e->n_buckets; i++)
        if (e->buckets[i].seq_len == out->seq_len)
            return pf_error_set("%s.seq_len: %lld appears twice in this entry", where,
                                (long long)out->seq_len);
    return 0;
}

static int read_entry(pf_export_plan *p, const json_t *e, int idx, const char (*archs)[16],
                      int n_archs)
{
    char where[64], layer[16], rule[32];
    snprintf(where, sizeof where, "entries[%d]", idx);
    pf_export_entry *en = &p->entries[idx];
    long hd, win, hq, hkv;
    if (!json_is_object(e))
        return pf_error_set("%s: must be an object", where);
    const char *model = json_string_value(json_object_get(e, "model"));
    snprintf(en->model, sizeof en->model, "%s", model ? model : "");
    pf_rule r;
    pf_layer l;
    if (get_str(e, "layer", where, layer, sizeof layer) < 0 ||
        get_str(e, "rule", where, rule, sizeof rule) < 0 ||
        get_int(e, "head_dim", where, 1, 4096, &hd) < 0 ||
        get_int(e, "window", where, 0, 1L << 30, &win) < 0 ||
        get_int(e, "hq", where, 1, 65535, &hq) < 0 || get_int(e, "hkv", where, 1, 65535, &hkv) < 0)
        return -1;
    if (pf_layer_parse(layer, &l) < 0 || pf_rule_parse(rule, &r) < 0)
        return pf_error_prefix("%s", where);
    if (!pf_attn_head_dim_supported((int)hd))
        return pf_error_set("%s.head_dim: %ld is not a supported head dim", where, hd);
    pf_mask_spec spec = {r, l, (int)win};
    if (pf_mask_spec_check(&spec) < 0)
        return pf_error_prefix("%s", where);
    en->layer = l;
    en->rule = r;
    en->head_dim = (int)hd;
    en->window = (int)win;
    en->hq = (int)hq;
    en->hkv = (int)hkv;
    const json_t *bs = json_object_get(e, "buckets");
    if (!json_is_array(bs) || json_array_size(bs) == 0)
        return pf_error_set("%s.buckets: must be a non-empty array", where);
    en->buckets = calloc(json_array_size(bs), sizeof *en->buckets);
    if (!en->buckets)
        return pf_error_set("out of memory");
    size_t i;
    const json_t *b;
    json_array_foreach(bs, i, b)
    {
        char bw[96];
        snprintf(bw, sizeof bw, "%s.buckets[%zu]", where, i);
        if (read_bucket(p, en, b, bw, archs, n_archs, &en->buckets[i]) < 0)
            return -1;
        en->n_buckets++;
    }
    return 0;
}

int pf_export_plan_read(const char *path, const char (*archs)[16], int n_archs,
                        pf_export_plan *out)
{
    memset(out, 0, sizeof *out);
    json_error_t err;
    json_t *doc = json_load_file(path, 0, &err);
    if (!doc)
        return pf_error_set("%s: not a JSON tuned configuration: %s (line %d)", path, err.text,
                            err.line);
    int rc = 0;
    const char *schema = json_string_value(json_object_get(doc, "schema"));
    const json_t *entries = json_object_get(doc, "entries");
    if (!schema || strcmp(schema, "pftune.tuned/1") != 0)
        rc = pf_error_set("schema '%s' is not pftune.tuned/1 (export reads the tuned.json "
                          "of `pftune tune` or `pftune merge`)", schema ? schema : "missing");
    else if (!json_is_array(entries) || json_array_size(entries) == 0)
        rc = pf_error_set("no entries to export (did the sweep record no ok point?)");
    else if (get_str(doc, "device", "tuned", out->device, sizeof out->device) < 0)
        rc = -1;
    if (!rc) {
        const char *a = json_string_value(json_object_get(doc, "arch"));
        const char *b = json_string_value(json_object_get(doc, "backend"));
        snprintf(out->arch, sizeof out->arch, "%s", a ? a : "");
        snprintf(out->backend, sizeof out->backend, "%s", b ? b : "");
        out->entries = calloc(json_array_size(entries), sizeof *out->entries);
        if (!out->entries)
            rc = pf_error_set("out of memory");
    }
    size_t i;
    const json_t *e;
    if (!rc)
        json_array_foreach(entries, i, e)
        {
            out->n_entries++; /* freed with the plan even when half read */
            if ((rc = read_entry(out, e, (int)i, archs, n_archs)) < 0)
                break;
        }
    json_decref(doc);
    if (rc) {
        pf_error_prefix("%s", path);
        pf_export_plan_free(out);
        return -1;
    }
    if (strcmp(out->backend, "emu") == 0)
        out->host_timed = 1;
    return 0;
}
