/* Gemma-4 prefill inputs from a layout string (harness/attention/layout.h
 * grammar: 't8,t5;t30' = two requests), with seeded token ids. Text spans
 * only for now: image spans need the device vision side, which is not built
 * in yet, and are refused naming the layout. Every request gets
 * mm_token_type_ids (all text), as HF's processor returns them. */
#ifndef PF_GEMMA4_INPUTS_LAYOUT_H
#define PF_GEMMA4_INPUTS_LAYOUT_H

#include <stdint.h>

#include "models/gemma4_inputs.h"

/* Ids uniform over the vocabulary, never a multimodal or boi/eoi id. */
int pf_g4_inputs_from_layout(const pf_g4_config *c, const char *spec, uint64_t seed,
                             pf_g4_inputs *out);

#endif
