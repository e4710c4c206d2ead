/* Gemma-4 model configuration: HF config.json of Gemma4ForConditionalGeneration
 * (model_type "gemma4": text_config gemma4_text + vision_config gemma4_vision),
 * with HF transformers 5.24's defaults for missing keys
 * (../shared/models/gemma4-facts.md). What the forward does not implement is
 * refused naming the key: an audio tower (audio_config),
 * use_bidirectional_attention "all", RoPE types other than default and
 * proportional, head dims the attention family has no kernel for. Also the
 * presets: the released 26B-A4B (MoE) and 31B (dense), E2B and E4B (per-layer
 * inputs, kv-shared layers) and tiny test models. */
#ifndef PF_GEMMA4_CONFIG_H
#define PF_GEMMA4_CONFIG_H

#include <stddef.h>

#define PF_G4_MAX_LAYERS 256

/* RoPE of one layer kind. default: inv_i = theta^(-2i/d) for i < d/2;
 * proportional (full layers): the first int(partial*d/2) of those, divided
 * by factor, the rest 0 (those dims pass through). */
typedef struct pf_g4_rope {
    int proportional;
    double theta;
    double partial; /* partial_rotary_factor (proportional only; 1 = all) */
    double factor;  /* proportional only; 1 = none */
} pf_g4_rope;

typedef struct pf_g4_text_config {
    int hidden, intermediate, layers, heads;
    int kv_heads, head_dim;               /* sliding layers */
    int global_kv_heads, global_head_dim; /* full layers (kv heads resolved: see below) */
    int k_eq_v;        /* attention_k_eq_v: full layers have no v_proj, V = v_norm(k_proj x) */
    int sliding_window;
    double rms_eps;
    int vocab;
    double softcap;    /* final_logit_softcapping; 0 = none */
    int bidir_vision;  /* use_bidirectional_attention == "vision" */
    int pad_token_id;  /* multimodal ids are looked up as this */
    int moe;           /* enable_moe_block */
    int num_experts, top_k_experts, moe_intermediate;
    unsigned char layer_full[PF_G4_MAX_LAYERS]; /* 1: full attention (the last always) */
    pf_g4_rope rope_full, rope_sliding;
    /* E2B/E4B extras (facts section 6) */
    int ple_dim;     /* hidden_size_per_layer_input P; 0: no per-layer inputs */
    int ple_vocab;   /* vocab_size_per_layer_input (rows of embed_tokens_per_layer) */
    int kv_shared;   /* num_kv_shared_layers: the last ones reuse K/V (< layers) */
    int double_wide; /* use_double_wide_mlp: MLP width x2 in the kv-shared layers */
} pf_g4_text_config;

typedef struct pf_g4_vision_config {
    int hidden, intermediate, layers, heads, kv_heads, head_dim;
    int patch_size, pooling_kernel, position_embedding_size;
    int clipped;     /* use_clipped_linears: 4 scalar clamp buffers per linear */
    int standardize; /* std_bias / std_scale after pooling */
    double rms_eps;
    double rope_theta; /* 2D RoPE, default 100 */
} pf_g4_vision_config;

typedef struct pf_g4_config {
    int has_vision; /* vision_config null: text only */
    pf_g4_text_config text;
    pf_g4_vision_config vision;
    int image_token_id, video_token_id, audio_token_id, boi_token_id, eoi_token_id;
    int max_soft_tokens; /* soft tokens per image the processor targets (280; not in config.json) */
} pf_g4_config;

/* Parse config.json text. Errors are one line naming the key
 * ("config: text_config.top_k_experts: ..."). */
int pf_g4_config_parse(const char *text, size_t len, pf_g4_config *out);
/* Read <dir>/config.json. */
int pf_g4_config_load(const char *dir, pf_g4_config *out);
/* A preset by name ("gemma4-26b-a4b", "gemma4-tiny", ...); error lists the known. */
int pf_g4_config_preset(const char *name, pf_g4_config *out);
/* Names of the presets, NULL-terminated. */
const char *const *pf_g4_preset_names(void);

/* Shape of layer l's attention. */
static inline int pf_g4_layer_head_dim(const pf_g4_text_config *t, int l)
{
    return t->layer_full[l] ? t->global_head_dim : t->head_dim;
}
static inline int pf_g4_layer_kv_heads(const pf_g4_text_config *t, int l)
{
    return t->layer_full[l] ? t->global_kv_heads : t->kv_heads;
}
/* Layer l has a v_proj (every layer but full ones under k_eq_v). */
static inline int pf_g4_layer_has_v(const pf_g4_text_config *t, int l)
{
    return !(t->layer_full[l] && t->k_eq_v);
}
/* Layer l is kv-shared: no k/v weights, attends to another layer's K/V. */
static inline int pf_g4_layer_kv_shared(const pf_g4_text_config *t, int l)
{
    return l >= t->layers - t->kv_shared;
}
/* The layer whose K (normed, RoPE'd) and V (v_normed) layer l attends to:
 * l itself, or for a kv-shared layer the last non-shared layer of its kind
 * (HF kv_sharing_modes, C226-251); -1 when there is none. */
int pf_g4_kv_source(const pf_g4_text_config *t, int l);
/* MLP width of layer l (x2 in kv-shared layers under use_double_wide_mlp). */
static inline int pf_g4_layer_intermediate(const pf_g4_text_config *t, int l)
{
    return t->intermediate * (t->double_wide && pf_g4_layer_kv_shared(t, l) ? 2 : 1);
}
/* The widest MLP of any layer. */
static inline int pf_g4_max_intermediate(const pf_g4_text_config *t)
{
    return t->intermediate * (t->double_wide && t->kv_shared ? 2 : 1);
}
/* Number of rotated frequency pairs of layer l's RoPE (the rest pass). */
int pf_g4_rope_pairs(const pf_g4_text_config *t, int l);

#endif
