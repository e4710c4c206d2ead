/* Gemma-3 weight specs, lookup under HF's layouts, synthetic values (see
 * gemma3_weights.h). */
#include "models/gemma3_weights.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"
#include "kernels/pf_numeric.h"
#include "models/weight_set.h"

typedef struct specs {
    pf_g3_spec *s;
    int n, cap;
} specs;

static int add(specs *l, int kind, int ndim, int64_t d0, int64_t d1, const char *fmt, int layer,
               const char *leaf)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        pf_g3_spec *s = realloc(l->s, (size_t)cap * sizeof *s);
        if (!s)
            return pf_error_set("out of memory");
        l->s = s;
        l->cap = cap;
    }
    pf_g3_spec *s = &l->s[l->n++];
    memset(s, 0, sizeof *s);
    char inner[80];
    snprintf(inner, sizeof inner, fmt, layer);
    snprintf(s->name, sizeof s->name, "%s%s", inner, leaf);
    s->kind = kind;
    s->ndim = ndim;
    s->shape[0] = d0;
    s->shape[1] = d1;
    s->count = ndim == 1 ? d0 : d0 * d1;
    return 0;
}

int pf_g3_weight_specs(const pf_g3_config *c, pf_g3_spec **out, int *n)
{
    specs l = {0};
    const pf_g3_text_config *t = &c->text;
    int H = t->hidden, hd = t->head_dim, I = t->intermediate, rc = 0;
    rc |= add(&l, PF_G3_W_EMBED, 2, t->vocab, H, "lm:embed_tokens", 0, ".weight");
    for (int i = 0; i < t->layers && !rc; i++) {
        const char *L = "lm:layers.%d.";
        rc |= add(&l, PF_G3_W_NORM, 1, H, 0, L, i, "input_layernorm.weight");
        rc |= add(&l, PF_G3_W_LINEAR, 2, (int64_t)t->heads * hd, H, L, i, "self_attn.q_proj.weight");
        rc |= add(&l, PF_G3_W_LINEAR, 2, (int64_t)t->kv_heads * hd, H, L, i, "self_attn.k_proj.weight");
        rc |= add(&l, PF_G3_W_LINEAR, 2, (int64_t)t->kv_heads * hd, H, L, i, "self_attn.v_proj.weight");
        rc |= add(&l, PF_G3_W_LINEAR, 2, H, (int64_t)t->heads * hd, L, i, "self_attn.o_proj.weight");
        rc |= add(&l, PF_G3_W_NORM, 1, hd, 0, L, i, "self_attn.q_norm.weight");
        rc |= add(&l, PF_G3_W_NORM, 1, hd, 0, L, i, "self_attn.k_norm.weight");
        rc |= add(&l, PF_G3_W_NORM, 1, H, 0, L, i, "post_attention_layernorm.weight");
        rc |= add(&l, PF_G3_W_NORM, 1, H, 0, L, i, "pre_feedforward_layernorm.weight");
        rc |= add(&l, PF_G3_W_NORM, 1, H, 0, L, i, "post_feedforward_layernorm.weight");
        rc |= add(&l, PF_G3_W_LINEAR, 2, I, H, L, i, "mlp.gate_proj.weight");
        rc |= add(&l, PF_G3_W_LINEAR, 2, I, H, L, i, "mlp.up_proj.weight");
        rc |= add(&l, PF_G3_W_LINEAR, 2, H, I, L, i, "mlp.down_proj.weight");
    }
    rc |= add(&l, PF_G3_W_NORM, 1, H, 0, "lm:norm", 0, ".weight");
    if (c->has_vision && !rc) {
        const pf_g3_vision_config *v = &c->vision;
        int D = v->hidden, P = v->patch_size, g = v->image_size / P;
        rc |= add(&l, PF_G3_W_LINEAR, 2, D, (int64_t)v->channels * P * P,
                  "vision:embeddings.patch_embedding", 0, ".weight");
        if (!rc) { /* stored as a conv weight [D, C, P, P] */
            pf_g3_spec *s = &l.s[l.n - 1];
            s->ndim = 4;
            s->shape[1] = v->channels;
            s->shape[2] = s->shape[3] = P;
        }
        rc |= add(&l, PF_G3_W_BIAS, 1, D, 0, "vision:embeddings.patch_embedding", 0, ".bias");
        rc |= add(&l, PF_G3_W_EMBED, 2, (int64_t)g * g, D, "vision:embeddings.position_embedding",
                  0, ".weight");
        const char *proj[] = {"q_proj", "k_proj", "v_proj", "out_proj"};
        for (int i = 0; i < v->layers && !rc; i++) {
            const char *L = "vision:encoder.layers.%d.";
            char leaf[64];
            for (int j = 1; j <= 2; j++) {
                snprintf(leaf, sizeof leaf, "layer_norm%d.weight", j);
                rc |= add(&l, PF_G3_W_LN_WEIGHT, 1, D, 0, L, i, leaf);
                snprintf(leaf, sizeof leaf, "layer_norm%d.bias", j);
                rc |= add(&l, PF_G3_W_BIAS, 1, D, 0, L, i, leaf);
            }
            for (int j = 0; j < 4; j++) {
                snprintf(leaf, sizeof leaf, "self_attn.%s.weight", proj[j]);
                rc |= add(&l, PF_G3_W_LINEAR, 2, D, D, L, i, leaf);
                snprintf(leaf, sizeof leaf, "self_attn.%s.bias", proj[j]);
                rc |= add(&l, PF_G3_W_BIAS, 1, D, 0, L, i, leaf);
            }
            rc |= add(&l, PF_G3_W_LINEAR, 2, v->intermediate, D, L, i, "mlp.fc1.weight");
            rc |= add(&l, PF_G3_W_BIAS, 1, v->intermediate, 0, L, i, "mlp.fc1.bias");
            rc |= add(&l, PF_G3_W_LINEAR, 2, D, v->intermediate, L, i, "mlp.fc2.weight");
            rc |= add(&l, PF_G3_W_BIAS, 1, D, 0, L, i, "mlp.fc2.bias");
        }
        rc |= add(&l, PF_G3_W_LN_WEIGHT, 1, D, 0, "vision:post_layernorm", 0, ".weight");
        rc |= add(&l, PF_G3_W_BIAS, 1, D, 0, "vision:post_layernorm", 0, ".bias");
        rc |= add(&l, PF_G3_W_NORM, 1, D, 0, "proj:mm_soft_emb_norm", 0, ".weight");
        /* stored [D_vis, H] and used as x @ W (no transpose) */
        rc |= add(&l, PF_G3_W_LINEAR, 2, D, H, "proj:mm_input_projection_weight", 0, "");
    }
    if (rc) {
        free(l.s);
        return -1;
    }
    *out = l.s;
    *n = l.n;
    return 0;
}

static const char *const lm_pre[] = {"language_model.model.", "model.language_model.", "model.", NULL};
static const char *const vis_pre[] = {"vision_tower.", "vision_tower.vision_model.",
                                      "model.vision_tower.", "model.vision_tower.vision_model.",
                                      NULL};
static const char *const proj_pre[] = {"multi_modal_projector.", "model.multi_modal_projector.",
                                       NULL};

const pf_st_tensor *pf_g3_find(const pf_safetensors *st, const char *spec_name)
{
    const char *colon = strchr(spec_name, ':');
    if (!colon)
        return NULL;
    const char *const *pre = strncmp(spec_name, "lm:", 3) == 0       ? lm_pre
                             : strncmp(spec_name, "vision:", 7) == 0 ? vis_pre
                             : strncmp(spec_name, "proj:", 5) == 0   ? proj_pre
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

int pf_g3_weights_check(const pf_g3_config *c, const pf_safetensors *st)
{
    pf_g3_spec *s;
    int n, rc = 0;
    if (pf_g3_weight_specs(c, &s, &n))
        return -1;
    for (int i = 0; i < n && !rc; i++) {
        const pf_st_tensor *t = pf_g3_find(st, s[i].name);
        const char *inner = strchr(s[i].name, ':') + 1;
        if (!t) {
            rc = pf_error_set("missing tensor '%s' (looked for it under every HF layout)",
                              inner);
            break;
        }
        int ok = t->ndim == s[i].ndim;
        for (int d = 0; ok && d < s[i].ndim; d++)
            ok = t->shape[d] == s[i].shape[d];
        if (!ok) {
            char want[96] = "", got[96] = "";
            for (int d = 0; d < s[i].ndim; d++)
                snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", d ? "," : "",
                         (long long)s[i].shape[d]);
            for (int d = 0; d < t->ndim && d < 4; d++)
                snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", d ? "," : "",
                         (long long)t->shape[d]);
            rc = pf_error_set("%s: tensor '%s' has shape [%s], the config needs [%s]", t->file,
                              t->name, got, want);
        } else if (t->dtype != PF_ST_BF16 && t->dtype != PF_ST_F16 && t->dtype != PF_ST_F32) {
            rc = pf_error_set("%s: tensor '%s': dtype %s is not supported (bf16, f16, f32)",
                              t->file, t->name, pf_st_dtype_name(t->dtype));
        }
    }
    free(s);
    return rc;
}

/* splitmix64 keyed by (seed, spec name): a tensor's values do not depend on
 * which other tensors exist. Drawn by pf_synth_value (kernels/ops/
 * synth_params.h) on the host or the device. */
void pf_g3_synth_recipe(const pf_g3_spec *s, uint64_t seed, pf_wsynth *r)
{
    uint64_t st = seed;
    for (const char *p = s->name; *p; p++)
        st = st * 1099511628211ull ^ (unsigned char)*p;
    double fan_in = 1;
    for (int d = 1; d < s->ndim; d++)
        fan_in *= (double)s->shape[d];
    if (strstr(s->name, "mm_input_projection_weight"))
        fan_in = (double)s->shape[0]; /* x @ W: the input is dim 0 */
    r->key = st;
    r->amp = s->kind == PF_G3_W_LINEAR ? 1.0 / sqrt(fan_in)
             : s->kind == PF_G3_W_EMBED ? 1.0
             : 0.1; /* norms (1+w), LayerNorm weights 1+u, biases */
    r->base = s->kind == PF_G3_W_LN_WEIGHT ? 1.0 : 0.0;
}

void pf_g3_synth(const pf_g3_spec *s, uint64_t seed, uint16_t *out)
{
    pf_wsynth r;
    pf_g3_synth_recipe(s, seed, &r);
    pf_wsynth_fill(&r, 0, s->count, out);
}
