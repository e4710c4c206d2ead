/* Launchers of the model op kernels (kernels/ops/<op>.cu, parameters in
 * kernels/ops/ops_params.h): each compiles its kernel for the device on
 * first use (harness/jit/jit_load.h) and launches it on stream s (NULL:
 * default). Tensors are device addresses of bf16 (uint16) unless noted.
 * models/ops_ref.h holds the plain C reference of each. */
#ifndef PF_MODEL_OPS_H
#define PF_MODEL_OPS_H

#include <stdint.h>

#include "device/device.h"

typedef enum pf_op_id {
    PF_OP_RMSNORM, PF_OP_LAYERNORM, PF_OP_GELU, PF_OP_ROPE, PF_OP_EMBED, PF_OP_ADD,
    PF_OP_AVGPOOL, PF_OP_BIAS_ROUND, PF_OP_PATCHIFY, PF_OP_COPY_COLS, PF_OP_COUNT
} pf_op_id;

typedef struct pf_ops {
    pf_device *dev;
    pf_stream *stream;
    pf_module *mod[PF_OP_COUNT];
} pf_ops;

void pf_ops_init(pf_ops *ops, pf_device *dev, pf_stream *s);
void pf_ops_release(pf_ops *ops);

int pf_op_rmsnorm(pf_ops *o, pf_dptr x, pf_dptr y, pf_dptr w, int rows, int n, float eps);
int pf_op_layernorm(pf_ops *o, pf_dptr x, pf_dptr y, pf_dptr w, pf_dptr b, int rows, int n,
                    float eps);
/* u == 0: plain gelu_tanh. */
int pf_op_gelu(pf_ops *o, pf_dptr g, pf_dptr u, pf_dptr out, long long n);
/* cos/sin: bf16 [positions, head_dim/2] (pf_rope_tables); pos: int32 [tokens]. */
int pf_op_rope(pf_ops *o, pf_dptr x, pf_dptr cos, pf_dptr sin, pf_dptr pos, int tokens,
               int heads, int head_dim);
/* ids, feat_row: int32 [tokens] (feat_row 0: all text); scale = bf16(sqrt(H)). */
int pf_op_embed(pf_ops *o, pf_dptr ids, pf_dptr feat_row, pf_dptr table, pf_dptr feat,
                pf_dptr out, int tokens, int hidden, float scale);
int pf_op_add(pf_ops *o, pf_dptr a, pf_dptr b, pf_dptr out, long long n, long long b_period);
int pf_op_avgpool(pf_ops *o, pf_dptr x, pf_dptr out, int images, int g, int k, int dim);
/* c: f32 [m, n]; bias 0: none. */
int pf_op_bias_round(pf_ops *o, pf_dptr c, pf_dptr bias, pf_dptr out, long long m, int n);
/* pix: f32 [images, channels, size, size]. */
int pf_op_patchify(pf_ops *o, pf_dptr pix, pf_dptr out, int images, int channels, int size,
                   int patch);

/* out [rows, out_cols] = the first cols columns of in [rows, in_cols],
 * zeros after them. */
int pf_op_copy_cols(pf_ops *o, pf_dptr in, int in_cols, pf_dptr out, int out_cols, long long rows,
                    int cols);

/* HF's RoPE tables for positions [0, npos): inv_freq[i] = 1 / theta^(2i/hd)
 * in fp32 (divided by a linear factor), angle = fp32(pos) * inv_freq, cos and
 * sin in fp32 rounded to bf16; out arrays [npos, hd/2] (facts section 2). */
void pf_rope_tables(double theta, double factor, int head_dim, int npos, uint16_t *cos_out,
                    uint16_t *sin_out);

#endif
