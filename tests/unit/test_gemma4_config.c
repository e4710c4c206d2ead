/* models/gemma4_config: a released-style config.json, HF's defaults, the
 * refusals (each one line naming its key, non-zero return), per-layer
 * shapes and RoPE, and the presets. */
#include <math.h>
#include <string.h>

#include "core/pf_error.h"
#include "models/gemma4_config.h"
#include "pf_test.h"

static int parse(const char *s, pf_g4_config *c)
{
    pf_error_clear();
    return pf_g4_config_parse(s, strlen(s), c);
}

/* Parsing s fails with a one-line message that names `key`. */
static int refused_naming(const char *s, const char *key)
{
    pf_g4_config c;
    if (parse(s, &c) == 0) {
        fprintf(stderr, "  accepted, expected a refusal naming '%s'\n", key);
        return 0;
    }
    if (!strstr(pf_error_get(), key) || strchr(pf_error_get(), '\n')) {
        fprintf(stderr, "  message '%s' does not name '%s'\n", pf_error_get(), key);
        return 0;
    }
    return 1;
}

/* A text_config body with no PLE (HF's default has it), plus `extra`. */
#define TXT(extra) "{\"model_type\":\"gemma4\",\"text_config\":{\"hidden_size_per_layer_input\":0" extra "}}"

static void test_released_form(void)
{
    /* The 26B-A4B's shape as HF writes it (abridged layer count). */
    const char *s =
        "{\"architectures\":[\"Gemma4ForConditionalGeneration\"],\"model_type\":\"gemma4\","
        "\"audio_config\":null,\"boi_token_id\":255999,\"eoi_token_id\":258882,"
        "\"image_token_id\":258880,\"video_token_id\":258884,\"audio_token_id\":258881,"
        "\"text_config\":{\"model_type\":\"gemma4_text\",\"hidden_size\":2816,"
        "\"intermediate_size\":2112,\"num_hidden_layers\":6,\"num_attention_heads\":16,"
        "\"num_key_value_heads\":8,\"head_dim\":256,\"global_head_dim\":512,"
        "\"num_global_key_value_heads\":2,\"attention_k_eq_v\":true,\"sliding_window\":1024,"
        "\"final_logit_softcapping\":30.0,\"use_bidirectional_attention\":\"vision\","
        "\"hidden_size_per_layer_input\":0,\"num_kv_shared_layers\":0,"
        "\"use_double_wide_mlp\":false,\"enable_moe_block\":true,\"num_experts\":128,"
        "\"top_k_experts\":8,\"moe_intermediate_size\":704,\"vocab_size\":262144,"
        "\"layer_types\":[\"sliding_attention\",\"sliding_attention\",\"sliding_attention\","
        "\"sliding_attention\",\"sliding_attention\",\"full_attention\"],"
        "\"rope_parameters\":{\"full_attention\":{\"partial_rotary_factor\":0.25,"
        "\"rope_theta\":1000000.0,\"rope_type\":\"proportional\"},"
        "\"sliding_attention\":{\"rope_theta\":10000.0,\"rope_type\":\"default\"}}},"
        "\"vision_config\":{\"model_type\":\"gemma4_vision\",\"hidden_size\":1152,"
        "\"intermediate_size\":4304,\"num_hidden_layers\":27,\"num_attention_heads\":16,"
        "\"num_key_value_heads\":16,\"head_dim\":72,\"patch_size\":16,\"pooling_kernel_size\":3,"
        "\"position_embedding_size\":10240,\"standardize\":true,\"use_clipped_linears\":false,"
        "\"rope_parameters\":{\"rope_type\":\"default\",\"rope_theta\":100.0}}}";
    pf_g4_config c;
    CHECK_MSG(parse(s, &c) == 0, "%s", pf_error_get());
    const pf_g4_text_config *t = &c.text;
    CHECK(c.has_vision && t->hidden == 2816 && t->layers == 6 && t->heads == 16);
    CHECK(t->kv_heads == 8 && t->global_kv_heads == 2 && t->k_eq_v);
    CHECK(t->head_dim == 256 && t->global_head_dim == 512 && t->sliding_window == 1024);
    CHECK(t->moe && t->num_experts == 128 && t->top_k_experts == 8 && t->moe_intermediate == 704);
    CHECK(t->softcap == 30.0 && t->bidir_vision && t->vocab == 262144);
    CHECK(!t->layer_full[0] && !t->layer_full[4] && t->layer_full[5]);
    CHECK(pf_g4_layer_head_dim(t, 5) == 512 && pf_g4_layer_kv_heads(t, 5) == 2);
    CHECK(pf_g4_layer_head_dim(t, 0) == 256 && pf_g4_layer_kv_heads(t, 0) == 8);
    CHECK(!pf_g4_layer_has_v(t, 5) && pf_g4_layer_has_v(t, 0));
    CHECK(pf_g4_rope_pairs(t, 5) == 64 && pf_g4_rope_pairs(t, 0) == 128);
    CHECK(t->rope_full.proportional && t->rope_full.theta == 1e6 && t->rope_full.partial == 0.25);
    CHECK(!t->rope_sliding.proportional && t->rope_sliding.theta == 1e4);
    const pf_g4_vision_config *v = &c.vision;
    CHECK(v->hidden == 1152 && v->head_dim == 72 && v->heads == 16 && v->patch_size == 16);
    CHECK(v->pooling_kernel == 3 && v->position_embedding_size == 10240 && v->standardize &&
          !v->clipped && v->rope_theta == 100.0);
    CHECK(c.image_token_id == 258880 && c.video_token_id == 258884 && c.eoi_token_id == 258882);
}

static void test_defaults(void)
{
    pf_g4_config c;
    /* HF's defaults: 30 layers 5:1 with the last forced full, head dims
     * 256/512, window 512, no softcap, text-only without vision_config. */
    CHECK_MSG(parse(TXT(""), &c) == 0, "%s", pf_error_get());
    const pf_g4_text_config *t = &c.text;
    CHECK(!c.has_vision && t->hidden == 2304 && t->layers == 30 && t->vocab == 262144);
    CHECK(t->layer_full[5] && !t->layer_full[6] && t->layer_full[29] && !t->layer_full[28]);
    CHECK(t->sliding_window == 512 && t->softcap == 0 && !t->bidir_vision && !t->moe);
    CHECK(!t->k_eq_v && t->global_kv_heads == t->kv_heads && pf_g4_layer_has_v(t, 5));
    CHECK(t->rope_full.proportional && t->rope_full.partial == 0.25);
    /* k_eq_v without num_global_key_value_heads keeps num_key_value_heads;
     * without k_eq_v, num_global_key_value_heads is ignored. */
    CHECK(parse(TXT(",\"attention_k_eq_v\":true"), &c) == 0 && c.text.global_kv_heads == 4);
    CHECK(parse(TXT(",\"num_global_key_value_heads\":2"), &c) == 0 &&
          c.text.global_kv_heads == 4);
    /* layer_types with a sliding last layer: forced full. */
    CHECK(parse(TXT(",\"num_hidden_layers\":2,\"layer_types\":[\"full_attention\","
                    "\"sliding_attention\"]"), &c) == 0);
    CHECK(c.text.layer_full[0] && c.text.layer_full[1]);
    /* Vision defaults. */
    CHECK(parse("{\"model_type\":\"gemma4\",\"text_config\":{\"hidden_size_per_layer_input\":null},"
                "\"vision_config\":{}}", &c) == 0);
    CHECK(c.has_vision && c.vision.hidden == 768 && c.vision.head_dim == 64 &&
          c.vision.pooling_kernel == 3 && c.vision.patch_size == 16 &&
          c.vision.position_embedding_size == 10240 && c.vision.rope_theta == 100.0);
    /* The form HF 5.24 saves: per_layer_config instead of global_head_dim /
     * num_global_key_value_heads (those are ignored then); a default-type
     * full layer uses its own head dim; vision rope_type "axial". */
    CHECK_MSG(parse(TXT(",\"num_hidden_layers\":2,\"global_head_dim\":256,\"attention_k_eq_v\":true,"
                        "\"num_global_key_value_heads\":1,\"layer_types\":[\"sliding_attention\","
                        "\"full_attention\"],\"per_layer_config\":{\"1\":{\"head_dim\":128,"
                        "\"num_key_value_heads\":2}},\"rope_parameters\":{\"full_attention\":"
                        "{\"rope_type\":\"default\",\"rope_theta\":1e6},\"sliding_attention\":{}}},"
                        "\"vision_config\":{\"rope_parameters\":{\"rope_type\":\"axial\","
                        "\"rope_theta\":100.0}"), &c) == 0, "%s", pf_error_get());
    CHECK(c.text.global_head_dim == 128 && c.text.global_kv_heads == 2 &&
          pf_g4_rope_pairs(&c.text, 1) == 64 && pf_g4_rope_pairs(&c.text, 0) == 128);
    CHECK(!c.text.rope_sliding.proportional && c.text.rope_sliding.theta == 1e4);
    /* Proportional factor and partial factor. */
    CHECK(parse(TXT(",\"head_dim\":128,\"global_head_dim\":256,\"rope_parameters\":"
                    "{\"full_attention\":{\"rope_type\":\"proportional\",\"partial_rotary_factor\":0.5,"
                    "\"factor\":2.0,\"rope_theta\":5000.0},\"sliding_attention\":{\"rope_type\":\"default\"}}"),
                &c) == 0);
    CHECK(c.text.rope_full.factor == 2.0 && pf_g4_rope_pairs(&c.text, 29) == 64);
}

/* The E2B/E4B extras: HF's defaults (per-layer inputs of 256 without the
 * key), kv-shared layers and their sources, the double-wide MLP. */
static void test_extras(void)
{
    pf_g4_config c;
    CHECK_MSG(parse("{\"model_type\":\"gemma4\"}", &c) == 0, "%s", pf_error_get());
    CHECK(c.text.ple_dim == 256 && c.text.ple_vocab == 262144 && c.text.kv_shared == 0 &&
          !c.text.double_wide && !pf_g4_layer_kv_shared(&c.text, 29));
    CHECK(parse(TXT(""), &c) == 0 && c.text.ple_dim == 0);
    /* 30 layers (5 sliding : 1 full), the last 20 shared: sources are the
     * last sliding (9) and full (5) layer before layer 10 */
    CHECK_MSG(parse(TXT(",\"num_kv_shared_layers\":20,\"use_double_wide_mlp\":true"), &c) == 0,
              "%s", pf_error_get());
    const pf_g4_text_config *t = &c.text;
    CHECK(!pf_g4_layer_kv_shared(t, 9) && pf_g4_layer_kv_shared(t, 10));
    CHECK(pf_g4_kv_source(t, 9) == 9 && pf_g4_kv_source(t, 10) == 9 &&
          pf_g4_kv_source(t, 11) == 5 && pf_g4_kv_source(t, 29) == 5);
    CHECK(pf_g4_layer_intermediate(t, 9) == 9216 && pf_g4_layer_intermediate(t, 10) == 2 * 9216 &&
          pf_g4_max_intermediate(t) == 2 * 9216);
    CHECK(parse(TXT(",\"num_kv_shared_layers\":0,\"use_double_wide_mlp\":true"), &c) == 0 &&
          pf_g4_max_intermediate(&c.text) == 9216);
}

static void test_refusals(void)
{
    /* scope */
    CHECK(refused_naming("{\"model_type\":\"gemma4\",\"audio_config\":{}}", "audio_config"));
    /* E2B/E4B extras (section 6) */
    CHECK(refused_naming(TXT(",\"num_kv_shared_layers\":30"), "text_config.num_kv_shared_layers"));
    CHECK(refused_naming(TXT(",\"num_kv_shared_layers\":-1"), "text_config.num_kv_shared_layers"));
    /* 6 layers, 5 sliding then a full one: sharing the last leaves no full source */
    CHECK(refused_naming(TXT(",\"num_hidden_layers\":6,\"num_kv_shared_layers\":1"),
                         "text_config.num_kv_shared_layers"));
    CHECK(refused_naming(TXT(",\"use_double_wide_mlp\":\"yes\""),
                         "text_config.use_double_wide_mlp"));
    CHECK(refused_naming("{\"model_type\":\"gemma4\",\"text_config\":{\"vocab_size\":512}}",
                         "text_config.vocab_size_per_layer_input"));
    CHECK(refused_naming("{\"model_type\":\"gemma4\",\"text_config\":{"
                         "\"hidden_size_per_layer_input\":-4}}",
                         "text_config.hidden_size_per_layer_input"));
    CHECK(refused_naming("{\"model_type\":\"gemma4\",\"text_config\":{"
                         "\"hidden_size_per_layer_input\":65536,\"num_hidden_layers\":30}}",
                         "text_config.hidden_size_per_layer_input"));
    CHECK(refused_naming(TXT(",\"use_bidirectional_attention\":\"all\""),
                         "use_bidirectional_attention"));
    CHECK(refused_naming("{\"model_type\":\"gemma3\"}", "model_type"));
    CHECK(refused_naming("{}", "model_type"));
    CHECK(refused_naming("{\"model_type\":\"gemma4\",\"text_config\":{\"model_type\":\"gemma3_text\"}}",
                         "text_config.model_type"));
    /* MoE */
    CHECK(refused_naming(TXT(",\"enable_moe_block\":true,\"num_experts\":4,\"top_k_experts\":8,"
                             "\"moe_intermediate_size\":32"), "top_k_experts"));
    CHECK(refused_naming(TXT(",\"enable_moe_block\":true,\"num_experts\":4,\"top_k_experts\":2"),
                         "moe_intermediate_size"));
    CHECK(refused_naming(TXT(",\"enable_moe_block\":true,\"num_experts\":0,\"top_k_experts\":1,"
                             "\"moe_intermediate_size\":32"), "num_experts"));
    CHECK(refused_naming(TXT(",\"enable_moe_block\":\"yes\""), "enable_moe_block"));
    /* attention shapes */
    CHECK(refused_naming(TXT(",\"head_dim\":96"), "text_config.head_dim"));
    CHECK(refused_naming(TXT(",\"global_head_dim\":1024"), "global_head_dim"));
    CHECK(refused_naming(TXT(",\"num_attention_heads\":6,\"num_key_value_heads\":4"),
                         "num_key_value_heads"));
    CHECK(refused_naming(TXT(",\"attention_k_eq_v\":true,\"num_global_key_value_heads\":3"),
                         "num_global_key_value_heads"));
    CHECK(refused_naming(TXT(",\"attention_bias\":true"), "attention_bias"));
    CHECK(refused_naming(TXT(",\"hidden_activation\":\"gelu\""), "hidden_activation"));
    CHECK(refused_naming(TXT(",\"tie_word_embeddings\":false"), "tie_word_embeddings"));
    CHECK(refused_naming(TXT(",\"final_logit_softcapping\":\"30\""), "final_logit_softcapping"));
    /* RoPE, layer types */
    CHECK(refused_naming(TXT(",\"rope_parameters\":{\"full_attention\":{\"rope_type\":\"yarn\"}}"),
                         "rope_parameters.full_attention.rope_type"));
    CHECK(refused_naming(TXT(",\"rope_parameters\":{\"sliding_attention\":{\"rope_type\":"
                             "\"proportional\"}}"), "rope_parameters.sliding_attention"));
    CHECK(refused_naming(TXT(",\"per_layer_config\":{\"0\":{\"head_dim\":128}}"),
                         "per_layer_config.0"));
    CHECK(refused_naming(TXT(",\"num_hidden_layers\":2,\"layer_types\":[\"full_attention\","
                             "\"full_attention\"],\"per_layer_config\":{\"1\":{\"head_dim\":128}}"),
                         "per_layer_config.1"));
    CHECK(refused_naming(TXT(",\"per_layer_config\":{\"5\":{\"sliding_window\":4}}"),
                         "per_layer_config.5.sliding_window"));
    CHECK(refused_naming(TXT(",\"per_layer_config\":{\"x\":{}}"), "per_layer_config.x"));
    CHECK(refused_naming(TXT(",\"num_hidden_layers\":6,\"per_layer_config\":{\"5\":{\"head_dim\":100}}"),
                         "global_head_dim"));
    CHECK(refused_naming(TXT(",\"rope_parameters\":{\"full_attention\":{\"rope_type\":\"proportional\"}}"),
                         "rope_parameters.sliding_attention: missing"));
    CHECK(refused_naming(TXT(",\"rope_parameters\":{\"chunked\":{}}"), "rope_parameters.chunked"));
    CHECK(refused_naming(TXT(",\"rope_parameters\":{\"full_attention\":{\"rope_type\":"
                             "\"proportional\",\"partial_rotary_factor\":2}}"),
                         "partial_rotary_factor"));
    CHECK(refused_naming(TXT(",\"num_hidden_layers\":2,\"layer_types\":[\"full_attention\"]"),
                         "layer_types"));
    CHECK(refused_naming(TXT(",\"num_hidden_layers\":1,\"layer_types\":[\"chunked_attention\"]"),
                         "layer_types[0]"));
    CHECK(refused_naming(TXT(",\"pad_token_id\":600,\"vocab_size\":512"), "pad_token_id"));
    /* vision */
    CHECK(refused_naming(TXT("},\"vision_config\":{\"head_dim\":48"), "vision_config.head_dim"));
    CHECK(refused_naming(TXT("},\"vision_config\":{\"num_key_value_heads\":5"),
                         "vision_config.num_key_value_heads"));
    CHECK(refused_naming(TXT("},\"vision_config\":{\"rope_parameters\":{\"rope_type\":\"linear\"}"),
                         "vision_config.rope_parameters.rope_type"));
    CHECK(refused_naming(TXT("},\"vision_config\":{\"pooling_kernel_size\":0"),
                         "pooling_kernel_size"));
    CHECK(refused_naming(TXT("},\"vision_config\":{\"use_clipped_linears\":1"),
                         "use_clipped_linears"));
    /* JSON itself */
    CHECK(refused_naming("{\"model_type\":\"gemma4\",\"model_type\":\"gemma4\"}", "line"));
    CHECK(refused_naming("[1,2]", "object"));
    CHECK(refused_naming("{", "line"));
}

static void test_presets(void)
{
    pf_g4_config c;
    int n = 0;
    for (const char *const *p = pf_g4_preset_names(); *p; p++, n++) {
        CHECK_MSG(pf_g4_config_preset(*p, &c) == 0, "%s", *p);
        const pf_g4_text_config *t = &c.text;
        CHECK(t->heads % t->kv_heads == 0 && t->heads % t->global_kv_heads == 0);
        CHECK(t->layer_full[t->layers - 1] && !t->layer_full[0]);
        CHECK(!t->moe || t->top_k_experts <= t->num_experts);
        for (int l = 0; l < t->layers; l++)
            CHECK_MSG(pf_g4_kv_source(t, l) >= 0, "%s layer %d", *p, l);
    }
    CHECK(n == 7);
    CHECK(pf_g4_config_preset("gemma4-e2b", &c) == 0);
    CHECK(c.text.hidden == 1536 && c.text.ple_dim == 256 && c.text.sliding_window == 512 &&
          c.text.kv_shared > 0 && c.text.double_wide && !c.text.k_eq_v && !c.text.bidir_vision &&
          c.vision.hidden == 768 && c.vision.clipped);
    CHECK(pf_g4_config_preset("gemma4-e4b", &c) == 0);
    CHECK(c.text.hidden == 2560 && c.text.ple_dim == 256 && c.text.ple_vocab == c.text.vocab &&
          c.text.kv_shared > 0 && c.vision.hidden == 768 && c.vision.clipped);
    CHECK(pf_g4_config_preset("gemma4-tiny-ple", &c) == 0);
    CHECK(c.text.ple_dim == 16 && c.text.kv_shared == 2 && pf_g4_kv_source(&c.text, 4) == 2 &&
          pf_g4_kv_source(&c.text, 5) == 3 && pf_g4_layer_intermediate(&c.text, 5) == 256);
    CHECK(pf_g4_config_preset("gemma4-26b-a4b", &c) == 0);
    CHECK(c.text.hidden == 2816 && c.text.layers == 30 && c.text.moe && c.text.num_experts == 128 &&
          c.text.top_k_experts == 8 && c.text.moe_intermediate == 704 &&
          c.text.global_kv_heads == 2 && c.text.layer_full[5] && !c.text.layer_full[6] &&
          c.text.softcap == 30.0 && c.vision.head_dim == 72 && c.max_soft_tokens == 280);
    CHECK(pf_g4_config_preset("gemma4-31b", &c) == 0);
    CHECK(c.text.hidden == 5376 && c.text.layers == 60 && !c.text.moe && c.text.heads == 32 &&
          c.text.kv_heads == 16 && c.text.global_kv_heads == 4 && c.text.k_eq_v);
    CHECK(pf_g4_config_preset("gemma4-tiny", &c) == 0);
    CHECK(c.text.moe && c.text.k_eq_v && pf_g4_layer_head_dim(&c.text, 1) == 128 &&
          pf_g4_rope_pairs(&c.text, 1) == 16 && c.vision.pooling_kernel == 2);
    CHECK(pf_g4_config_preset("gemma4-tiny-dense", &c) == 0);
    CHECK(!c.text.moe && !c.text.k_eq_v && pf_g4_layer_has_v(&c.text, 1) &&
          pf_g4_layer_kv_heads(&c.text, 1) == c.text.kv_heads);
    CHECK(pf_g4_config_preset("gemma4-9000b", &c) == -1 && strstr(pf_error_get(), "gemma4-tiny"));
}

int main(void)
{
    test_released_form();
    test_defaults();
    test_extras();
    test_refusals();
    test_presets();
    return PF_TEST_RESULT();
}
