/* The state of one Gemma-4 forward (gemma4_forward.c). Internal to models/. */
#ifndef PF_GEMMA4_FORWARD_STATE_H
#define PF_GEMMA4_FORWARD_STATE_H

#include "attention/attention_run.h"
#include "attention/layout.h"
#include "models/dev_arena.h"
#include "models/gemma4_forward.h"
#include "models/gemma4_vision_dev.h"
#include "models/ops.h"
#include "models/ops_g4.h"

/* Step categories of a decoder layer, timed separately. */
enum {
    G4_ATTN = 1, G4_GEMM = 2, G4_OTHER = 4, G4_ROUTE = 8, G4_EXPERTS = 16, G4_COMBINE = 32,
    G4_ALL = 63
};

typedef struct g4_fwd {
    pf_device *dev;
    const pf_g4_config *c;
    const pf_g4_inputs *in;
    const pf_g4_forward_opts *o;
    const pf_weight_set *w;
    pf_ops ops;       /* the ops shared with Gemma-3 (embed, rope, add, GEMM rounding) */
    pf_g4_ops g4;     /* Gemma-4's own, on the same stream */
    pf_dev_arena mem;
    pf_dptr *wd;      /* device copy of each weight, parallel to w->specs */
    int T, H, nh, I, V, out_rows;
    int E, K, Im;     /* experts, top-k, expert intermediate (MoE) */
    long long TK;     /* routing entries (T * K) */
    pf_dptr ids, feat_row, pos, cos_full, sin_full, cos_sl, sin_sl;
    pf_dptr x[2], xn, q_raw, k_raw, v_raw, q, k, v, attn, t, t2, h, hn, g, u, act, m, hp;
    /* MoE */
    pf_dptr h1, rin, rlog, ridx, rw, counts, perm, slot, xe, xg, gu, ea, eo, comb, cn, mo;
    int *counts_h;    /* per-expert entries of the current layer, on the host */
    pf_gemm_problem *problems; /* 2 x E: the gate_up then the down GEMMs */
    pf_dptr f32;      /* GEMM output scratch */
    pf_dptr feat;     /* image soft tokens [n soft, H] (vision side) */
    /* E2B/E4B extras (section 6): per-layer inputs [T, L*P] and their
     * scratch, the per-layer block's buffers, K/V kept per kind (0 sliding,
     * 1 full) for the kv-shared layers */
    pf_dptr ple, ple_tok, ple_p, one, pl_in, pl_g, pl_a, pl_r, pl_o, pl_n;
    pf_dptr ks[2], vs[2];
    pf_dptr last, logits;
    pf_layout *layout;
    pf_attn_prepared *attn_full, *attn_sliding;
    pf_g4_vision_dev *vis;
} g4_fwd;

#endif
