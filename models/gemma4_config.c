/* Gemma-4 config.json reader (see gemma4_config.h). Defaults are HF
 * transformers 5.24's (Gemma4TextConfig, Gemma4VisionConfig, Gemma4Config,
 * configuration_gemma4.py); every error names the key with its section
 * ("text_config.num_experts"), through models/hf_config_json.h. */
#include "models/gemma4_config.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"
#include "models/hf_config_json.h"
#include "models/msg_clean.h"

/* Sizes beyond these are refused: they keep every derived product in int64
 * and the fuzz target's allocations bounded. */
#define MAX_DIM (1 << 20)
#define MAX_VOCAB (1 << 24)
#define MAX_ID (1 << 30)


/* Head dims the attention family has kernels for. */
static int head_dim_ok(int d)
{
    return d == 64 || d == 72 || d == 128 || d == 256 || d == 512;
}

static int check_head_dim(const pf_cfg_sect *s, const char *key, int d)
{
    if (!head_dim_ok(d))
        return pf_error_set("config: %s%s: %d has no attention kernel (64, 72, 128, 256, 512)",
                            s->pre, key, d);
    return 0;
}

/* One rope_parameters entry into r (defaults already set). */
static int rope_entry(const pf_cfg_sect *s, json_t *e, const char *name, pf_g4_rope *r)
{
    if (!json_is_object(e))
        return pf_error_set("config: %s%s: expected an object", s->pre, name);
    char pre[96];
    snprintf(pre, sizeof pre, "%s%s.", s->pre, name);
    pf_cfg_sect es = {e, pre};
    if (pf_cfg_num(&es, "rope_theta", r->theta, 1.0, 1e12, &r->theta))
        return -1;
    json_t *t = pf_cfg_get(&es, "rope_type");
    char tb[40];
    const char *type = t && json_is_string(t) ? pf_msg_clean(json_string_value(t), tb, sizeof tb)
                                              : "default"; /* HF's setdefault */
    if (t && !json_is_string(t))
        return pf_error_set("config: %srope_type: expected a string", pre);
    if (strcmp(type, "default") == 0) {
        r->proportional = 0;
        r->partial = 1.0;
        r->factor = 1.0;
        return 0;
    }
    if (strcmp(type, "proportional") != 0)
        return pf_error_set("config: %srope_type: \"%s\" is not supported (default, "
                            "proportional)", pre, type);
    r->proportional = 1;
    if (pf_cfg_num(&es, "partial_rotary_factor", 1.0, 0.0, 1.0, &r->partial) ||
        pf_cfg_num(&es, "factor", 1.0, 1e-3, 1e6, &r->factor))
        return -1;
    return 0;
}

static int read_rope(const pf_cfg_sect *s, pf_g4_text_config *t)
{
    t->rope_sliding = (pf_g4_rope){0, 1e4, 1.0, 1.0};
    t->rope_full = (pf_g4_rope){1, 1e6, 0.25, 1.0};
    json_t *rp = pf_cfg_get(s, "rope_parameters");
    if (!rp)
        return 0;
    if (!json_is_object(rp))
        return pf_error_set("config: %srope_parameters: expected an object", s->pre);
    const char *key;
    json_t *e;
    json_object_foreach(rp, key, e) {
        char name[80], kb[41];
        snprintf(name, sizeof name, "rope_parameters.%s", pf_msg_clean(key, kb, sizeof kb));
        if (strcmp(key, "full_attention") == 0) {
            if (rope_entry(s, e, name, &t->rope_full))
                return -1;
        } else if (strcmp(key, "sliding_attention") == 0) {
            if (rope_entry(s, e, name, &t->rope_sliding))
                return -1;
            if (t->rope_sliding.proportional)
                return pf_error_set("config: %s%s.rope_type: sliding layers use \"default\"",
                                    s->pre, name);
        } else {
            return pf_error_set("config: %s%s: unknown layer type (full_attention, "
                                "sliding_attention)", s->pre, name);
        }
    }
    /* HF reads the entry of every layer type present (no merge with defaults). */
    for (int full = 0; full <= 1; full++) {
        const char *k = full ? "full_attention" : "sliding_attention";
        int used = 0;
        for (int i = 0; i < t->layers; i++)
            used |= t->layer_full[i] == full;
        if (used && !json_object_get(rp, k))
            return pf_error_set("config: %srope_parameters.%s: missing (a layer uses it)",
                                s->pre, k);
    }
    return 0;
}

static int read_layer_types(const pf_cfg_sect *s, pf_g4_text_config *t)
{
    json_t *lt = pf_cfg_get(s, "layer_types");
    if (lt) {
        if (!json_is_array(lt) || (int)json_array_size(lt) != t->layers)
            return pf_error_set("config: %slayer_types: expected an array of "
                                "num_hidden_layers (%d) strings", s->pre, t->layers);
        for (int i = 0; i < t->layers; i++) {
            const char *k = json_string_value(json_array_get(lt, (size_t)i));
            if (k && strcmp(k, "full_attention") == 0)
                t->layer_full[i] = 1;
            else if (k && strcmp(k, "sliding_attention") == 0)
                t->layer_full[i] = 0;
            else
                return pf_error_set("config: %slayer_types[%d]: expected \"full_attention\" or "
                                    "\"sliding_attention\"", s->pre, i);
        }
    } else {
        for (int i = 0; i < t->layers; i++) /* 5 sliding : 1 full */
            t->layer_full[i] = (i + 1) % 6 == 0;
    }
    if (t->layers >= 1 && t->layers <= PF_G4_MAX_LAYERS)
        t->layer_full[t->layers - 1] = 1; /* HF forces the last layer to full */
    return 0;
}

/* per_layer_config: {"<layer>": {"head_dim": d, "num_key_value_heads": n}},
 * sparse overrides of the global values. Supported: sliding layers none,
 * every full layer the same. */
static int read_per_layer(const pf_cfg_sect *s, pf_g4_text_config *t)
{
    json_t *pl = pf_cfg_get(s, "per_layer_config");
    if (!pl)
        return 0;
    if (!json_is_object(pl))
        return pf_error_set("config: %sper_layer_config: expected an object", s->pre);
    const char *key;
    json_t *e;
    json_object_foreach(pl, key, e) {
        char kb[24];
        char *end;
        long i = strtol(key, &end, 10);
        if (!*key || *end || i < 0 || i >= t->layers)
            return pf_error_set("config: %sper_layer_config.%s: not a layer index below %d",
                                s->pre, pf_msg_clean(key, kb, sizeof kb), t->layers);
        if (!json_is_object(e))
            return pf_error_set("config: %sper_layer_config.%ld: expected an object", s->pre, i);
        const char *k;
        json_t *v;
        json_object_foreach(e, k, v) {
            if (strcmp(k, "head_dim") != 0 && strcmp(k, "num_key_value_heads") != 0)
                return pf_error_set("config: %sper_layer_config.%ld.%s: only head_dim and "
                                    "num_key_value_heads overrides are supported", s->pre, i,
                                    pf_msg_clean(k, kb, sizeof kb));
        }
    }
    int seen = 0;
    for (int i = 0; i < t->layers; i++) {
        char key_i[16], pre[80];
        snprintf(key_i, sizeof key_i, "%d", i);
        snprintf(pre, sizeof pre, "%sper_layer_config.%d.", s->pre, i);
        pf_cfg_sect es = {json_object_get(pl, key_i), pre};
        int hd, kv;
        if (pf_cfg_int(&es, "head_dim", t->head_dim, 1, 4096, &hd) ||
            pf_cfg_int(&es, "num_key_value_heads", t->kv_heads, 1, 4096, &kv))
            return -1;
        if (!t->layer_full[i]) {
            if (hd != t->head_dim || kv != t->kv_heads)
                return pf_error_set("config: %sper_layer_config.%d: overrides on a sliding layer "
                                    "are not supported", s->pre, i);
        } else if (!seen) {
            t->global_head_dim = hd;
            t->global_kv_heads = kv;
            seen = 1;
        } else if (hd != t->global_head_dim || kv != t->global_kv_heads) {
            return pf_error_set("config: %sper_layer_config.%d: full layers with different shapes "
                                "are not supported", s->pre, i);
        }
    }
    return 0;
}

static int read_moe(const pf_cfg_sect *s, pf_g4_text_config *t)
{
    if (pf_cfg_bool(s, "enable_moe_block", 0, &t->moe))
        return -1;
    if (!t->moe)
        return 0;
    const char *need[] = {"num_experts", "top_k_experts", "moe_intermediate_size"};
    for (int i = 0; i < 3; i++)
        if (!pf_cfg_get(s, need[i]))
            return pf_error_set("config: %s%s: required by enable_moe_block", s->pre, need[i]);
    if (pf_cfg_int(s, "num_experts", 0, 1, 4096, &t->num_experts) ||
        pf_cfg_int(s, "top_k_experts", 0, 1, 4096, &t->top_k_experts) ||
        pf_cfg_int(s, "moe_intermediate_size", 0, 1, MAX_DIM, &t->moe_intermediate))
        return -1;
    if (t->top_k_experts > t->num_experts)
        return pf_error_set("config: %stop_k_experts: %d is more than num_experts %d", s->pre,
                            t->top_k_experts, t->num_experts);
    return 0;
}

/* Per-layer inputs (section 6). hidden_size_per_layer_input defaults to 256
 * in HF: a config without the key has them; 0 or null: none. */
static int read_ple(const pf_cfg_sect *s, pf_g4_text_config *t)
{
    json_t *ple_v = s->obj ? json_object_get(s->obj, "hidden_size_per_layer_input") : NULL;
    if (pf_cfg_int(s, "hidden_size_per_layer_input", ple_v ? 0 : 256, 0, MAX_DIM, &t->ple_dim) ||
        pf_cfg_int(s, "vocab_size_per_layer_input", 262144, 1, MAX_VOCAB, &t->ple_vocab))
        return -1;
    if (!t->ple_dim)
        return 0;
    if ((long long)t->ple_dim * t->layers > MAX_DIM)
        return pf_error_set("config: %shidden_size_per_layer_input: %d x %d layers is too large",
                            s->pre, t->ple_dim, t->layers);
    /* HF looks every text id up in both tables: a smaller one would fail on
     * ids it lacks (and a larger one is never read past vocab_size) */
    if (t->ple_vocab != t->vocab)
        return pf_error_set("config: %svocab_size_per_layer_input: %d differs from vocab_size %d "
                            "(not supported)", s->pre, t->ple_vocab, t->vocab);
    return 0;
}

int pf_g4_kv_source(const pf_g4_text_config *t, int l)
{
    if (!pf_g4_layer_kv_shared(t, l))
        return l;
    for (int i = t->layers - t->kv_shared - 1; i >= 0; i--)
        if (t->layer_full[i] == t->layer_full[l])
            return i;
    return -1;
}

/* num_kv_shared_layers and use_double_wide_mlp, after the layer types. */
static int read_kv_shared(const pf_cfg_sect *s, pf_g4_text_config *t)
{
    if (pf_cfg_int(s, "num_kv_shared_layers", 0, 0, PF_G4_MAX_LAYERS, &t->kv_shared) ||
        pf_cfg_bool(s, "use_double_wide_mlp", 0, &t->double_wide))
        return -1;
    if (t->kv_shared >= t->layers) /* HF would find no layer storing K/V */
        return pf_error_set("config: %snum_kv_shared_layers: %d leaves no layer computing K/V "
                            "(num_hidden_layers %d)", s->pre, t->kv_shared, t->layers);
    for (int l = t->layers - t->kv_shared; l < t->layers; l++)
        if (pf_g4_kv_source(t, l) < 0)
            return pf_error_set("config: %snum_kv_shared_layers: %d leaves no %s layer before the "
                                "shared ones to take K/V from (layer %d)", s->pre, t->kv_shared,
                                t->layer_full[l] ? "full_attention" : "sliding_attention", l);
    if ((long long)t->intermediate * (t->double_wide ? 2 : 1) > MAX_DIM)
        return pf_error_set("config: %suse_double_wide_mlp: intermediate_size %d x 2 is too large",
                            s->pre, t->intermediate);
    return 0;
}

static int read_text(const pf_cfg_sect *s, pf_g4_text_config *t)
{
    memset(t, 0, sizeof *t);
    if (pf_cfg_int(s, "hidden_size", 2304, 1, MAX_DIM, &t->hidden) ||
        pf_cfg_int(s, "intermediate_size", 9216, 1, MAX_DIM, &t->intermediate) ||
        pf_cfg_int(s, "num_hidden_layers", 30, 1, PF_G4_MAX_LAYERS, &t->layers) ||
        pf_cfg_int(s, "num_attention_heads", 8, 1, 4096, &t->heads) ||
        pf_cfg_int(s, "num_key_value_heads", 4, 1, 4096, &t->kv_heads) ||
        pf_cfg_int(s, "head_dim", 256, 1, 4096, &t->head_dim) ||
        pf_cfg_int(s, "global_head_dim", 512, 1, 4096, &t->global_head_dim) ||
        pf_cfg_int(s, "sliding_window", 512, 1, 1 << 30, &t->sliding_window) ||
        pf_cfg_num(s, "rms_norm_eps", 1e-6, 0, 1, &t->rms_eps) ||
        pf_cfg_int(s, "vocab_size", 262144, 1, MAX_VOCAB, &t->vocab) ||
        pf_cfg_int(s, "pad_token_id", 0, 0, MAX_VOCAB, &t->pad_token_id) ||
        pf_cfg_num(s, "final_logit_softcapping", 0, 1e-6, 1e9, &t->softcap) ||
        pf_cfg_bool(s, "attention_k_eq_v", 0, &t->k_eq_v))
        return -1;
    if (check_head_dim(s, "head_dim", t->head_dim))
        return -1;
    if (t->heads % t->kv_heads)
        return pf_error_set("config: %snum_key_value_heads: %d does not divide "
                            "num_attention_heads %d", s->pre, t->kv_heads, t->heads);
    /* Full layers: num_global_key_value_heads only under k_eq_v (and when
     * set); otherwise num_key_value_heads (C208-221). per_layer_config, the
     * form HF 5.24 saves, replaces both keys (read with the layer types). */
    t->global_kv_heads = t->kv_heads;
    if (t->k_eq_v && pf_cfg_get(s, "num_global_key_value_heads") &&
        pf_cfg_int(s, "num_global_key_value_heads", 0, 1, 4096, &t->global_kv_heads))
        return -1;
    if (t->pad_token_id >= t->vocab)
        return pf_error_set("config: %spad_token_id: %d is not below vocab_size %d", s->pre,
                            t->pad_token_id, t->vocab);
    json_t *bi = pf_cfg_get(s, "use_bidirectional_attention");
    if (bi) {
        if (!json_is_string(bi) || strcmp(json_string_value(bi), "vision") != 0)
            return pf_error_set("config: %suse_bidirectional_attention: only \"vision\" or null "
                                "is supported", s->pre);
        t->bidir_vision = 1;
    }
    if (read_ple(s, t) ||
        pf_cfg_want_str(s, "hidden_activation", "gelu_pytorch_tanh") ||
        pf_cfg_want_off(s, "attention_bias", 1, "attention biases are not supported") ||
        pf_cfg_want_off(s, "attn_logit_softcapping", 1, "attention softcapping is not supported"))
        return -1;
    json_t *tie = pf_cfg_get(s, "tie_word_embeddings");
    if (tie && !json_is_true(tie))
        return pf_error_set("config: %stie_word_embeddings: only a tied lm_head is supported",
                            s->pre);
    if (read_moe(s, t) || read_layer_types(s, t) || read_per_layer(s, t) || read_rope(s, t) ||
        read_kv_shared(s, t))
        return -1;
    if (check_head_dim(s, "global_head_dim", t->global_head_dim))
        return -1;
    if (t->heads % t->global_kv_heads)
        return pf_error_set("config: %snum_global_key_value_heads: %d does not divide "
                            "num_attention_heads %d", s->pre, t->global_kv_heads, t->heads);
    return 0;
}

static int read_vision(const pf_cfg_sect *s, pf_g4_vision_config *v)
{
    memset(v, 0, sizeof *v);
    if (pf_cfg_int(s, "hidden_size", 768, 1, MAX_DIM, &v->hidden) ||
        pf_cfg_int(s, "intermediate_size", 3072, 1, MAX_DIM, &v->intermediate) ||
        pf_cfg_int(s, "num_hidden_layers", 16, 1, PF_G4_MAX_LAYERS, &v->layers) ||
        pf_cfg_int(s, "num_attention_heads", 12, 1, 4096, &v->heads) ||
        pf_cfg_int(s, "num_key_value_heads", 12, 1, 4096, &v->kv_heads) ||
        pf_cfg_int(s, "head_dim", 64, 1, 4096, &v->head_dim) ||
        pf_cfg_int(s, "patch_size", 16, 1, 1024, &v->patch_size) ||
        pf_cfg_int(s, "pooling_kernel_size", 3, 1, 64, &v->pooling_kernel) ||
        pf_cfg_int(s, "position_embedding_size", 10240, 1, 1 << 16, &v->position_embedding_size) ||
        pf_cfg_num(s, "rms_norm_eps", 1e-6, 0, 1, &v->rms_eps) ||
        pf_cfg_bool(s, "use_clipped_linears", 0, &v->clipped) ||
        pf_cfg_bool(s, "standardize", 0, &v->standardize))
        return -1;
    if (check_head_dim(s, "head_dim", v->head_dim))
        return -1;
    if (v->head_dim % 4)
        return pf_error_set("config: %shead_dim: %d is not a multiple of 4 (2D RoPE rotates "
                            "halves of halves)", s->pre, v->head_dim);
    if (v->heads % v->kv_heads)
        return pf_error_set("config: %snum_key_value_heads: %d does not divide "
                            "num_attention_heads %d", s->pre, v->kv_heads, v->heads);
    if ((long)v->patch_size * v->patch_size * 3 > MAX_DIM)
        return pf_error_set("config: %spatch_size: %d is too large", s->pre, v->patch_size);
    v->rope_theta = 100.0;
    json_t *rp = pf_cfg_get(s, "rope_parameters");
    if (rp) {
        if (!json_is_object(rp))
            return pf_error_set("config: %srope_parameters: expected an object", s->pre);
        char pre[64];
        snprintf(pre, sizeof pre, "%srope_parameters.", s->pre);
        pf_cfg_sect rs = {rp, pre};
        json_t *ty = pf_cfg_get(&rs, "rope_type"); /* HF 5.24 saves "axial"; "default" is read as it */
        if (ty && (!json_is_string(ty) || (strcmp(json_string_value(ty), "axial") != 0 &&
                                          strcmp(json_string_value(ty), "default") != 0)))
            return pf_error_set("config: %srope_type: only \"axial\" (or \"default\") is "
                                "supported", pre);
        if (
            pf_cfg_num(&rs, "rope_theta", 100.0, 1.0, 1e12, &v->rope_theta))
            return -1;
    }
    return pf_cfg_want_str(s, "hidden_activation", "gelu_pytorch_tanh") ||
                   pf_cfg_want_off(s, "attention_bias", 1, "attention biases are not supported")
               ? -1
               : 0;
}

int pf_g4_rope_pairs(const pf_g4_text_config *t, int l)
{
    const pf_g4_rope *r = t->layer_full[l] ? &t->rope_full : &t->rope_sliding;
    int d = pf_g4_layer_head_dim(t, l);
    if (!r->proportional)
        return d / 2;
    int n = (int)(r->partial * d / 2); /* HF: int(rope_proportion * head_dim // 2) */
    return n < d / 2 ? n : d / 2;
}

static int parse_root(json_t *root, pf_g4_config *c)
{
    if (!json_is_object(root))
        return pf_error_set("config: expected a JSON object");
    pf_cfg_sect top = {root, ""};
    json_t *mt = pf_cfg_get(&top, "model_type");
    char tb[41];
    const char *type = json_is_string(mt) ? pf_msg_clean(json_string_value(mt), tb, sizeof tb)
                                          : NULL;
    if (!type)
        return pf_error_set("config: model_type: expected \"gemma4\"");
    if (strcmp(type, "gemma4") != 0)
        return pf_error_set("config: model_type: \"%s\" is not supported (gemma4)", type);
    if (pf_cfg_get(&top, "audio_config"))
        return pf_error_set("config: audio_config: audio is out of scope (text and images "
                            "only; drop the audio tower)");
    json_t *tc = pf_cfg_get(&top, "text_config"), *vc = pf_cfg_get(&top, "vision_config");
    if ((tc && !json_is_object(tc)) || (vc && !json_is_object(vc)))
        return pf_error_set("config: %s: expected an object",
                            tc && !json_is_object(tc) ? "text_config" : "vision_config");
    pf_cfg_sect ts = {tc, "text_config."}, vs = {vc, "vision_config."};
    if (tc && pf_cfg_want_str(&ts, "model_type", "gemma4_text"))
        return -1;
    if (vc && pf_cfg_want_str(&vs, "model_type", "gemma4_vision"))
        return -1;
    if (read_text(&ts, &c->text))
        return -1;
    c->has_vision = vc != NULL;
    if (vc && read_vision(&vs, &c->vision))
        return -1;
    if (pf_cfg_int(&top, "image_token_id", 258880, 0, MAX_ID, &c->image_token_id) ||
        pf_cfg_int(&top, "video_token_id", 258884, 0, MAX_ID, &c->video_token_id) ||
        pf_cfg_int(&top, "audio_token_id", 258881, 0, MAX_ID, &c->audio_token_id) ||
        pf_cfg_int(&top, "boi_token_id", 255999, 0, MAX_ID, &c->boi_token_id) ||
        pf_cfg_int(&top, "eoi_token_id", 258882, 0, MAX_ID, &c->eoi_token_id))
        return -1;
    json_t *tie = pf_cfg_get(&top, "tie_word_embeddings");
    if (tie && !json_is_true(tie))
        return pf_error_set("config: tie_word_embeddings: only a tied lm_head is supported");
    c->max_soft_tokens = 280;
    return 0;
}

int pf_g4_config_parse(const char *text, size_t len, pf_g4_config *out)
{
    memset(out, 0, sizeof *out);
    json_t *root = pf_cfg_parse_text(text, len);
    if (!root)
        return -1;
    int rc = parse_root(root, out);
    json_decref(root);
    return rc;
}

int pf_g4_config_load(const char *dir, pf_g4_config *out)
{
    char path[4096], *buf;
    size_t len;
    if (pf_cfg_read_file(dir, path, sizeof path, &buf, &len))
        return -1;
    int rc = pf_g4_config_parse(buf, len, out);
    free(buf);
    if (rc)
        pf_error_prefix("%s", path);
    return rc;
}
