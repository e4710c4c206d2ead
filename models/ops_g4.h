/* Launchers of the Gemma-4 op kernels (kernels/ops/g4_<op>.cu, parameters
 * in kernels/ops/g4_params.h), a module table of their own beside ops.h's
 * (which holds the ops both Gemmas share: embedding, RoPE, add, GEMM
 * rounding). Each compiles its kernel for the device on first use and
 * launches it on the stream given at init. Tensors are device addresses of
 * bf16 (uint16) unless noted. models/ops_g4_ref.h holds the plain C
 * reference of each. */
#ifndef PF_MODEL_OPS_G4_H
#define PF_MODEL_OPS_G4_H

#include <stdint.h>

#include "device/device.h"
#include "models/gemma4_config.h"

typedef enum pf_g4_op_id {
    PF_G4_OP_RMSNORM, PF_G4_OP_SCALE, PF_G4_OP_ADD_SCALE, PF_G4_OP_ROUTER, PF_G4_OP_MOE_COUNT,
    PF_G4_OP_MOE_GATHER, PF_G4_OP_GATHER_ROWS, PF_G4_OP_GEGLU, PF_G4_OP_COMBINE,
    PF_G4_OP_SOFTCAP, PF_G4_OP_COUNT
} pf_g4_op_id;

typedef struct pf_g4_ops {
    pf_device *dev;
    pf_stream *stream;
    pf_module *mod[PF_G4_OP_COUNT];
} pf_g4_ops;

void pf_g4_ops_init(pf_g4_ops *ops, pf_device *dev, pf_stream *s);
void pf_g4_ops_release(pf_g4_ops *ops);

/* x*w RMSNorm over rows of n; w 0: no scale. */
int pf_g4_op_rmsnorm(pf_g4_ops *o, pf_dptr x, pf_dptr y, pf_dptr w, int rows, int n, float eps);
/* out = bf16(bf16(x * w[i % n]) * c), total elements. */
int pf_g4_op_scale(pf_g4_ops *o, pf_dptr x, pf_dptr w, pf_dptr out, long long total, int n,
                   float c);
/* out = bf16(bf16(a + b) * s[0]); s: a [1] bf16 device tensor. */
int pf_g4_op_add_scale(pf_g4_ops *o, pf_dptr a, pf_dptr b, pf_dptr s, pf_dptr out, long long n);
/* logits bf16 [tokens, experts] -> idx int32, w f32 [tokens, top_k]. */
int pf_g4_op_router(pf_g4_ops *o, pf_dptr logits, pf_dptr pes, pf_dptr idx, pf_dptr w,
                    int tokens, int experts, int top_k);
/* counts int32 [experts] of idx int32 [n]. */
int pf_g4_op_moe_count(pf_g4_ops *o, pf_dptr idx, pf_dptr counts, long long n, int experts);
/* perm int32 [n] (token of each slot), slot_of int32 [n] (slot of each entry). */
int pf_g4_op_moe_gather(pf_g4_ops *o, pf_dptr idx, pf_dptr counts, pf_dptr perm,
                        pf_dptr slot_of, long long n, int experts, int top_k);
/* out [n_rows, n] = x[rows[s]]; rows int32. */
int pf_g4_op_gather_rows(pf_g4_ops *o, pf_dptr x, pf_dptr rows, pf_dptr out, long long n_rows,
                         int n);
/* gu [rows, 2*inter] -> out [rows, inter]. */
int pf_g4_op_geglu(pf_g4_ops *o, pf_dptr gu, pf_dptr out, long long rows, int inter);
/* eo [slots, hidden], slot_of int32 / w f32 [tokens*top_k] -> out [tokens, hidden]. */
int pf_g4_op_combine(pf_g4_ops *o, pf_dptr eo, pf_dptr slot_of, pf_dptr w, pf_dptr out,
                     int tokens, int hidden, int top_k);
/* f32 -> f32 (may alias); cap 0: rounding only. */
int pf_g4_op_softcap(pf_g4_ops *o, pf_dptr x, pf_dptr out, long long n, float cap);

/* RoPE tables of one Gemma-4 layer kind for positions [0, npos), the
 * [npos, head_dim/2] halves pf_op_rope reads: inv_i = theta^(-2i/d) in fp32
 * for i < pairs, 0 beyond (proportional RoPE: those pairs get cos 1, sin 0,
 * an exact identity), divided by the factor when proportional; angle =
 * fp32(pos) * inv_i; cos/sin in fp32 rounded to bf16 (facts section 2). */
void pf_g4_rope_tables(const pf_g4_rope *r, int head_dim, int pairs, int npos,
                       uint16_t *cos_out, uint16_t *sin_out);

#endif
