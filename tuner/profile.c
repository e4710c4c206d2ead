/* Workload profiles (tuner/profile.h): the top-level keys, the model (a
 * preset or an explicit shape) and its layer kinds, sequence lengths,
 * strategy, budget and measurement settings. Axes and constraints live in
 * profile_axes.c, workloads in profile_workload.c. */
#include "tuner/profile.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

#include "attention/mask_rule.h"
#include "measure/measure.h"
#include "models/presets.h"
#include "tuner/profile_parts.h"

/* Profiles are small hand-written files; a bigger one is a mistake. */
#define PF_PROFILE_MAX_BYTES (1 << 20)

static const char *const top_keys[] = {
    "family", "description", "model", "shape", "layers", "seq_lens", "workload", "requests",
    "axes", "constraints", "strategy", "seed", "budget", "measure", "keep_spills", "verify",
    NULL};

/* The attention shape of the model, per layer kind (PF_LAYER_FULL/SLIDING). */
typedef struct model_shape {
    int hq, hkv_sliding;
    int hkv[2], head_dim[2];
    float scale[2];
    int window, rule, image_tokens;
} model_shape;

static int parse_preset(const pf_pj *c, const json_t *v, pf_profile *p, model_shape *m)
{
    char name[64];
    if (pf_pj_string(c, v, "model", -1, name, sizeof name))
        return -1;
    const pf_model_preset *pr = pf_model_preset_find(name);
    if (!pr)
        return pf_pj_fail_error(c, "model", -1);
    snprintf(p->model, sizeof p->model, "%s", pr->name);
    *m = (model_shape){.hq = pr->hq, .hkv_sliding = pr->hkv,
                       .hkv = {pr->hkv_full, pr->hkv},
                       .head_dim = {pr->head_dim_full, pr->head_dim_sliding},
                       .scale = {pr->scale_full, pr->scale_sliding},
                       .window = pr->window, .rule = pr->rule, .image_tokens = pr->image_tokens};
    return 0;
}

/* The shape's scalar keys; the per-layer ones wait for "layers". */
static int parse_shape_scalars(const pf_pj *c, const json_t *v, model_shape *m)
{
    static const char *const keys[] = {"heads", "kv_heads", "head_dims", "window", "rule",
                                       "scale", "image_tokens", NULL};
    if (pf_pj_object(c, v, "shape") || pf_pj_keys(c, v, "shape", keys))
        return -1;
    static const char *const required[] = {"heads", "kv_heads", "head_dims"};
    for (int i = 0; i < 3; i++)
        if (!json_object_get(v, required[i])) {
            char path[64];
            return pf_pj_fail(c, pf_pj_path(path, sizeof path, "shape", required[i]), -1,
                              "missing (required in an explicit shape)");
        }
    const json_t *x;
    if (pf_pj_int32(c, json_object_get(v, "heads"), "shape.heads", -1, 1, 1024, &m->hq))
        return -1;
    if ((x = json_object_get(v, "window")) &&
        pf_pj_int32(c, x, "shape.window", -1, 0, (int)PF_LAYOUT_MAX_TOKENS, &m->window))
        return -1;
    if ((x = json_object_get(v, "image_tokens")) &&
        pf_pj_int32(c, x, "shape.image_tokens", -1, 0, 1 << 20, &m->image_tokens))
        return -1;
    m->rule = PF_RULE_CAUSAL;
    if ((x = json_object_get(v, "rule"))) {
        char rule[32];
        pf_rule r;
        if (pf_pj_string(c, x, "shape.rule", -1, rule, sizeof rule))
            return -1;
        if (pf_rule_parse(rule, &r))
            return pf_pj_fail_error(c, "shape.rule", -1);
        m->rule = r;
    }
    return 0;
}

/* One value for every layer kind, or a list with one per entry of "layers". */
static const json_t *per_layer(const pf_pj *c, const json_t *v, const char *key, int n_layers,
                               int i)
{
    if (!json_is_array(v))
        return v;
    if (json_array_size(v) != (size_t)n_layers) {
        pf_pj_fail(c, key, -1, "must be one value or a list of one per entry of \"layers\" (%d)",
                   n_layers);
        return NULL;
    }
    return json_array_get(v, (size_t)i);
}

static int parse_shape_layers(const pf_pj *c, const json_t *v, const pf_profile *p,
                              model_shape *m)
{
    const json_t *kv = json_object_get(v, "kv_heads"), *hd = json_object_get(v, "head_dims"),
                 *sc = json_object_get(v, "scale");
    for (int i = 0; i < p->n_layers; i++) {
        int layer = p->layers[i], idx = json_is_array(kv) ? i : -1;
        const json_t *x = per_layer(c, kv, "shape.kv_heads", p->n_layers, i);
        if (!x || pf_pj_int32(c, x, "shape.kv_heads", idx, 1, m->hq, &m->hkv[layer]))
            return -1;
        if (m->hq % m->hkv[layer])
            return pf_pj_fail(c, "shape.kv_heads", idx, "%d does not divide heads (%d)",
                              m->hkv[layer], m->hq);
        idx = json_is_array(hd) ? i : -1;
        if (!(x = per_layer(c, hd, "shape.head_dims", p->n_layers, i)) ||
            pf_pj_int32(c, x, "shape.head_dims", idx, 1, 1024, &m->head_dim[layer]))
            return -1;
        m->scale[layer] = 1.0f / sqrtf((float)m->head_dim[layer]);
        if (sc) {
            double s;
            idx = json_is_array(sc) ? i : -1;
            if (!(x = per_layer(c, sc, "shape.scale", p->n_layers, i)))
                return -1;
            if (!json_is_number(x) || !((s = json_number_value(x)) > 0) || s > 1e6)
                return pf_pj_fail(c, "shape.scale", idx, "must be a number > 0 and <= 1e6");
            m->scale[layer] = (float)s;
        }
    }
    /* p->hkv: the sliding layers' kv heads, as in the presets */
    m->hkv_sliding = m->hkv[p->layers[0]];
    for (int i = 0; i < p->n_layers; i++)
        if (p->layers[i] == PF_LAYER_SLIDING)
            m->hkv_sliding = m->hkv[PF_LAYER_SLIDING];
    return 0;
}

static int parse_layers(const pf_pj *c, const json_t *v, const model_shape *m, pf_profile *p)
{
    if (!v) { /* both kinds where the model has a window */
        p->layers[p->n_layers++] = PF_LAYER_FULL;
        if (m->window > 0 && m->rule != PF_RULE_BIDIRECTIONAL)
            p->layers[p->n_layers++] = PF_LAYER_SLIDING;
        return 0;
    }
    size_t n;
    if (pf_pj_list(c, v, "layers", 2, &n))
        return -1;
    for (size_t i = 0; i < n; i++) {
        char name[32];
        pf_layer layer;
        if (pf_pj_string(c, json_array_get(v, i), "layers", (int)i, name, sizeof name))
            return -1;
        if (pf_layer_parse(name, &layer))
            return pf_pj_fail_error(c, "layers", (int)i);
        if (i == 1 && (int)layer == p->layers[0])
            return pf_pj_fail(c, "layers", 1, "duplicate of [0]");
        pf_mask_spec spec = {(pf_rule)m->rule, layer, m->window};
        if (layer == PF_LAYER_SLIDING && m->window <= 0)
            return pf_pj_fail(c, "layers", (int)i, "\"sliding\" needs a model with a window");
        if (pf_mask_spec_check(&spec))
            return pf_pj_fail_error(c, "layers", (int)i);
        p->layers[p->n_layers++] = layer;
    }
    return 0;
}

static int parse_model(const pf_pj *c, const json_t *root, pf_profile *p)
{
    const json_t *model = json_object_get(root, "model"), *shape = json_object_get(root, "shape");
    model_shape m;
    memset(&m, 0, sizeof m);
    if (model && shape)
        return pf_pj_fail(c, "shape", -1, "give \"model\" or \"shape\", not both");
    if (!model && !shape)
        return pf_pj_fail(c, "model", -1, "missing: name a preset or give an explicit \"shape\"");
    if (model ? parse_preset(c, model, p, &m) : parse_shape_scalars(c, shape, &m))
        return -1;
    if (parse_layers(c, json_object_get(root, "layers"), &m, p))
        return -1;
    if (shape && parse_shape_layers(c, shape, p, &m))
        return -1;
    p->hq = m.hq;
    p->hkv = m.hkv_sliding;
    p->window = m.window;
    p->rule = m.rule;
    p->image_tokens = m.image_tokens; /* the workload's default, overridden there */
    for (int i = 0; i < p->n_layers; i++) {
        int layer = p->layers[i], d = m.head_dim[layer];
        p->head_dim_of_layer[i] = d;
        p->hkv_of_layer[i] = m.hkv[layer];
        p->scale_of_layer[i] = m.scale[layer];
        int seen = 0;
        for (int j = 0; j < p->n_head_dims; j++)
            seen |= p->head_dims[j] == d;
        if (!seen)
            p->head_dims[p->n_head_dims++] = d;
    }
    return 0;
}

static int parse_seq_lens(const pf_pj *c, const json_t *v, pf_profile *p)
{
    size_t n;
    if (!v)
        return pf_pj_fail(c, "seq_lens", -1, "missing (required: the sequence lengths to tune)");
    if (pf_pj_list(c, v, "seq_lens", PF_PROFILE_MAX_SEQS, &n))
        return -1;
    for (size_t i = 0; i < n; i++) {
        int64_t s;
        if (pf_pj_int(c, json_array_get(v, i), "seq_lens", (int)i, 1, PF_LAYOUT_MAX_TOKENS, &s))
            return -1;
        for (size_t j = 0; j < i; j++)
            if (p->seq_lens[j] == s)
                return pf_pj_fail(c, "seq_lens", (int)i, "duplicate of [%zu]", j);
        p->seq_lens[p->n_seqs++] = s;
    }
    return 0;
}

static int parse_strategy(const pf_pj *c, const json_t *root, pf_profile *p)
{
    const json_t *v;
    if ((v = json_object_get(root, "strategy"))) {
        if (pf_pj_string(c, v, "strategy", -1, p->strategy, sizeof p->strategy))
            return -1;
        for (const char *s = p->strategy; *s; s++)
            if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
                return pf_pj_fail(c, "strategy", -1,
                                  "must be a strategy name (exhaustive, random, anneal, model)");
    }
    int64_t seed;
    if ((v = json_object_get(root, "seed"))) {
        if (pf_pj_int(c, v, "seed", -1, 0, INT64_MAX, &seed))
            return -1;
        p->seed = (uint64_t)seed;
    }
    if (!(v = json_object_get(root, "budget")))
        return 0;
    static const char *const keys[] = {"evals", "seconds", NULL};
    if (pf_pj_object(c, v, "budget") || pf_pj_keys(c, v, "budget", keys))
        return -1;
    const json_t *x;
    if ((x = json_object_get(v, "evals")) &&
        pf_pj_int32(c, x, "budget.evals", -1, 0, INT32_MAX, &p->budget_evals))
        return -1;
    if ((x = json_object_get(v, "seconds")) &&
        pf_pj_real(c, x, "budget.seconds", 0, 0, 1e9, &p->budget_seconds))
        return -1;
    return 0;
}

static int parse_measure(const pf_pj *c, const json_t *v, pf_profile *p)
{
    static const char *const keys[] = {"warmup", "min_samples", "max_samples", "stdrel",
                                       "max_seconds", "flush_l2", NULL};
    if (!v)
        return 0;
    if (pf_pj_object(c, v, "measure") || pf_pj_keys(c, v, "measure", keys))
        return -1;
    const json_t *x;
    if (((x = json_object_get(v, "warmup")) &&
         pf_pj_int32(c, x, "measure.warmup", -1, 0, 100000, &p->warmup)) ||
        ((x = json_object_get(v, "min_samples")) &&
         pf_pj_int32(c, x, "measure.min_samples", -1, 1, 1000000, &p->min_samples)) ||
        ((x = json_object_get(v, "max_samples")) &&
         pf_pj_int32(c, x, "measure.max_samples", -1, 1, 1000000, &p->max_samples)) ||
        ((x = json_object_get(v, "stdrel")) &&
         pf_pj_real(c, x, "measure.stdrel", 0, 0, 1, &p->stdrel)) ||
        ((x = json_object_get(v, "max_seconds")) &&
         pf_pj_real(c, x, "measure.max_seconds", 0, 1, 86400, &p->max_seconds)) ||
        ((x = json_object_get(v, "flush_l2")) && pf_pj_bool(c, x, "measure.flush_l2", &p->flush_l2)))
        return -1;
    if (p->max_samples < p->min_samples)
        return pf_pj_fail(c, json_object_get(v, "max_samples") ? "measure.max_samples"
                                                                : "measure.min_samples",
                          -1, "max_samples %d is below min_samples %d", p->max_samples,
                          p->min_samples);
    return 0;
}

static void set_defaults(pf_profile *p)
{
    memset(p, 0, sizeof *p);
    snprintf(p->strategy, sizeof p->strategy, "exhaustive");
    p->seed = 1;
    p->requests = 1;
    p->verify = 1;
    pf_measure_opts m;
    pf_measure_defaults(&m);
    p->warmup = m.warmup;
    p->min_samples = m.min_samples;
    p->max_samples = m.max_samples;
    p->stdrel = m.stdrel;
    p->max_seconds = m.max_seconds;
    p->flush_l2 = m.flush_l2;
}

static int parse_root(const pf_pj *c, const json_t *root, pf_profile *p)
{
    const json_t *v;
    if (!json_is_object(root))
        return pf_pj_fail(c, NULL, -1, "must be a JSON object");
    if (pf_pj_keys(c, root, NULL, top_keys))
        return -1;
    if (!(v = json_object_get(root, "family")))
        return pf_pj_fail(c, "family", -1, "missing (required: \"attention\")");
    if (pf_pj_string(c, v, "family", -1, p->family, sizeof p->family))
        return -1;
    if (strcmp(p->family, "attention") != 0)
        return pf_pj_fail(c, "family", -1, "unknown family '%s' (known: attention)", p->family);
    if ((v = json_object_get(root, "description")) &&
        pf_pj_string(c, v, "description", -1, p->description, sizeof p->description))
        return -1;
    if (parse_model(c, root, p) || parse_seq_lens(c, json_object_get(root, "seq_lens"), p))
        return -1;
    const json_t *req = json_object_get(root, "requests");
    if (req && pf_pj_int32(c, req, "requests", -1, 1, PF_LAYOUT_MAX_REQUESTS, &p->requests))
        return -1;
    if (pf_profile_parse_workload(c, json_object_get(root, "workload"), req != NULL, p) ||
        pf_profile_parse_axes(c, json_object_get(root, "axes"), p) ||
        pf_profile_parse_constraints(c, json_object_get(root, "constraints"), p) ||
        parse_strategy(c, root, p) || parse_measure(c, json_object_get(root, "measure"), p))
        return -1;
    if ((v = json_object_get(root, "keep_spills")) && pf_pj_bool(c, v, "keep_spills", &p->keep_spills))
        return -1;
    if ((v = json_object_get(root, "verify")) && pf_pj_bool(c, v, "verify", &p->verify))
        return -1;
    return 0;
}

static int parse_in(const char *text, size_t len, const char *name, const char *base_dir,
                    const char *const *axis_names, pf_profile *out)
{
    pf_pj c = {.base_dir = base_dir, .axis_names = axis_names};
    pf_pj_clean(name ? name : "(string)", c.name, sizeof c.name);
    pf_profile p;
    set_defaults(&p);
    if (len > PF_PROFILE_MAX_BYTES)
        return pf_pj_fail(&c, NULL, -1, "%zu bytes is too big for a profile (at most %d)", len,
                          PF_PROFILE_MAX_BYTES);
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        char what[sizeof jerr.text];
        snprintf(what, sizeof what, "%s", jerr.text);
        for (char *w = what; *w; w++) /* jansson quotes the input near the error */
            *w = (unsigned char)*w < 0x20 || (unsigned char)*w >= 0x7f ? '?' : *w;
        return pf_pj_fail(&c, NULL, -1, "line %d, column %d: %s", jerr.line, jerr.column, what);
    }
    int rc = parse_root(&c, root, &p);
    json_decref(root);
    if (rc)
        return -1;
    p.hash = XXH3_64bits(text, len);
    *out = p;
    return 0;
}

int pf_profile_parse(const char *text, size_t len, const char *name,
                     const char *const *axis_names, pf_profile *out)
{
    return parse_in(text, len, name, NULL, axis_names, out);
}

int pf_profile_load(const char *path, const char *const *axis_names, pf_profile *out)
{
    char shown[160];
    pf_pj_clean(path, shown, sizeof shown);
    FILE *f = fopen(path, "rb");
    if (!f)
        return pf_error_set("profile %s: cannot open: %s", shown, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return pf_error_set("profile %s: not a regular file", shown);
    }
    if (st.st_size > PF_PROFILE_MAX_BYTES) {
        fclose(f);
        return pf_error_set("profile %s: %lld bytes is too big for a profile (at most %d)", shown,
                            (long long)st.st_size, PF_PROFILE_MAX_BYTES);
    }
    char *text = malloc((size_t)st.st_size + 1);
    size_t len = text ? fread(text, 1, (size_t)st.st_size, f) : 0;
    int bad = !text || ferror(f) || len != (size_t)st.st_size;
    fclose(f);
    if (bad) {
        free(text);
        return pf_error_set("profile %s: cannot read the file", shown);
    }
    /* relative layout files are found beside the profile */
    char dir[512];
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    if (slash == path)
        snprintf(dir, sizeof dir, "/");
    int rc = parse_in(text, len, path, dir, axis_names, out);
    free(text);
    return rc;
}
