/* Gemma-4 weight specs, lookup under HF's layouts, synthetic values (see
 * gemma4_weights.h). */
#include "models/gemma4_weights.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"
#include "kernels/pf_numeric.h"
#include "models/weight_set.h"

typedef struct specs {
    pf_g4_spec *s;
    int n, cap;
    int rc;
} specs;

/* Append "<pre><leaf>" with the given shape (ndim 0..3). */
static void add(specs *l, int kind, const char *pre, const char *leaf, int ndim, int64_t d0,
                int64_t d1, int64_t d2)
{
    if (l->rc)
        return;
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 128;
        pf_g4_spec *s = realloc(l->s, (size_t)cap * sizeof *s);
        if (!s) {
            l->rc = pf_error_set("out of memory");
            return;
        }
        l->s = s;
        l->cap = cap;
    }
    pf_g4_spec *s = &l->s[l->n++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s%s", pre, leaf);
    s->kind = kind;
    s->ndim = ndim;
    int64_t d[3] = {d0, d1, d2};
    s->count = 1;
    for (int i = 0; i < ndim; i++) {
        s->shape[i] = d[i];
        s->count *= d[i];
    }
}

static void text_layer(specs *l, const pf_g4_text_config *t, int i)
{
    char pre[48];
    snprintf(pre, sizeof pre, "lm:layers.%d.", i);
    int H = t->hidden, hd = pf_g4_layer_head_dim(t, i), kv = pf_g4_layer_kv_heads(t, i);
    int64_t q = (int64_t)t->heads * hd, k = (int64_t)kv * hd;
    add(l, PF_G4_W_SCALE, pre, "input_layernorm.weight", 1, H, 0, 0);
    int shared = pf_g4_layer_kv_shared(t, i), I = pf_g4_layer_intermediate(t, i);
    add(l, PF_G4_W_LINEAR, pre, "self_attn.q_proj.weight", 2, q, H, 0);
    if (!shared) /* kv-shared layers have no k/v weights (section 6) */
        add(l, PF_G4_W_LINEAR, pre, "self_attn.k_proj.weight", 2, k, H, 0);
    if (!shared && pf_g4_layer_has_v(t, i))
        add(l, PF_G4_W_LINEAR, pre, "self_attn.v_proj.weight", 2, k, H, 0);
    add(l, PF_G4_W_LINEAR, pre, "self_attn.o_proj.weight", 2, H, q, 0);
    add(l, PF_G4_W_SCALE, pre, "self_attn.q_norm.weight", 1, hd, 0, 0);
    if (!shared)
        add(l, PF_G4_W_SCALE, pre, "self_attn.k_norm.weight", 1, hd, 0, 0);
    add(l, PF_G4_W_SCALE, pre, "post_attention_layernorm.weight", 1, H, 0, 0);
    add(l, PF_G4_W_SCALE, pre, "pre_feedforward_layernorm.weight", 1, H, 0, 0);
    add(l, PF_G4_W_SCALE, pre, "post_feedforward_layernorm.weight", 1, H, 0, 0);
    add(l, PF_G4_W_LINEAR, pre, "mlp.gate_proj.weight", 2, I, H, 0);
    add(l, PF_G4_W_LINEAR, pre, "mlp.up_proj.weight", 2, I, H, 0);
    add(l, PF_G4_W_LINEAR, pre, "mlp.down_proj.weight", 2, H, I, 0);
    if (t->ple_dim) {
        add(l, PF_G4_W_LINEAR, pre, "per_layer_input_gate.weight", 2, t->ple_dim, H, 0);
        add(l, PF_G4_W_LINEAR, pre, "per_layer_projection.weight", 2, H, t->ple_dim, 0);
        add(l, PF_G4_W_SCALE, pre, "post_per_layer_input_norm.weight", 1, H, 0, 0);
    }
    if (t->moe) {
        int E = t->num_experts, I = t->moe_intermediate;
        add(l, PF_G4_W_LINEAR, pre, "router.proj.weight", 2, E, H, 0);
        add(l, PF_G4_W_SCALE, pre, "router.scale", 1, H, 0, 0);
        add(l, PF_G4_W_SCALE, pre, "router.per_expert_scale", 1, E, 0, 0);
        add(l, PF_G4_W_LINEAR, pre, "experts.gate_up_proj", 3, E, 2 * (int64_t)I, H);
        add(l, PF_G4_W_LINEAR, pre, "experts.down_proj", 3, E, H, I);
        add(l, PF_G4_W_SCALE, pre, "pre_feedforward_layernorm_2.weight", 1, H, 0, 0);
        add(l, PF_G4_W_SCALE, pre, "post_feedforward_layernorm_1.weight", 1, H, 0, 0);
        add(l, PF_G4_W_SCALE, pre, "post_feedforward_layernorm_2.weight", 1, H, 0, 0);
    }
    add(l, PF_G4_W_SCALE, pre, "layer_scalar", 1, 1, 0, 0);
}

/* A vision linear: "<pre><name>.linear.weight" [out, in] plus, when clipped,
 * its four 0-dim bounds. */
static void vision_linear(specs *l, const pf_g4_vision_config *v, const char *pre,
                          const char *name, int64_t out, int64_t in)
{
    char leaf[64];
    snprintf(leaf, sizeof leaf, "%s.linear.weight", name);
    add(l, PF_G4_W_LINEAR, pre, leaf, 2, out, in, 0);
    if (!v->clipped)
        return;
    const char *b[] = {"input_min", "input_max", "output_min", "output_max"};
    for (int i = 0; i < 4; i++) {
        snprintf(leaf, sizeof leaf, "%s.%s", name, b[i]);
        add(l, i % 2 ? PF_G4_W_CLIP_HI : PF_G4_W_CLIP_LO, pre, leaf, 0, 0, 0, 0);
    }
}

static void vision(specs *l, const pf_g4_config *c)
{
    const pf_g4_vision_config *v = &c->vision;
    int D = v->hidden, hd = v->head_dim, P = v->patch_size;
    int64_t q = (int64_t)v->heads * hd, k = (int64_t)v->kv_heads * hd;
    add(l, PF_G4_W_LINEAR, "vision:", "patch_embedder.input_proj.weight", 2, D,
        3 * (int64_t)P * P, 0);
    add(l, PF_G4_W_POS, "vision:", "patch_embedder.position_embedding_table", 3, 2,
        v->position_embedding_size, D);
    for (int i = 0; i < v->layers; i++) {
        char pre[48];
        snprintf(pre, sizeof pre, "vision:encoder.layers.%d.", i);
        add(l, PF_G4_W_SCALE, pre, "input_layernorm.weight", 1, D, 0, 0);
        vision_linear(l, v, pre, "self_attn.q_proj", q, D);
        vision_linear(l, v, pre, "self_attn.k_proj", k, D);
        vision_linear(l, v, pre, "self_attn.v_proj", k, D);
        vision_linear(l, v, pre, "self_attn.o_proj", D, q);
        add(l, PF_G4_W_SCALE, pre, "self_attn.q_norm.weight", 1, hd, 0, 0);
        add(l, PF_G4_W_SCALE, pre, "self_attn.k_norm.weight", 1, hd, 0, 0);
        add(l, PF_G4_W_SCALE, pre, "post_attention_layernorm.weight", 1, D, 0, 0);
        add(l, PF_G4_W_SCALE, pre, "pre_feedforward_layernorm.weight", 1, D, 0, 0);
        add(l, PF_G4_W_SCALE, pre, "post_feedforward_layernorm.weight", 1, D, 0, 0);
        vision_linear(l, v, pre, "mlp.gate_proj", v->intermediate, D);
        vision_linear(l, v, pre, "mlp.up_proj", v->intermediate, D);
        vision_linear(l, v, pre, "mlp.down_proj", D, v->intermediate);
    }
    if (v->standardize) {
        add(l, PF_G4_W_SMALL, "vision:", "std_bias", 1, D, 0, 0);
        add(l, PF_G4_W_SCALE, "vision:", "std_scale", 1, D, 0, 0);
    }
    add(l, PF_G4_W_LINEAR, "embed:", "embedding_projection.weight", 2, c->text.hidden, D, 0);
}

int pf_g4_weight_specs(const pf_g4_config *c, pf_g4_spec **out, int *n)
{
    specs l = {0};
    const pf_g4_text_config *t = &c->text;
    add(&l, PF_G4_W_EMBED, "lm:", "embed_tokens.weight", 2, t->vocab, t->hidden, 0);
    if (t->ple_dim) { /* per-layer inputs: [vocab, L*P] table, [L*P, H] projection */
        int64_t lp = (int64_t)t->layers * t->ple_dim;
        add(&l, PF_G4_W_EMBED, "lm:", "embed_tokens_per_layer.weight", 2, t->ple_vocab, lp, 0);
        add(&l, PF_G4_W_LINEAR, "lm:", "per_layer_model_projection.weight", 2, lp, t->hidden, 0);
        add(&l, PF_G4_W_SCALE, "lm:", "per_layer_projection_norm.weight", 1, t->ple_dim, 0, 0);
    }
    for (int i = 0; i < t->layers; i++)
        text_layer(&l, t, i);
    add(&l, PF_G4_W_SCALE, "lm:", "norm.weight", 1, t->hidden, 0, 0);
    if (c->has_vision)
        vision(&l, c);
    if (l.rc) {
        free(l.s);
        return -1;
    }
    *out = l.s;
    *n = l.n;
    return 0;
}

static const char *const lm_pre[] = {"model.language_model.", "language_model.model.", NULL};
static const char *const vis_pre[] = {"model.vision_tower.", "vision_tower.", NULL};
static const char *const emb_pre[] = {"model.embed_vision.", "embed_vision.", NULL};

const pf_st_tensor *pf_g4_find(const pf_safetensors *st, const char *spec_name)
{
    const char *colon = strchr(spec_name, ':');
    if (!colon)
        return NULL;
    const char *const *pre = strncmp(spec_name, "lm:", 3) == 0       ? lm_pre
                             : strncmp(spec_name, "vision:", 7) == 0 ? vis_pre
                             : strncmp(spec_name, "embed:", 6) == 0  ? emb_pre
                                                                     : NULL;
    for (int i = 0; pre && pre[i]; i++) {
        char full[256];
        snprintf(full, sizeof full, "%s%s", pre[i], colon + 1);
        const pf_st_tensor *t = pf_st_find(st, full);
        if (t)
            return t;
    }
    return NULL;
}

static void shape_str(char *buf, size_t n, int ndim, const int64_t *shape)
{
    buf[0] = 0;
    for (int d = 0; d < ndim; d++)
        snprintf(buf + strlen(buf), n - strlen(buf), "%s%lld", d ? "," : "", (long long)shape[d]);
}

int pf_g4_weights_check(const pf_g4_config *c, const pf_safetensors *st)
{
    pf_g4_spec *s;
    int n, rc = 0;
    if (pf_g4_weight_specs(c, &s, &n))
        return -1;
    for (int i = 0; i < n && !rc; i++) {
        const pf_st_tensor *t = pf_g4_find(st, s[i].name);
        const char *inner = strchr(s[i].name, ':') + 1;
        if (!t) {
            rc = pf_error_set("missing tensor '%s' (looked for it under every HF layout)", inner);
            break;
        }
        int ok = t->ndim == s[i].ndim;
        for (int d = 0; ok && d < s[i].ndim; d++)
            ok = t->shape[d] == s[i].shape[d];
        if (!ok) {
            char want[96], got[96];
            shape_str(want, sizeof want, s[i].ndim, s[i].shape);
            shape_str(got, sizeof got, t->ndim < 4 ? t->ndim : 4, t->shape);
            int experts = strstr(s[i].name, ".experts.") || strstr(s[i].name, "per_expert_scale") ||
                          strstr(s[i].name, "router.proj");
            if (experts && t->ndim >= 1 && t->shape[0] != s[i].shape[0])
                rc = pf_error_set("%s: tensor '%s' has shape [%s], the config needs [%s] "
                                  "(%lld experts, config num_experts %lld)", t->file, t->name,
                                  got, want, (long long)t->shape[0], (long long)s[i].shape[0]);
            else
                rc = pf_error_set("%s: tensor '%s' has shape [%s], the config needs [%s]",
                                  t->file, t->name, got, want);
        } else if (t->dtype != PF_ST_BF16 && t->dtype != PF_ST_F16 && t->dtype != PF_ST_F32) {
            rc = pf_error_set("%s: tensor '%s': dtype %s is not supported (bf16, f16, f32)",
                              t->file, t->name, pf_st_dtype_name(t->dtype));
        }
    }
    free(s);
    return rc;
}

/* splitmix64 keyed by (seed, spec name): a tensor's values do not depend on
 * which other tensors exist. */
void pf_g4_synth_recipe(const pf_g4_spec *s, uint64_t seed, pf_wsynth *r)
{
    uint64_t st = seed;
    for (const char *p = s->name; *p; p++)
        st = st * 1099511628211ull ^ (unsigned char)*p;
    double fan_in = s->ndim >= 2 ? (double)s->shape[s->ndim - 1] : 1.0;
    double amp = 0.1, base = 0.0;
    switch (s->kind) {
    case PF_G4_W_LINEAR: amp = 1.0 / sqrt(fan_in); break;
    case PF_G4_W_SCALE: base = 1.0; break;
    case PF_G4_W_EMBED: amp = 1.0; break;
    case PF_G4_W_POS: amp = 0.5; break;
    case PF_G4_W_CLIP_LO: base = -3.0; amp = 0.5; break;
    case PF_G4_W_CLIP_HI: base = 3.0; amp = 0.5; break;
    default: break; /* SMALL */
    }
    r->key = st;
    r->amp = amp;
    r->base = base;
}

void pf_g4_synth(const pf_g4_spec *s, uint64_t seed, uint16_t *out)
{
    pf_wsynth r;
    pf_g4_synth_recipe(s, seed, &r);
    pf_wsynth_fill(&r, 0, s->count, out);
}
