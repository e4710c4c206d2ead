/* The Gemma-4 weights a forward reads, as host bf16 arrays in spec order
 * (models/gemma4_weights.h): converted from an HF checkpoint directory
 * (bf16/f16/f32, any HF layout, checked against the config first) or drawn
 * synthetic from a seed. The reference forward reads them in place; the
 * device forward uploads them. The same shape as gemma3_weight_set (a shared
 * spec-generic set would serve both; gemma3_* is not this file's to change). */
#ifndef PF_GEMMA4_WEIGHT_SET_H
#define PF_GEMMA4_WEIGHT_SET_H

#include <stdint.h>

#include "models/gemma4_weights.h"

typedef struct pf_g4_weight_set {
    pf_g4_spec *specs;
    uint16_t **data; /* data[i]: specs[i].count bf16 values */
    int n;
} pf_g4_weight_set;

/* From <dir> (model.safetensors or its shard index). Errors name the tensor
 * or file. */
int pf_g4_weight_set_load(const pf_g4_config *c, const char *dir, pf_g4_weight_set *out);
/* Seeded synthetic values (pf_g4_synth). */
int pf_g4_weight_set_synth(const pf_g4_config *c, uint64_t seed, pf_g4_weight_set *out);
/* The values of spec "<part>:<name>", the name built printf-style
 * ("lm:layers.%d.mlp.up_proj.weight"); NULL if the config has no such
 * tensor. */
const uint16_t *pf_g4_w(const pf_g4_weight_set *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The spec of the same name, or NULL. */
const pf_g4_spec *pf_g4_w_spec(const pf_g4_weight_set *w, const char *name);
void pf_g4_weight_set_free(pf_g4_weight_set *w);

#endif
