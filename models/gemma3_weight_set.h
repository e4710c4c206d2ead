/* The Gemma-3 weights a forward reads, as host bf16 arrays in spec order
 * (models/gemma3_weights.h): converted from an HF checkpoint directory
 * (bf16/f16/f32, any HF layout, checked against the config first) or drawn
 * synthetic from a seed. The reference forward reads them in place; the
 * device forward uploads them. */
#ifndef PF_GEMMA3_WEIGHT_SET_H
#define PF_GEMMA3_WEIGHT_SET_H

#include <stdint.h>

#include "models/gemma3_weights.h"

typedef struct pf_g3_weight_set {
    pf_g3_spec *specs;
    uint16_t **data; /* data[i]: specs[i].count bf16 values */
    int n;
} pf_g3_weight_set;

/* From <dir> (model.safetensors or its shard index). Errors name the tensor
 * or file. */
int pf_g3_weight_set_load(const pf_g3_config *c, const char *dir, pf_g3_weight_set *out);
/* Seeded synthetic values (pf_g3_synth). */
int pf_g3_weight_set_synth(const pf_g3_config *c, uint64_t seed, pf_g3_weight_set *out);
/* The values of spec "<part>:<name>", the name built printf-style
 * ("lm:layers.%d.mlp.up_proj.weight"); NULL if the config has no such
 * tensor. */
const uint16_t *pf_g3_w(const pf_g3_weight_set *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The spec of the same name, or NULL. */
const pf_g3_spec *pf_g3_w_spec(const pf_g3_weight_set *w, const char *name);
void pf_g3_weight_set_free(pf_g3_weight_set *w);

#endif
