/* libFuzzer target for the Gemma-4 config.json reader (models/gemma4_config.c):
 * any byte string parses or fails with a one-line message; an accepted
 * config is within the bounds the forward relies on. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"
#include "models/gemma4_config.h"

static int head_dim_ok(int d)
{
    return d == 64 || d == 72 || d == 128 || d == 256 || d == 512;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pf_g4_config c;
    pf_error_clear();
    if (pf_g4_config_parse((const char *)data, size, &c) != 0) {
        const char *e = pf_error_get();
        if (!*e || strchr(e, '\n'))
            abort();
        return 0;
    }
    const pf_g4_text_config *t = &c.text;
    if (t->layers < 1 || t->layers > PF_G4_MAX_LAYERS || !t->layer_full[t->layers - 1] ||
        t->heads % t->kv_heads || t->heads % t->global_kv_heads || !head_dim_ok(t->head_dim) ||
        !head_dim_ok(t->global_head_dim) || t->hidden < 1 || t->vocab < 1 ||
        t->pad_token_id >= t->vocab || !(t->rope_full.theta >= 1) || !(t->rope_sliding.theta >= 1))
        abort();
    if (t->moe && (t->top_k_experts < 1 || t->top_k_experts > t->num_experts ||
                   t->moe_intermediate < 1))
        abort();
    for (int l = 0; l < t->layers; l++) {
        int p = pf_g4_rope_pairs(t, l);
        if (p < 0 || p > pf_g4_layer_head_dim(t, l) / 2)
            abort();
    }
    if (c.has_vision && (!head_dim_ok(c.vision.head_dim) || c.vision.head_dim % 4 ||
                         c.vision.heads % c.vision.kv_heads || c.vision.pooling_kernel < 1 ||
                         c.vision.patch_size < 1 || c.vision.position_embedding_size < 1))
        abort();
    return 0;
}
