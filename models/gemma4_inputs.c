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
    free(in->num_frames);
    free(in->pixel_values_videos);
    free(in->video_position_ids);
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

pf_g4_inputs pf_g4_frames_as_images(const pf_g4_inputs *in)
{
    pf_g4_inputs v = {0};
    v.n_images = in->n_frames;
    v.max_patches = in->video_max_patches;
    v.patch_dim = in->patch_dim;
    v.pixel_values = in->pixel_values_videos;
    v.image_position_ids = in->video_position_ids;
    return v;
}

int pf_g4_vision_items_make(const pf_g4_inputs *in, pf_g4_vision_items *out)
{
    memset(out, 0, sizeof *out);
    out->v.n_images = in->n_images;
    out->v.max_patches = in->max_patches;
    out->v.patch_dim = in->patch_dim;
    out->v.pixel_values = in->pixel_values;
    out->v.image_position_ids = in->image_position_ids;
    if (!in->n_frames)
        return 0;
    int n = in->n_images + in->n_frames, pd = in->patch_dim;
    int P = in->max_patches > in->video_max_patches ? in->max_patches : in->video_max_patches;
    float *pix = calloc((size_t)n * P * pd, sizeof *pix);
    int32_t *pos = malloc((size_t)n * P * 2 * sizeof *pos);
    if (!pix || !pos) {
        free(pix);
        free(pos);
        return pf_error_set("out of memory for %d images and video frames", n);
    }
    for (size_t i = 0; i < (size_t)n * P * 2; i++)
        pos[i] = -1; /* padding */
    pf_g4_inputs frames = pf_g4_frames_as_images(in);
    const pf_g4_inputs *src[2] = {in, &frames};
    for (int s = 0, o = 0; s < 2; s++)
        for (int i = 0; i < src[s]->n_images; i++, o++) {
            size_t m = (size_t)src[s]->max_patches;
            memcpy(pix + (size_t)o * P * pd, src[s]->pixel_values + i * m * pd,
                   m * pd * sizeof *pix);
            memcpy(pos + (size_t)o * P * 2, src[s]->image_position_ids + i * m * 2,
                   m * 2 * sizeof *pos);
        }
    out->v.n_images = n;
    out->v.max_patches = P;
    out->v.pixel_values = pix;
    out->v.image_position_ids = pos;
    out->owned = 1;
    return 0;
}

void pf_g4_vision_items_free(pf_g4_vision_items *it)
{
    if (it->owned) {
        free(it->v.pixel_values);
        free(it->v.image_position_ids);
    }
    memset(it, 0, sizeof *it);
}

/* Position ids of image (or frame) i: inside the table or (-1, -1), each
 * once, a full grid divisible by k. Adds the image's soft tokens to *soft. */
static int check_image(const pf_g4_config *c, const pf_g4_inputs *in, int i, const char *f,
                       const char *what, long long *soft)
{
    const pf_g4_vision_config *v = &c->vision;
    const int32_t *p = in->image_position_ids + (size_t)i * in->max_patches * 2;
    int n = v->position_embedding_size, k = v->pooling_kernel, valid = 0;
    for (int j = 0; j < in->max_patches; j++) {
        int x = p[2 * j], y = p[2 * j + 1];
        if (x == -1 && y == -1)
            continue;
        if (x < 0 || y < 0 || x >= n || y >= n)
            return pf_error_set("%s: %s %d patch %d: position (%d, %d) is outside the position "
                                "table (vision_config.position_embedding_size %d; padding is (-1, -1))",
                                f, what, i, j, x, y, n);
        valid++;
    }
    if (!valid)
        return pf_error_set("%s: %s %d has no patches (every position is (-1, -1))", f, what, i);
    int wp, hp;
    pf_g4_image_grid(in, i, &wp, &hp);
    if ((long long)wp * hp != valid)
        return pf_error_set("%s: %s %d: %d patches do not cover its %dx%d grid (max x + 1 by "
                            "max y + 1) once each", f, what, i, valid, wp, hp);
    unsigned char *seen = calloc((size_t)wp * hp, 1);
    if (!seen)
        return pf_error_set("out of memory");
    int rc = 0;
    for (int j = 0; j < in->max_patches && !rc; j++) {
        int x = p[2 * j], y = p[2 * j + 1];
        if (x < 0)
            continue;
        if (seen[(size_t)y * wp + x]++)
            rc = pf_error_set("%s: %s %d: position (%d, %d) appears twice", f, what, i,
                              x, y);
    }
    free(seen);
    if (rc)
        return rc;
    if (wp % k || hp % k)
        return pf_error_set("%s: %s %d: patch grid %dx%d is not divisible by the pooling kernel "
                            "(vision_config.pooling_kernel_size %d)", f, what, i, wp, hp, k);
    *soft += (long long)(wp / k) * (hp / k);
    return 0;
}

/* The pixels of im's images (or frames: what) against the config; adds
 * their soft tokens to *soft. fp, fq: the pixel and position field names. */
static int check_pixels(const pf_g4_config *c, const pf_g4_inputs *im, const char *fp,
                        const char *fq, const char *what, long long *soft)
{
    const pf_g4_vision_config *v = &c->vision;
    int k = v->pooling_kernel;
    if (!im->n_images)
        return 0;
    if (!c->has_vision)
        return pf_error_set("%s: %d %ss, but the model has no vision tower (vision_config)", fp,
                            im->n_images, what);
    if (im->patch_dim != 3 * v->patch_size * v->patch_size)
        return pf_error_set("%s: %d values per patch, expected 3*p*p = %d "
                            "(vision_config.patch_size %d)", fp, im->patch_dim,
                            3 * v->patch_size * v->patch_size, v->patch_size);
    if (im->max_patches <= 0 || im->max_patches % (k * k))
        return pf_error_set("%s: %d patches per %s is not a multiple of k^2 = %d "
                            "(vision_config.pooling_kernel_size %d)", fp, im->max_patches, what,
                            k * k, k);
    for (int i = 0; i < im->n_images; i++)
        if (check_image(c, im, i, fq, what, soft))
            return -1;
    return 0;
}

/* num_frames_per_video: positive counts summing to the frames. */
static int check_frame_counts(const pf_g4_inputs *in, const char *fn)
{
    long long sum = 0;
    if (in->n_videos && !in->num_frames)
        return pf_error_set("%s: missing for %d videos", fn, in->n_videos);
    for (int i = 0; i < in->n_videos; i++) {
        if (in->num_frames[i] <= 0)
            return pf_error_set("%s: video %d has %d frames", fn, i, in->num_frames[i]);
        sum += in->num_frames[i];
    }
    if (sum != in->n_frames)
        return pf_error_set("%s: frames per video sum to %lld, but pixel_values_videos has %d "
                            "frames", fn, sum, in->n_frames);
    return 0;
}

/* One kind of soft token (image: type 1 at image_token_id; video: type 2 at
 * video_token_id): the tokens of that id and of that type both number the
 * soft tokens, and the type is set exactly at the id. */
typedef struct kind {
    const char *name, *items, *key;
    int id, type, n_items;
    long long soft;
} kind;

static int check_kind(const pf_g4_inputs *in, const kind *k, const char *fi, const char *ft)
{
    long long n_ids = 0, n_types = 0;
    for (int t = 0; t < in->tokens; t++) {
        n_ids += in->input_ids[t] == k->id;
        n_types += in->mm_token_type_ids && in->mm_token_type_ids[t] == k->type;
    }
    if (in->mm_token_type_ids && n_types != k->soft)
        return pf_error_set("%s: %lld %s tokens (type %d), but the %d %s give %lld soft "
                            "tokens", ft, n_types, k->name, k->type, k->n_items, k->items, k->soft);
    if (n_ids != k->soft)
        return pf_error_set("%s: %lld %s tokens (%s %d), but the %d %s give %lld soft tokens", fi,
                            n_ids, k->name, k->key, k->id, k->n_items, k->items, k->soft);
    for (int t = 0; in->mm_token_type_ids && t < in->tokens; t++)
        if ((in->mm_token_type_ids[t] == k->type) != (in->input_ids[t] == k->id))
            return pf_error_set("%s: token %d has type %d but id %d (type %d exactly at "
                                "%s %d)", ft, t, in->mm_token_type_ids[t], in->input_ids[t],
                                k->type, k->key, k->id);
    return 0;
}

/* Token ids inside the vocabulary, no audio, types 0..2. */
static int check_tokens(const pf_g4_config *c, const pf_g4_inputs *in, const char *fi,
                        const char *ft)
{
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
    for (int t = 0; t < in->tokens; t++) {
        int id = in->input_ids[t];
        if (id < 0 || id >= c->text.vocab)
            return pf_error_set("%s: token %d: id %d is outside the vocabulary "
                                "(text_config.vocab_size %d)", fi, t, id, c->text.vocab);
        if (id == c->audio_token_id)
            return pf_error_set("%s: token %d is audio_token_id %d: audio is out of scope", fi, t, id);
        if (!in->mm_token_type_ids)
            continue;
        int ty = in->mm_token_type_ids[t];
        if (ty == PF_G4_MM_AUDIO)
            return pf_error_set("%s: token %d has type 3 (audio): audio is out of scope", ft, t);
        if (ty != PF_G4_MM_TEXT && ty != PF_G4_MM_IMAGE && ty != PF_G4_MM_VIDEO)
            return pf_error_set("%s: token %d: type %d (0 text, 1 image, 2 video, 3 audio)", ft, t, ty);
    }
    return 0;
}

int pf_g4_inputs_check(const pf_g4_config *c, const pf_g4_inputs *in, const char *dir)
{
    char fi[4200], ft[4200], fp[4200], fq[4200], fv[4200], fw[4200], fn[4200];
    field(fi, sizeof fi, dir, "input_ids");
    field(ft, sizeof ft, dir, "mm_token_type_ids");
    field(fp, sizeof fp, dir, "pixel_values");
    field(fq, sizeof fq, dir, "image_position_ids");
    field(fv, sizeof fv, dir, "pixel_values_videos");
    field(fw, sizeof fw, dir, "video_position_ids");
    field(fn, sizeof fn, dir, "num_frames_per_video");
    if (check_tokens(c, in, fi, ft))
        return -1;
    kind img = {"image", "images", "image_token_id", c->image_token_id, PF_G4_MM_IMAGE,
                in->n_images, 0};
    kind vid = {"video", "frames", "video_token_id", c->video_token_id, PF_G4_MM_VIDEO,
                in->n_frames, 0};
    pf_g4_inputs frames = pf_g4_frames_as_images(in);
    if (check_pixels(c, in, fp, fq, "image", &img.soft) ||
        check_pixels(c, &frames, fv, fw, "frame", &vid.soft) || check_frame_counts(in, fn))
        return -1;
    return check_kind(in, &img, fi, ft) || check_kind(in, &vid, fi, ft) ? -1 : 0;
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

/* A pixel array and its position ids (images, or video frames: rows names
 * the first axis): float32 [rows, max_patches, 3*p*p] and int
 * [rows, max_patches, 2] of the same rows and patches, sizes an int holds. */
static int check_pixel_pair(const char *dir, const char *fpix, const char *fpos,
                            const char *rows, const pf_npy *pix, const pf_npy *pos)
{
    if (pix->dtype != PF_NPY_F32 || pix->ndim != 3)
        return pf_error_set("%s/%s: expected float32 [%s, max_patches, 3*p*p]", dir, fpix, rows);
    if (pos->ndim != 3 || pos->shape[2] != 2)
        return pf_error_set("%s/%s: expected int [%s, max_patches, 2]", dir, fpos, rows);
    if (pos->shape[0] != pix->shape[0] || pos->shape[1] != pix->shape[1])
        return pf_error_set("%s/%s: shape [%lld, %lld, 2] disagrees with %s [%lld, %lld, %lld]",
                            dir, fpos, (long long)pos->shape[0], (long long)pos->shape[1], fpix,
                            (long long)pix->shape[0], (long long)pix->shape[1],
                            (long long)pix->shape[2]);
    if (pix->shape[0] > 0x7fffff || pix->shape[1] > 0x7fffff || pix->shape[2] > 0x7fffff)
        return pf_error_set("%s/%s: too large", dir, fpix);
    return 0;
}

/* pixel_values_videos.npy, video_position_ids.npy, num_frames_per_video.npy:
 * all three or none; shapes and dtypes (the counts: pf_g4_inputs_check). */
static int load_videos(const char *dir, pf_g4_inputs *out)
{
    static const char *name[3] = {"pixel_values_videos.npy", "video_position_ids.npy",
                                  "num_frames_per_video.npy"};
    pf_npy a[3] = {{0}};
    int have[3], rc = 0, r;
    for (int i = 0; i < 3 && !rc; i++) {
        if ((r = read_npy(dir, name[i], &a[i], 0)) < 0)
            rc = -1;
        have[i] = r == 0;
    }
    int any = !rc && (have[0] || have[1] || have[2]);
    for (int i = 0; any && !rc && i < 3; i++)
        if (!have[i])
            rc = pf_error_set("%s/%s: missing (pixel_values_videos.npy, video_position_ids.npy "
                              "and num_frames_per_video.npy go together)", dir, name[i]);
    pf_npy *pix = &a[0], *pos = &a[1], *nf = &a[2];
    if (any && !rc)
        rc = check_pixel_pair(dir, name[0], name[1], "frames", pix, pos);
    if (any && !rc && (nf->ndim != 1 || nf->shape[0] > 0x7fffff))
        rc = pf_error_set("%s/%s: expected int [videos]", dir, name[2]);
    if (any && !rc && out->n_images && pix->shape[2] != out->patch_dim)
        rc = pf_error_set("%s/%s: %lld values per patch, but pixel_values.npy has %d", dir,
                          name[0], (long long)pix->shape[2], out->patch_dim);
    if (any && !rc) {
        out->n_frames = (int)pix->shape[0];
        out->video_max_patches = (int)pix->shape[1];
        out->patch_dim = (int)pix->shape[2];
        out->n_videos = (int)nf->shape[0];
        out->pixel_values_videos = pix->data; /* float32 already */
        pix->data = NULL;
        rc = to_i32(dir, name[1], pos, &out->video_position_ids) ||
             to_i32(dir, name[2], nf, &out->num_frames) ? -1 : 0;
    }
    for (int i = 0; i < 3; i++)
        if (a[i].data)
            pf_npy_free(&a[i]);
    return rc;
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
    if (!rc && have_pix)
        rc = check_pixel_pair(dir, "pixel_values.npy", "image_position_ids.npy", "n", &pix, &pos);
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
        rc = load_videos(dir, out);
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
