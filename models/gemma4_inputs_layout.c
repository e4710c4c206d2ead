/* Gemma-4 inputs from a layout (see gemma4_inputs_layout.h). */
#include "models/gemma4_inputs_layout.h"

#include <stdio.h>
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

/* Lengths of the maximal runs of token type `type`, over the requests in
 * order (malloc'd, *n of them). */
static int type_runs(const pf_layout *L, int type, int64_t **lens, int *n)
{
    *n = 0;
    *lens = malloc((size_t)(L->total_kv ? L->total_kv : 1) * sizeof **lens);
    if (!*lens)
        return pf_error_set("out of memory");
    for (int r = 0; r < L->n_req; r++)
        for (int64_t i = 0; i < L->req[r].kv_len; i++) {
            if (L->req[r].types[i] != type)
                continue;
            if (i == 0 || L->req[r].types[i - 1] != type)
                (*lens)[(*n)++] = 0;
            (*lens)[*n - 1]++;
        }
    return 0;
}

/* n images of lens[i] soft tokens each: its patch grid is the pooled grid
 * times the pooling kernel, row-major positions, padding rows (-1, -1) up to
 * the largest image; pixels seeded in [0, 1). Sets *maxp, *pix, *pos. */
static int make_pixels(const pf_g4_config *c, const int64_t *lens, int n, uint64_t seed,
                       int *maxp, float **pix, int32_t **pos)
{
    int k = c->vision.pooling_kernel, npos = c->vision.position_embedding_size;
    int *wp = calloc((size_t)n, sizeof *wp), *hp = calloc((size_t)n, sizeof *hp);
    int rc = wp && hp ? 0 : pf_error_set("out of memory for %d images", n);
    *maxp = 0;
    for (int i = 0; i < n && !rc; i++) {
        int a, b;
        factor((int)(lens[i] > 0x100000 ? 0x100000 : lens[i]), &a, &b);
        wp[i] = b * k;
        hp[i] = a * k;
        if (lens[i] > 0x100000 || wp[i] > npos || hp[i] > npos)
            rc = pf_error_set("layout: a span of %lld soft tokens needs a %d x %d patch grid, "
                              "beyond vision_config.position_embedding_size %d",
                              (long long)lens[i], b * k, a * k, npos);
        *maxp = wp[i] * hp[i] > *maxp ? wp[i] * hp[i] : *maxp;
    }
    int pd = 3 * c->vision.patch_size * c->vision.patch_size;
    size_t np = (size_t)n * *maxp;
    if (!rc) {
        *pix = malloc(np * pd * sizeof(float));
        *pos = malloc(np * 2 * sizeof(int32_t));
        if (!*pix || !*pos)
            rc = pf_error_set("out of memory for %d images", n);
    }
    uint64_t s = seed * 0x9e3779b97f4a7c15ull + 7;
    for (int i = 0; !rc && i < n; i++)
        for (int p = 0; p < *maxp; p++) {
            int32_t *q = *pos + ((size_t)i * *maxp + p) * 2;
            int real = p < wp[i] * hp[i];
            q[0] = real ? p % wp[i] : -1;
            q[1] = real ? p / wp[i] : -1;
            float *px = *pix + ((size_t)i * *maxp + p) * pd;
            for (int j = 0; j < pd; j++)
                px[j] = real ? (float)((double)(next(&s) >> 11) / 9007199254740992.0) : 0.0f;
        }
    free(wp);
    free(hp);
    return rc;
}

/* Each maximal image span is one image of that many soft tokens. */
static int make_images(const pf_g4_config *c, const pf_layout *L, uint64_t seed, pf_g4_inputs *out)
{
    int64_t *lens;
    int n, rc = type_runs(L, PF_TOK_IMAGE, &lens, &n);
    if (!rc && n) {
        out->n_images = n;
        out->patch_dim = 3 * c->vision.patch_size * c->vision.patch_size;
        rc = make_pixels(c, lens, n, seed, &out->max_patches, &out->pixel_values,
                         &out->image_position_ids);
    }
    free(lens);
    return rc;
}

/* Each maximal video span is one frame; frames[] (from expand_videos) says
 * how many frames each video has. */
static int make_frames(const pf_g4_config *c, const pf_layout *L, uint64_t seed,
                       const int *frames, int n_videos, pf_g4_inputs *out)
{
    int64_t *lens;
    int n, rc = type_runs(L, PF_TOK_VIDEO, &lens, &n);
    long long want = 0;
    for (int v = 0; v < n_videos; v++)
        want += frames[v];
    if (!rc && n != want)
        rc = pf_error_set("layout: %d video spans for %lld frames: adjacent video spans merge "
                          "into one frame (separate frames with a text span, or write vFxN for "
                          "a video of F frames of N tokens)", n, want);
    if (!rc && n) {
        out->n_frames = n;
        out->n_videos = n_videos;
        out->num_frames = malloc((size_t)n_videos * sizeof *out->num_frames);
        rc = out->num_frames ? 0 : pf_error_set("out of memory");
        for (int v = 0; !rc && v < n_videos; v++)
            out->num_frames[v] = frames[v];
        out->patch_dim = 3 * c->vision.patch_size * c->vision.patch_size;
        if (!rc)
            rc = make_pixels(c, lens, n, seed ^ 0x5bd1e995u, &out->video_max_patches,
                             &out->pixel_values_videos, &out->video_position_ids);
    }
    free(lens);
    return rc;
}

/* A growing string. */
typedef struct sbuf {
    char *s;
    size_t len, cap;
} sbuf;

static int put(sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *p = realloc(b->s, cap);
        if (!p)
            return pf_error_set("out of memory");
        b->s = p, b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
    return 0;
}

/* Rewrites each video span "vFxN" (a video of F frames of N soft tokens)
 * as F spans "vN" joined by one text token (standing for the timestamp,
 * eoi and boi that make each frame its own vision block in HF's prompts);
 * a plain "vN" is a one-frame video. frames: frames per video, in order. */
static int expand_videos(const char *spec, char **out, int **frames, int *n_videos)
{
    sbuf b = {0};
    int at_span = 1, rc = put(&b, "", 0);
    *frames = NULL;
    *n_videos = 0;
    for (const char *p = spec; *p && !rc;) {
        if (at_span && *p == 'v') {
            char *e;
            long f = strtol(p + 1, &e, 10), n = 0;
            int sugar = e > p + 1 && *e == 'x' && e[1] >= '0' && e[1] <= '9';
            if (sugar)
                n = strtol(e + 1, &e, 10);
            if (sugar && (f < 1 || f > 100000 || n < 1 || n > 0x100000)) {
                rc = pf_error_set("layout: video span at offset %d: vFxN needs 1 <= F <= 100000 "
                                  "frames of 1 <= N <= %d tokens", (int)(p - spec), 0x100000);
                break;
            }
            int *fr = realloc(*frames, (size_t)(*n_videos + 1) * sizeof *fr);
            if (!fr) {
                rc = pf_error_set("out of memory");
                break;
            }
            *frames = fr;
            fr[(*n_videos)++] = sugar ? (int)f : 1;
            if (sugar) {
                char one[32];
                for (long i = 0; i < f && !rc; i++) {
                    int m = snprintf(one, sizeof one, "%sv%ld", i ? ",t1," : "", n);
                    rc = put(&b, one, (size_t)m);
                }
                p = e;
                at_span = 0;
                continue;
            }
        }
        if (*p == ',' || *p == ';' || *p == '|')
            at_span = 1;
        else if (*p != ' ' && *p != '\t' && *p != '\n')
            at_span = 0;
        rc = put(&b, p++, 1);
    }
    if (rc) {
        free(b.s);
        free(*frames);
        *frames = NULL;
        return -1;
    }
    *out = b.s;
    return 0;
}

int pf_g4_inputs_from_layout(const pf_g4_config *c, const char *spec, uint64_t seed,
                             pf_g4_inputs *out)
{
    memset(out, 0, sizeof *out);
    pf_layout *L = NULL;
    char *expanded = NULL;
    int *frames = NULL, n_videos = 0;
    if (expand_videos(spec, &expanded, &frames, &n_videos) || pf_layout_parse(expanded, &L)) {
        free(expanded);
        free(frames);
        return -1;
    }
    free(expanded);
    int rc = 0;
    if (L->total_q > 0x7fffffff)
        rc = pf_error_set("layout: %lld tokens is more than the forward takes", (long long)L->total_q);
    for (int r = 0; !rc && r < L->n_req; r++) {
        const pf_request *q = &L->req[r];
        if (q->prefix)
            rc = pf_error_set("layout: request %d has a cached prefix; the forward is a whole "
                              "prefill", r);
        for (int64_t i = 0; !rc && i < q->kv_len; i++)
            if (q->types[i] == PF_TOK_AUDIO)
                rc = pf_error_set("layout: request %d: audio spans are not supported (text, "
                                  "image and video spans)", r);
            else if (pf_token_is_vision(q->types[i]) && !c->has_vision)
                rc = pf_error_set("layout: request %d has image or video spans but the model "
                                  "has no vision tower", r);
    }
    if (!rc)
        rc = make_images(c, L, seed, out);
    if (!rc)
        rc = make_frames(c, L, seed, frames, n_videos, out);
    free(frames);
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
            int id, ty = L->req[r].types[i];
            do
                id = (int)(next(&s) % (uint64_t)c->text.vocab);
            while (special(c, id));
            out->input_ids[t] = ty == PF_TOK_IMAGE   ? c->image_token_id
                                : ty == PF_TOK_VIDEO ? c->video_token_id
                                                     : id;
            out->mm_token_type_ids[t] = ty == PF_TOK_IMAGE   ? PF_G4_MM_IMAGE
                                        : ty == PF_TOK_VIDEO ? PF_G4_MM_VIDEO
                                                             : PF_G4_MM_TEXT;
        }
    }
    pf_layout_free(L);
    if (rc)
        pf_g4_inputs_free(out);
    return rc;
}
