/* models/gemma3_weights: the spec list of a config, lookup under each HF
 * layout (extra tensors ignored, no lm_head needed), refusals naming the
 * tensor (missing, wrong shape, unsupported dtype), synthetic values. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/pf_error.h"
#include "kernels/pf_numeric.h"
#include "models/gemma3_weights.h"
#include "pf_test.h"

static char path[256];

/* Write every spec of c under the prefixes given (lm, vision, proj) as bf16
 * zeros, plus `extra` (a name, bf16 [2]); skip: a spec name to leave out;
 * bad_shape: a spec written with one more row; f64: a spec written as F64. */
static void write_model(const pf_g3_config *c, const char *lm, const char *vis, const char *proj,
                        const char *skip, const char *bad_shape, const char *f64)
{
    pf_g3_spec *s;
    int n;
    pf_g3_weight_specs(c, &s, &n);
    size_t cap = 1 << 20, len = 0, off = 0;
    char *h = malloc(cap);
    len += (size_t)snprintf(h + len, cap - len, "{\"vision_tower.vision_model.head.probe\":"
                            "{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]}");
    off = 4;
    for (int i = 0; i < n; i++) {
        if (skip && strcmp(s[i].name, skip) == 0)
            continue;
        const char *inner = strchr(s[i].name, ':') + 1;
        const char *pre = s[i].name[0] == 'l' ? lm : s[i].name[0] == 'v' ? vis : proj;
        int64_t d0 = s[i].shape[0] + (bad_shape && strcmp(s[i].name, bad_shape) == 0);
        int es = f64 && strcmp(s[i].name, f64) == 0 ? 8 : 2;
        int64_t count = s[i].count / s[i].shape[0] * d0;
        len += (size_t)snprintf(h + len, cap - len, ",\"%s%s\":{\"dtype\":\"%s\",\"shape\":[%lld",
                                pre, inner, es == 8 ? "F64" : "BF16", (long long)d0);
        for (int d = 1; d < s[i].ndim; d++)
            len += (size_t)snprintf(h + len, cap - len, ",%lld", (long long)s[i].shape[d]);
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

static int check_file(const pf_g3_config *c)
{
    pf_safetensors *st;
    pf_error_clear();
    if (pf_st_open_file(path, &st))
        return -1;
    int rc = pf_g3_weights_check(c, st);
    pf_st_close(st);
    return rc;
}

static void test_specs_and_layouts(void)
{
    pf_g3_config c;
    pf_g3_config_preset("gemma3-tiny", &c);
    pf_g3_spec *s;
    int n;
    CHECK(pf_g3_weight_specs(&c, &s, &n) == 0);
    /* 1 embed + 13 per layer + final norm; vision: 3 + 16 per layer + 2; proj 2 */
    CHECK(n == 1 + 13 * c.text.layers + 1 + 3 + 16 * c.vision.layers + 2 + 2);
    free(s);
    write_model(&c, "language_model.model.", "vision_tower.", "multi_modal_projector.", NULL,
                NULL, NULL);
    CHECK_MSG(check_file(&c) == 0, "%s", pf_error_get());
    write_model(&c, "model.language_model.", "model.vision_tower.vision_model.",
                "model.multi_modal_projector.", NULL, NULL, NULL);
    CHECK_MSG(check_file(&c) == 0, "%s", pf_error_get());
    write_model(&c, "model.language_model.", "vision_tower.vision_model.",
                "multi_modal_projector.", "lm:layers.2.self_attn.k_norm.weight", NULL, NULL);
    CHECK(check_file(&c) == -1 && strstr(pf_error_get(), "layers.2.self_attn.k_norm.weight"));
    write_model(&c, "language_model.model.", "vision_tower.", "multi_modal_projector.", NULL,
                "proj:mm_input_projection_weight", NULL);
    CHECK(check_file(&c) == -1 &&
          strstr(pf_error_get(), "multi_modal_projector.mm_input_projection_weight") &&
          strstr(pf_error_get(), "[65,64]"));
    write_model(&c, "language_model.model.", "vision_tower.", "multi_modal_projector.", NULL,
                NULL, "vision:encoder.layers.1.mlp.fc1.bias");
    CHECK(check_file(&c) == -1 && strstr(pf_error_get(), "fc1.bias") &&
          strstr(pf_error_get(), "F64"));

    pf_g3_config_preset("gemma3-tiny-text", &c); /* CausalLM names */
    write_model(&c, "model.", "-", "-", NULL, NULL, NULL);
    CHECK_MSG(check_file(&c) == 0, "%s", pf_error_get());
}

static void test_synth(void)
{
    pf_g3_config c;
    pf_g3_config_preset("gemma3-4b", &c);
    pf_g3_spec *s;
    int n;
    CHECK(pf_g3_weight_specs(&c, &s, &n) == 0);
    int q = -1, norm = -1;
    for (int i = 0; i < n; i++) {
        if (strcmp(s[i].name, "lm:layers.0.self_attn.q_proj.weight") == 0)
            q = i;
        if (strcmp(s[i].name, "lm:layers.0.input_layernorm.weight") == 0)
            norm = i;
    }
    CHECK(q >= 0 && norm >= 0 && s[q].count == 2048LL * 2560);
    if (q >= 0 && norm >= 0) {
        uint16_t *w = malloc((size_t)s[q].count * 2), *w2 = malloc((size_t)s[q].count * 2);
        pf_g3_synth(&s[q], 7, w);
        pf_g3_synth(&s[q], 7, w2);
        CHECK(memcmp(w, w2, (size_t)s[q].count * 2) == 0);
        double mx = 0;
        for (int64_t i = 0; i < s[q].count; i++)
            mx = fmax(mx, fabs(pf_bf16_to_f32(w[i])));
        CHECK(mx <= 1.0 / sqrt(2560.0) * 1.01 && mx > 0.5 / sqrt(2560.0));
        pf_g3_synth(&s[q], 8, w2);
        CHECK(memcmp(w, w2, 64) != 0);
        pf_g3_synth(&s[norm], 7, w);
        for (int64_t i = 0; i < s[norm].count; i++)
            if (!(fabsf(pf_bf16_to_f32(w[i])) <= 0.1005f)) /* 0.1 after bf16 rounding */
                CHECK(0);
        free(w), free(w2);
    }
    free(s);
}

int main(void)
{
    snprintf(path, sizeof path, "/tmp/pf_g3w_%d.safetensors", (int)getpid());
    test_specs_and_layouts();
    test_synth();
    unlink(path);
    return PF_TEST_RESULT();
}
