/* Attention shapes of the released Gemma models (HF configs; see
 * ../shared/DESIGN.md "Model facts"): what the tuner needs to build a
 * workload for a model. The forward issues extend this with the full
 * configuration. */
#ifndef PF_PRESETS_H
#define PF_PRESETS_H

#include "attention/mask_rule.h"

typedef struct pf_model_preset {
    const char *name;          /* "gemma3-4b" */
    int hq, hkv;               /* query / key-value heads (sliding layers) */
    int head_dim_full;         /* head dim of full-attention layers */
    int head_dim_sliding;      /* head dim of sliding-window layers */
    int hkv_full;              /* key-value heads of full layers (Gemma-4 may differ) */
    int window;                /* sliding window W */
    int rule;                  /* PF_RULE_GEMMA3 / PF_RULE_GEMMA4 / PF_RULE_CAUSAL (text-only) */
    int vision;                /* 1: has a vision tower (image tokens in workloads) */
    int image_tokens;          /* soft tokens per image (256 Gemma-3, 280 Gemma-4) */
    float scale_full, scale_sliding; /* softmax scale per layer kind */
} pf_model_preset;

/* The preset named `name`, or NULL with a message listing the known ones. */
const pf_model_preset *pf_model_preset_find(const char *name);
/* All presets; *n gets the count. */
const pf_model_preset *pf_model_presets(int *n);

#endif
