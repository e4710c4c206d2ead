/* models/gemma4_vision_dev on emu against the reference's vision side
 * (pf_g4_ref_vision): the soft tokens of the HF fixtures (MoE: head dim 64,
 * standardize; dense: head dim 72, clipped linears), and of a synthetic
 * gemma4-tiny-dense variant (2 q heads on 1 kv head of 72, clipped, no
 * standardize) with images of different grids, padding rows between real
 * ones and patches out of row-major order, and the same with heads of 40
 * (a head dim the family lacks: padded to 64). The output is poisoned first;
 * relative Frobenius error against the reference, no NaN, and a second run
 * gives the same bits (the run reads only its inputs).
 *
 * The error comes from the encoder layers: the attention family keeps
 * scores in fp32 and rounds unnormalized probabilities, where HF's eager
 * path (and the reference) rounds scores and normalized probabilities to
 * bf16, and the GEMMs sum in fp32 where the reference sums in double;
 * about 1e-2 per layer on these random models. So
 * each case also runs with 0 encoder layers, where the rest (patch
 * embedder, position table, pooling, standardize, embed_vision, and the
 * drop of padding rows) must agree bit for bit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attention/attn_variant.h"
#include "core/pf_error.h"
#include "device/arch.h"
#include "device/device.h"
#include "kernels/pf_numeric.h"
#include "models/dev_arena.h"
#include "models/gemma4_ref_forward.h"
#include "models/gemma4_vision_dev.h"
#include "models/ops.h"
#include "pf_test.h"

static pf_device *dev;

static int soft_tokens(const pf_g4_config *c, const pf_g4_inputs *in)
{
    int n = 0, k = c->vision.pooling_kernel;
    for (int i = 0; i < in->n_images; i++) {
        int wp, hp;
        pf_g4_image_grid(in, i, &wp, &hp);
        n += (wp / k) * (hp / k);
    }
    return n;
}

/* Device soft tokens vs the reference's; the relative Frobenius error. */
static void compare1(const char *name, const pf_g4_config *c, const pf_weight_set *w,
                     const pf_g4_inputs *in, double tol)
{
    int S = soft_tokens(c, in), H = c->text.hidden;
    size_t n = (size_t)S * H;
    float *ref = malloc(n * sizeof *ref);
    for (size_t i = 0; i < n; i++)
        ref[i] = NAN;
    CHECK_MSG(pf_g4_ref_vision(c, w, in, ref) == 0, "%s: %s", name, pf_error_get());

    pf_dev_arena mem;
    pf_arena_init(&mem, dev);
    pf_dptr *wd = calloc((size_t)w->n, sizeof *wd);
    int rc = 0;
    for (int i = 0; !rc && i < w->n; i++)
        rc = pf_arena_upload(&mem, w->data[i], (size_t)w->specs[i].count * 2, PF_MEM_WEIGHTS,
                             w->specs[i].name, &wd[i]);
    CHECK_MSG(rc == 0, "%s: %s", name, pf_error_get());
    pf_ops ops;
    pf_ops_init(&ops, dev, NULL);
    char arch[16];
    pf_attn_variant v;
    CHECK(pf_device_arch(dev, arch, sizeof arch) == 0);
    /* the family's head dim, or the next one up (padded) */
    static const int dims[] = {64, 72, 128, 256, 512};
    int hd = 512;
    for (int i = 4; i >= 0; i--)
        hd = dims[i] >= c->vision.head_dim ? dims[i] : hd;
    CHECK(pf_attn_variant_default(hd, arch, &v) == 0);
    pf_g4_vision_dev *vd = NULL;
    rc = rc ? rc : pf_g4_vision_dev_setup(dev, &ops, &mem, c, w, wd, in, &v, &vd);
    CHECK_MSG(rc == 0, "%s: %s", name, pf_error_get());
    pf_dptr out = 0;
    uint16_t *got = malloc(n * 2), *again = malloc(n * 2);
    if (rc == 0) {
        CHECK(pf_g4_vision_dev_soft_tokens(vd) == S);
        CHECK(pf_arena_alloc(&mem, n * 2, PF_MEM_ACTIVATIONS, "soft tokens", &out) == 0);
        pf_dev_memset8(dev, out, 0xff, n * 2, NULL); /* NaN */
        rc = pf_g4_vision_dev_run(vd, out);
        CHECK_MSG(rc == 0, "%s: %s", name, pf_error_get());
        pf_dev_stream_sync(dev, NULL);
        pf_dev_copy_dtoh(dev, got, out, n * 2, NULL);
        pf_dev_memset8(dev, out, 0xff, n * 2, NULL);
        CHECK_MSG(pf_g4_vision_dev_run(vd, out) == 0, "%s: %s", name, pf_error_get());
        pf_dev_stream_sync(dev, NULL);
        pf_dev_copy_dtoh(dev, again, out, n * 2, NULL);
        CHECK_MSG(memcmp(got, again, n * 2) == 0, "%s: a second run differs", name);
        CHECK(mem.by_class[PF_MEM_ACTIVATIONS] > 0);
    }
    if (rc == 0) {
        double num = 0, den = 0, amax = 0;
        size_t nans = 0;
        for (size_t i = 0; i < n; i++) {
            float g = pf_bf16_to_f32(got[i]);
            if (isnan(g) || isnan(ref[i])) {
                nans++;
                continue;
            }
            num += ((double)g - ref[i]) * ((double)g - ref[i]);
            den += (double)ref[i] * ref[i];
            amax = fabs(g - ref[i]) > amax ? fabs(g - ref[i]) : amax;
        }
        double e = den > 0 ? sqrt(num / den) : INFINITY;
        printf("%s: %d soft tokens x %d: relative Frobenius error %.3e (max abs %.3e), %zu NaN\n",
               name, S, H, e, amax, nans);
        CHECK_MSG(nans == 0, "%s: %zu NaN", name, nans);
        CHECK_MSG(tol > 0 ? e < tol : num == 0, "%s: %.3e", name, e);
    }
    pf_g4_vision_dev_free(vd);
    pf_ops_release(&ops);
    pf_arena_free_all(&mem);
    free(wd), free(ref), free(got), free(again);
}

/* As configured, then with 0 encoder layers (bit for bit). */
static void compare(const char *name, const pf_g4_config *c, const pf_weight_set *w,
                    const pf_g4_inputs *in, double tol)
{
    compare1(name, c, w, in, tol);
    pf_g4_config c0 = *c;
    c0.vision.layers = 0;
    char n0[160];
    snprintf(n0, sizeof n0, "%s, 0 layers", name);
    compare1(n0, &c0, w, in, 0.0);
}

static void fixture(const char *name)
{
    char dir[512];
    const char *src = getenv("PFTUNE_SOURCE_DIR");
    snprintf(dir, sizeof dir, "%s/tests/fixtures/%s", src ? src : PF_SOURCE_DIR, name);
    pf_g4_config c;
    pf_weight_set w = {0};
    pf_g4_inputs in = {0};
    int ok = pf_g4_config_load(dir, &c) == 0;
    ok = ok && pf_g4_weight_set_load(&c, dir, &w) == 0;
    ok = ok && pf_g4_inputs_load(&c, dir, &in) == 0;
    CHECK_MSG(ok, "%s: %s", name, pf_error_get());
    if (ok)
        compare(name, &c, &w, &in, 5e-2);
    pf_weight_set_free(&w);
    pf_g4_inputs_free(&in);
}

/* Synthetic: gemma4-tiny-dense with 2 q heads on 1 kv head of 72 and
 * clipped linears; image 0 a 6x4 grid in row-major order with padding at
 * the end, image 1 a 2x6 grid in a scrambled order with padding rows in
 * between, image 2 a 4x2 grid. */
static int synthetic_model(pf_g4_config *c, int head_dim, pf_weight_set *w, pf_g4_inputs *in)
{
    if (pf_g4_config_preset("gemma4-tiny-dense", c))
        return -1;
    c->vision.heads = 2;
    c->vision.kv_heads = 1;
    c->vision.head_dim = head_dim;
    c->vision.clipped = 1;
    c->vision.standardize = 0;
    if (pf_g4_weight_set_synth(c, 7, w))
        return -1;
    int k = c->vision.pooling_kernel, P = 28, pd = 3 * c->vision.patch_size * c->vision.patch_size;
    int grid[3][2] = {{6, 4}, {2, 6}, {4, 2}};
    in->n_images = 3;
    in->max_patches = P;
    in->patch_dim = pd;
    in->pixel_values = calloc((size_t)in->n_images * P * pd, sizeof(float));
    in->image_position_ids = malloc((size_t)in->n_images * P * 2 * sizeof(int32_t));
    int soft = 0;
    for (int i = 0; i < in->n_images; i++) {
        int wp = grid[i][0], hp = grid[i][1], np = wp * hp;
        int32_t *pos = in->image_position_ids + (size_t)i * P * 2;
        for (int j = 0; j < P; j++)
            pos[2 * j] = pos[2 * j + 1] = -1;
        for (int j = 0; j < np; j++) {
            int slot = j, patch = j;
            if (i == 1) { /* scrambled: patch (7 j) mod np at slot j + j/4 */
                patch = (7 * j) % np;
                slot = j + j / 4;
            }
            pos[2 * slot] = patch % wp;
            pos[2 * slot + 1] = patch / wp;
            float *px = in->pixel_values + ((size_t)i * P + slot) * pd;
            for (int e = 0; e < pd; e++) /* fixed values: the 0-layer case is bit for bit */
                px[e] = (float)((slot * 131 + e * 29 + i * 17) % 97) / 96.0f;
        }
        soft += (wp / k) * (hp / k);
    }
    /* text, the images' soft tokens, text */
    in->batch = 1;
    in->tokens = soft + 4;
    in->req_len = malloc(sizeof *in->req_len);
    in->req_len[0] = in->tokens;
    in->input_ids = malloc((size_t)in->tokens * sizeof *in->input_ids);
    in->mm_token_type_ids = malloc((size_t)in->tokens * sizeof *in->mm_token_type_ids);
    for (int t = 0; t < in->tokens; t++) {
        int img = t >= 2 && t < 2 + soft;
        in->input_ids[t] = img ? c->image_token_id : 5 + t;
        in->mm_token_type_ids[t] = img ? PF_G4_MM_IMAGE : PF_G4_MM_TEXT;
    }
    return pf_g4_inputs_check(c, in, NULL);
}

static void synthetic(void)
{
    pf_g4_config c;
    pf_weight_set w = {0};
    pf_g4_inputs in = {0};
    int ok = synthetic_model(&c, 72, &w, &in) == 0;
    CHECK_MSG(ok, "%s", pf_error_get());
    if (ok)
        compare("synthetic gemma4-tiny-dense (2:1 heads of 72, clipped)", &c, &w, &in, 5e-2);
    pf_weight_set_free(&w);
    pf_g4_inputs_free(&in);
    /* head dim 40: the family runs at 64 on zero-padded copies */
    memset(&w, 0, sizeof w);
    memset(&in, 0, sizeof in);
    ok = synthetic_model(&c, 40, &w, &in) == 0;
    CHECK_MSG(ok, "%s", pf_error_get());
    if (ok)
        compare1("synthetic, 2:1 heads of 40 (padded to 64)", &c, &w, &in, 5e-2);
    pf_weight_set_free(&w);
    pf_g4_inputs_free(&in);
}

/* Setup refuses a weight the device copy lacks, naming it. */
static void missing_weight(void)
{
    pf_g4_config c;
    pf_weight_set w = {0};
    pf_g4_inputs in = {0};
    int ok = synthetic_model(&c, 72, &w, &in) == 0;
    CHECK_MSG(ok, "%s", pf_error_get());
    pf_dev_arena mem;
    pf_arena_init(&mem, dev);
    pf_dptr *wd = calloc((size_t)w.n, sizeof *wd);
    const char *gone = "vision:encoder.layers.1.mlp.up_proj.output_max";
    int found = 0;
    for (int i = 0; ok && i < w.n; i++) {
        if (strcmp(w.specs[i].name, gone) == 0) {
            found = 1;
            continue;
        }
        ok = pf_arena_upload(&mem, w.data[i], (size_t)w.specs[i].count * 2, PF_MEM_WEIGHTS,
                             w.specs[i].name, &wd[i]) == 0;
    }
    CHECK(ok && found);
    pf_ops ops;
    pf_ops_init(&ops, dev, NULL);
    pf_attn_variant v;
    CHECK(pf_attn_variant_default(72, "sm_90", &v) == 0);
    pf_g4_vision_dev *vd = (pf_g4_vision_dev *)&v; /* must be reset to NULL */
    CHECK(pf_g4_vision_dev_setup(dev, &ops, &mem, &c, &w, wd, &in, &v, &vd) == -1);
    CHECK(vd == NULL);
    CHECK_MSG(strstr(pf_error_get(), gone) != NULL, "%s", pf_error_get());
    pf_ops_release(&ops);
    pf_arena_free_all(&mem);
    free(wd);
    pf_weight_set_free(&w);
    pf_g4_inputs_free(&in);
}

int main(void)
{
    if (pf_emu_open("sm_90", &dev) != 0) {
        fprintf(stderr, "emu: %s\n", pf_error_get());
        return 1;
    }
    fixture("hf-gemma4-moe");
    fixture("hf-gemma4-dense");
    synthetic();
    missing_weight();
    pf_device_close(dev);
    return PF_TEST_RESULT();
}
