/* models/gemma4_weights: the spec list of a config (k_eq_v, MoE, clipped
 * vision linears, the E2B/E4B extras), the HF fixtures' checkpoints pass the check under their
 * own config.json, refusals naming the tensor (missing, wrong shape, expert
 * tensors with the wrong expert count, unsupported dtype), synthetic values. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/pf_error.h"
#include "kernels/pf_numeric.h"
#include "models/gemma4_weight_set.h"
#include "models/gemma4_weights.h"
#include "pf_test.h"

static char path[256];

static int find_spec(const pf_g4_spec *s, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s[i].name, name) == 0)
            return i;
    return -1;
}

/* Write every spec of c under HF 5.24's prefixes as bf16 zeros. skip: a spec
 * left out; bad: a spec written with dim 0 one larger; f64: written as F64. */
static void write_model(const pf_g4_config *c, const char *skip, const char *bad,
                        const char *f64)
{
    pf_g4_spec *s;
    int n;
    pf_g4_weight_specs(c, &s, &n);
    size_t cap = 1 << 20, len = 0, off = 4;
    char *h = malloc(cap);
    len += (size_t)snprintf(h + len, cap - len, "{\"model.audio_tower.probe\":"
                            "{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]}");
    for (int i = 0; i < n; i++) {
        if (skip && strcmp(s[i].name, skip) == 0)
            continue;
        const char *inner = strchr(s[i].name, ':') + 1;
        const char *pre = s[i].name[0] == 'l'   ? "model.language_model."
                          : s[i].name[0] == 'v' ? "model.vision_tower."
                                                : "model.embed_vision.";
        int grow = bad && strcmp(s[i].name, bad) == 0;
        int es = f64 && strcmp(s[i].name, f64) == 0 ? 8 : 2;
        int64_t count = s[i].ndim ? s[i].count / s[i].shape[0] * (s[i].shape[0] + grow) : 1;
        len += (size_t)snprintf(h + len, cap - len, ",\"%s%s\":{\"dtype\":\"%s\",\"shape\":[", pre,
                                inner, es == 8 ? "F64" : "BF16");
        for (int d = 0; d < s[i].ndim; d++)
            len += (size_t)snprintf(h + len, cap - len, "%s%lld", d ? "," : "",
                                    (long long)(s[i].shape[d] + (d == 0 ? grow : 0)));
        len += (size_t)snprintf(h + len, cap - len, "],\"data_offsets\":[%zu,%zu]}", off,
                                off + (size_t)count * es);
        off += (size_t)count * es;
    }
    len += (size_t)snprintf(h + len, cap - len, "}");
    FILE *f = fopen(path, "wb");
    uint64_t hl = len;
    fwrite(&hl, 8, 1, f);
    fwrite(h, 1, len, f);
    char *zeros = calloc(1, off);
    fwrite(zeros, 1, off, f);
    fclose(f);
    free(zeros);
    free(h);
    free(s);
}

static int check_file(const pf_g4_config *c)
{
    pf_safetensors *st;
    pf_error_clear();
    if (pf_st_open_file(path, &st))
        return -1;
    int rc = pf_g4_weights_check(c, st);
    pf_st_close(st);
    return rc;
}

static void test_specs(void)
{
    pf_g4_config c;
    pf_g4_spec *s;
    int n;
    pf_g4_config_preset("gemma4-tiny", &c); /* MoE, k_eq_v, layers S F S F */
    CHECK(pf_g4_weight_specs(&c, &s, &n) == 0);
    /* embed + norm; per layer 13 (+1 v_proj on sliding) + 8 MoE; vision 2 +
     * 4 norms + 7 linears + 2 qk norms per layer + std 2 + embed_vision 1 */
    CHECK(n == 2 + 4 * (13 + 8) + 2 + 2 + c.vision.layers * 13 + 2 + 1);
    CHECK(find_spec(s, n, "lm:layers.0.self_attn.v_proj.weight") >= 0);
    CHECK(find_spec(s, n, "lm:layers.1.self_attn.v_proj.weight") < 0);
    int k = find_spec(s, n, "lm:layers.1.self_attn.k_proj.weight");
    CHECK(k >= 0 && s[k].shape[0] == 128 && s[k].shape[1] == 64);
    int gu = find_spec(s, n, "lm:layers.3.experts.gate_up_proj");
    CHECK(gu >= 0 && s[gu].ndim == 3 && s[gu].shape[0] == 4 && s[gu].shape[1] == 64 &&
          s[gu].shape[2] == 64);
    int pt = find_spec(s, n, "vision:patch_embedder.position_embedding_table");
    CHECK(pt >= 0 && s[pt].ndim == 3 && s[pt].shape[0] == 2);
    free(s);

    pf_g4_config_preset("gemma4-tiny-dense", &c);
    c.vision.clipped = 1;
    CHECK(pf_g4_weight_specs(&c, &s, &n) == 0);
    CHECK(find_spec(s, n, "lm:layers.1.self_attn.v_proj.weight") >= 0);
    CHECK(find_spec(s, n, "lm:layers.1.router.proj.weight") < 0);
    int lo = find_spec(s, n, "vision:encoder.layers.1.mlp.down_proj.input_min");
    CHECK(lo >= 0 && s[lo].ndim == 0 && s[lo].count == 1);
    free(s);

    pf_g4_config_preset("gemma4-26b-a4b", &c);
    CHECK(pf_g4_weight_specs(&c, &s, &n) == 0);
    gu = find_spec(s, n, "lm:layers.5.experts.down_proj");
    CHECK(gu >= 0 && s[gu].count == 128LL * 2816 * 704);
    k = find_spec(s, n, "lm:layers.5.self_attn.k_proj.weight");
    CHECK(k >= 0 && s[k].shape[0] == 2 * 512);
    free(s);
}

/* The E2B/E4B extras: per-layer input tensors, no k/v weights on the
 * kv-shared layers, their MLPs twice as wide. */
static void test_specs_extras(void)
{
    pf_g4_config c;
    pf_g4_spec *s;
    int n;
    pf_g4_config_preset("gemma4-tiny-ple", &c); /* 6 layers, the last 2 shared */
    CHECK(pf_g4_weight_specs(&c, &s, &n) == 0);
    int e = find_spec(s, n, "lm:embed_tokens_per_layer.weight");
    CHECK(e >= 0 && s[e].shape[0] == 512 && s[e].shape[1] == 6 * 16);
    int pr = find_spec(s, n, "lm:per_layer_model_projection.weight");
    CHECK(pr >= 0 && s[pr].shape[0] == 6 * 16 && s[pr].shape[1] == 64);
    CHECK(find_spec(s, n, "lm:per_layer_projection_norm.weight") >= 0);
    int g = find_spec(s, n, "lm:layers.5.per_layer_input_gate.weight");
    CHECK(g >= 0 && s[g].shape[0] == 16 && s[g].shape[1] == 64);
    CHECK(find_spec(s, n, "lm:layers.0.post_per_layer_input_norm.weight") >= 0);
    CHECK(find_spec(s, n, "lm:layers.3.self_attn.k_proj.weight") >= 0 &&
          find_spec(s, n, "lm:layers.3.self_attn.v_proj.weight") >= 0);
    CHECK(find_spec(s, n, "lm:layers.4.self_attn.k_proj.weight") < 0 &&
          find_spec(s, n, "lm:layers.4.self_attn.v_proj.weight") < 0 &&
          find_spec(s, n, "lm:layers.5.self_attn.k_norm.weight") < 0 &&
          find_spec(s, n, "lm:layers.5.self_attn.q_norm.weight") >= 0);
    int d3 = find_spec(s, n, "lm:layers.3.mlp.down_proj.weight");
    int d4 = find_spec(s, n, "lm:layers.4.mlp.down_proj.weight");
    CHECK(d3 >= 0 && d4 >= 0 && s[d3].shape[1] == 128 && s[d4].shape[1] == 256);
    free(s);
}

/* The committed HF checkpoints pass under their own config.json. */
static void test_hf_fixtures(void)
{
    const char *dirs[] = {"hf-gemma4-moe", "hf-gemma4-dense", "hf-gemma4-ple"};
    for (int i = 0; i < 3; i++) {
        char dir[512];
        snprintf(dir, sizeof dir, "%s/tests/fixtures/%s", PF_SOURCE_DIR, dirs[i]);
        pf_g4_config c;
        pf_error_clear();
        CHECK_MSG(pf_g4_config_load(dir, &c) == 0, "%s", pf_error_get());
        CHECK(c.has_vision && c.text.softcap == 30.0 && c.text.bidir_vision == (i < 2));
        pf_safetensors *st = NULL;
        CHECK_MSG(pf_st_open(dir, &st) == 0, "%s", pf_error_get());
        if (st) {
            CHECK_MSG(pf_g4_weights_check(&c, st) == 0, "%s: %s", dirs[i], pf_error_get());
            pf_st_close(st);
        }
        pf_weight_set w;
        CHECK_MSG(pf_g4_weight_set_load(&c, dir, &w) == 0, "%s", pf_error_get());
        const uint16_t *ls = pf_ws_get(&w, "lm:layers.%d.layer_scalar", 3);
        const uint16_t *e = pf_ws_get(&w, "lm:embed_tokens.weight");
        CHECK(ls && e && pf_bf16_to_f32(ls[0]) != 1.0f && pf_bf16_to_f32(e[5]) != 0.0f);
        CHECK(pf_ws_get(&w, "lm:layers.1.self_attn.v_proj.weight") == NULL || i > 0);
        pf_weight_set_free(&w);
        if (i == 0)
            CHECK(c.text.moe && c.text.k_eq_v && c.text.global_head_dim == 128 &&
                  c.vision.head_dim == 64 && !c.vision.clipped);
        else
            CHECK(!c.text.moe && !c.text.k_eq_v && c.vision.head_dim == 72 && c.vision.clipped);
        if (i == 2)
            CHECK(c.text.ple_dim == 16 && c.text.kv_shared == 2 && c.text.double_wide &&
                  c.text.layers == 6);
    }
}

static void test_refusals(void)
{
    pf_g4_config c;
    pf_g4_config_preset("gemma4-tiny", &c);
    write_model(&c, NULL, NULL, NULL);
    CHECK_MSG(check_file(&c) == 0, "%s", pf_error_get());
    write_model(&c, "lm:layers.2.layer_scalar", NULL, NULL);
    CHECK(check_file(&c) == -1 && strstr(pf_error_get(), "layers.2.layer_scalar") &&
          !strchr(pf_error_get(), '\n'));
    /* expert tensors with 5 experts for a 4-expert config */
    write_model(&c, NULL, "lm:layers.1.experts.gate_up_proj", NULL);
    CHECK(check_file(&c) == -1 &&
          strstr(pf_error_get(), "model.language_model.layers.1.experts.gate_up_proj") &&
          strstr(pf_error_get(), "[5,64,64]") && strstr(pf_error_get(), "num_experts 4") &&
          strstr(pf_error_get(), path));
    write_model(&c, NULL, "lm:layers.0.router.per_expert_scale", NULL);
    CHECK(check_file(&c) == -1 && strstr(pf_error_get(), "per_expert_scale") &&
          strstr(pf_error_get(), "num_experts"));
    /* k_eq_v: a full layer has no v_proj; a dense config wants one */
    pf_g4_config d;
    pf_g4_config_preset("gemma4-tiny-dense", &d);
    d.text.moe = 0;
    write_model(&c, NULL, NULL, NULL);
    CHECK(check_file(&d) == -1 && strstr(pf_error_get(), "layers.1.self_attn.v_proj.weight"));
    write_model(&c, NULL, "embed:embedding_projection.weight", NULL);
    CHECK(check_file(&c) == -1 && strstr(pf_error_get(), "model.embed_vision.embedding_projection"));
    /* E2B/E4B extras: a missing per-layer tensor, a shared layer's absent
     * k_proj wanted by a config without sharing, a double-wide MLP too narrow */
    pf_g4_config e;
    pf_g4_config_preset("gemma4-tiny-ple", &e);
    write_model(&e, NULL, NULL, NULL);
    CHECK_MSG(check_file(&e) == 0, "%s", pf_error_get());
    write_model(&e, "lm:layers.3.per_layer_input_gate.weight", NULL, NULL);
    CHECK(check_file(&e) == -1 && strstr(pf_error_get(), "layers.3.per_layer_input_gate.weight") &&
          !strchr(pf_error_get(), '\n'));
    write_model(&e, "lm:embed_tokens_per_layer.weight", NULL, NULL);
    CHECK(check_file(&e) == -1 && strstr(pf_error_get(), "embed_tokens_per_layer.weight"));
    write_model(&e, NULL, NULL, NULL);
    pf_g4_config ns = e;
    ns.text.kv_shared = 0;
    CHECK(check_file(&ns) == -1 && strstr(pf_error_get(), "layers.4.self_attn.k_proj.weight"));
    ns = e;
    ns.text.double_wide = 0;
    CHECK(check_file(&ns) == -1 && strstr(pf_error_get(), "layers.4.mlp.gate_proj.weight") &&
          strstr(pf_error_get(), "[256,64]") && strstr(pf_error_get(), "[128,64]"));
    write_model(&c, NULL, NULL, "vision:encoder.layers.1.mlp.up_proj.linear.weight");
    CHECK(check_file(&c) == -1 && strstr(pf_error_get(), "up_proj.linear.weight") &&
          strstr(pf_error_get(), "F64"));
}

static void test_synth(void)
{
    pf_g4_config c;
    pf_g4_config_preset("gemma4-tiny", &c);
    c.vision.clipped = 1;
    pf_g4_spec *s;
    int n;
    CHECK(pf_g4_weight_specs(&c, &s, &n) == 0);
    int gu = find_spec(s, n, "lm:layers.1.experts.gate_up_proj");
    int sc = find_spec(s, n, "lm:layers.1.layer_scalar");
    int lo = find_spec(s, n, "vision:encoder.layers.0.self_attn.q_proj.input_min");
    int hi = find_spec(s, n, "vision:encoder.layers.0.self_attn.q_proj.input_max");
    CHECK(gu >= 0 && sc >= 0 && lo >= 0 && hi >= 0);
    if (gu >= 0 && sc >= 0 && lo >= 0 && hi >= 0) {
        size_t bytes = (size_t)s[gu].count * 2;
        uint16_t *w = malloc(bytes), *w2 = malloc(bytes);
        pf_g4_synth(&s[gu], 7, w);
        pf_g4_synth(&s[gu], 7, w2);
        CHECK(memcmp(w, w2, bytes) == 0);
        double mx = 0;
        for (int64_t i = 0; i < s[gu].count; i++)
            mx = fmax(mx, fabs(pf_bf16_to_f32(w[i])));
        CHECK(mx <= 1.0 / sqrt(64.0) * 1.01 && mx > 0.5 / sqrt(64.0)); /* fan_in = H */
        pf_g4_synth(&s[gu], 8, w2);
        CHECK(memcmp(w, w2, 64) != 0);
        uint16_t v;
        pf_g4_synth(&s[sc], 7, &v);
        CHECK(fabsf(pf_bf16_to_f32(v) - 1.0f) <= 0.1005f);
        uint16_t a, b;
        pf_g4_synth(&s[lo], 7, &a);
        pf_g4_synth(&s[hi], 7, &b);
        CHECK(pf_bf16_to_f32(a) < -2.4f && pf_bf16_to_f32(b) > 2.4f);
        free(w), free(w2);
    }
    free(s);
    pf_weight_set w;
    CHECK(pf_g4_weight_set_synth(&c, 3, &w) == 0 && w.n == n);
    const pf_g4_spec *ps = pf_ws_spec(&w, "lm:layers.1.router.per_expert_scale");
    CHECK(ps && ps->count == 4 && pf_ws_get(&w, "lm:layers.%d.router.per_expert_scale", 1));
    pf_weight_set_free(&w);
}

int main(void)
{
    snprintf(path, sizeof path, "/tmp/pf_g4w_%d.safetensors", (int)getpid());
    test_specs();
    test_specs_extras();
    test_hf_fixtures();
    test_refusals();
    test_synth();
    unlink(path);
    return PF_TEST_RESULT();
}
