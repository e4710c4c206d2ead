/* The Gemma-3 weight set (models/weight_set.h): every tensor the forward
 * reads, from an HF checkpoint directory or seeded synthetic values. */
#ifndef PF_GEMMA3_WEIGHT_SET_H
#define PF_GEMMA3_WEIGHT_SET_H

#include <stdint.h>

#include "models/gemma3_weights.h"
#include "models/weight_set.h"

/* From <dir> (model.safetensors or its shard index). Errors name the tensor
 * or file. */
int pf_g3_weight_set_load(const pf_g3_config *c, const char *dir, pf_weight_set *out);
/* Seeded synthetic values (pf_g3_synth). */
int pf_g3_weight_set_synth(const pf_g3_config *c, uint64_t seed, pf_weight_set *out);
/* The same values, none drawn yet (weight_set.h: a lazy synthetic set; the
 * device forward draws them on the device). */
int pf_g3_weight_set_synth_lazy(const pf_g3_config *c, uint64_t seed, pf_weight_set *out);

#endif
