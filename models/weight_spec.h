/* One tensor a model's forward reads: its name ("<part>:<name inside the
 * part>", looked up under each HF layout by the model's find), shape and how
 * synthetic values are drawn. Shared by the Gemma-3 and Gemma-4 weights. */
#ifndef PF_WEIGHT_SPEC_H
#define PF_WEIGHT_SPEC_H

#include <stdint.h>

typedef struct pf_wspec {
    char name[112];
    int ndim; /* 0: a scalar (count 1) */
    int64_t shape[4];
    int64_t count;
    int kind; /* the model's PF_G*_W_*: how synthetic values are drawn */
} pf_wspec;

/* How a synthetic tensor is drawn (kernels/ops/synth_params.h): element i is
 * pf_synth_value(key, i, amp, base). */
typedef struct pf_wsynth {
    uint64_t key;
    double amp, base;
} pf_wsynth;

#endif
