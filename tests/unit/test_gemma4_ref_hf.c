/* models/gemma4_ref_forward against HF transformers 5.24 (the fixtures of
 * tests/hf/make_reference_gemma4.py: MoE + k_eq_v, dense + clipped vision,
 * E2B/E4B extras (per-layer inputs, kv-shared layers, double-wide MLP;
 * causal masks as the small models, and "vision" masks),
 * three images of different grids with padding): relative Frobenius error of
 * the logits, argmax where HF's top-2 margin is clear, closer to HF with
 * mm_token_type_ids than to HF without them (models with "vision" masks),
 * and use_mm_types=0 against HF without them. Then models/gemma4_inputs'
 * refusals, each naming the field. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/npy.h"
#include "core/pf_error.h"
#include "models/gemma4_inputs.h"
#include "models/gemma4_ref_forward.h"
#include "pf_test.h"

static float *read_f32(const char *dir, const char *name, size_t *n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    pf_npy a;
    float *v = NULL;
    if (pf_npy_read(path, &a) == 0) {
        if (pf_npy_to_f32(&a, &v))
            v = NULL;
        *n = a.count;
        pf_npy_free(&a);
    }
    return v;
}

static double rel_err(const float *a, const float *b, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += (double)b[i] * b[i];
    }
    return sqrt(num / den);
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
    if (!ok)
        return;
    size_t nh = 0, nn = 0, V = (size_t)c.text.vocab, T = (size_t)in.tokens;
    float *hf = read_f32(dir, "hf_logits.npy", &nh), *hf_no = read_f32(dir, "hf_logits_no_mm.npy", &nn);
    CHECK(hf && hf_no && nh == T * V && nn == T * V);
    float *mine = malloc(T * V * sizeof *mine), *mine_no = malloc(T * V * sizeof *mine_no);
    for (size_t i = 0; i < T * V; i++)
        mine[i] = mine_no[i] = NAN; /* poison */
    int rc = pf_g4_ref_forward(&c, &w, &in, 1, mine);
    CHECK_MSG(rc == 0, "%s: %s", name, pf_error_get());
    rc = pf_g4_ref_forward(&c, &w, &in, 0, mine_no);
    CHECK_MSG(rc == 0, "%s: %s", name, pf_error_get());
    if (hf && hf_no && nh == T * V && nn == T * V) {
        double e = rel_err(mine, hf, T * V), e_other = rel_err(mine, hf_no, T * V);
        double e_no = rel_err(mine_no, hf_no, T * V);
        printf("%s: rel Frobenius vs hf_logits %.3e (vs hf_logits_no_mm %.3e); "
               "use_mm_types=0 vs hf_logits_no_mm %.3e\n", name, e, e_other, e_no);
        CHECK_MSG(e < 5e-2, "%s: %.3e", name, e);
        if (c.text.bidir_vision) /* else both HF runs mask alike */
            CHECK_MSG(e < e_other, "%s: %.3e vs %.3e", name, e, e_other);
        CHECK_MSG(e_no < 5e-2, "%s: %.3e", name, e_no);
        int clear = 0, agree = 0;
        for (int pass = 0; pass < 2; pass++) {
            const float *ref = pass ? hf_no : hf, *got = pass ? mine_no : mine;
            float amax = 0;
            for (size_t i = 0; i < T * V; i++)
                amax = fabsf(ref[i]) > amax ? fabsf(ref[i]) : amax;
            for (size_t t = 0; t < T; t++) {
                const float *r = ref + t * V, *g = got + t * V;
                size_t b1 = 0, b2 = 1, gb = 0;
                if (r[b2] > r[b1])
                    b1 = 1, b2 = 0;
                for (size_t v = 2; v < V; v++) {
                    if (r[v] > r[b1])
                        b2 = b1, b1 = v;
                    else if (r[v] > r[b2])
                        b2 = v;
                }
                for (size_t v = 1; v < V; v++)
                    gb = g[v] > g[gb] ? v : gb;
                if (r[b1] - r[b2] > 0.05f * amax) {
                    clear++;
                    agree += gb == b1;
                    CHECK_MSG(gb == b1, "%s%s: position %zu: argmax %zu, HF %zu", name,
                              pass ? " (no mm)" : "", t, gb, b1);
                }
            }
        }
        printf("%s: argmax agrees at %d of %d clear positions\n", name, agree, clear);
    }
    free(mine), free(mine_no), free(hf), free(hf_no);
    pf_g4_inputs_free(&in);
    pf_weight_set_free(&w);
}

/* ---- bad inputs through the loader ---- */

static char tmp[256];

static void put(const char *name, pf_npy_dtype dt, const void *data, int ndim, int64_t d0,
                int64_t d1, int64_t d2)
{
    char path[512];
    int64_t shape[3] = {d0, d1, d2};
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    CHECK_MSG(pf_npy_write(path, dt, data, ndim, shape) == 0, "%s", pf_error_get());
}

/* Write `in` (one request) to tmp; pos_patches: patches written for
 * image_position_ids (in->max_patches normally). */
static void write_inputs(const pf_g4_inputs *in, int pos_patches, int types_len)
{
    put("input_ids.npy", PF_NPY_I32, in->input_ids, 2, 1, in->tokens, 0);
    put("mm_token_type_ids.npy", PF_NPY_I32, in->mm_token_type_ids, 2, 1, types_len, 0);
    put("pixel_values.npy", PF_NPY_F32, in->pixel_values, 3, in->n_images, in->max_patches,
        in->patch_dim);
    put("image_position_ids.npy", PF_NPY_I32, in->image_position_ids, 3, in->n_images, pos_patches, 2);
}

static void expect_refused(const pf_g4_config *c, const char *what, const char *needle1,
                           const char *needle2)
{
    pf_g4_inputs got;
    int rc = pf_g4_inputs_load(c, tmp, &got);
    const char *msg = pf_error_get();
    CHECK_MSG(rc == -1, "%s: accepted", what);
    if (rc == 0) {
        pf_g4_inputs_free(&got);
        return;
    }
    printf("  %s: %s\n", what, msg);
    CHECK_MSG(strstr(msg, needle1) && (!needle2 || strstr(msg, needle2)) && !strchr(msg, '\n'),
              "%s: '%s'", what, msg);
}

static void bad_inputs(void)
{
    char dir[512];
    const char *src = getenv("PFTUNE_SOURCE_DIR");
    snprintf(dir, sizeof dir, "%s/tests/fixtures/hf-gemma4-moe", src ? src : PF_SOURCE_DIR);
    pf_g4_config c;
    pf_g4_inputs in = {0};
    if (pf_g4_config_load(dir, &c) || pf_g4_inputs_load(&c, dir, &in)) {
        CHECK_MSG(0, "%s", pf_error_get());
        return;
    }
    snprintf(tmp, sizeof tmp, "/tmp/pftune-g4in-XXXXXX");
    CHECK(mkdtemp(tmp) != NULL);
    int T = in.tokens, P = in.max_patches;
    /* the unmodified inputs round-trip */
    write_inputs(&in, P, T);
    pf_g4_inputs ok;
    CHECK_MSG(pf_g4_inputs_load(&c, tmp, &ok) == 0, "%s", pf_error_get());
    pf_g4_inputs_free(&ok);

    /* shapes that disagree */
    write_inputs(&in, P - 4, T);
    expect_refused(&c, "position ids shape", "image_position_ids.npy", "disagrees");
    write_inputs(&in, P, T - 1);
    expect_refused(&c, "types shape", "mm_token_type_ids.npy", "disagrees");

    /* mm_token_type_ids disagreeing with the soft-token count */
    int first_img = 0;
    while (in.input_ids[first_img] != c.image_token_id)
        first_img++;
    in.mm_token_type_ids[first_img] = 0;
    write_inputs(&in, P, T);
    expect_refused(&c, "types vs soft tokens", "mm_token_type_ids.npy", "soft tokens");
    in.mm_token_type_ids[first_img] = 1;

    /* image tokens in input_ids disagreeing with the soft-token count (types agree) */
    int32_t keep = in.input_ids[first_img];
    in.input_ids[first_img] = 5;
    write_inputs(&in, P, T);
    expect_refused(&c, "ids vs soft tokens", "input_ids.npy", "image_token_id");
    in.input_ids[first_img] = keep;

    /* position ids outside the position table */
    int32_t x0 = in.image_position_ids[0];
    in.image_position_ids[0] = c.vision.position_embedding_size;
    write_inputs(&in, P, T);
    expect_refused(&c, "position outside table", "image_position_ids.npy",
                   "position_embedding_size");
    in.image_position_ids[0] = x0;

    /* an image grid not divisible by the pooling kernel: image 1 (4x4) as 1x16 */
    int32_t *p1 = in.image_position_ids + (size_t)1 * P * 2;
    int32_t save[64 * 2];
    memcpy(save, p1, sizeof(int32_t) * 2 * (size_t)P);
    for (int j = 0; j < 16; j++)
        p1[2 * j] = 0, p1[2 * j + 1] = j;
    write_inputs(&in, P, T);
    expect_refused(&c, "grid not divisible", "image_position_ids.npy", "pooling_kernel_size");
    memcpy(p1, save, sizeof(int32_t) * 2 * (size_t)P);

    /* audio: type 3, and audio_token_id */
    in.mm_token_type_ids[0] = 3;
    write_inputs(&in, P, T);
    expect_refused(&c, "audio type", "mm_token_type_ids.npy", "audio");
    in.mm_token_type_ids[0] = 0;
    keep = in.input_ids[0];
    in.input_ids[0] = c.audio_token_id;
    write_inputs(&in, P, T);
    expect_refused(&c, "audio id", "input_ids.npy", "audio_token_id");
    in.input_ids[0] = keep;

    /* the forward checks its inputs too */
    float *logits = malloc((size_t)T * c.text.vocab * sizeof *logits);
    in.image_position_ids[0] = -5;
    pf_weight_set w = {0};
    CHECK(pf_g4_weight_set_synth(&c, 1, &w) == 0);
    CHECK(pf_g4_ref_forward(&c, &w, &in, 1, logits) == -1 &&
          strstr(pf_error_get(), "image_position_ids"));
    pf_weight_set_free(&w);
    free(logits);

    const char *names[] = {"input_ids.npy", "mm_token_type_ids.npy", "pixel_values.npy",
                           "image_position_ids.npy"};
    for (int i = 0; i < 4; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", tmp, names[i]);
        unlink(path);
    }
    rmdir(tmp);
    pf_g4_inputs_free(&in);
}

int main(void)
{
    fixture("hf-gemma4-moe");
    fixture("hf-gemma4-dense");
    fixture("hf-gemma4-ple");
    fixture("hf-gemma4-ple-vision");
    bad_inputs();
    return PF_TEST_RESULT();
}
