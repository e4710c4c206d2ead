/* The Gemma-4 reference prefill: plain C on the host, no kernels, no device,
 * no harness attention code, written from ../shared/models/gemma4-facts.md
 * (HF transformers 5.24 Gemma4ForConditionalGeneration, bf16, eager
 * attention, grouped_mm experts; the E2B/E4B per-layer inputs, kv-shared
 * layers and double-wide MLP of section 6). It is the independent answer the device
 * forward and the mask audit are checked against, and it is itself checked
 * against HF's logits (tests/unit/test_gemma4_ref_hf.c).
 *
 * Activations are bf16 values held in floats, rounded wherever HF's bf16
 * model rounds (every matmul output, norm output, residual add, RoPE product
 * and sum, attention score and probability); reductions accumulate in double;
 * the fp32 islands of the facts (norm statistics, RoPE tables, softmax,
 * router weights, expert combine, pooling, standardize) are float. */
#ifndef PF_GEMMA4_REF_FORWARD_H
#define PF_GEMMA4_REF_FORWARD_H

#include "models/gemma4_config.h"
#include "models/gemma4_inputs.h"
#include "models/gemma4_weight_set.h"

/* logits: float32 [in->tokens, c->text.vocab], every position (final norm,
 * tied lm_head, softcapping). use_mm_types 1: the masks HF builds from
 * mm_token_type_ids (with use_bidirectional_attention "vision": full layers
 * causal, sliding layers (causal or same vision group) and inside the
 * window); 0, or no mm_token_type_ids, or a model without "vision": the
 * masks HF builds without them (causal / sliding-causal everywhere, image
 * tokens included). The inputs are checked first (pf_g4_inputs_check).
 * 0 or -1 with a one-line error. */
int pf_g4_ref_forward(const pf_g4_config *c, const pf_weight_set *w, const pf_g4_inputs *in,
                      int use_mm_types, float *logits);
/* The vision side alone (section 4): the soft tokens of every image, in
 * image order, then those of every video frame, in frame order, as the
 * forward places them: soft float32 [n_soft, text hidden] (bf16 values),
 * n_soft = sum over images and frames of (wp/k)(hp/k) (pf_g4_image_grid).
 * The inputs are checked first; a config without vision is an error. */
int pf_g4_ref_vision(const pf_g4_config *c, const pf_weight_set *w, const pf_g4_inputs *in,
                     float *soft);

#endif
