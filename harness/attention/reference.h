/* Double-precision masked attention reference: the truth a kernel variant
 * is verified against. It evaluates pf_mask_allowed per (q,k) (never an
 * encoded mask), so an encoder bug cannot hide in both sides.
 *
 * Layouts: q/o [total_q, Hq, D], k/v [total_kv, Hkv, D] (rows as in
 * layout->qo_indptr / kv_indptr), lse [total_q, Hq] natural log. GQA: q head
 * h reads kv head h / (Hq/Hkv). Inputs are used as given: callers that test
 * a bf16 kernel round q/k/v with pf_round_bf16_array first. A row with no
 * allowed key (impossible for the rules here: q always sees itself) gets
 * o = 0 and lse = -INFINITY. */
#ifndef PF_REFERENCE_H
#define PF_REFERENCE_H

#include <stddef.h>

#include "attention/layout.h"
#include "attention/mask_rule.h"

int pf_attention_reference(const pf_layout *layout, pf_rule rule, pf_layer layer, int window,
                           double scale, int hq, int hkv, int d, const float *q, const float *k,
                           const float *v, float *o, float *lse_or_null);

/* Round each float to the nearest bf16 (RNE) and back, in place. */
void pf_round_bf16_array(float *x, size_t n);

#endif
