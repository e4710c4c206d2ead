/* Attention shapes of the released Gemma models, from ../shared/DESIGN.md
 * "Model facts" and ../shared/models/gemma{3,4}-facts.md:
 *   Gemma-3: heads/kv heads, head_dim 256 (27B: 128), window 512 (270m, 1b)
 *     or 1024, scale query_pre_attn_scalar^-0.5 (256 -> 1/16; 27B: 168);
 *     full and sliding layers share the shape; 4b/12b/27b have SigLIP with
 *     256 soft tokens per image (rule gemma3), 270m/1b are text-only (causal).
 *   Gemma-4: sliding layers head_dim 256 with num_key_value_heads, full
 *     layers global_head_dim 512 with num_global_key_value_heads (k_eq_v),
 *     window 1024, scale 1.0, 280 soft tokens per image, rule gemma4.
 * Two tiny presets keep emu runs fast (tests, the quickstart profile). */
#include "models/presets.h"

#include <stdio.h>
#include <string.h>

#include "core/pf_error.h"

#define QPAS_256 0.0625f              /* 256^-0.5 */
#define QPAS_168 0.07715167498104596f /* 168^-0.5 (Gemma-3 27B) */

static const pf_model_preset presets[] = {
    /* name              hq  hkv full slid kvf  W     rule           vis img  scales */
    {"gemma3-270m",       4,  1, 256, 256,  1,  512, PF_RULE_CAUSAL, 0,   0, QPAS_256, QPAS_256},
    {"gemma3-1b",         4,  1, 256, 256,  1,  512, PF_RULE_CAUSAL, 0,   0, QPAS_256, QPAS_256},
    {"gemma3-4b",         8,  4, 256, 256,  4, 1024, PF_RULE_GEMMA3, 1, 256, QPAS_256, QPAS_256},
    {"gemma3-12b",       16,  8, 256, 256,  8, 1024, PF_RULE_GEMMA3, 1, 256, QPAS_256, QPAS_256},
    {"gemma3-27b",       32, 16, 128, 128, 16, 1024, PF_RULE_GEMMA3, 1, 256, QPAS_168, QPAS_168},
    {"gemma4-26b-a4b",   16,  8, 512, 256,  2, 1024, PF_RULE_GEMMA4, 1, 280, 1.0f, 1.0f},
    {"gemma4-31b",       32, 16, 512, 256,  4, 1024, PF_RULE_GEMMA4, 1, 280, 1.0f, 1.0f},
    /* emu-sized stand-ins with the same structure (not models) */
    {"test-tiny",         2,  1,  64,  64,  1,   48, PF_RULE_GEMMA3, 1,  16, 0.125f, 0.125f},
    {"test-tiny-g4",      4,  2, 128,  64,  1,   64, PF_RULE_GEMMA4, 1,  24, 1.0f, 1.0f},
};

#define N_PRESETS ((int)(sizeof presets / sizeof presets[0]))

const pf_model_preset *pf_model_presets(int *n)
{
    *n = N_PRESETS;
    return presets;
}

const pf_model_preset *pf_model_preset_find(const char *name)
{
    char known[512] = "";
    size_t used = 0;
    for (int i = 0; i < N_PRESETS; i++) {
        if (name && strcmp(name, presets[i].name) == 0)
            return &presets[i];
        int w = snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "", presets[i].name);
        if (w > 0 && (size_t)w < sizeof known - used)
            used += (size_t)w;
    }
    pf_error_set("unknown model '%.64s' (known: %s)", name ? name : "", known);
    return NULL;
}
