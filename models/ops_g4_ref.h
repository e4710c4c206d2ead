/* Plain C references of the Gemma-4 op kernels (kernels/ops/g4_<op>.cu), on
 * host arrays of bf16 bits, with the same rounding sites, written from
 * ../shared/models/gemma4-facts.md, not from the kernels. The norm
 * statistics accumulate in double (a kernel may differ by one bf16 ulp);
 * the router's softmax and the combine are fp32 as HF's, in the same order,
 * so kernel and reference agree bit for bit. Used by tests/unit/test_g4_ops.c. */
#ifndef PF_MODEL_OPS_G4_REF_H
#define PF_MODEL_OPS_G4_REF_H

#include <stdint.h>

void pf_g4_ref_rmsnorm(const uint16_t *x, uint16_t *y, const uint16_t *w, int rows, int n,
                       float eps);
void pf_g4_ref_scale(const uint16_t *x, const uint16_t *w, uint16_t *out, long long total, int n,
                     float c);
void pf_g4_ref_add_scale(const uint16_t *a, const uint16_t *b, uint16_t s, uint16_t *out,
                         long long n);
void pf_g4_ref_router(const uint16_t *logits, const uint16_t *pes, int *idx, float *w,
                      int tokens, int experts, int top_k);
/* counts [experts]; perm, slot_of [n] as g4_params.h describes. */
void pf_g4_ref_moe_group(const int *idx, long long n, int experts, int top_k, int *counts,
                         int *perm, int *slot_of);
void pf_g4_ref_gather_rows(const uint16_t *x, const int *rows, uint16_t *out, long long n_rows,
                           int n);
void pf_g4_ref_geglu(const uint16_t *gu, uint16_t *out, long long rows, int inter);
void pf_g4_ref_combine(const uint16_t *eo, const int *slot_of, const float *w, uint16_t *out,
                       int tokens, int hidden, int top_k);
void pf_g4_ref_softcap(const float *x, float *out, long long n, float cap);

#endif
