/* Build a Gemma-3 prefill batch (models/gemma3_inputs.h): from a layout
 * string with seeded synthetic token ids and pixels, or from HF-style .npy
 * files in a directory. Errors name the file or field. */
#ifndef PF_GEMMA3_INPUTS_LOAD_H
#define PF_GEMMA3_INPUTS_LOAD_H

#include <stdint.h>

#include "models/gemma3_config.h"
#include "models/gemma3_inputs.h"

/* Layout grammar of attention/layout.h ("t8,i16,t8;t40"): text spans get
 * seeded ids (never a special image/boi/eoi id), image spans the image
 * token; an image span is a whole number of images (mm_tokens_per_image
 * tokens each). token_type_ids follow the spans; pixels are seeded in
 * [-1, 1). No cached prefix ('|'), no video or audio spans. */
int pf_g3_inputs_from_layout(const pf_g3_config *c, const char *spec, uint64_t seed,
                             pf_g3_inputs *out);
/* <dir>/input_ids.npy (int32/int64 [T] or [B, T]), token_type_ids.npy (same
 * shape; optional) and pixel_values.npy (float32 [n, channels, S, S];
 * multimodal only). */
int pf_g3_inputs_load(const pf_g3_config *c, const char *dir, pf_g3_inputs *out);
void pf_g3_inputs_free(pf_g3_inputs *in);

#endif
