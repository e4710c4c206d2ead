/* Synthetic weights drawn on a device (models/weight_set_dev.h,
 * kernels/ops/synth.cu) against the host's (models/weight_set.h):
 *  - every tensor of gemma3-tiny, gemma4-tiny (with clipped vision linears,
 *    so every spec kind of both Gemmas appears), gemma4-tiny-dense and
 *    gemma4-tiny-ple (the E2B/E4B extras' tensors),
 *    drawn on the device into NaN-poisoned buffers: bit-identical to the
 *    host's values, whole and from an offset;
 *  - a lazy set holds no host arrays, not even after the forward put it on
 *    the device, and its pf_ws_get values equal the eager set's;
 *  - the forward's logits on a layout with images are bit-identical with
 *    the weights uploaded (an eager set) or drawn on the device (lazy).
 * tests/gpu/test_weight_synth_gpu.c runs the same on cuda (NVRTC would fuse
 * the draw's multiply-add if the kernel let it). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"
#include "device/device.h"
#include "models/gemma3_forward.h"
#include "models/gemma3_inputs_load.h"
#include "models/gemma3_weight_set.h"
#include "models/gemma4_forward.h"
#include "models/gemma4_inputs_layout.h"
#include "models/gemma4_weight_set.h"
#include "models/weight_set_dev.h"
#include "pf_test.h"

#ifndef PF_TEST_DEVICE
#define PF_TEST_DEVICE "emu"
#endif

static pf_device *dev;

/* Every tensor of the lazy set w drawn on the device equals the eager set
 * e's host values; kinds_seen[kind] counts the tensors per spec kind. */
static void compare_sets(const char *what, const pf_weight_set *w, const pf_weight_set *e,
                         int *kinds_seen, int n_kinds)
{
    CHECK(w->n == e->n && w->synth && e->synth);
    pf_wsynth_dev sd;
    pf_wsynth_dev_init(&sd, dev, NULL);
    int bad = 0;
    for (int i = 0; i < w->n && i < e->n && !bad; i++) {
        const pf_wspec *s = &w->specs[i];
        CHECK_MSG(w->data[i] == NULL, "%s %s: lazy set holds host values", what, s->name);
        if (s->kind >= 0 && s->kind < n_kinds)
            kinds_seen[s->kind]++;
        size_t bytes = (size_t)s->count * 2;
        uint16_t *got = malloc(bytes + 2);
        pf_dptr d = 0;
        if (!got || pf_dev_alloc(dev, bytes + 2, "synth test", &d)) {
            CHECK_MSG(0, "%s: alloc: %s", s->name, pf_error_get());
            free(got);
            break;
        }
        /* NaN-poisoned, whole tensor then the tail from an offset */
        memset(got, 0xff, bytes + 2);
        pf_dev_copy_htod(dev, d, got, bytes + 2, NULL);
        long long first = s->count / 3;
        int rc = pf_wsynth_dev_fill(&sd, &w->synth[i], 0, s->count, d) ||
                 pf_dev_stream_sync(dev, NULL) || pf_dev_copy_dtoh(dev, got, d, bytes + 2, NULL);
        CHECK_MSG(rc == 0, "%s %s: %s", what, s->name, pf_error_get());
        CHECK_MSG(got[s->count] == 0xffff, "%s %s: wrote past the end", what, s->name);
        if (!rc && memcmp(got, e->data[i], bytes) != 0) {
            long long j = 0;
            while (got[j] == e->data[i][j])
                j++;
            CHECK_MSG(0, "%s %s (kind %d): element %lld is %04x on the device, %04x on the host",
                      what, s->name, s->kind, j, got[j], e->data[i][j]);
            bad = 1;
        }
        memset(got, 0xff, bytes);
        rc = pf_dev_copy_htod(dev, d, got, bytes, NULL) ||
             pf_wsynth_dev_fill(&sd, &w->synth[i], first, s->count - first, d) ||
             pf_dev_stream_sync(dev, NULL) || pf_dev_copy_dtoh(dev, got, d, bytes, NULL);
        CHECK_MSG(rc == 0 && memcmp(got, e->data[i] + first, (size_t)(s->count - first) * 2) == 0,
                  "%s %s: from offset %lld", what, s->name, first);
        pf_dev_free(dev, d);
        free(got);
    }
    pf_wsynth_dev_release(&sd);
    /* the host draws of a lazy set: the eager values */
    for (int i = 0; i < w->n && i < e->n; i++) {
        const uint16_t *v = pf_ws_get(w, "%s", w->specs[i].name);
        CHECK_MSG(v && memcmp(v, e->data[i], (size_t)w->specs[i].count * 2) == 0,
                  "%s %s: lazy host values differ", what, w->specs[i].name);
    }
}

static void test_g3_values(void)
{
    pf_g3_config c;
    pf_weight_set w, e;
    CHECK(pf_g3_config_preset("gemma3-tiny", &c) == 0);
    uint64_t seed = pf_test_rng();
    CHECK(pf_g3_weight_set_synth_lazy(&c, seed, &w) == 0);
    CHECK(pf_g3_weight_set_synth(&c, seed, &e) == 0);
    int kinds[5] = {0};
    compare_sets("gemma3-tiny", &w, &e, kinds, 5);
    for (int k = 0; k < 5; k++)
        CHECK_MSG(kinds[k] > 0, "gemma3-tiny: no tensor of kind %d", k);
    pf_weight_set_free(&w);
    pf_weight_set_free(&e);
}

static void test_g4_values(const char *preset, int clipped)
{
    pf_g4_config c;
    pf_weight_set w, e;
    CHECK(pf_g4_config_preset(preset, &c) == 0);
    c.vision.clipped = clipped;
    uint64_t seed = pf_test_rng();
    CHECK(pf_g4_weight_set_synth_lazy(&c, seed, &w) == 0);
    CHECK(pf_g4_weight_set_synth(&c, seed, &e) == 0);
    int kinds[PF_G4_W_CLIP_HI + 1] = {0};
    compare_sets(preset, &w, &e, kinds, PF_G4_W_CLIP_HI + 1);
    for (int k = 0; clipped && k <= PF_G4_W_CLIP_HI; k++)
        CHECK_MSG(kinds[k] > 0, "%s: no tensor of kind %d", preset, k);
    pf_weight_set_free(&w);
    pf_weight_set_free(&e);
}

static void test_g3_forward(void)
{
    pf_g3_config c;
    pf_weight_set w, e;
    pf_g3_inputs in;
    CHECK(pf_g3_config_preset("gemma3-tiny", &c) == 0);
    char layout[64];
    snprintf(layout, sizeof layout, "t6,i%d,t5;t4,i%d,t3", c.mm_tokens_per_image,
             c.mm_tokens_per_image);
    uint64_t seed = pf_test_rng();
    if (pf_g3_inputs_from_layout(&c, layout, 3, &in) ||
        pf_g3_weight_set_synth_lazy(&c, seed, &w) || pf_g3_weight_set_synth(&c, seed, &e)) {
        CHECK_MSG(0, "gemma3-tiny setup: %s", pf_error_get());
        return;
    }
    size_t n = (size_t)in.tokens * c.text.vocab;
    float *a = malloc(n * 4), *b = malloc(n * 4);
    pf_g3_forward_opts o;
    CHECK(a && b && pf_g3_forward_defaults(dev, &c, &o) == 0);
    o.all_logits = 1;
    memset(a, 0xff, n * 4);
    memset(b, 0xff, n * 4);
    int rc = pf_g3_forward(dev, &c, &w, &in, &o, a, NULL) ||
             pf_g3_forward(dev, &c, &e, &in, &o, b, NULL);
    CHECK_MSG(rc == 0, "gemma3-tiny forward: %s", pf_error_get());
    CHECK_MSG(rc || memcmp(a, b, n * 4) == 0, "gemma3-tiny: logits differ (device vs host synth)");
    CHECK_MSG(rc || !isnan(a[0]), "gemma3-tiny: logits not written");
    for (int i = 0; i < w.n; i++)
        CHECK_MSG(w.data[i] == NULL, "gemma3-tiny: the forward drew %s on the host", w.specs[i].name);
    free(a);
    free(b);
    pf_g3_inputs_free(&in);
    pf_weight_set_free(&w);
    pf_weight_set_free(&e);
}

static void test_g4_forward(const char *preset)
{
    pf_g4_config c;
    pf_weight_set w, e;
    pf_g4_inputs in;
    CHECK(pf_g4_config_preset(preset, &c) == 0);
    uint64_t seed = pf_test_rng();
    if (pf_g4_inputs_from_layout(&c, "t6,i12,t5;t4,i16,t3", 3, &in) ||
        pf_g4_weight_set_synth_lazy(&c, seed, &w) || pf_g4_weight_set_synth(&c, seed, &e)) {
        CHECK_MSG(0, "%s setup: %s", preset, pf_error_get());
        return;
    }
    size_t n = (size_t)in.tokens * c.text.vocab;
    float *a = malloc(n * 4), *b = malloc(n * 4);
    pf_g4_forward_opts o;
    CHECK(a && b && pf_g4_forward_defaults(dev, &c, &o) == 0);
    o.all_logits = 1;
    memset(a, 0xff, n * 4);
    memset(b, 0xff, n * 4);
    int rc = pf_g4_forward(dev, &c, &w, &in, &o, a, NULL) ||
             pf_g4_forward(dev, &c, &e, &in, &o, b, NULL);
    CHECK_MSG(rc == 0, "%s forward: %s", preset, pf_error_get());
    CHECK_MSG(rc || memcmp(a, b, n * 4) == 0, "%s: logits differ (device vs host synth)", preset);
    CHECK_MSG(rc || !isnan(a[0]), "%s: logits not written", preset);
    for (int i = 0; i < w.n; i++)
        CHECK_MSG(w.data[i] == NULL, "%s: the forward drew %s on the host", preset, w.specs[i].name);
    free(a);
    free(b);
    pf_g4_inputs_free(&in);
    pf_weight_set_free(&w);
    pf_weight_set_free(&e);
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
    test_g3_values();
    test_g4_values("gemma4-tiny", 1);
    test_g4_values("gemma4-tiny-dense", 0);
    test_g4_values("gemma4-tiny-ple", 0);
    test_g3_forward();
    test_g4_forward("gemma4-tiny");
    test_g4_forward("gemma4-tiny-dense");
    test_g4_forward("gemma4-tiny-ple");
    pf_device_close(dev);
    return PF_TEST_RESULT();
}
