/* The Gemma-4 prefill forward on a device (cuda or emu): the language model
 * of Gemma4ForConditionalGeneration (../shared/models/gemma4-facts.md
 * sections 1-3, 5, 6) with the attention family per layer kind, MoE experts
 * as two grouped GEMMs, final norm, tied lm_head and softcapping. Image and
 * video-frame soft tokens come from one run of the device vision side
 * (gemma4_vision_dev.h, on pf_g4_vision_items: images, then frames) into a
 * buffer placed at the image tokens, then at the video tokens.
 *
 * Masks: the attention family's gemma4 rule with groups from
 * mm_token_type_ids (full layers causal; sliding layers (causal or same
 * vision group) and inside the window); without them (or with
 * ignore_mm_types, or a model without use_bidirectional_attention "vision")
 * plain causal / sliding-causal, as HF.
 *
 * E2B/E4B extras (section 6): per-layer inputs computed once after the
 * embedding (a phase of their own) and added in each layer before
 * layer_scalar; kv-shared layers attend to a copy of the K/V their source
 * layer kept; the double-wide MLP of those layers.
 *
 * Timing (time_phases), as the Gemma-3 forward: each phase runs once for
 * the answer, then again through the measure layer; per decoder layer the
 * attention, dense GEMMs and other ops, and for MoE layers the routing
 * (router norm, projection, top-k, grouping by expert), the expert GEMMs
 * (with their GeGLU) and the combine, each a re-runnable group. */
#ifndef PF_GEMMA4_FORWARD_H
#define PF_GEMMA4_FORWARD_H

#include <stddef.h>

#include "attention/attn_variant.h"
#include "device/device.h"
#include "measure/measure.h"
#include "models/gemma4_config.h"
#include "models/gemma4_inputs.h"
#include "models/weight_set.h"

typedef struct pf_g4_forward_opts {
    pf_attn_variant attn_full, attn_sliding, attn_vision; /* pf_g4_forward_defaults */
    int all_logits;          /* logits of every position, else each request's last */
    int ignore_mm_types;     /* masks as without mm_token_type_ids (plain causal/sliding) */
    int time_phases;         /* time each phase through the measure layer */
    pf_measure_opts measure; /* the loop used when time_phases */
} pf_g4_forward_opts;

typedef struct pf_g4_layer_times {
    double attention_ms, gemm_ms, other_ms;
    double moe_routing_ms, moe_experts_ms, moe_combine_ms; /* 0 on dense layers */
} pf_g4_layer_times;

typedef struct pf_g4_forward_report {
    double vision_ms, embed_ms, head_ms; /* medians; 0 when untimed */
    double ple_ms;                       /* per-layer inputs (E2B/E4B); 0 without */
    double total_ms;                     /* the whole forward, measured */
    pf_g4_layer_times layers[PF_G4_MAX_LAYERS];
    char timer[16];              /* the measure layer's label ("emu-host", ...) */
    size_t peak_bytes;           /* device bytes held at the peak (pftune's buffers) */
    size_t weight_bytes, activation_bytes, mask_bytes; /* mask: attention metadata */
    char variant_full[160], variant_sliding[160], variant_vision[160];
} pf_g4_forward_report;

/* Default variants for the device's arch: the attention family's default
 * for each layer kind's head dim (full layers: global_head_dim) and the
 * vision head dim; untimed, last-position logits. */
int pf_g4_forward_defaults(pf_device *dev, const pf_g4_config *c, pf_g4_forward_opts *o);
/* Run (inputs checked first, pf_g4_inputs_check). logits: float
 * [tokens, vocab] (all_logits) or [batch, vocab]. rep may be NULL. */
int pf_g4_forward(pf_device *dev, const pf_g4_config *c, const pf_weight_set *w,
                  const pf_g4_inputs *in, const pf_g4_forward_opts *o, float *logits,
                  pf_g4_forward_report *rep);

#endif
