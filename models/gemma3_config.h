/* Gemma-3 model configuration: HF config.json of Gemma3ForConditionalGeneration
 * (model_type "gemma3": text_config + vision_config) or Gemma3ForCausalLM
 * (model_type "gemma3_text"), in both forms HF has written (layer_types or
 * sliding_window_pattern; rope_parameters per layer type or rope_theta +
 * rope_local_base_freq + rope_scaling), with HF's defaults for missing keys
 * (../shared/models/gemma3-facts.md section 0). Values the forward does not
 * implement are refused naming the key. Also the presets (released sizes and
 * tiny test models). */
#ifndef PF_GEMMA3_CONFIG_H
#define PF_GEMMA3_CONFIG_H

#include <stddef.h>

#define PF_G3_MAX_LAYERS 256

/* RoPE of one layer kind: rope_type default (factor 1) or linear. */
typedef struct pf_g3_rope {
    double theta;
    double factor; /* linear scaling: inv_freq / factor; 1 = default */
} pf_g3_rope;

typedef struct pf_g3_text_config {
    int hidden, intermediate, layers;
    int heads, kv_heads, head_dim;
    double query_pre_attn_scalar; /* scores scale = qpas^-0.5 */
    int sliding_window;
    double rms_eps;
    int vocab;
    unsigned char layer_full[PF_G3_MAX_LAYERS]; /* 1: full attention, 0: sliding */
    pf_g3_rope rope_full, rope_sliding;
} pf_g3_text_config;

typedef struct pf_g3_vision_config {
    int hidden, intermediate, layers, heads;
    int channels, image_size, patch_size;
    double ln_eps;
} pf_g3_vision_config;

typedef struct pf_g3_config {
    int has_vision; /* 0: Gemma3ForCausalLM (text only) */
    pf_g3_text_config text;
    pf_g3_vision_config vision;           /* has_vision only */
    int mm_tokens_per_image;              /* soft tokens per image */
    int image_token_index, boi_token_index, eoi_token_index;
} pf_g3_config;

/* Parse config.json text. Errors name the key ("text_config.head_dim: ..."). */
int pf_g3_config_parse(const char *text, size_t len, pf_g3_config *out);
/* Read <dir>/config.json. */
int pf_g3_config_load(const char *dir, pf_g3_config *out);
/* A preset by name ("gemma3-4b", "gemma3-tiny", ...); error lists the known. */
int pf_g3_config_preset(const char *name, pf_g3_config *out);
/* Names of the presets, NULL-terminated. */
const char *const *pf_g3_preset_names(void);

/* Derived sizes. */
static inline int pf_g3_patches_per_side(const pf_g3_config *c)
{
    return c->vision.image_size / c->vision.patch_size;
}
/* Tokens per side of the pooled grid and the pool kernel (HF: patches per
 * side // tokens per side). */
int pf_g3_tokens_per_side(const pf_g3_config *c);
static inline int pf_g3_pool_kernel(const pf_g3_config *c)
{
    return pf_g3_patches_per_side(c) / pf_g3_tokens_per_side(c);
}
/* Softmax scale of the language model: query_pre_attn_scalar^-0.5. */
float pf_g3_attn_scale(const pf_g3_config *c);

#endif
