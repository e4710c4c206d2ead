/* The Gemma-4 vision side on a device (cuda or emu): patch embedder with
 * the 2D position table, encoder layers (q/k norms, v_norm, 2D axial RoPE,
 * bidirectional attention over each image's real patches, clipped linears
 * when configured), position-based pooling, standardize and embed_vision,
 * giving the image soft tokens in the text width, in image order (the
 * forward passes the images, then the video frames: pf_g4_vision_items)
 * (../shared/models/gemma4-facts.md section 4). Used by the Gemma-4 device
 * forward; checked against pf_g4_ref_vision. */
#ifndef PF_GEMMA4_VISION_DEV_H
#define PF_GEMMA4_VISION_DEV_H

#include "attention/attn_variant.h"
#include "device/device.h"
#include "models/dev_arena.h"
#include "models/gemma4_config.h"
#include "models/gemma4_inputs.h"
#include "models/ops.h"
#include "models/weight_set.h"

typedef struct pf_g4_vision_dev pf_g4_vision_dev;

/* Buffers (from mem) and attention metadata for the images of `in`.
 * wd: the device copy of each weight, parallel to w->specs. v: the
 * attention variant for the vision head dim, or for a larger one the
 * family has (q/k/v then run padded with zero columns, as in the Gemma-3
 * forward). Inputs already checked. */
int pf_g4_vision_dev_setup(pf_device *dev, pf_ops *ops, pf_dev_arena *mem, const pf_g4_config *c,
                           const pf_weight_set *w, const pf_dptr *wd, const pf_g4_inputs *in,
                           const pf_attn_variant *v, pf_g4_vision_dev **out);
/* Enqueue the whole vision side on ops->stream: soft tokens bf16
 * [pf_g4_vision_dev_soft_tokens(vd), text hidden] into out. Re-runnable
 * (reads only its inputs), so the forward can time it. */
int pf_g4_vision_dev_run(pf_g4_vision_dev *vd, pf_dptr out);
int pf_g4_vision_dev_soft_tokens(const pf_g4_vision_dev *vd);
/* The attention preparation and host state; the buffers stay in mem (freed
 * with it). */
void pf_g4_vision_dev_free(pf_g4_vision_dev *vd);

#endif
