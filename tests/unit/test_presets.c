/* Model presets: the numbers of the facts sheets (DESIGN.md "Model facts",
 * gemma3-facts.md, gemma4-facts.md), written out again here, and the
 * invariants every preset must keep. */
#include <math.h>
#include <string.h>

#include "attention/attn_variant.h"
#include "core/pf_error.h"
#include "models/presets.h"
#include "pf_test.h"

static const struct {
    const char *name;
    int hq, hkv, hkv_full, d_full, d_sliding, window, rule, image_tokens;
    double scale; /* both layer kinds */
} want[] = {
    {"gemma3-270m", 4, 1, 1, 256, 256, 512, PF_RULE_CAUSAL, 0, 1 / 16.0},
    {"gemma3-1b", 4, 1, 1, 256, 256, 512, PF_RULE_CAUSAL, 0, 1 / 16.0},
    {"gemma3-4b", 8, 4, 4, 256, 256, 1024, PF_RULE_GEMMA3, 256, 1 / 16.0},
    {"gemma3-12b", 16, 8, 8, 256, 256, 1024, PF_RULE_GEMMA3, 256, 1 / 16.0},
    {"gemma3-27b", 32, 16, 16, 128, 128, 1024, PF_RULE_GEMMA3, 256, 0.0771516749810459},
    {"gemma4-26b-a4b", 16, 8, 2, 512, 256, 1024, PF_RULE_GEMMA4, 280, 1.0},
    {"gemma4-31b", 32, 16, 4, 512, 256, 1024, PF_RULE_GEMMA4, 280, 1.0},
    {"test-tiny", 2, 1, 1, 64, 64, 48, PF_RULE_GEMMA3, 16, 0.125},
};

static void test_facts(void)
{
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const pf_model_preset *p = pf_model_preset_find(want[i].name);
        CHECK_MSG(p != NULL, "%s", want[i].name);
        if (!p)
            continue;
        CHECK_MSG(p->hq == want[i].hq && p->hkv == want[i].hkv && p->hkv_full == want[i].hkv_full,
                  "%s heads", p->name);
        CHECK_MSG(p->head_dim_full == want[i].d_full && p->head_dim_sliding == want[i].d_sliding,
                  "%s head dims", p->name);
        CHECK_MSG(p->window == want[i].window && p->rule == want[i].rule, "%s window/rule", p->name);
        CHECK_MSG(p->image_tokens == want[i].image_tokens && p->vision == (want[i].image_tokens > 0),
                  "%s vision", p->name);
        CHECK_MSG(fabs(p->scale_full - want[i].scale) < 1e-7 &&
                      fabs(p->scale_sliding - want[i].scale) < 1e-7,
                  "%s scale %.9g", p->name, p->scale_full);
    }
    /* 27B's scale is query_pre_attn_scalar 168, not its head dim 128 */
    CHECK(fabsf(pf_model_preset_find("gemma3-27b")->scale_full - 1 / sqrtf(168.0f)) < 1e-7f);
}

static void test_invariants(void)
{
    int n = 0;
    const pf_model_preset *all = pf_model_presets(&n);
    CHECK(n >= 9);
    for (int i = 0; i < n; i++) {
        const pf_model_preset *p = &all[i];
        CHECK_MSG(p->hkv > 0 && p->hq % p->hkv == 0 && p->hkv_full > 0 && p->hq % p->hkv_full == 0,
                  "%s: GQA groups", p->name);
        CHECK_MSG(pf_attn_head_dim_supported(p->head_dim_full) &&
                      pf_attn_head_dim_supported(p->head_dim_sliding),
                  "%s: head dims the kernel family supports", p->name);
        CHECK_MSG(p->window > 0 && p->scale_full > 0 && p->scale_sliding > 0, "%s", p->name);
        /* text-only models are causal; vision models have soft tokens */
        CHECK_MSG((p->rule == PF_RULE_CAUSAL) == !p->vision && (p->image_tokens > 0) == p->vision,
                  "%s: rule / vision", p->name);
        CHECK(pf_model_preset_find(p->name) == p);
        for (int j = 0; j < i; j++)
            CHECK_MSG(strcmp(all[j].name, p->name) != 0, "duplicate %s", p->name);
    }
    CHECK(pf_model_preset_find("gemma3-5b") == NULL);
    const char *msg = pf_error_get();
    CHECK(strstr(msg, "unknown model 'gemma3-5b'") && strstr(msg, "gemma3-4b") &&
          strstr(msg, "gemma4-31b") && strstr(msg, "test-tiny"));
    CHECK(pf_model_preset_find(NULL) == NULL);
}

int main(void)
{
    test_facts();
    test_invariants();
    return PF_TEST_RESULT();
}
