/* The Gemma-3 prefill forward on a device (cuda or emu): SigLIP tower,
 * projector, image features placed at the image tokens, the language model
 * with the attention family per layer kind, final norm and tied lm_head.
 * Every op is a kernel of kernels/ops or a GEMM through the backend; the
 * attention runs the tuned family with the gemma3 rule built from
 * token_type_ids (groups = maximal runs of image tokens).
 *
 * Timing (time_phases): each phase runs once for the answer, then again
 * through the measure layer (measure/measure.h). Phases only read buffers
 * that no later step of the same phase writes, so a re-run recomputes the
 * same values: vision tower, projector, embedding, per decoder layer its
 * attention / GEMMs / other ops, and the head; then the whole forward. */
#ifndef PF_GEMMA3_FORWARD_H
#define PF_GEMMA3_FORWARD_H

#include <stddef.h>

#include "attention/attn_variant.h"
#include "device/device.h"
#include "measure/measure.h"
#include "models/gemma3_config.h"
#include "models/gemma3_inputs.h"
#include "models/gemma3_weight_set.h"

typedef struct pf_g3_forward_opts {
    pf_attn_variant attn_full, attn_sliding, attn_vision; /* pf_g3_forward_defaults */
    int all_logits;          /* logits of every position, else each request's last */
    int ignore_token_types;  /* masks as without token_type_ids (plain causal) */
    int time_phases;         /* time each phase through the measure layer */
    pf_measure_opts measure; /* the loop used when time_phases */
    int progress;            /* a "layer i/L" line on stderr while timing (a terminal) */
} pf_g3_forward_opts;

typedef struct pf_g3_layer_times {
    double attention_ms, gemm_ms, other_ms;
} pf_g3_layer_times;

typedef struct pf_g3_forward_report {
    double vision_ms, projector_ms, embed_ms, head_ms; /* medians; 0 when untimed */
    double total_ms;                                   /* the whole forward, measured */
    pf_g3_layer_times layers[PF_G3_MAX_LAYERS];
    char timer[16];              /* the measure layer's label ("emu-host", ...) */
    size_t peak_bytes;           /* device bytes held at the peak (pftune's buffers) */
    size_t weight_bytes, activation_bytes, mask_bytes; /* mask: attention metadata */
    char variant_full[160], variant_sliding[160], variant_vision[160];
} pf_g3_forward_report;

/* The head dim the attention family runs for a model head dim: the
 * smallest it has kernels for (64, 72, 128, 256, 512) at or above hd; the
 * forward pads q/k/v with zero columns up to it. -1 above 512. */
int pf_g3_attn_head_dim(int hd);
/* Default variants for the device's arch (the attention family's default
 * for each head dim), untimed, last-position logits. */
int pf_g3_forward_defaults(pf_device *dev, const pf_g3_config *c, pf_g3_forward_opts *o);
/* Check inputs against the config: request lengths, token ids in the
 * vocabulary (or the image token), image tokens == n_images *
 * mm_tokens_per_image, pixel values present for a multimodal model. */
int pf_g3_inputs_check(const pf_g3_config *c, const pf_g3_inputs *in);
/* Run. logits: float [tokens, vocab] (all_logits) or [batch, vocab].
 * rep may be NULL. */
int pf_g3_forward(pf_device *dev, const pf_g3_config *c, const pf_weight_set *w,
                  const pf_g3_inputs *in, const pf_g3_forward_opts *o, float *logits,
                  pf_g3_forward_report *rep);

#endif
