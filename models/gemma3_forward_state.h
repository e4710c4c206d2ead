/* The state of one Gemma-3 forward shared by its parts (gemma3_forward.c:
 * setup, language model, head; gemma3_vision.c: SigLIP tower, projector).
 * Internal to models/. */
#ifndef PF_GEMMA3_FORWARD_STATE_H
#define PF_GEMMA3_FORWARD_STATE_H

#include "attention/attention_run.h"
#include "attention/layout.h"
#include "models/dev_arena.h"
#include "models/gemma3_forward.h"
#include "models/ops.h"

/* Step categories of a decoder layer, timed separately. */
enum { G3_ATTN = 1, G3_GEMM = 2, G3_OTHER = 4, G3_ALL = 7 };

/* One attention site's tensors: q/k/v/o as the model lays them out (head
 * dim hd), and, when the attention family has no kernel for hd, copies
 * padded with zero columns to hd_pad (q.k and P.v do not change). */
typedef struct g3_attn_bufs {
    pf_dptr q, k, v, o;
    long long rows_q, rows_kv; /* tokens x heads */
    int hd, hd_pad;
    pf_dptr qp, kp, vp, op;    /* == q, k, v, o when hd_pad == hd */
} g3_attn_bufs;

typedef struct g3_vision_bufs {
    int n_img, np, dim, inter, heads;  /* images, patches per image, sizes */
    pf_dptr pix, patches, x[2], xn, q, k, v, o, t, h, f, a, post, pooled, pooled_n;
    pf_layout *layout;
    g3_attn_bufs ab;
    pf_attn_prepared *attn;
} g3_vision_bufs;

typedef struct g3_fwd {
    pf_device *dev;
    const pf_g3_config *c;
    const pf_g3_inputs *in;
    const pf_g3_forward_opts *o;
    const pf_weight_set *w;
    pf_ops ops;
    pf_dev_arena mem;
    pf_dptr *wd; /* device copy of each weight, parallel to w->specs */
    /* text model */
    int T, H, nh, nkv, hd, I, V, out_rows;
    pf_dptr ids, feat_row, pos, cos_full, sin_full, cos_sl, sin_sl;
    pf_dptr x[2], xn, q_raw, k_raw, q, k, v, attn, t, t2, h, hn, g, u, act, m;
    pf_dptr f32;      /* GEMM output scratch */
    pf_dptr feat;     /* projector output [n_img * mm_tokens, H] */
    pf_dptr last, logits;
    pf_layout *layout;
    g3_attn_bufs ab;
    pf_attn_prepared *attn_full, *attn_sliding;
    g3_vision_bufs vis;
} g3_fwd;

/* The device copy of weight "<part>:<name>" (printf-style); 0 if absent. */
pf_dptr g3_weight(const g3_fwd *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* out[m, n] = bf16(x[m, k] . W[n, k]^T + bias) (bias 0: none). */
int g3_linear(g3_fwd *f, pf_dptr x, int m, int k, pf_dptr w, int n, pf_dptr bias, pf_dptr out);
/* An attention site over q/k/v/o of head dim hd: padded copies allocated
 * when the family needs another head dim. */
int g3_attn_bufs_init(g3_fwd *f, g3_attn_bufs *b, pf_dptr q, pf_dptr k, pf_dptr v, pf_dptr o,
                      long long rows_q, long long rows_kv, int hd);
/* Attention metadata for a layout (the site's tensors, bound once). */
int g3_attn_prepare(g3_fwd *f, const pf_layout *L, pf_mask_spec spec, int heads, int kv_heads,
                    const g3_attn_bufs *b, float scale, const pf_attn_variant *v,
                    pf_attn_prepared **out);
/* Pad (if needed), launch, unpad. */
int g3_attn_run(g3_fwd *f, const g3_attn_bufs *b, pf_attn_prepared *ap);

/* SigLIP + projector (gemma3_vision.c). */
int g3_vision_setup(g3_fwd *f);
int g3_vision_tower(g3_fwd *f);
int g3_projector(g3_fwd *f);
void g3_vision_release(g3_fwd *f);

#endif
