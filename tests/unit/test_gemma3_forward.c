/* The Gemma-3 forward on emu (models/gemma3_forward.h):
 *  - against HF transformers on the committed fixtures (tests/hf/
 *    make_reference.py): relative Frobenius error of the logits under 5e-2,
 *    the same argmax wherever HF's top-2 margin is clear, and with
 *    token_type_ids ignored it matches HF's run without them instead;
 *  - against the plain C reference forward (models/gemma3_ref_forward.h) on
 *    the tiny presets with seeded synthetic weights and fresh random
 *    layouts: several requests, images, windows shorter than the prompt. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/npy.h"
#include "core/pf_error.h"
#include "device/device.h"
#include "models/gemma3_forward.h"
#include "models/gemma3_inputs_load.h"
#include "models/gemma3_ref_forward.h"
#include "pf_test.h"
#include "pf_test_logits.h"

/* tests/gpu/test_gemma3_forward_gpu.c runs this file on cuda; there the
 * HF fixtures may not travel (the GPU bundle), and are then reported as not
 * run, never as passed. */
#ifndef PF_TEST_DEVICE
#define PF_TEST_DEVICE "emu"
#define PF_FIXTURES_REQUIRED 1
#else
#define PF_FIXTURES_REQUIRED 0
#endif

static pf_device *dev;

static float *run(const pf_g3_config *c, const pf_weight_set *w, const pf_g3_inputs *in,
                  int ignore_types)
{
    pf_g3_forward_opts o;
    if (pf_g3_forward_defaults(dev, c, &o)) {
        fprintf(stderr, "defaults: %s\n", pf_error_get());
        return NULL;
    }
    o.all_logits = 1;
    o.ignore_token_types = ignore_types;
    float *logits = malloc((size_t)in->tokens * c->text.vocab * sizeof *logits);
    for (size_t i = 0; logits && i < (size_t)in->tokens * c->text.vocab; i++)
        logits[i] = NAN; /* poisoned: a row the forward forgets shows up */
    if (logits && pf_g3_forward(dev, c, w, in, &o, logits, NULL)) {
        fprintf(stderr, "forward: %s\n", pf_error_get());
        free(logits);
        return NULL;
    }
    return logits;
}

static void test_hf_fixture(const char *name, int has_no_tti)
{
    const char *src = getenv("PFTUNE_SOURCE_DIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/fixtures/%s", src ? src : ".", name);
    pf_g3_config c;
    pf_weight_set w;
    pf_g3_inputs in;
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/config.json", dir);
    FILE *pf = fopen(probe, "r");
    if (!pf && !PF_FIXTURES_REQUIRED) {
        printf("%s: NOT RUN (no fixture at %s)\n", name, dir);
        return;
    }
    if (pf)
        fclose(pf);
    int ok = pf_g3_config_load(dir, &c) == 0 && pf_g3_weight_set_load(&c, dir, &w) == 0;
    CHECK_MSG(ok, "%s: %s", dir, pf_error_get());
    if (!ok)
        return;
    ok = pf_g3_inputs_load(&c, dir, &in) == 0;
    CHECK_MSG(ok, "%s inputs: %s", dir, pf_error_get());
    float *hf = ok ? load_logits(dir, "hf_logits.npy", in.tokens, c.text.vocab) : NULL;
    float *ours = hf ? run(&c, &w, &in, 0) : NULL;
    CHECK_MSG(hf && ours, "%s: no logits", name);
    if (hf && ours) {
        cmp r = compare(ours, hf, in.tokens, c.text.vocab);
        printf("%s: rel Frobenius %.4g, argmax agrees at %d of %d clear positions (of %d)\n", name,
               r.rel, r.agree, r.clear, in.tokens);
        CHECK_MSG(r.rel < 5e-2, "%s: relative error %.4g", name, r.rel);
        CHECK_MSG(r.clear >= in.tokens / 2 && r.agree == r.clear, "%s: argmax %d/%d", name,
                  r.agree, r.clear);
    }
    if (has_no_tti && hf && ours) {
        float *hf2 = load_logits(dir, "hf_logits_no_tti.npy", in.tokens, c.text.vocab);
        float *ours2 = hf2 ? run(&c, &w, &in, 1) : NULL;
        CHECK(hf2 && ours2);
        if (hf2 && ours2) {
            cmp same = compare(ours2, hf2, in.tokens, c.text.vocab);
            cmp other = compare(ours2, hf, in.tokens, c.text.vocab);
            printf("%s without token types: rel %.4g vs HF without them, %.4g vs HF with them\n",
                   name, same.rel, other.rel);
            CHECK_MSG(same.rel < 5e-2, "no-tti relative error %.4g", same.rel);
            CHECK_MSG(other.rel > 10 * same.rel, "the fixture's two masks barely differ (%.4g)",
                      other.rel);
        }
        free(hf2);
        free(ours2);
    }
    free(hf);
    free(ours);
    pf_g3_inputs_free(&in);
    pf_weight_set_free(&w);
}

/* A random layout for the tiny presets: 1-3 requests of text and images. */
static void random_layout(const pf_g3_config *c, char *buf, size_t size)
{
    int n_req = 1 + (int)(pf_test_rng() % 3);
    size_t used = 0;
    for (int r = 0; r < n_req; r++) {
        int spans = 1 + (int)(pf_test_rng() % 4);
        for (int s = 0; s < spans; s++) {
            int img = c->has_vision && s % 2 == 1;
            int n = img ? c->mm_tokens_per_image * (1 + (int)(pf_test_rng() % 2))
                        : 1 + (int)(pf_test_rng() % 23);
            used += snprintf(buf + used, size - used, "%s%c%d", s ? "," : (r ? ";" : ""),
                             img ? 'i' : 't', n);
        }
    }
}

/* edit: 0, or a change to the preset (head dims the family pads). */
static void test_against_reference(const char *preset, int rounds, void (*edit)(pf_g3_config *))
{
    pf_g3_config c;
    pf_weight_set w;
    CHECK(pf_g3_config_preset(preset, &c) == 0);
    if (edit)
        edit(&c);
    CHECK(pf_g3_weight_set_synth(&c, pf_test_rng(), &w) == 0);
    for (int i = 0; i < rounds; i++) {
        char layout[512];
        random_layout(&c, layout, sizeof layout);
        pf_g3_inputs in;
        if (pf_g3_inputs_from_layout(&c, layout, pf_test_rng(), &in)) {
            CHECK_MSG(0, "%s: %s", layout, pf_error_get());
            continue;
        }
        size_t n = (size_t)in.tokens * c.text.vocab;
        float *ref = malloc(n * sizeof *ref);
        int ok = ref && pf_g3_ref_forward(&c, &w, &in, ref) == 0;
        CHECK_MSG(ok, "reference: %s", pf_error_get());
        float *ours = ok ? run(&c, &w, &in, 0) : NULL;
        CHECK_MSG(ours, "%s %s: forward failed", preset, layout);
        if (ours) {
            cmp r = compare(ours, ref, in.tokens, c.text.vocab);
            printf("%s '%s': rel %.4g, argmax %d/%d clear\n", preset, layout, r.rel, r.agree,
                   r.clear);
            CHECK_MSG(r.rel < 3e-2, "%s '%s': relative error %.4g", preset, layout, r.rel);
            CHECK_MSG(r.agree >= r.clear - r.clear / 20, "%s '%s': argmax %d/%d", preset, layout,
                      r.agree, r.clear);
        }
        free(ref);
        free(ours);
        pf_g3_inputs_free(&in);
    }
    pf_weight_set_free(&w);
}

/* Head dims without a kernel of their own: text 48 (padded to 64), vision
 * 32 (two heads of the 64-wide tower). */
static void odd_head_dims(pf_g3_config *c)
{
    c->text.head_dim = 48;
    c->text.query_pre_attn_scalar = 48;
    c->vision.heads = 2;
}

int main(void)
{
    pf_test_seed();
    int rc = strcmp(PF_TEST_DEVICE, "emu") == 0 ? pf_emu_open("sm_90", &dev)
                                                 : pf_device_open(PF_TEST_DEVICE, &dev);
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", PF_TEST_DEVICE, pf_error_get());
        return 1;
    }
    test_hf_fixture("hf-gemma3-mm", 1);
    test_hf_fixture("hf-gemma3-text", 0);
    test_against_reference("gemma3-tiny", 3, NULL);
    test_against_reference("gemma3-tiny-text", 2, NULL);
    test_against_reference("gemma3-tiny", 2, odd_head_dims);
    pf_device_close(dev);
    return PF_TEST_RESULT();
}
