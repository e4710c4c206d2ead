/* libFuzzer target for the Gemma-3 config.json reader (models/gemma3_config.c):
 * any byte string parses or fails with a one-line message; an accepted
 * config is within the bounds the forward relies on. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"
#include "models/gemma3_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pf_g3_config c;
    pf_error_clear();
    if (pf_g3_config_parse((const char *)data, size, &c) != 0) {
        const char *e = pf_error_get();
        if (!*e || strchr(e, '\n'))
            abort();
        return 0;
    }
    const pf_g3_text_config *t = &c.text;
    if (t->layers < 1 || t->layers > PF_G3_MAX_LAYERS || t->heads % t->kv_heads ||
        t->head_dim < 16 || t->head_dim > 512 || t->head_dim % 2 || t->hidden < 1 ||
        t->vocab < 1 || !(t->rope_full.theta >= 1) || !(t->rope_sliding.factor > 0))
        abort();
    if (c.has_vision && (pf_g3_tokens_per_side(&c) < 1 || pf_g3_pool_kernel(&c) < 1 ||
                         c.vision.hidden % c.vision.heads))
        abort();
    return 0;
}
