/* Gemma-4 weights: every tensor HF saves that the forward reads (names and
 * shapes from a config), found in a checkpoint under HF's layouts, and
 * seeded synthetic values.
 *
 * A spec name is "<part>:<name inside the part>", part lm (the text model),
 * vision (the vision tower) or embed (embed_vision, the projection into the
 * text width). HF's Gemma4ForConditionalGeneration saves them as
 *   lm:     model.language_model.        (also language_model.model.)
 *   vision: model.vision_tower.          (also vision_tower.)
 *   embed:  model.embed_vision.          (also embed_vision.)
 * Inner names are HF's: layers.N.self_attn.{q,k,v,o}_proj.weight (no v_proj
 * on full layers under attention_k_eq_v; no k_proj, v_proj, k_norm on
 * kv-shared layers), layers.N.layer_scalar [1], with per-layer inputs
 * embed_tokens_per_layer [vocab_ple, L*P], per_layer_model_projection
 * [L*P, H], per_layer_projection_norm [P] and per layer
 * per_layer_input_gate [P, H], per_layer_projection [H, P],
 * post_per_layer_input_norm [H]; MLPs of kv-shared layers are 2x wide under
 * use_double_wide_mlp. MoE
 * layers' router.{proj.weight,scale,per_expert_scale} and experts.gate_up_proj
 * [E, 2*I_moe, H] / experts.down_proj [E, H, I_moe]; vision linears are
 * wrapped (encoder.layers.N.self_attn.q_proj.linear.weight) and, with
 * use_clipped_linears, carry 0-dim input_min/input_max/output_min/output_max;
 * patch_embedder.position_embedding_table is [2, pos, Hv]; std_bias /
 * std_scale with standardize. lm_head is tied to lm:embed_tokens.weight and
 * never read; tensors not in the spec list are ignored. */
#ifndef PF_GEMMA4_WEIGHTS_H
#define PF_GEMMA4_WEIGHTS_H

#include <stdint.h>

#include "models/gemma4_config.h"
#include "models/safetensors.h"
#include "models/weight_spec.h"

typedef pf_wspec pf_g4_spec;

enum {
    PF_G4_W_LINEAR, /* uniform +-1/sqrt(fan_in), fan_in = last dim (2D and expert 3D) */
    PF_G4_W_SCALE,  /* multiplicative, near 1: norms (x*w), router scales, layer_scalar, std_scale */
    PF_G4_W_SMALL,  /* additive, near 0: std_bias */
    PF_G4_W_EMBED,  /* uniform +-1: token embeddings */
    PF_G4_W_POS,    /* uniform +-0.5: the vision position table */
    PF_G4_W_CLIP_LO, PF_G4_W_CLIP_HI, /* clip bounds, about -+3 */
};

/* Every tensor the forward reads, in a fixed order (malloc'd *out). */
int pf_g4_weight_specs(const pf_g4_config *c, pf_g4_spec **out, int *n);
/* The checkpoint tensor of a spec under any HF layout, or NULL (no message). */
const pf_st_tensor *pf_g4_find(const pf_safetensors *st, const char *spec_name);
/* Every spec present with its shape and a convertible dtype; the one-line
 * error names the tensor (and the file for a shape or dtype mismatch, and
 * num_experts when an expert tensor's first dim is off). */
int pf_g4_weights_check(const pf_g4_config *c, const pf_safetensors *st);
/* Seeded synthetic bf16 values for a spec (keyed by seed and name), scaled so
 * activations stay finite through any number of layers. */
/* The same, drawn from its recipe (key, amp, base): pf_wsynth_fill on the
 * host, pf_wsynth_dev_fill on a device; pf_g4_synth is the recipe filled on the host. */
void pf_g4_synth_recipe(const pf_g4_spec *s, uint64_t seed, pf_wsynth *r);
void pf_g4_synth(const pf_g4_spec *s, uint64_t seed, uint16_t *out);

#endif
