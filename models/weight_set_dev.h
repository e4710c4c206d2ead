/* A weight set on a device: each tensor uploaded from its host values or,
 * in a lazy synthetic set (weight_set.h), drawn on the device by the synth
 * kernel (kernels/ops/synth.cu, parameters and the value function in
 * kernels/ops/synth_params.h), bit-identical to the host's values. A preset
 * thus needs no host arrays at all: the 26B/31B Gemma-4 presets draw their
 * ~50-60 GB on the GPU in well under a second instead of tens of seconds on
 * the host plus the upload. The kernel is a module of its own, loaded on
 * first use like the op launchers (ops.h, ops_g4.h). */
#ifndef PF_WEIGHT_SET_DEV_H
#define PF_WEIGHT_SET_DEV_H

#include "device/device.h"
#include "models/dev_arena.h"
#include "models/weight_set.h"

typedef struct pf_wsynth_dev {
    pf_device *dev;
    pf_stream *stream;
    pf_module *mod;
} pf_wsynth_dev;

void pf_wsynth_dev_init(pf_wsynth_dev *s, pf_device *dev, pf_stream *stream);
/* out[i] = values [first, first + count) of the recipe; out: bf16 device
 * tensor of count values. Asynchronous on the stream. */
int pf_wsynth_dev_fill(pf_wsynth_dev *s, const pf_wsynth *r, long long first, long long count,
                  pf_dptr out);
void pf_wsynth_dev_release(pf_wsynth_dev *s);

/* Every tensor of w into an arena buffer of class weights, wd[i] for
 * specs[i]: uploaded where the set holds host values, else drawn on the
 * device (on stream). */
int pf_weight_set_to_device(const pf_weight_set *w, pf_device *dev, pf_stream *stream,
                            pf_dev_arena *mem, pf_dptr *wd);

#endif
