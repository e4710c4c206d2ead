/* Gemma-4 presets: the released sizes (../shared/models/gemma4-facts.md
 * "Released configs", third-party copies of Google's config.json; the 31B
 * intermediate size 21504 is from such a copy too) and tiny test models
 * sized for emu with head dims the attention family supports. Released:
 * 5 sliding : 1 full layers (the last full), window 1024, softcap 30, vocab
 * 262144, vision 1152 x 27 layers x 16 heads of 72, patch 16, pool 3,
 * standardize, no clipping. The tiny ones alternate sliding and full so both
 * kinds appear in four layers; gemma4-tiny is MoE with k_eq_v, gemma4-tiny-
 * dense has neither (full layers with v_proj and num_key_value_heads),
 * gemma4-tiny-ple is the dense one with the E2B/E4B extras (6 layers, the
 * last 2 kv-shared, per-layer inputs of 16, double-wide MLP).
 *
 * E2B / E4B (section 6 extras: per-layer inputs P=256, kv-shared layers,
 * use_bidirectional_attention null, the clipped 768-wide vision tower of
 * HF's Gemma4VisionConfig defaults). From the facts: H 1536 / 2560, P 256,
 * window 512, clipped 768-wide vision. UNVERIFIED (recalled, not read from
 * Google's config.json): intermediate 6144 / 10240, 35 / 42 layers, 8 heads,
 * 1 / 2 kv heads of 256, full layers of 512, 4:1 / 5:1 sliding:full,
 * 20 / 18 kv-shared layers, double-wide MLP on E2B only, vision 16 layers of
 * 12 heads x 64, intermediate 3072, no standardize. */
#include <stdio.h>
#include <string.h>

#include "core/pf_error.h"
#include "models/gemma4_config.h"

typedef struct g4_preset {
    const char *name;
    int hidden, inter, layers, heads, kv, hd, gkv, ghd, window, vocab, pattern;
    int k_eq_v, experts, top_k, moe_inter;
    int vision; /* 1: the released tower, 2: tiny, 3: the E2B/E4B tower */
    int ple, kv_shared, double_wide; /* E2B/E4B extras */
    int causal_only;                 /* use_bidirectional_attention null */
} g4_preset;

static const g4_preset presets[] = {
    {"gemma4-26b-a4b", 2816, 2112, 30, 16, 8, 256, 2, 512, 1024, 262144, 6, 1, 128, 8, 704, 1,
     0, 0, 0, 0},
    {"gemma4-31b", 5376, 21504, 60, 32, 16, 256, 4, 512, 1024, 262144, 6, 1, 0, 0, 0, 1,
     0, 0, 0, 0},
    /* test models (not released): window shorter than a typical test prompt */
    {"gemma4-tiny", 64, 128, 4, 2, 1, 64, 1, 128, 8, 512, 2, 1, 4, 2, 32, 2, 0, 0, 0, 0},
    {"gemma4-tiny-dense", 64, 128, 4, 2, 1, 64, 1, 128, 8, 512, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0},
    {"gemma4-e2b", 1536, 6144, 35, 8, 1, 256, 1, 512, 512, 262144, 5, 0, 0, 0, 0, 3,
     256, 20, 1, 1},
    {"gemma4-e4b", 2560, 10240, 42, 8, 2, 256, 2, 512, 512, 262144, 6, 0, 0, 0, 0, 3,
     256, 18, 0, 1},
    {"gemma4-tiny-ple", 64, 128, 6, 2, 1, 64, 1, 128, 8, 512, 2, 0, 0, 0, 0, 2, 16, 2, 1, 1},
};
#define N_PRESETS ((int)(sizeof presets / sizeof presets[0]))

static const char *const names[N_PRESETS + 1] = {
    "gemma4-26b-a4b", "gemma4-31b", "gemma4-tiny", "gemma4-tiny-dense",
    "gemma4-e2b",     "gemma4-e4b", "gemma4-tiny-ple",  NULL,
};

const char *const *pf_g4_preset_names(void)
{
    return names;
}

static void fill(const g4_preset *p, pf_g4_config *c)
{
    memset(c, 0, sizeof *c);
    pf_g4_text_config *t = &c->text;
    t->hidden = p->hidden;
    t->intermediate = p->inter;
    t->layers = p->layers;
    t->heads = p->heads;
    t->kv_heads = p->kv;
    t->head_dim = p->hd;
    t->k_eq_v = p->k_eq_v;
    t->global_kv_heads = p->k_eq_v ? p->gkv : p->kv;
    t->global_head_dim = p->ghd;
    t->sliding_window = p->window;
    t->rms_eps = 1e-6;
    t->vocab = p->vocab;
    t->softcap = 30.0;
    t->bidir_vision = !p->causal_only;
    t->pad_token_id = 0;
    t->moe = p->experts > 0;
    t->num_experts = p->experts;
    t->top_k_experts = p->top_k;
    t->moe_intermediate = p->moe_inter;
    for (int i = 0; i < t->layers; i++)
        t->layer_full[i] = (i + 1) % p->pattern == 0;
    t->layer_full[t->layers - 1] = 1;
    t->rope_sliding = (pf_g4_rope){0, 1e4, 1.0, 1.0};
    t->rope_full = (pf_g4_rope){1, 1e6, 0.25, 1.0};
    t->ple_dim = p->ple;
    t->ple_vocab = p->vocab;
    t->kv_shared = p->kv_shared;
    t->double_wide = p->double_wide;
    c->has_vision = 1;
    c->max_soft_tokens = 280;
    c->image_token_id = 258880;
    c->video_token_id = 258884;
    c->audio_token_id = 258881;
    c->boi_token_id = 255999;
    c->eoi_token_id = 258882;
    if (p->vision == 1) {
        c->vision = (pf_g4_vision_config){1152, 4304, 27, 16, 16, 72, 16, 3, 10240, 0, 1,
                                          1e-6, 100.0};
    } else if (p->vision == 3) { /* clipped, no standardize (unverified) */
        c->vision = (pf_g4_vision_config){768, 3072, 16, 12, 12, 64, 16, 3, 10240, 1, 0,
                                          1e-6, 100.0};
    } else { /* 4x4-pixel patches, pool 2: a 8x6-patch image gives 12 tokens */
        c->vision = (pf_g4_vision_config){64, 128, 2, 1, 1, 64, 4, 2, 64, 0, 1, 1e-6, 100.0};
        c->max_soft_tokens = 16;
        c->image_token_id = 507;
        c->video_token_id = 508;
        c->audio_token_id = 506;
        c->boi_token_id = 509;
        c->eoi_token_id = 510;
    }
}

int pf_g4_config_preset(const char *name, pf_g4_config *out)
{
    for (int i = 0; i < N_PRESETS; i++)
        if (name && strcmp(name, presets[i].name) == 0) {
            fill(&presets[i], out);
            return 0;
        }
    char known[256] = "";
    for (int i = 0; i < N_PRESETS; i++) {
        size_t used = strlen(known);
        snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "", presets[i].name);
    }
    return pf_error_set("unknown model preset '%.64s' (known: %s)", name ? name : "", known);
}
