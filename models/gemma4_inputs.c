/* Gemma-4 prefill inputs: the consistency check and the .npy loader (see
 * gemma4_inputs.h). */
#include "models/gemma4_inputs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/npy.h"
#include "core/pf_error.h"

void pf_g4_inputs_free(pf_g4_inputs *in)
{
    free(in->req_len);
    free(in->input_ids);
    free(in->mm_token_type_ids);
    free(in->pixel_values);
    free(in->image_position_ids);
    memset(in, 0, sizeof *in);
}

/* "<dir>/<field>.npy" or "<field>". */
static const char *field(char *buf, size_t n, const char *dir, const char *name)
{
    if (dir)
        snprintf(buf, n, "%s/%s.npy", dir, name);
    else
        snprintf(buf, n, "%s", name);
    return buf;
}

void pf_g4_image_grid(const pf_g4_inputs *in, int i, int *wp, int *hp)
{
    const int32_t *p = in->image_position_ids + (size_t)i * in->max_patches * 2;
    int mx = -1, my = -1;
    for (int j = 0; j < in->max_patches; j++) {
        if (p[2 * j] > mx)
            mx = p[2 * j];
        if (p[2 * j + 1] > my)
            my = p[2 * j + 1];
    }
    *wp = mx + 1;
    *hp = my + 1;
}

/* Position ids of image i: inside the table or (-1, -1), each once, a full
 * grid divisible by k. Adds the image's soft tokens to *soft. */
static int check_image(const pf_g4_config *c, const pf_g4_inputs *in, int i, const char *f,
                       long long *soft)
{
    const pf_g4_vision_config *v = &c->vision;
    const int32_t *p = in->image_position_ids + (size_t)i * in->max_patches * 2;
    int n = v->position_embedding_size, k = v->pooling_kernel, valid = 0;
    for (int j = 0; j < in->max_patches; j++) {
        int x = p[2 * j], y = p[2 * j + 1];
        if (x == -1 && y == -1)
            continue;
        if (x < 0 || y < 0 || x >= n || y >= n)
            return pf_error_set("%s: image %d patch %d: position (%d, %d) is outside the position "
                                "table (vision_config.position_embedding_size %d; padding is (-1, -1))",
                                f, i, j, x, y, n);
        valid++;
    }
    if (!valid)
        return pf_error_set("%s: image %d has no patches (every position is (-1, -1))", f, i);
    int wp, hp;
    pf_g4_image_grid(in, i, &wp, &hp);
    if ((long long)wp * hp != valid)
        return pf_error_set("%s: image %d: %d patches do not cover its %dx%d grid (max x + 1 by "
                            "max y + 1) once each", f, i, valid, wp, hp);
    unsigned char *seen = calloc((size_t)wp * hp, 1);
    if (!seen)
        return pf_error_set("out of memory");
    int rc = 0;
    for (int j = 0; j < in->max_patches && !rc; j++) {
        int x = p[2 * j], y = p[2 * j + 1];
        if (x < 0)
            continue;
        if (seen[(size_t)y * wp + x]++)
            rc = pf_error_set("%s: image %d: position (%d, %d) appears twice", f, i, x, y);
    }
    free(seen);
    if (rc)
        return rc;
    if (wp % k || hp % k)
        return pf_error_set("%s: image %d: patch grid %dx%d is not divisible by the pooling kernel "
                            "(vision_config.pooling_kernel_size %d)", f, i, wp, hp, k);
    *soft += (long long)(wp / k) * (hp / k);
    return 0;
}

int pf_g4_inputs_check(const pf_g4_config *c, const pf_g4_inputs *in, const char *dir)
{
    char fi[4200], ft[4200], fp[4200], fq[4200];
    field(fi, sizeof fi, dir, "input_ids");
    field(ft, sizeof ft, dir, "mm_token_type_ids");
    field(fp, sizeof fp, dir, "pixel_values");
    field(fq, sizeof fq, dir, "image_position_ids");
    if (in->tokens <= 0 || in->batch <= 0)
        return pf_error_set("%s: no tokens", fi);
    long long sum = 0;
    for (int r = 0; r < in->batch; r++) {
        if (in->req_len[r] <= 0)
            return pf_error_set("%s: request %d is empty", fi, r);
        sum += in->req_len[r];
    }
    if (sum != in->tokens)
        return pf_error_set("%s: request lengths sum to %lld, not %d tokens", fi, sum, in->tokens);
    long long n_img_ids = 0, n_img_types = 0;
    for (int t = 0; t < in->tokens; t++) {
        int id = in->input_ids[t];
        if (id < 0 || id >= c->text.vocab)
            return pf_error_set("%s: token %d: id %d is outside the vocabulary "
                                "(text_config.vocab_size %d)", fi, t, id, c->text.vocab);
        if (id == c->audio_token_id)
            return pf_error_set("%s: token %d is audio_token_id %d: audio is out of scope", fi, t, id);
        if (id == c->video_token_id)
            return pf_error_set("%s: token %d is video_token_id %d: video input is not supported "
                                "(no pixel_values_videos)", fi, t, id);
        n_img_ids += id == c->image_token_id;
        if (!in->mm_token_type_ids)
            continue;
        int ty = in->mm_token_type_ids[t];
        if (ty == PF_G4_MM_AUDIO)
            return pf_error_set("%s: token %d has type 3 (audio): audio is out of scope", ft, t);
        if (ty == PF_G4_MM_VIDEO)
            return pf_error_set("%s: token %d has type 2 (video): video input is not supported "
                                "(no pixel_values_videos)", ft, t);
        if (ty != PF_G4_MM_TEXT && ty != PF_G4_MM_IMAGE)
            return pf_error_set("%s: token %d: type %d (0 text, 1 image, 2 video, 3 audio)", ft, t, ty);
        n_img_types += ty == PF_G4_MM_IMAGE;
    }
    long long soft = 0;
    if (in->n_images) {
        const pf_g4_vision_config *v = &c->vision;
        int k = v->pooling_kernel;
        if (!c->has_vision)
            return pf_error_set("%s: %d images, but the model has no vision tower (vision_config)",
                                fp, in->n_images);
        if (in->patch_dim != 3 * v->patch_size * v->patch_size)
            return pf_error_set("%s: %d values per patch, expected 3*p*p = %d "
                                "(vision_config.patch_size %d)", fp, in->patch_dim,
                                3 * v->patch_size * v->patch_size, v->patch_size);
        if (in->max_patches <= 0 || in->max_patches % (k * k))
            return pf_error_set("%s: %d patches per image is not a multiple of k^2 = %d "
                                "(vision_config.pooling_kernel_size %d)", fp, in->max_patches,
                                k * k, k);
        for (int i = 0; i < in->n_images; i++)
            if (check_image(c, in, i, fq, &soft))
                return -1;
    }
    if (in->mm_token_type_ids && n_img_types != soft)
        return pf_error_set("%s: %lld image tokens (type 1), but the %d images give %lld soft "
                            "tokens", ft, n_img_types, in->n_images, soft);
    if (n_img_ids != soft)
        return pf_error_set("%s: %lld image tokens (image_token_id %d), but the %d images give "
                            "%lld soft tokens", fi, n_img_ids, c->image_token_id, in->n_images, soft);
    for (int t = 0; in->mm_token_type_ids && t < in->tokens; t++)
        if ((in->mm_token_type_ids[t] == PF_G4_MM_IMAGE) != (in->input_ids[t] == c->image_token_id))
            return pf_error_set("%s: token %d has type %d but id %d (type 1 exactly at "
                                "image_token_id %d)", ft, t, in->mm_token_type_ids[t],
                                in->input_ids[t], c->image_token_id);
    return 0;
}

/* 1: absent (and not required). */
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

/* An integer array as int32 (malloc'd). */
static int to_i32(const char *dir, const char *name, const pf_npy *a, int32_t **out)
{
    if (a->dtype != PF_NPY_I32 && a->dtype != PF_NPY_I64)
        return pf_error_set("%s/%s: dtype %s, expected int32 or int64", dir, name,
                            pf_npy_dtype_descr(a->dtype));
    int64_t *v;
    if (pf_npy_to_i64(a, &v))
        return pf_error_prefix("%s/%s", dir, name);
    int32_t *o = malloc((a->count ? a->count : 1) * sizeof *o);
    int rc = o ? 0 : pf_error_set("out of memory");
    for (size_t i = 0; i < a->count && !rc; i++) {
        if (v[i] < -0x7fffffffll || v[i] > 0x7fffffffll)
            rc = pf_error_set("%s/%s: value %lld at %zu is out of range", dir, name,
                              (long long)v[i], i);
        else
            o[i] = (int32_t)v[i];
    }
    free(v);
    if (rc)
        free(o);
    else
        *out = o;
    return rc;
}

static int same_shape(const pf_npy *a, const pf_npy *b)
{
    if (a->ndim != b->ndim)
        return 0;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d])
            return 0;
    return 1;
}

int pf_g4_inputs_load(const pf_g4_config *c, const char *dir, pf_g4_inputs *out)
{
    memset(out, 0, sizeof *out);
    pf_npy ids = {0}, types = {0}, pix = {0}, pos = {0};
    int have_types = 0, have_pix = 0, have_pos = 0, r;
    int rc = read_npy(dir, "input_ids.npy", &ids, 1) ? -1 : 0;
    if (!rc && ids.ndim != 1 && ids.ndim != 2)
        rc = pf_error_set("%s/input_ids.npy: %d dimensions, expected [T] or [B, T]", dir, ids.ndim);
    if (!rc && (ids.count == 0 || ids.count > 0x7fffffff))
        rc = pf_error_set("%s/input_ids.npy: %zu tokens", dir, ids.count);
    if (!rc && (r = read_npy(dir, "mm_token_type_ids.npy", &types, 0)) < 0)
        rc = -1;
    have_types = !rc && r == 0;
    if (!rc && have_types && !same_shape(&ids, &types))
        rc = pf_error_set("%s/mm_token_type_ids.npy: shape disagrees with input_ids.npy", dir);
    if (!rc && (r = read_npy(dir, "pixel_values.npy", &pix, 0)) < 0)
        rc = -1;
    have_pix = !rc && r == 0;
    if (!rc && (r = read_npy(dir, "image_position_ids.npy", &pos, 0)) < 0)
        rc = -1;
    have_pos = !rc && r == 0;
    if (!rc && have_pix != have_pos)
        rc = pf_error_set("%s/%s: missing (pixel_values.npy and image_position_ids.npy go "
                          "together)", dir, have_pix ? "image_position_ids.npy" : "pixel_values.npy");
    if (!rc && have_pix && (pix.dtype != PF_NPY_F32 || pix.ndim != 3))
        rc = pf_error_set("%s/pixel_values.npy: expected float32 [n, max_patches, 3*p*p]", dir);
    if (!rc && have_pos && (pos.ndim != 3 || pos.shape[2] != 2))
        rc = pf_error_set("%s/image_position_ids.npy: expected int [n, max_patches, 2]", dir);
    if (!rc && have_pix && (pos.shape[0] != pix.shape[0] || pos.shape[1] != pix.shape[1]))
        rc = pf_error_set("%s/image_position_ids.npy: shape [%lld, %lld, 2] disagrees with "
                          "pixel_values.npy [%lld, %lld, %lld]", dir, (long long)pos.shape[0],
                          (long long)pos.shape[1], (long long)pix.shape[0],
                          (long long)pix.shape[1], (long long)pix.shape[2]);
    if (!rc && have_pix && (pix.shape[0] > 0x7fffff || pix.shape[1] > 0x7fffff ||
                            pix.shape[2] > 0x7fffff))
        rc = pf_error_set("%s/pixel_values.npy: too large", dir);
    int batch = ids.ndim == 2 ? (int)ids.shape[0] : 1;
    if (!rc) {
        out->batch = batch;
        out->tokens = (int)ids.count;
        out->req_len = malloc((size_t)batch * sizeof *out->req_len);
        if (!out->req_len)
            rc = pf_error_set("out of memory");
        for (int b = 0; !rc && b < batch; b++)
            out->req_len[b] = (int)(ids.count / (size_t)batch);
    }
    if (!rc)
        rc = to_i32(dir, "input_ids.npy", &ids, &out->input_ids);
    if (!rc && have_types)
        rc = to_i32(dir, "mm_token_type_ids.npy", &types, &out->mm_token_type_ids);
    if (!rc && have_pix) {
        out->n_images = (int)pix.shape[0];
        out->max_patches = (int)pix.shape[1];
        out->patch_dim = (int)pix.shape[2];
        out->pixel_values = pix.data; /* float32 already */
        pix.data = NULL;
        rc = to_i32(dir, "image_position_ids.npy", &pos, &out->image_position_ids);
    }
    if (!rc)
        rc = pf_g4_inputs_check(c, out, dir);
    pf_npy_free(&ids);
    pf_npy_free(&types);
    if (pix.data)
        pf_npy_free(&pix);
    pf_npy_free(&pos);
    if (rc)
        pf_g4_inputs_free(out);
    return rc;
}
