/* The ground truth of the Gemma-3 prefill forward: plain C on the host, no
 * kernels, no device, no harness attention code. It follows HF transformers
 * 5.24's eager bf16 forward (../shared/models/gemma3-facts.md): bf16 values
 * rounded where HF rounds, GEMMs accumulated in double and rounded once,
 * fp32/double norms and softmax, the Gemma-3 masks built from
 * token_type_ids by its own code. The device forward and the HF fixtures
 * (tests/fixtures/hf-gemma3-*) are checked against it. Slow by design:
 * meant for tiny models and short prompts. */
#ifndef PF_GEMMA3_REF_FORWARD_H
#define PF_GEMMA3_REF_FORWARD_H

#include "models/gemma3_config.h"
#include "models/gemma3_inputs.h"
#include "models/gemma3_weight_set.h"

/* logits: float32 [in->tokens, vocab], every position, requests
 * concatenated (values are bf16, as HF's). token_type_ids NULL: plain
 * causal / sliding masks, as HF without them; a text-only config ignores
 * them (Gemma3ForCausalLM has no image groups). Inputs are checked first
 * (token counts, ids in range, image tokens == n_images *
 * mm_tokens_per_image, the weight set built for this config); errors are
 * one line naming what is wrong. */
int pf_g3_ref_forward(const pf_g3_config *c, const pf_weight_set *w, const pf_g3_inputs *in,
                      float *logits);

#endif
