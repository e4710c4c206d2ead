/* A model's weights as host bf16 arrays in spec order: converted from an HF
 * checkpoint directory (bf16/f16/f32, any HF layout, checked against the
 * config first) or drawn synthetic from a seed. The reference forwards read
 * them in place; the device forwards upload them. A model says how its
 * tensors are listed, checked, found and drawn (pf_weight_model); the set is
 * the same for every model. */
#ifndef PF_WEIGHT_SET_H
#define PF_WEIGHT_SET_H

#include <stdint.h>

#include "models/safetensors.h"
#include "models/weight_spec.h"

typedef struct pf_weight_set {
    pf_wspec *specs;
    uint16_t **data; /* data[i]: specs[i].count bf16 values */
    int n;
} pf_weight_set;

typedef struct pf_weight_model {
    int (*specs)(const void *cfg, pf_wspec **out, int *n);
    int (*check)(const void *cfg, const pf_safetensors *st); /* errors name the tensor */
    const pf_st_tensor *(*find)(const pf_safetensors *st, const char *spec_name);
    void (*synth)(const pf_wspec *s, uint64_t seed, uint16_t *out);
} pf_weight_model;

/* From <dir> (model.safetensors or its shard index). */
int pf_weight_set_load(const pf_weight_model *m, const void *cfg, const char *dir,
                       pf_weight_set *out);
/* Seeded synthetic values. */
int pf_weight_set_synth(const pf_weight_model *m, const void *cfg, uint64_t seed,
                        pf_weight_set *out);
/* The values of spec "<part>:<name>", the name built printf-style
 * ("lm:layers.%d.mlp.up_proj.weight"); NULL if the config has no such
 * tensor. */
const uint16_t *pf_ws_get(const pf_weight_set *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The spec of the same name, or NULL. */
const pf_wspec *pf_ws_spec(const pf_weight_set *w, const char *name);
void pf_weight_set_free(pf_weight_set *w);

#endif
