/* Gemma-3 weights: the tensors a config needs (names and shapes), found in
 * a checkpoint under either HF layout, and seeded synthetic values.
 *
 * A spec name is "<part>:<name inside the part>", part lm (the text model),
 * vision (the SigLIP tower) or proj (the projector). HF's layouts put a
 * prefix before the inner name (facts section 6):
 *   lm:     language_model.model. | model.language_model. | model. (CausalLM)
 *   vision: vision_tower. | vision_tower.vision_model. | model.vision_tower.
 *           | model.vision_tower.vision_model.
 *   proj:   multi_modal_projector. | model.multi_modal_projector.
 * lm_head is tied to lm:embed_tokens.weight and never read; tensors not in
 * the spec list (the SigLIP pooling head, ...) are ignored. */
#ifndef PF_GEMMA3_WEIGHTS_H
#define PF_GEMMA3_WEIGHTS_H

#include <stdint.h>

#include "models/gemma3_config.h"
#include "models/safetensors.h"
#include "models/weight_spec.h"

typedef pf_wspec pf_g3_spec;

enum { PF_G3_W_LINEAR, PF_G3_W_NORM, PF_G3_W_BIAS, PF_G3_W_EMBED, PF_G3_W_LN_WEIGHT };

/* Every tensor the forward reads, in a fixed order (malloc'd *out). */
int pf_g3_weight_specs(const pf_g3_config *c, pf_g3_spec **out, int *n);
/* The checkpoint tensor of a spec under any HF layout, or NULL (no message). */
const pf_st_tensor *pf_g3_find(const pf_safetensors *st, const char *spec_name);
/* Every spec present with its shape and a convertible dtype; the error names
 * the tensor (and the file for a shape or dtype mismatch). */
int pf_g3_weights_check(const pf_g3_config *c, const pf_safetensors *st);
/* Seeded synthetic bf16 values for a spec, scaled so activations stay
 * finite through any number of layers: linear weights uniform in
 * +-1/sqrt(fan_in), norm weights (1+w) near 1, biases small, embeddings
 * +-1 (the post-norms bound every residual branch). */
/* The same, drawn from its recipe (key, amp, base): pf_wsynth_fill on the
 * host, pf_wsynth_dev_fill on a device; pf_g3_synth is the recipe filled on the host. */
void pf_g3_synth_recipe(const pf_g3_spec *s, uint64_t seed, pf_wsynth *r);
void pf_g3_synth(const pf_g3_spec *s, uint64_t seed, uint16_t *out);

#endif
