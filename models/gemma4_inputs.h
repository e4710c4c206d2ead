/* The inputs of one Gemma-4 prefill batch, on the host: several requests of
 * different lengths, concatenated (ragged, as the attention layouts), and the
 * patchified images of HF's Gemma4ImageProcessor and video frames of its
 * Gemma4VideoProcessor (../shared/models/gemma4-facts.md section 4). Images
 * belong to the image tokens in order across the whole batch (HF's
 * masked_scatter); video frames, each pooled like an image, to the video
 * tokens in order. Audio tokens are refused naming the key. */
#ifndef PF_GEMMA4_INPUTS_H
#define PF_GEMMA4_INPUTS_H

#include <stdint.h>

#include "models/gemma4_config.h"

/* mm_token_type_ids values (HF Gemma4Processor). */
enum { PF_G4_MM_TEXT = 0, PF_G4_MM_IMAGE = 1, PF_G4_MM_VIDEO = 2, PF_G4_MM_AUDIO = 3 };

typedef struct pf_g4_inputs {
    int batch;                   /* requests */
    int *req_len;                /* [batch] tokens per request; they sum to tokens */
    int tokens;
    int32_t *input_ids;          /* [tokens], requests concatenated */
    int32_t *mm_token_type_ids;  /* [tokens] or NULL: then every mask is plain
                                    causal / sliding-causal, as HF without them */
    int n_images;
    int max_patches;             /* patches per image row, padding included */
    int patch_dim;               /* 3 * patch_size^2, per patch in (py, px, c) order */
    float *pixel_values;         /* [n_images, max_patches, patch_dim] in [0, 1] */
    int32_t *image_position_ids; /* [n_images, max_patches, 2] (x=col, y=row); padding (-1, -1) */
    /* videos: the frames of every video concatenated (patch_dim shared) */
    int n_videos;
    int32_t *num_frames;          /* [n_videos] frames per video; they sum to n_frames */
    int n_frames;
    int video_max_patches;        /* patches per frame row, padding included */
    float *pixel_values_videos;   /* [n_frames, video_max_patches, patch_dim] in [0, 1] */
    int32_t *video_position_ids;  /* [n_frames, video_max_patches, 2], as image_position_ids */
} pf_g4_inputs;

/* Every consistency rule the forward relies on, each a one-line error naming
 * the field (as "<dir>/<field>.npy" when dir is given, else "<field>"):
 * token ids inside the vocabulary; no audio (type 3 or audio_token_id);
 * pixel_values and image_position_ids agreeing in shape with each other and
 * the config (patch_dim, max_patches a multiple of k^2); position ids inside
 * the position table (or (-1, -1)), each position once; every image grid
 * (max x + 1 by max y + 1, fully covered) divisible by the pooling kernel;
 * the image soft-token count equal to the type-1 count of mm_token_type_ids
 * and to the number of image_token_id tokens, and types 1 exactly where the
 * ids are image_token_id. The same for the video frames (fields
 * pixel_values_videos, video_position_ids; type 2, video_token_id), and
 * num_frames_per_video positive, summing to the frame count. */
int pf_g4_inputs_check(const pf_g4_config *c, const pf_g4_inputs *in, const char *dir);
/* Patch grid of image i (valid after pf_g4_inputs_check): wp by hp patches. */
void pf_g4_image_grid(const pf_g4_inputs *in, int i, int *wp, int *hp);
/* The video frames as images (n_images = n_frames, max_patches, pixels and
 * positions; no tokens): a view into in, not to be freed. */
pf_g4_inputs pf_g4_frames_as_images(const pf_g4_inputs *in);
/* What the vision tower encodes, in soft-token order: the images, then every
 * video frame (HF scatters the image features at image_token_id first, then
 * the frame features at video_token_id). Without frames a view of in; else
 * a copy padded to one max_patches (padding patches change nothing). Only
 * the image fields are set. pf_g4_vision_items_make fills one; free it with
 * pf_g4_vision_items_free. */
typedef struct pf_g4_vision_items {
    pf_g4_inputs v;
    int owned;
} pf_g4_vision_items;
int pf_g4_vision_items_make(const pf_g4_inputs *in, pf_g4_vision_items *out);
void pf_g4_vision_items_free(pf_g4_vision_items *it);
/* <dir>/input_ids.npy (int32/int64 [T] or [B, T]), mm_token_type_ids.npy (same
 * shape; optional), pixel_values.npy (float32 [n, max_patches, 3*p*p]) and
 * image_position_ids.npy (int [n, max_patches, 2]) (both or neither),
 * pixel_values_videos.npy (float32 [frames, max_patches, 3*p*p]),
 * video_position_ids.npy (int [frames, max_patches, 2]) and
 * num_frames_per_video.npy (int [videos]) (all three or none), then
 * pf_g4_inputs_check. */
int pf_g4_inputs_load(const pf_g4_config *c, const char *dir, pf_g4_inputs *out);
void pf_g4_inputs_free(pf_g4_inputs *in);

#endif
