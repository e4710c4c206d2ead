/* Gemma-4 inputs from a layout (see gemma4_inputs_layout.h). */
#include "models/gemma4_inputs_layout.h"

#include <stdlib.h>
#include <string.h>

#include "attention/layout.h"
#include "core/pf_error.h"

static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int special(const pf_g4_config *c, int id)
{
    return id == c->image_token_id || id == c->video_token_id || id == c->audio_token_id ||
           id == c->boi_token_id || id == c->eoi_token_id;
}

/* A pooled grid of n soft tokens, as square as n allows: a rows of b. */
static void factor(int n, int *a, int *b)
{
    *a = 1;
    for (int d = 1; (long long)d * d <= n; d++)
        if (n % d == 0)
            *a = d;
    *b = n / *a;
}

/* Each maximal image span is one image of that many soft tokens: its patch
 * grid is the pooled grid times the pooling kernel, row-major positions,
 * padding rows (-1, -1) up to the largest image; pixels seeded in [0, 1). */
static int make_images(const pf_g4_config *c, const pf_layout *L, uint64_t seed, pf_g4_inputs *out)
{
    int n_img = 0, k = c->vision.pooling_kernel, maxp = 0;
    for (int r = 0; r < L->n_req; r++)
        n_img += L->req[r].n_groups;
    if (!n_img)
        return 0;
    int *wp = calloc((size_t)n_img, sizeof *wp), *hp = calloc((size_t)n_img, sizeof *hp);
    if (!wp || !hp) {
        free(wp);
        free(hp);
        return pf_error_set("out of memory for %d images", n_img);
    }
    int rc = 0;
    for (int r = 0, i = 0; r < L->n_req && !rc; r++)
        for (int g = 0; g < L->req[r].n_groups && !rc; g++, i++) {
            int64_t n = L->req[r].group_end[g] - L->req[r].group_begin[g];
            int a, b;
            factor((int)n, &a, &b);
            wp[i] = b * k;
            hp[i] = a * k;
            if (n > 0x100000 || wp[i] > c->vision.position_embedding_size ||
                hp[i] > c->vision.position_embedding_size)
                rc = pf_error_set("layout: request %d: an image span of %lld tokens needs a %d x %d "
                                  "patch grid, beyond vision_config.position_embedding_size %d",
                                  r, (long long)n, b * k, a * k,
                                  c->vision.position_embedding_size);
            maxp = wp[i] * hp[i] > maxp ? wp[i] * hp[i] : maxp;
        }
    int pd = 3 * c->vision.patch_size * c->vision.patch_size;
    size_t np = (size_t)n_img * maxp;
    if (!rc) {
        out->n_images = n_img;
        out->max_patches = maxp;
        out->patch_dim = pd;
        out->pixel_values = malloc(np * pd * sizeof(float));
        out->image_position_ids = malloc(np * 2 * sizeof(int32_t));
        if (!out->pixel_values || !out->image_position_ids)
            rc = pf_error_set("out of memory for %d images", n_img);
    }
    uint64_t s = seed * 0x9e3779b97f4a7c15ull + 7;
    for (int i = 0; !rc && i < n_img; i++)
        for (int p = 0; p < maxp; p++) {
            int32_t *pos = out->image_position_ids + ((size_t)i * maxp + p) * 2;
            int real = p < wp[i] * hp[i];
            pos[0] = real ? p % wp[i] : -1;
            pos[1] = real ? p / wp[i] : -1;
            float *px = out->pixel_values + ((size_t)i * maxp + p) * pd;
            for (int j = 0; j < pd; j++)
                px[j] = real ? (float)((double)(next(&s) >> 11) / 9007199254740992.0) : 0.0f;
        }
    free(wp);
    free(hp);
    return rc;
}

int pf_g4_inputs_from_layout(const pf_g4_config *c, const char *spec, uint64_t seed,
                             pf_g4_inputs *out)
{
    memset(out, 0, sizeof *out);
    pf_layout *L;
    if (pf_layout_parse(spec, &L))
        return -1;
    int rc = 0;
    if (L->total_q > 0x7fffffff)
        rc = pf_error_set("layout: %lld tokens is more than the forward takes", (long long)L->total_q);
    for (int r = 0; !rc && r < L->n_req; r++) {
        const pf_request *q = &L->req[r];
        if (q->prefix)
            rc = pf_error_set("layout: request %d has a cached prefix; the forward is a whole "
                              "prefill", r);
        for (int64_t i = 0; !rc && i < q->kv_len; i++)
            if (q->types[i] == PF_TOK_VIDEO || q->types[i] == PF_TOK_AUDIO)
                rc = pf_error_set("layout: request %d: video and audio spans are not supported "
                                  "(text and image spans)", r);
            else if (q->types[i] == PF_TOK_IMAGE && !c->has_vision)
                rc = pf_error_set("layout: request %d has image spans but the model has no "
                                  "vision tower", r);
    }
    if (!rc)
        rc = make_images(c, L, seed, out);
    if (!rc) {
        out->batch = L->n_req;
        out->tokens = (int)L->total_q;
        out->req_len = calloc((size_t)out->batch, sizeof *out->req_len);
        out->input_ids = calloc((size_t)out->tokens, sizeof *out->input_ids);
        out->mm_token_type_ids = calloc((size_t)out->tokens, sizeof *out->mm_token_type_ids);
        if (!out->req_len || !out->input_ids || !out->mm_token_type_ids)
            rc = pf_error_set("out of memory for %d tokens", out->tokens);
    }
    uint64_t s = seed * 0x2545f4914f6cdd1dull + 1;
    for (int r = 0, t = 0; !rc && r < L->n_req; r++) {
        out->req_len[r] = (int)L->req[r].q_len;
        for (int64_t i = 0; i < L->req[r].kv_len; i++, t++) {
            int id, img = L->req[r].types[i] == PF_TOK_IMAGE;
            do
                id = (int)(next(&s) % (uint64_t)c->text.vocab);
            while (special(c, id));
            out->input_ids[t] = img ? c->image_token_id : id;
            out->mm_token_type_ids[t] = img ? PF_G4_MM_IMAGE : PF_G4_MM_TEXT;
        }
    }
    pf_layout_free(L);
    if (rc)
        pf_g4_inputs_free(out);
    return rc;
}
