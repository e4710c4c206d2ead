/* models/gemma3_ref_forward against HF transformers 5.24's own logits
 * (tests/fixtures/hf-gemma3-*, made by tests/hf/make_reference.py): the
 * fixture's config and weights through pftune's loader, its inputs, and
 * every position's logits within a relative Frobenius error and with HF's
 * argmax wherever HF's top-2 margin is clear. The multimodal fixture runs
 * with token_type_ids (image groups bidirectional) and without (causal);
 * the two HF logit sets must differ at image positions, so a reference
 * that ignored the groups would fail. Also the input checks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/npy.h"
#include "core/pf_error.h"
#include "models/gemma3_ref_forward.h"
#include "models/safetensors.h"
#include "pf_test.h"

#define MAX_REL_ERR 5e-2
#define MARGIN 0.05 /* of max |logit|: a top-2 gap HF's rounding cannot flip */

static char dir[1024];

static const char *fixture(const char *name)
{
    const char *src = getenv("PFTUNE_SOURCE_DIR");
    snprintf(dir, sizeof dir, "%s/tests/fixtures/%s", src ? src : PF_SOURCE_DIR, name);
    return dir;
}

/* <dir>/<file> as int32 [n] (any npy integer type, shape [T] or [B, T]);
 * *rows gets B (1 for [T]). NULL if absent or unreadable. */
static int32_t *read_ids(const char *file, int *n, int *rows)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    pf_npy a;
    int64_t *v;
    if (pf_npy_read(path, &a))
        return NULL;
    int ok = a.ndim == 1 || a.ndim == 2;
    if (!ok || pf_npy_to_i64(&a, &v)) {
        pf_npy_free(&a);
        return NULL;
    }
    int32_t *out = malloc(a.count * sizeof *out);
    for (size_t i = 0; i < a.count; i++)
        out[i] = (int32_t)v[i];
    *n = (int)a.count;
    *rows = a.ndim == 2 ? (int)a.shape[0] : 1;
    free(v);
    pf_npy_free(&a);
    return out;
}

static float *read_f32(const char *file, size_t want)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    pf_npy a;
    float *v = NULL;
    if (pf_npy_read(path, &a))
        return NULL;
    if (a.count != want || pf_npy_to_f32(&a, &v))
        v = NULL;
    pf_npy_free(&a);
    return v;
}

/* Relative Frobenius error of got vs want [T, V], and the argmax check at
 * positions where want's top-2 margin is clear; returns 1 if both hold. */
static int compare(const char *what, const float *got, const float *want, int T, int V)
{
    double num = 0, den = 0, amax = 0;
    for (long long i = 0; i < (long long)T * V; i++) {
        num += (got[i] - want[i]) * (double)(got[i] - want[i]);
        den += (double)want[i] * want[i];
        amax = fabs(want[i]) > amax ? fabs(want[i]) : amax;
    }
    double rel = sqrt(num / den);
    long long eq = 0;
    for (long long i = 0; i < (long long)T * V; i++)
        eq += got[i] == want[i];
    printf("%s: %.4f%% of logits bit-equal\n", what, 100.0 * eq / ((double)T * V));
    int checked = 0, agree = 0, first_bad = -1;
    for (int t = 0; t < T; t++) {
        const float *w = want + (long long)t * V, *g = got + (long long)t * V;
        int wa = 0, ga = 0;
        for (int j = 1; j < V; j++) {
            wa = w[j] > w[wa] ? j : wa;
            ga = g[j] > g[ga] ? j : ga;
        }
        float second = -INFINITY;
        for (int j = 0; j < V; j++)
            if (j != wa && w[j] > second)
                second = w[j];
        if (w[wa] - second <= MARGIN * amax)
            continue;
        checked++;
        if (ga == wa)
            agree++;
        else if (first_bad < 0)
            first_bad = t;
    }
    printf("%s: relative Frobenius error %.3e (limit %.0e); argmax equal at %d of %d positions "
           "with a clear top-2 margin (%d positions)\n", what, rel, MAX_REL_ERR, agree, checked, T);
    CHECK_MSG(rel < MAX_REL_ERR, "%s: relative error %.3e", what, rel);
    CHECK_MSG(checked >= T / 2, "%s: only %d of %d positions have a clear margin", what, checked,
              T);
    CHECK_MSG(agree == checked, "%s: argmax differs at %d positions, first %d", what,
              checked - agree, first_bad);
    return rel < MAX_REL_ERR && agree == checked;
}

/* The fixture's config and weights, through pftune's loader. */
static int load_model(pf_g3_config *c, pf_weight_set *w)
{
    pf_safetensors *st = NULL;
    int rc = pf_g3_config_load(dir, c);
    CHECK_MSG(rc == 0, "%s", pf_error_get());
    if (rc)
        return -1;
    rc = pf_st_open(dir, &st);
    CHECK_MSG(rc == 0, "%s", pf_error_get());
    if (!rc) {
        rc = pf_g3_weights_check(c, st);
        CHECK_MSG(rc == 0, "%s", pf_error_get());
        pf_st_close(st);
    }
    if (!rc) {
        rc = pf_g3_weight_set_load(c, dir, w);
        CHECK_MSG(rc == 0, "%s", pf_error_get());
    }
    return rc;
}

/* One forward compared with HF's logits in want_file; returns them (NULL
 * if unreadable) for further checks. */
static float *run(const char *what, const pf_g3_config *c, const pf_weight_set *w,
                  const pf_g3_inputs *in, const char *want_file)
{
    int V = c->text.vocab;
    float *want = read_f32(want_file, (size_t)in->tokens * V);
    float *got = malloc((size_t)in->tokens * V * sizeof *got);
    CHECK_MSG(want != NULL, "%s/%s: %s", dir, want_file, pf_error_get());
    for (long long i = 0; i < (long long)in->tokens * V; i++)
        got[i] = NAN; /* poisoned: every logit must be written */
    int rc = pf_g3_ref_forward(c, w, in, got);
    CHECK_MSG(rc == 0, "%s: %s", what, pf_error_get());
    if (want && rc == 0)
        compare(what, got, want, in->tokens, V);
    free(got);
    return want;
}

static void test_mm(void)
{
    fixture("hf-gemma3-mm");
    pf_g3_config c;
    pf_weight_set w = {0};
    if (load_model(&c, &w))
        return;
    CHECK(c.has_vision && c.text.head_dim == 64 && c.mm_tokens_per_image == 16);
    CHECK(c.text.layer_full[0] == 0 && c.text.layer_full[1] == 1 && c.text.rope_full.factor == 2);
    int T = 0, rows = 0, Tt = 0, rows_t = 0;
    int32_t *ids = read_ids("input_ids.npy", &T, &rows);
    int32_t *tti = read_ids("token_type_ids.npy", &Tt, &rows_t);
    CHECK(ids && tti && T == Tt && rows == 1);
    int images = 0;
    for (int i = 0; ids && i < T; i++)
        images += ids[i] == c.image_token_index;
    images /= c.mm_tokens_per_image;
    CHECK(images == 3);
    int S = c.vision.image_size;
    float *pix = read_f32("pixel_values.npy", (size_t)images * c.vision.channels * S * S);
    CHECK(pix != NULL);
    if (!ids || !tti || !pix || T != Tt || rows != 1)
        goto out;

    pf_g3_inputs in = {1, &T, T, ids, tti, images, pix};
    float *with = run("hf-gemma3-mm", &c, &w, &in, "hf_logits.npy");
    in.token_type_ids = NULL;
    float *without = run("hf-gemma3-mm, no token_type_ids", &c, &w, &in, "hf_logits_no_tti.npy");

    /* the groups matter: HF's two runs differ at image tokens by far more
     * than the tolerance (and not at all before the first image) */
    if (with && without) {
        int V = c.text.vocab, first = -1;
        double num = 0, den = 0, before = 0;
        for (int t = 0; t < T; t++) {
            if (first < 0 && tti[t])
                first = t;
            for (int j = 0; j < V; j++) {
                double d = with[(long long)t * V + j] - without[(long long)t * V + j];
                if (first < 0)
                    before += fabs(d);
                else if (tti[t]) {
                    num += d * d;
                    den += (double)with[(long long)t * V + j] * with[(long long)t * V + j];
                }
            }
        }
        printf("hf-gemma3-mm: HF with vs without token_type_ids at image tokens: relative "
               "difference %.3e\n", sqrt(num / den));
        CHECK(before == 0);
        CHECK_MSG(sqrt(num / den) > 4 * MAX_REL_ERR, "%.3e", sqrt(num / den));
    }

    /* a ragged batch: the prompt twice, then a text-only prefix of it (no
     * images); each request's logits are those of its own forward, bit
     * for bit (positions, masks and image features per request) */
    {
        int V = c.text.vocab, P = 9, len3[3] = {T, P, T};
        size_t px = (size_t)images * c.vision.channels * S * S;
        int32_t *ids3 = malloc((size_t)(2 * T + P) * sizeof *ids3);
        int32_t *tti3 = malloc((size_t)(2 * T + P) * sizeof *tti3);
        float *pix2 = malloc(2 * px * sizeof *pix2);
        float *one = malloc((size_t)T * V * sizeof *one);
        float *three = malloc((size_t)(2 * T + P) * V * sizeof *three);
        memcpy(ids3, ids, (size_t)T * sizeof *ids);
        memcpy(ids3 + T, ids, (size_t)P * sizeof *ids);
        memcpy(ids3 + T + P, ids, (size_t)T * sizeof *ids);
        memcpy(tti3, tti, (size_t)T * sizeof *tti);
        memcpy(tti3 + T, tti, (size_t)P * sizeof *tti);
        memcpy(tti3 + T + P, tti, (size_t)T * sizeof *tti);
        memcpy(pix2, pix, px * sizeof *pix);
        memcpy(pix2 + px, pix, px * sizeof *pix);
        pf_g3_inputs in1 = {1, &T, T, ids, tti, images, pix};
        pf_g3_inputs in3 = {3, len3, 2 * T + P, ids3, tti3, 2 * images, pix2};
        CHECK_MSG(pf_g3_ref_forward(&c, &w, &in1, one) == 0, "%s", pf_error_get());
        CHECK_MSG(pf_g3_ref_forward(&c, &w, &in3, three) == 0, "%s", pf_error_get());
        CHECK(memcmp(one, three, (size_t)T * V * sizeof *one) == 0);
        CHECK(memcmp(one, three + (size_t)(T + P) * V, (size_t)T * V * sizeof *one) == 0);
        CHECK(memcmp(one, three + (size_t)T * V, (size_t)P * V * sizeof *one) == 0);
        free(ids3);
        free(tti3);
        free(pix2);
        free(one);
        free(three);
    }

    /* inputs are checked: an image token too many, images without a tower */
    in.token_type_ids = tti;
    int saved = ids[0];
    ids[0] = c.image_token_index;
    float *junk = malloc((size_t)T * c.text.vocab * sizeof *junk);
    CHECK(pf_g3_ref_forward(&c, &w, &in, junk) == -1);
    CHECK_MSG(strstr(pf_error_get(), "49 image tokens") && strstr(pf_error_get(), "need 48"),
              "%s", pf_error_get());
    ids[0] = saved;
    in.n_images = 2;
    CHECK(pf_g3_ref_forward(&c, &w, &in, junk) == -1);
    CHECK_MSG(strstr(pf_error_get(), "2 images need 32"), "%s", pf_error_get());
    free(junk);
    free(with);
    free(without);
out:
    free(ids);
    free(tti);
    free(pix);
    pf_weight_set_free(&w);
}

static void test_text(void)
{
    fixture("hf-gemma3-text");
    pf_g3_config c;
    pf_weight_set w = {0};
    if (load_model(&c, &w))
        return;
    /* the older key form: sliding_window_pattern 2, rope_scaling on full */
    CHECK(!c.has_vision && c.text.layer_full[0] == 0 && c.text.layer_full[1] == 1 &&
          c.text.layer_full[3] == 1);
    CHECK(c.text.rope_full.factor == 8 && c.text.rope_full.theta == 1e6 &&
          c.text.rope_sliding.theta == 1e4 && c.text.rope_sliding.factor == 1);
    CHECK(c.text.query_pre_attn_scalar == 48 && c.text.kv_heads == 2);
    int n = 0, rows = 0;
    int32_t *ids = read_ids("input_ids.npy", &n, &rows);
    CHECK(ids && rows == 2);
    if (ids && rows == 2) {
        int len[2] = {n / 2, n / 2};
        pf_g3_inputs in = {2, len, n, ids, NULL, 0, NULL};
        free(run("hf-gemma3-text", &c, &w, &in, "hf_logits.npy"));

        /* a token outside the vocabulary is refused */
        ids[5] = c.text.vocab;
        float *junk = malloc((size_t)n * c.text.vocab * sizeof *junk);
        CHECK(pf_g3_ref_forward(&c, &w, &in, junk) == -1);
        CHECK_MSG(strstr(pf_error_get(), "input_ids[5] = 512"), "%s", pf_error_get());
        free(junk);
    }
    free(ids);
    pf_weight_set_free(&w);
}

int main(void)
{
    test_mm();
    test_text();
    return PF_TEST_RESULT();
}
