/* Gemma-3 presets: the released sizes (../shared/DESIGN.md "Model facts":
 * 270m/1b text-only with theta 1e6 / 1e4, 4b/12b/27b with SigLIP 896/14 and
 * linear RoPE factor 8 on full layers) and tiny test models sized for emu
 * (head dim 64, which the attention family supports). Full layers are every
 * sixth ((i+1) % 6 == 0); the tiny ones use every second so both kinds
 * appear in four layers. */
#include <stdio.h>
#include <string.h>

#include "core/pf_error.h"
#include "models/gemma3_config.h"

typedef struct g3_preset {
    const char *name;
    int hidden, inter, layers, heads, kv, hd, qpas, window, vocab, pattern;
    double rope_factor; /* linear factor on full layers; 1 = default */
    int vision;         /* 0 none, 1 SigLIP-so400m 896/14, 2 tiny tower */
} g3_preset;

static const g3_preset presets[] = {
    {"gemma3-270m", 640, 2048, 18, 4, 1, 256, 256, 512, 262144, 6, 1.0, 0},
    {"gemma3-1b", 1152, 6912, 26, 4, 1, 256, 256, 512, 262144, 6, 1.0, 0},
    {"gemma3-4b", 2560, 10240, 34, 8, 4, 256, 256, 1024, 262208, 6, 8.0, 1},
    {"gemma3-12b", 3840, 15360, 48, 16, 8, 256, 256, 1024, 262208, 6, 8.0, 1},
    {"gemma3-27b", 5376, 21504, 62, 32, 16, 128, 168, 1024, 262208, 6, 8.0, 1},
    /* test models (not released): window shorter than a typical test prompt */
    {"gemma3-tiny", 64, 128, 4, 2, 1, 64, 64, 8, 512, 2, 2.0, 2},
    {"gemma3-tiny-text", 64, 128, 4, 2, 1, 64, 64, 8, 512, 2, 2.0, 0},
};
#define N_PRESETS ((int)(sizeof presets / sizeof presets[0]))

static const char *const names[N_PRESETS + 1] = {
    "gemma3-270m", "gemma3-1b", "gemma3-4b", "gemma3-12b", "gemma3-27b",
    "gemma3-tiny", "gemma3-tiny-text", NULL,
};

const char *const *pf_g3_preset_names(void)
{
    return names;
}

static void fill(const g3_preset *p, pf_g3_config *c)
{
    memset(c, 0, sizeof *c);
    pf_g3_text_config *t = &c->text;
    t->hidden = p->hidden;
    t->intermediate = p->inter;
    t->layers = p->layers;
    t->heads = p->heads;
    t->kv_heads = p->kv;
    t->head_dim = p->hd;
    t->query_pre_attn_scalar = p->qpas;
    t->sliding_window = p->window;
    t->rms_eps = 1e-6;
    t->vocab = p->vocab;
    for (int i = 0; i < t->layers; i++)
        t->layer_full[i] = (i + 1) % p->pattern == 0;
    t->rope_full = (pf_g3_rope){1e6, p->rope_factor};
    t->rope_sliding = (pf_g3_rope){1e4, 1.0};
    c->has_vision = p->vision != 0;
    if (!p->vision)
        return;
    if (p->vision == 1) {
        c->vision = (pf_g3_vision_config){1152, 4304, 27, 16, 3, 896, 14, 1e-6};
        c->mm_tokens_per_image = 256;
        c->image_token_index = 262144;
        c->boi_token_index = 255999;
        c->eoi_token_index = 256000;
    } else { /* 32 px / patch 4: 8x8 patches pooled 2x2 to 16 tokens */
        c->vision = (pf_g3_vision_config){64, 128, 2, 1, 3, 32, 4, 1e-6};
        c->mm_tokens_per_image = 16;
        c->image_token_index = 511;
        c->boi_token_index = 509;
        c->eoi_token_index = 510;
    }
}

int pf_g3_config_preset(const char *name, pf_g3_config *out)
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
