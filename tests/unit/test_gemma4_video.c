/* Gemma-4 video inputs (issue 15) against HF transformers 5.24 on
 * tests/fixtures/hf-gemma4-video (tests/hf/make_reference_gemma4.py
 * --video: the dense model with clipped vision, two images and one video of
 * three padded frames, each frame its own vision block):
 *  - the device forward on emu and the plain C reference: relative
 *    Frobenius error of the logits under 5e-2 (without mm_token_type_ids:
 *    8e-2 for the device, 5e-2 for the reference, as the image fixtures),
 *    the same argmax wherever HF's top-2 margin is clear, and strictly
 *    closer to HF's answer than to HF's answer under the other mask;
 *  - the device forward against the reference on seeded layouts with video
 *    frames (vFxN spans) and images, the fixture's weights (3e-2, as
 *    test_gemma4_forward's dense runs);
 *  - the layout's video spans, and the checks the loader does not reach
 *    (frame counts, type 2 away from video_token_id, patch sizes). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"
#include "device/device.h"
#include "models/gemma4_forward.h"
#include "models/gemma4_inputs_layout.h"
#include "models/gemma4_ref_forward.h"
#include "models/gemma4_weight_set.h"
#include "pf_test.h"
#include "pf_test_logits.h"

static pf_device *dev;

/* All logits of the device forward (poisoned first), or NULL. */
static float *device_run(const pf_g4_config *c, const pf_weight_set *w, const pf_g4_inputs *in,
                         int ignore_types)
{
    size_t n = (size_t)in->tokens * c->text.vocab;
    float *out = malloc(n * sizeof *out);
    pf_g4_forward_opts o;
    if (!out || pf_g4_forward_defaults(dev, c, &o)) {
        free(out);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = NAN;
    o.all_logits = 1;
    o.ignore_mm_types = ignore_types;
    if (pf_g4_forward(dev, c, w, in, &o, out, NULL)) {
        fprintf(stderr, "forward: %s\n", pf_error_get());
        free(out);
        return NULL;
    }
    return out;
}

/* All logits of the reference (poisoned first), or NULL. */
static float *ref_run(const pf_g4_config *c, const pf_weight_set *w, const pf_g4_inputs *in,
                      int use_types)
{
    size_t n = (size_t)in->tokens * c->text.vocab;
    float *out = malloc(n * sizeof *out);
    for (size_t i = 0; out && i < n; i++)
        out[i] = NAN;
    if (out && pf_g4_ref_forward(c, w, in, use_types, out)) {
        fprintf(stderr, "reference: %s\n", pf_error_get());
        free(out);
        return NULL;
    }
    return out;
}

/* One implementation's logits (with and without the types) against HF's. */
static void against_hf(const char *who, const float *mine, const float *mine_no, const float *hf,
                       const float *hf_no, int T, int V, double bound_no)
{
    for (int no = 0; no < 2; no++) {
        const float *got = no ? mine_no : mine;
        cmp right = compare(got, no ? hf_no : hf, T, V);
        cmp wrong = compare(got, no ? hf : hf_no, T, V);
        printf("video fixture, %s%s vs HF: rel %.4g (vs HF's other mask %.4g), argmax %d/%d "
               "clear\n", who, no ? " without mm types" : "", right.rel, wrong.rel, right.agree,
               right.clear);
        CHECK_MSG(right.rel < (no ? bound_no : 5e-2), "%s: rel %.4g", who, right.rel);
        CHECK_MSG(right.rel < wrong.rel, "%s: closer to the other mask's answer", who);
        CHECK_MSG(right.agree == right.clear && (no || right.clear >= T / 2),
                  "%s%s: argmax %d/%d", who, no ? " (no types)" : "", right.agree, right.clear);
    }
}

static void fixture(const pf_g4_config *c, const pf_weight_set *w, const char *dir)
{
    pf_g4_inputs in;
    if (pf_g4_inputs_load(c, dir, &in)) {
        CHECK_MSG(0, "inputs: %s", pf_error_get());
        return;
    }
    CHECK(in.n_images == 2 && in.n_videos == 1 && in.n_frames == 3 &&
          in.video_max_patches != in.max_patches);
    int T = in.tokens, V = c->text.vocab;
    float *hf = load_logits(dir, "hf_logits.npy", T, V);
    float *hf_no = load_logits(dir, "hf_logits_no_mm.npy", T, V);
    float *dv = device_run(c, w, &in, 0), *dv_no = device_run(c, w, &in, 1);
    float *rf = ref_run(c, w, &in, 1), *rf_no = ref_run(c, w, &in, 0);
    CHECK_MSG(hf && hf_no && dv && dv_no && rf && rf_no, "a run failed");
    if (hf && hf_no && dv && dv_no)
        against_hf("device (emu)", dv, dv_no, hf, hf_no, T, V, 8e-2);
    if (hf && hf_no && rf && rf_no)
        against_hf("reference", rf, rf_no, hf, hf_no, T, V, 5e-2);
    free(hf), free(hf_no), free(dv), free(dv_no), free(rf), free(rf_no);
    pf_g4_inputs_free(&in);
}

/* Device against reference on layouts with frames and images. */
static void layouts(const pf_g4_config *c, const pf_weight_set *w)
{
    const char *specs[] = {"t5,v3x4,t3,i4,t2", "t3,i6,t2,v2x6,t4;t6,v4,t3,v2x2,t2"};
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        pf_g4_inputs in;
        if (pf_g4_inputs_from_layout(c, specs[i], pf_test_rng(), &in)) {
            CHECK_MSG(0, "%s: %s", specs[i], pf_error_get());
            continue;
        }
        float *dv = device_run(c, w, &in, 0), *rf = ref_run(c, w, &in, 1);
        CHECK_MSG(dv && rf, "%s: a run failed", specs[i]);
        if (dv && rf) {
            cmp r = compare(dv, rf, in.tokens, c->text.vocab);
            printf("layout '%s' (%d frames, %d images): device vs reference rel %.4g, argmax "
                   "%d/%d clear\n", specs[i], in.n_frames, in.n_images, r.rel, r.agree, r.clear);
            CHECK_MSG(r.rel < 3e-2, "%s: rel %.4g", specs[i], r.rel);
            CHECK_MSG(r.agree >= 0.95 * r.clear - 1e-9, "%s: argmax %d/%d", specs[i], r.agree,
                      r.clear);
        }
        free(dv), free(rf);
        pf_g4_inputs_free(&in);
    }
}

static void expect_refused(const pf_g4_config *c, const pf_g4_inputs *in, const char *what,
                           const char *needle)
{
    int rc = pf_g4_inputs_check(c, in, NULL);
    const char *msg = pf_error_get();
    CHECK_MSG(rc == -1 && strstr(msg, needle) && !strchr(msg, '\n'), "%s: rc %d '%s'", what, rc,
              rc ? msg : "");
    if (rc)
        printf("  %s: %s\n", what, msg);
}

/* The layout's video spans, then refusals pf_g4_inputs_check gives. */
static void video_inputs(const pf_g4_config *c)
{
    pf_g4_inputs in;
    int rc = pf_g4_inputs_from_layout(c, "t2,v3x4,t1;t1,v8", 7, &in);
    CHECK_MSG(rc == 0, "%s", pf_error_get());
    if (rc)
        return;
    /* 3 frames of 4 joined by one text token, then a one-frame video of 8 */
    CHECK(in.n_videos == 2 && in.n_frames == 4 && in.num_frames[0] == 3 &&
          in.num_frames[1] == 1 && in.tokens == 2 + 14 + 1 + 1 + 8);
    int vid = 0;
    for (int t = 0; t < in.tokens; t++)
        vid += in.input_ids[t] == c->video_token_id && in.mm_token_type_ids[t] == PF_G4_MM_VIDEO;
    CHECK(vid == 20 && in.input_ids[6] != c->video_token_id && in.input_ids[2] == c->video_token_id);
    in.num_frames[1] = 0;
    expect_refused(c, &in, "a video of 0 frames", "num_frames_per_video: video 1 has 0 frames");
    in.num_frames[1] = 2;
    expect_refused(c, &in, "frame counts", "num_frames_per_video: frames per video sum to 5");
    in.num_frames[1] = 1;
    in.mm_token_type_ids[0] = PF_G4_MM_VIDEO, in.mm_token_type_ids[2] = PF_G4_MM_TEXT;
    expect_refused(c, &in, "type 2 off the video id", "type 2 exactly at video_token_id");
    in.mm_token_type_ids[0] = PF_G4_MM_TEXT, in.mm_token_type_ids[2] = PF_G4_MM_VIDEO;
    in.video_position_ids[1] = c->vision.position_embedding_size;
    expect_refused(c, &in, "position outside the table", "video_position_ids: frame 0 patch 0");
    in.video_position_ids[1] = 0;
    in.video_max_patches -= 1;
    expect_refused(c, &in, "max patches", "pixel_values_videos");
    in.video_max_patches += 1;
    CHECK_MSG(pf_g4_inputs_check(c, &in, NULL) == 0, "%s", pf_error_get());
    pf_g4_inputs_free(&in);
    rc = pf_g4_inputs_from_layout(c, "t2,v4,v4", 7, &in);
    CHECK(rc == -1 && strstr(pf_error_get(), "adjacent video spans"));
}

int main(void)
{
    pf_test_seed();
    if (pf_emu_open("sm_90", &dev) != 0) {
        fprintf(stderr, "emu: %s\n", pf_error_get());
        return 1;
    }
    const char *src = getenv("PFTUNE_SOURCE_DIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/fixtures/hf-gemma4-video", src ? src : PF_SOURCE_DIR);
    pf_g4_config c;
    pf_weight_set w = {0};
    int ok = pf_g4_config_load(dir, &c) == 0 && pf_g4_weight_set_load(&c, dir, &w) == 0;
    CHECK_MSG(ok, "%s: %s", dir, pf_error_get());
    if (ok) {
        fixture(&c, &w, dir);
        layouts(&c, &w);
        video_inputs(&c);
    }
    pf_weight_set_free(&w);
    pf_device_close(dev);
    return PF_TEST_RESULT();
}
