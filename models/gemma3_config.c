/* Gemma-3 config.json reader (see gemma3_config.h). Defaults are HF
 * transformers 5.24's (Gemma3TextConfig, SiglipVisionConfig, Gemma3Config);
 * every error names the key with its section ("text_config.rope_scaling"). */
#include "models/gemma3_config.h"

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


/* One rope_parameters / rope_scaling entry into r (theta already set).
 * `typekey` is where HF reads the type: "rope_type" (a "type"-only old
 * rope_scaling stays default: HF ignores its factor, facts section 0). */
static int rope_entry(const pf_cfg_sect *s, json_t *e, const char *name, pf_g3_rope *r)
{
    if (!json_is_object(e))
        return pf_error_set("config: %s%s: expected an object", s->pre, name);
    pf_cfg_sect es = {e, NULL};
    char pre[96];
    snprintf(pre, sizeof pre, "%s%s.", s->pre, name);
    es.pre = pre;
    if (pf_cfg_get(&es, "rope_theta") && pf_cfg_num(&es, "rope_theta", 0, 1.0, 1e12, &r->theta))
        return -1;
    json_t *t = pf_cfg_get(&es, "rope_type");
    if (!t)
        return 0;
    if (!json_is_string(t))
        return pf_error_set("config: %srope_type: expected a string", pre);
    char tb[40];
    const char *type = pf_msg_clean(json_string_value(t), tb, sizeof tb);
    if (strcmp(type, "default") == 0) {
        r->factor = 1.0;
        return 0;
    }
    if (strcmp(type, "linear") != 0)
        return pf_error_set("config: %srope_type: \"%s\" is not supported (default, linear)",
                            pre, type);
    if (!pf_cfg_get(&es, "factor"))
        return pf_error_set("config: %sfactor: required by rope_type linear", pre);
    return pf_cfg_num(&es, "factor", 1.0, 1e-3, 1e6, &r->factor);
}

static int read_rope(const pf_cfg_sect *s, pf_g3_text_config *t)
{
    t->rope_full = (pf_g3_rope){1e6, 1.0};
    t->rope_sliding = (pf_g3_rope){1e4, 1.0};
    json_t *rp = pf_cfg_get(s, "rope_parameters");
    if (rp) { /* transformers 5.x: one entry per layer type */
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
            } else {
                return pf_error_set("config: %s%s: unknown layer type (full_attention, "
                                    "sliding_attention)", s->pre, name);
            }
        }
        return 0;
    }
    /* Older form, converted as HF's convert_rope_params_to_dict does. */
    if (pf_cfg_num(s, "rope_theta", 1e6, 1.0, 1e12, &t->rope_full.theta) ||
        pf_cfg_num(s, "rope_local_base_freq", 1e4, 1.0, 1e12, &t->rope_sliding.theta))
        return -1;
    json_t *sc = pf_cfg_get(s, "rope_scaling");
    if (sc)
        return rope_entry(s, sc, "rope_scaling", &t->rope_full);
    return 0;
}

static int read_layer_types(const pf_cfg_sect *s, pf_g3_text_config *t)
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
        return 0;
    }
    int pattern;
    if (pf_cfg_int(s, "sliding_window_pattern", 6, 1, MAX_DIM, &pattern))
        return -1;
    for (int i = 0; i < t->layers; i++)
        t->layer_full[i] = (i + 1) % pattern == 0;
    return 0;
}

static int read_text(const pf_cfg_sect *s, pf_g3_text_config *t)
{
    memset(t, 0, sizeof *t);
    if (pf_cfg_int(s, "hidden_size", 2304, 1, MAX_DIM, &t->hidden) ||
        pf_cfg_int(s, "intermediate_size", 9216, 1, MAX_DIM, &t->intermediate) ||
        pf_cfg_int(s, "num_hidden_layers", 26, 1, PF_G3_MAX_LAYERS, &t->layers) ||
        pf_cfg_int(s, "num_attention_heads", 8, 1, 4096, &t->heads) ||
        pf_cfg_int(s, "num_key_value_heads", 4, 1, 4096, &t->kv_heads) ||
        pf_cfg_int(s, "head_dim", 256, 16, 512, &t->head_dim) ||
        pf_cfg_num(s, "query_pre_attn_scalar", 256, 1e-6, 1e12, &t->query_pre_attn_scalar) ||
        pf_cfg_int(s, "sliding_window", 4096, 1, 1 << 30, &t->sliding_window) ||
        pf_cfg_num(s, "rms_norm_eps", 1e-6, 0, 1, &t->rms_eps) ||
        pf_cfg_int(s, "vocab_size", 262208, 1, MAX_VOCAB, &t->vocab))
        return -1;
    if (t->head_dim % 2)
        return pf_error_set("config: %shead_dim: %d is odd (RoPE rotates halves)", s->pre,
                            t->head_dim);
    if (t->heads % t->kv_heads)
        return pf_error_set("config: %snum_key_value_heads: %d does not divide "
                            "num_attention_heads %d", s->pre, t->kv_heads, t->heads);
    if (pf_cfg_want_str(s, "hidden_activation", "gelu_pytorch_tanh") ||
        pf_cfg_want_str(s, "hidden_act", "gelu_pytorch_tanh") ||
        pf_cfg_want_off(s, "final_logit_softcapping", 0, "softcapping is not supported") ||
        pf_cfg_want_off(s, "attn_logit_softcapping", 0, "softcapping is not supported") ||
        pf_cfg_want_off(s, "attention_bias", 0, "attention biases are not supported") ||
        pf_cfg_want_off(s, "use_bidirectional_attention", 0, "bidirectional text is not supported"))
        return -1;
    json_t *tie = pf_cfg_get(s, "tie_word_embeddings");
    if (tie && !json_is_true(tie))
        return pf_error_set("config: %stie_word_embeddings: only a tied lm_head is supported",
                            s->pre);
    return read_layer_types(s, t) || read_rope(s, t) ? -1 : 0;
}

static int read_vision(const pf_cfg_sect *s, pf_g3_vision_config *v)
{
    memset(v, 0, sizeof *v);
    if (pf_cfg_int(s, "hidden_size", 768, 1, MAX_DIM, &v->hidden) ||
        pf_cfg_int(s, "intermediate_size", 3072, 1, MAX_DIM, &v->intermediate) ||
        pf_cfg_int(s, "num_hidden_layers", 12, 1, PF_G3_MAX_LAYERS, &v->layers) ||
        pf_cfg_int(s, "num_attention_heads", 12, 1, 4096, &v->heads) ||
        pf_cfg_int(s, "num_channels", 3, 1, 64, &v->channels) ||
        pf_cfg_int(s, "image_size", 224, 1, 1 << 16, &v->image_size) ||
        pf_cfg_int(s, "patch_size", 16, 1, 1 << 16, &v->patch_size) ||
        pf_cfg_num(s, "layer_norm_eps", 1e-6, 0, 1, &v->ln_eps))
        return -1;
    if (v->hidden % v->heads)
        return pf_error_set("config: %snum_attention_heads: %d does not divide hidden_size %d",
                            s->pre, v->heads, v->hidden);
    int hd = v->hidden / v->heads;
    if (hd < 16 || hd > 512)
        return pf_error_set("config: %snum_attention_heads: head dim %d is outside 16..512",
                            s->pre, hd);
    if (v->image_size % v->patch_size)
        return pf_error_set("config: %spatch_size: %d does not divide image_size %d", s->pre,
                            v->patch_size, v->image_size);
    long n = (long)(v->image_size / v->patch_size);
    if (n * n > MAX_DIM)
        return pf_error_set("config: %simage_size: %ld patches per image is too many", s->pre,
                            n * n);
    return pf_cfg_want_str(s, "hidden_act", "gelu_pytorch_tanh");
}

int pf_g3_tokens_per_side(const pf_g3_config *c)
{
    int t = (int)lround(sqrt((double)c->mm_tokens_per_image));
    return t * t == c->mm_tokens_per_image ? t : 0;
}

float pf_g3_attn_scale(const pf_g3_config *c)
{
    return (float)(1.0 / sqrt(c->text.query_pre_attn_scalar));
}

static int parse_root(json_t *root, pf_g3_config *c)
{
    if (!json_is_object(root))
        return pf_error_set("config: expected a JSON object");
    pf_cfg_sect top = {root, ""};
    json_t *mt = pf_cfg_get(&top, "model_type");
    char tb[41];
    const char *type = json_is_string(mt) ? pf_msg_clean(json_string_value(mt), tb, sizeof tb) : NULL;
    if (mt && !type)
        return pf_error_set("config: model_type: expected a string");
    json_t *tc = pf_cfg_get(&top, "text_config");
    if (type && strcmp(type, "gemma3_text") == 0) {
        c->has_vision = 0;
        return read_text(&top, &c->text);
    }
    if (type && strcmp(type, "gemma3") != 0)
        return pf_error_set("config: model_type: \"%s\" is not supported (gemma3, "
                            "gemma3_text)", type);
    if (!type && !tc) /* no model_type and no sections: read as text-only */
        return read_text(&top, &c->text);
    c->has_vision = 1;
    json_t *vc = pf_cfg_get(&top, "vision_config");
    if ((tc && !json_is_object(tc)) || (vc && !json_is_object(vc)))
        return pf_error_set("config: %s: expected an object",
                            tc && !json_is_object(tc) ? "text_config" : "vision_config");
    pf_cfg_sect ts = {tc, "text_config."}, vs = {vc, "vision_config."};
    if (read_text(&ts, &c->text) || read_vision(&vs, &c->vision) ||
        pf_cfg_int(&top, "mm_tokens_per_image", 256, 1, MAX_DIM, &c->mm_tokens_per_image) ||
        pf_cfg_int(&top, "image_token_index", 262144, 0, 1 << 30, &c->image_token_index) ||
        pf_cfg_int(&top, "boi_token_index", 255999, 0, 1 << 30, &c->boi_token_index) ||
        pf_cfg_int(&top, "eoi_token_index", 256000, 0, 1 << 30, &c->eoi_token_index))
        return -1;
    json_t *tie = pf_cfg_get(&top, "tie_word_embeddings");
    if (tie && !json_is_true(tie))
        return pf_error_set("config: tie_word_embeddings: only a tied lm_head is supported");
    int t = pf_g3_tokens_per_side(c), g = pf_g3_patches_per_side(c);
    if (!t)
        return pf_error_set("config: mm_tokens_per_image: %d is not a square",
                            c->mm_tokens_per_image);
    if (g % t)
        return pf_error_set("config: mm_tokens_per_image: %d tokens per side do not divide "
                            "%d patches per side", t, g);
    return 0;
}

int pf_g3_config_parse(const char *text, size_t len, pf_g3_config *out)
{
    memset(out, 0, sizeof *out);
    json_t *root = pf_cfg_parse_text(text, len);
    if (!root)
        return -1;
    int rc = parse_root(root, out);
    json_decref(root);
    return rc;
}

int pf_g3_config_load(const char *dir, pf_g3_config *out)
{
    char path[4096], *buf;
    size_t len;
    if (pf_cfg_read_file(dir, path, sizeof path, &buf, &len))
        return -1;
    int rc = pf_g3_config_parse(buf, len, out);
    free(buf);
    if (rc)
        pf_error_prefix("%s", path);
    return rc;
}
