/* Gemma-3 prefill inputs from a layout or from .npy files. */
#include "models/gemma3_inputs_load.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "attention/layout.h"
#include "core/npy.h"
#include "core/pf_error.h"

void pf_g3_inputs_free(pf_g3_inputs *in)
{
    free(in->req_len);
    free(in->input_ids);
    free(in->token_type_ids);
    free(in->pixel_values);
    memset(in, 0, sizeof *in);
}

static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int alloc_tokens(pf_g3_inputs *in, int batch, int64_t tokens, int with_types)
{
    in->batch = batch;
    in->tokens = (int)tokens;
    in->req_len = calloc((size_t)batch, sizeof *in->req_len);
    in->input_ids = calloc((size_t)tokens, sizeof *in->input_ids);
    in->token_type_ids = with_types ? calloc((size_t)tokens, sizeof(int32_t)) : NULL;
    if (!in->req_len || !in->input_ids || (with_types && !in->token_type_ids))
        return pf_error_set("out of memory for %lld tokens", (long long)tokens);
    return 0;
}

static int alloc_pixels(const pf_g3_config *c, pf_g3_inputs *in, int n)
{
    size_t s = (size_t)c->vision.image_size, per = (size_t)c->vision.channels * s * s;
    in->n_images = n;
    in->pixel_values = malloc((n ? n : 1) * per * sizeof(float));
    return in->pixel_values ? 0 : pf_error_set("out of memory for %d images", n);
}

static int special(const pf_g3_config *c, int id)
{
    return c->has_vision &&
           (id == c->image_token_index || id == c->boi_token_index || id == c->eoi_token_index);
}

int pf_g3_inputs_from_layout(const pf_g3_config *c, const char *spec, uint64_t seed,
                             pf_g3_inputs *out)
{
    memset(out, 0, sizeof *out);
    pf_layout *L;
    if (pf_layout_parse(spec, &L))
        return -1;
    int rc = 0, n_img = 0;
    if (L->total_q > 0x7fffffff)
        rc = pf_error_set("layout: %lld tokens is more than the forward takes", (long long)L->total_q);
    for (int r = 0; !rc && r < L->n_req; r++) {
        const pf_request *q = &L->req[r];
        if (q->prefix)
            rc = pf_error_set("layout: request %d has a cached prefix; the forward is a whole "
                              "prefill", r);
        for (int64_t i = 0; !rc && i < q->kv_len; i++)
            if (q->types[i] == PF_TOK_VIDEO || q->types[i] == PF_TOK_AUDIO)
                rc = pf_error_set("layout: request %d: Gemma-3 has no video or audio tokens", r);
            else if (q->types[i] == PF_TOK_IMAGE && !c->has_vision)
                rc = pf_error_set("layout: request %d has image tokens but the model is "
                                  "text-only", r);
        for (int g = 0; !rc && g < q->n_groups; g++) {
            int64_t len = q->group_end[g] - q->group_begin[g];
            if (len % c->mm_tokens_per_image)
                rc = pf_error_set("layout: request %d: an image span of %lld tokens is not a "
                                  "whole number of images of mm_tokens_per_image %d",
                                  r, (long long)len, c->mm_tokens_per_image);
            n_img += (int)(len / c->mm_tokens_per_image);
        }
    }
    if (!rc)
        rc = alloc_tokens(out, L->n_req, L->total_q, c->has_vision);
    if (!rc && c->has_vision)
        rc = alloc_pixels(c, out, n_img);
    uint64_t s = seed * 0x2545f4914f6cdd1dull + 1;
    for (int r = 0, t = 0; !rc && r < L->n_req; r++) {
        out->req_len[r] = (int)L->req[r].q_len;
        for (int64_t i = 0; i < L->req[r].kv_len; i++, t++) {
            int img = L->req[r].types[i] == PF_TOK_IMAGE;
            int id;
            do
                id = (int)(next(&s) % (uint64_t)c->text.vocab);
            while (special(c, id));
            out->input_ids[t] = img ? c->image_token_index : id;
            if (out->token_type_ids)
                out->token_type_ids[t] = img;
        }
    }
    if (!rc && c->has_vision) {
        size_t n = (size_t)n_img * c->vision.channels * c->vision.image_size * c->vision.image_size;
        for (size_t i = 0; i < n; i++)
            out->pixel_values[i] = (float)((double)(next(&s) >> 11) / 9007199254740992.0 * 2 - 1);
    }
    pf_layout_free(L);
    if (rc)
        pf_g3_inputs_free(out);
    return rc;
}

static int read_npy(const char *dir, const char *name, pf_npy *a, int required)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    if (stat(path, &st) != 0) {
        if (required)
            return pf_error_set("%s: missing", path);
        return 1;
    }
    if (pf_npy_read(path, a))
        return pf_error_prefix("%s", path);
    return 0;
}

/* ids/types: int [T] or [B, T] -> requests of equal length T. */
static int token_array(const char *dir, const char *name, const pf_npy *a, const int64_t *shape0,
                       int ndim0, int32_t *out)
{
    if (a->dtype != PF_NPY_I32 && a->dtype != PF_NPY_I64)
        return pf_error_set("%s/%s: dtype %s, expected int32 or int64", dir, name,
                            pf_npy_dtype_descr(a->dtype));
    if (a->ndim != ndim0 || a->shape[0] != shape0[0] || (ndim0 == 2 && a->shape[1] != shape0[1]))
        return pf_error_set("%s/%s: shape disagrees with input_ids.npy", dir, name);
    int64_t *v;
    if (pf_npy_to_i64(a, &v))
        return pf_error_prefix("%s/%s", dir, name);
    int rc = 0;
    for (size_t i = 0; i < a->count && !rc; i++) {
        if (v[i] < -0x7fffffffll || v[i] > 0x7fffffffll)
            rc = pf_error_set("%s/%s: value %lld at %zu is out of range", dir, name,
                              (long long)v[i], i);
        out[i] = (int32_t)v[i];
    }
    free(v);
    return rc;
}

int pf_g3_inputs_load(const pf_g3_config *c, const char *dir, pf_g3_inputs *out)
{
    memset(out, 0, sizeof *out);
    pf_npy ids = {0}, types = {0}, pix = {0};
    int rc = read_npy(dir, "input_ids.npy", &ids, 1);
    if (rc)
        return -1;
    int have_types = 0, have_pix = 0;
    if (ids.ndim != 1 && ids.ndim != 2)
        rc = pf_error_set("%s/input_ids.npy: %d dimensions, expected [T] or [B, T]", dir, ids.ndim);
    else if (ids.count == 0 || ids.count > 0x7fffffff)
        rc = pf_error_set("%s/input_ids.npy: %zu tokens", dir, ids.count);
    if (!rc) {
        int r = read_npy(dir, "token_type_ids.npy", &types, 0);
        rc = r < 0 ? -1 : 0;
        have_types = r == 0;
    }
    if (!rc && have_types && !c->has_vision)
        rc = pf_error_set("%s/token_type_ids.npy: the model is text-only", dir);
    int batch = ids.ndim == 2 ? (int)ids.shape[0] : 1;
    if (!rc)
        rc = alloc_tokens(out, batch, (int64_t)ids.count, have_types);
    if (!rc)
        rc = token_array(dir, "input_ids.npy", &ids, ids.shape, ids.ndim, out->input_ids);
    if (!rc && have_types)
        rc = token_array(dir, "token_type_ids.npy", &types, ids.shape, ids.ndim, out->token_type_ids);
    for (int r = 0; !rc && r < batch; r++)
        out->req_len[r] = (int)(ids.count / (size_t)batch);
    if (!rc && c->has_vision) {
        int r = read_npy(dir, "pixel_values.npy", &pix, 0);
        rc = r < 0 ? -1 : 0;
        have_pix = r == 0;
    }
    if (!rc && have_pix) {
        int S = c->vision.image_size;
        if (pix.dtype != PF_NPY_F32 || pix.ndim != 4 || pix.shape[1] != c->vision.channels ||
            pix.shape[2] != S || pix.shape[3] != S)
            rc = pf_error_set("%s/pixel_values.npy: expected float32 [n, %d, %d, %d] "
                              "(vision_config.image_size %d)",
                              dir, c->vision.channels, S, S, S);
        else {
            out->n_images = (int)pix.shape[0];
            out->pixel_values = pix.data; /* float32 already */
            pix.data = NULL;
        }
    }
    pf_npy_free(&ids);
    pf_npy_free(&types);
    if (pix.data)
        pf_npy_free(&pix);
    if (rc)
        pf_g3_inputs_free(out);
    return rc;
}
