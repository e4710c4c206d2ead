/* A model's weights in spec order: converted from an HF checkpoint
 * directory (bf16/f16/f32, any HF layout, checked against the config first)
 * to host bf16 arrays, or synthetic from a seed. A synthetic set holds a
 * recipe per tensor (kernels/ops/synth_params.h) and, when made lazy, no
 * values at all until someone asks for them on the host: the device
 * forwards draw a synthetic set's tensors on the device (models/
 * weight_synth_dev.h), bit-identical to the host's values, and the
 * reference forwards read any set through pf_ws_get. A model says how its
 * tensors are listed, checked, found and drawn (pf_weight_model); the set is
 * the same for every model. */
#ifndef PF_WEIGHT_SET_H
#define PF_WEIGHT_SET_H

#include <stdint.h>

#include "models/safetensors.h"
#include "models/weight_spec.h"

typedef struct pf_weight_set {
    pf_wspec *specs;
    /* data[i]: specs[i].count bf16 values; in a lazy synthetic set NULL
     * until pf_ws_get first asks for tensor i */
    uint16_t **data;
    int n;
    pf_wsynth *synth; /* [n] for a synthetic set, NULL for a checkpoint's */
} pf_weight_set;

typedef struct pf_weight_model {
    int (*specs)(const void *cfg, pf_wspec **out, int *n);
    int (*check)(const void *cfg, const pf_safetensors *st); /* errors name the tensor */
    const pf_st_tensor *(*find)(const pf_safetensors *st, const char *spec_name);
    void (*recipe)(const pf_wspec *s, uint64_t seed, pf_wsynth *out);
} pf_weight_model;

/* From <dir> (model.safetensors or its shard index). */
int pf_weight_set_load(const pf_weight_model *m, const void *cfg, const char *dir,
                       pf_weight_set *out);
/* Seeded synthetic values: every tensor drawn on the host now (lazy 0), or
 * none (lazy 1: recipes only; pf_ws_get draws a tensor the first time it is
 * asked for). */
int pf_weight_set_synth(const pf_weight_model *m, const void *cfg, uint64_t seed, int lazy,
                        pf_weight_set *out);
/* Values [first, first + count) of a recipe, drawn on the host. */
void pf_wsynth_fill(const pf_wsynth *r, int64_t first, int64_t count, uint16_t *out);
/* The values of spec "<part>:<name>", the name built printf-style
 * ("lm:layers.%d.mlp.up_proj.weight"); NULL if the config has no such
 * tensor (or, in a lazy set, when there is no memory to draw it: the error
 * says so). */
const uint16_t *pf_ws_get(const pf_weight_set *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Tensor i's values, drawn first if the set is lazy; NULL as above. */
const uint16_t *pf_ws_values(const pf_weight_set *w, int i);
/* The spec of the same name, or NULL. */
const pf_wspec *pf_ws_spec(const pf_weight_set *w, const char *name);
void pf_weight_set_free(pf_weight_set *w);

#endif
