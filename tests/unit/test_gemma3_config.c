/* models/gemma3_config: both config.json forms HF writes, HF's defaults, the
 * refusals (each naming its key), derived pool sizes and the presets. */
#include <math.h>
#include <string.h>

#include "core/pf_error.h"
#include "models/gemma3_config.h"
#include "pf_test.h"

static int parse(const char *s, pf_g3_config *c)
{
    pf_error_clear();
    return pf_g3_config_parse(s, strlen(s), c);
}

/* The error of parsing s mentions `key`. */
static int refused_naming(const char *s, const char *key)
{
    pf_g3_config c;
    if (parse(s, &c) == 0)
        return 0;
    if (!strstr(pf_error_get(), key)) {
        fprintf(stderr, "  message '%s' does not name '%s'\n", pf_error_get(), key);
        return 0;
    }
    return 1;
}

static void test_multimodal_new_form(void)
{
    const char *s =
        "{\"model_type\":\"gemma3\",\"mm_tokens_per_image\":16,\"image_token_index\":511,"
        "\"boi_token_index\":509,\"eoi_token_index\":510,"
        "\"text_config\":{\"model_type\":\"gemma3_text\",\"hidden_size\":64,"
        "\"intermediate_size\":128,\"num_hidden_layers\":3,\"num_attention_heads\":4,"
        "\"num_key_value_heads\":2,\"head_dim\":64,\"query_pre_attn_scalar\":64,"
        "\"sliding_window\":8,\"vocab_size\":512,\"final_logit_softcapping\":null,"
        "\"layer_types\":[\"sliding_attention\",\"full_attention\",\"sliding_attention\"],"
        "\"rope_parameters\":{\"full_attention\":{\"rope_type\":\"linear\",\"factor\":8.0,"
        "\"rope_theta\":1000000.0},\"sliding_attention\":{\"rope_type\":\"default\","
        "\"rope_theta\":10000.0}}},"
        "\"vision_config\":{\"hidden_size\":64,\"intermediate_size\":128,\"num_hidden_layers\":2,"
        "\"num_attention_heads\":1,\"image_size\":32,\"patch_size\":4,\"vision_use_head\":false}}";
    pf_g3_config c;
    CHECK_MSG(parse(s, &c) == 0, "%s", pf_error_get());
    CHECK(c.has_vision == 1);
    CHECK(c.text.hidden == 64 && c.text.layers == 3 && c.text.heads == 4 && c.text.kv_heads == 2);
    CHECK(c.text.layer_full[0] == 0 && c.text.layer_full[1] == 1 && c.text.layer_full[2] == 0);
    CHECK(c.text.rope_full.theta == 1e6 && c.text.rope_full.factor == 8.0);
    CHECK(c.text.rope_sliding.theta == 1e4 && c.text.rope_sliding.factor == 1.0);
    CHECK(c.text.rms_eps == 1e-6);
    CHECK(c.vision.patch_size == 4 && c.vision.channels == 3 && c.vision.ln_eps == 1e-6);
    CHECK(pf_g3_patches_per_side(&c) == 8 && pf_g3_tokens_per_side(&c) == 4 &&
          pf_g3_pool_kernel(&c) == 2);
    CHECK(fabsf(pf_g3_attn_scale(&c) - 0.125f) < 1e-7f);
    CHECK(c.image_token_index == 511 && c.boi_token_index == 509 && c.eoi_token_index == 510);
}

static void test_old_form_and_defaults(void)
{
    pf_g3_config c;
    /* HF's defaults (224 px / 16 = 14 patches per side, 256 tokens) pool
     * with kernel 14 // 16 = 0, which HF cannot run either: refused. */
    CHECK(refused_naming("{\"model_type\":\"gemma3\"}", "mm_tokens_per_image"));
    /* Otherwise empty: every default of HF 5.24. */
    CHECK_MSG(parse("{\"model_type\":\"gemma3\",\"mm_tokens_per_image\":49}", &c) == 0, "%s",
              pf_error_get());
    CHECK(c.text.hidden == 2304 && c.text.intermediate == 9216 && c.text.layers == 26);
    CHECK(c.text.heads == 8 && c.text.kv_heads == 4 && c.text.head_dim == 256);
    CHECK(c.text.sliding_window == 4096 && c.text.vocab == 262208);
    CHECK(c.text.query_pre_attn_scalar == 256);
    CHECK(c.text.layer_full[5] == 1 && c.text.layer_full[4] == 0 && c.text.layer_full[11] == 1);
    CHECK(c.text.rope_full.theta == 1e6 && c.text.rope_sliding.theta == 1e4);
    CHECK(c.vision.image_size == 224 && c.vision.patch_size == 16 && c.vision.hidden == 768);
    CHECK(c.mm_tokens_per_image == 49 && c.image_token_index == 262144);
    CHECK(c.boi_token_index == 255999 && c.eoi_token_index == 256000);
    CHECK(pf_g3_pool_kernel(&c) == 2);

    /* Text-only, old rope keys, rope_scaling merged into full layers only. */
    const char *s = "{\"model_type\":\"gemma3_text\",\"num_hidden_layers\":7,"
                    "\"sliding_window_pattern\":3,\"rope_theta\":5000.0,"
                    "\"rope_local_base_freq\":100.0,"
                    "\"rope_scaling\":{\"rope_type\":\"linear\",\"factor\":4.0}}";
    CHECK_MSG(parse(s, &c) == 0, "%s", pf_error_get());
    CHECK(c.has_vision == 0 && c.text.layers == 7);
    CHECK(c.text.layer_full[2] == 1 && c.text.layer_full[5] == 1 && c.text.layer_full[6] == 0 &&
          c.text.layer_full[0] == 0);
    CHECK(c.text.rope_full.theta == 5000.0 && c.text.rope_full.factor == 4.0);
    CHECK(c.text.rope_sliding.theta == 100.0 && c.text.rope_sliding.factor == 1.0);

    /* A rope_scaling with only "type" stays default (HF ignores the factor). */
    CHECK(parse("{\"model_type\":\"gemma3_text\",\"rope_scaling\":{\"type\":\"linear\","
                "\"factor\":8.0}}", &c) == 0);
    CHECK(c.text.rope_full.factor == 1.0);
}

/* transformers 5.24 saves a private "_sliding_window_pattern" (6 unless the
 * config was built from a pattern) beside layer_types, which may disagree
 * (tests/fixtures/hf-gemma3-mm); HF reads layer_types and never the
 * private key, even alone. */
static void test_private_pattern_key(void)
{
    pf_g3_config c;
    CHECK(parse("{\"model_type\":\"gemma3_text\",\"num_hidden_layers\":4,"
                "\"_sliding_window_pattern\":6,\"layer_types\":[\"sliding_attention\","
                "\"full_attention\",\"sliding_attention\",\"full_attention\"]}", &c) == 0);
    CHECK(c.text.layer_full[1] == 1 && c.text.layer_full[3] == 1 && c.text.layer_full[2] == 0);
    CHECK(parse("{\"model_type\":\"gemma3_text\",\"num_hidden_layers\":6,"
                "\"_sliding_window_pattern\":2}", &c) == 0);
    CHECK(c.text.layer_full[1] == 0 && c.text.layer_full[3] == 0 && c.text.layer_full[5] == 1);
}

static void test_refusals(void)
{
    CHECK(refused_naming("{\"model_type\":\"gemma3_text\",\"final_logit_softcapping\":30.0}",
                         "final_logit_softcapping"));
    CHECK(refused_naming("{\"model_type\":\"gemma3\",\"text_config\":"
                         "{\"attn_logit_softcapping\":50.0}}",
                         "text_config.attn_logit_softcapping"));
    CHECK(refused_naming("{\"model_type\":\"gemma3_text\",\"hidden_activation\":\"gelu\"}",
                         "hidden_activation"));
    CHECK(refused_naming("{\"model_type\":\"gemma3\",\"vision_config\":{\"hidden_act\":\"relu\"}}",
                         "vision_config.hidden_act"));
    CHECK(refused_naming("{\"model_type\":\"gemma3_text\",\"rope_scaling\":"
                         "{\"rope_type\":\"yarn\",\"factor\":8}}",
                         "rope_scaling.rope_type"));
    CHECK(refused_naming("{\"model_type\":\"gemma3_text\",\"rope_parameters\":"
                         "{\"full_attention\":{\"rope_type\":\"dynamic\"}}}",
                         "rope_parameters.full_attention.rope_type"));
    CHECK(refused_naming("{\"model_type\":\"gemma3_text\",\"rope_parameters\":"
                         "{\"full_attention\":{\"rope_type\":\"linear\"}}}",
                         "factor"));
    CHECK(refused_naming("{\"model_type\":\"gemma3_text\",\"num_hidden_layers\":2,"
                         "\"layer_types\":[\"full_attention\"]}", "layer_types"));
    CHECK(refused_naming("{\"model_type\":\"gemma3_text\",\"num_hidden_layers\":1,"
                         "\"layer_types\":[\"chunked_attention\"]}", "layer_types[0]"));
    CHECK(refused_naming("{\"model_type\":\"gemma3_text\",\"num_attention_heads\":6,"
                         "\"num_key_value_heads\":4}", "num_key_value_heads"));
    CHECK(refused_naming("{\"model_type\":\"gemma3_text\",\"head_dim\":1024}", "head_dim"));
    CHECK(refused_naming("{\"model_type\":\"gemma3_text\",\"hidden_size\":\"64\"}",
                         "hidden_size"));
    CHECK(refused_naming("{\"model_type\":\"llama\"}", "model_type"));
    CHECK(refused_naming("{\"model_type\":\"gemma3\",\"mm_tokens_per_image\":250}",
                         "mm_tokens_per_image"));
    CHECK(refused_naming("{\"model_type\":\"gemma3\",\"vision_config\":{\"image_size\":30,"
                         "\"patch_size\":4}}", "patch_size"));
    CHECK(refused_naming("{\"model_type\":\"gemma3\",\"mm_tokens_per_image\":49,"
                         "\"vision_config\":{\"image_size\":32,\"patch_size\":4}}",
                         "mm_tokens_per_image"));
    CHECK(refused_naming("{\"model_type\":\"gemma3_text\",\"tie_word_embeddings\":false}",
                         "tie_word_embeddings"));
    CHECK(refused_naming("{\"model_type\":\"gemma3_text\",\"attention_bias\":true}",
                         "attention_bias"));
    CHECK(refused_naming("{\"model_type\":\"gemma3_text\",\"vocab_size\":1,\"vocab_size\":2}",
                         "line"));
    CHECK(refused_naming("[1,2]", "object"));
    CHECK(refused_naming("{", "line"));
}

static void test_presets(void)
{
    pf_g3_config c;
    int n = 0;
    for (const char *const *p = pf_g3_preset_names(); *p; p++, n++) {
        CHECK_MSG(pf_g3_config_preset(*p, &c) == 0, "%s", *p);
        CHECK(c.text.heads % c.text.kv_heads == 0);
        if (c.has_vision)
            CHECK(pf_g3_tokens_per_side(&c) > 0 &&
                  pf_g3_patches_per_side(&c) % pf_g3_tokens_per_side(&c) == 0);
    }
    CHECK(n == 7);
    CHECK(pf_g3_config_preset("gemma3-4b", &c) == 0);
    CHECK(c.text.hidden == 2560 && c.text.layers == 34 && c.text.layer_full[5] &&
          !c.text.layer_full[6] && c.text.rope_full.factor == 8.0);
    CHECK(pf_g3_pool_kernel(&c) == 4 && c.vision.hidden == 1152 && c.vision.heads == 16);
    CHECK(pf_g3_config_preset("gemma3-27b", &c) == 0);
    CHECK(c.text.head_dim == 128 && fabsf(pf_g3_attn_scale(&c) - 0.0771516750f) < 1e-7f);
    CHECK(pf_g3_config_preset("gemma3-1b", &c) == 0 && !c.has_vision && c.text.vocab == 262144);
    CHECK(pf_g3_config_preset("gemma3-9000b", &c) == -1 && strstr(pf_error_get(), "gemma3-4b"));
}

int main(void)
{
    test_multimodal_new_form();
    test_old_form_and_defaults();
    test_private_pattern_key();
    test_refusals();
    test_presets();
    return PF_TEST_RESULT();
}
