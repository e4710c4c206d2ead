/* Gemma-4 prefill inputs from a layout string (harness/attention/layout.h
 * grammar: 't8,i12,t5;t30' = two requests), with seeded token ids. Each
 * maximal image span is one image of that many soft tokens, its patch grid
 * the most nearly square factorization times the pooling kernel (row-major
 * positions, padding rows up to the largest image, pixels seeded in [0, 1)).
 * Each maximal video span is one video frame, built the same way (its own
 * max_patches); "vFxN" is a video of F frames of N soft tokens each, written
 * out as F spans vN joined by one text token (the timestamp, eoi and boi
 * that split HF's frames into vision blocks of their own); a plain "vN" is
 * a one-frame video. mm_token_type_ids mark the image (1) and video (2)
 * tokens, as HF's processor returns them. Audio spans are refused. */
#ifndef PF_GEMMA4_INPUTS_LAYOUT_H
#define PF_GEMMA4_INPUTS_LAYOUT_H

#include <stdint.h>

#include "models/gemma4_inputs.h"

/* Ids uniform over the vocabulary, never a multimodal or boi/eoi id. */
int pf_g4_inputs_from_layout(const pf_g4_config *c, const char *spec, uint64_t seed,
                             pf_g4_inputs *out);

#endif
