/* Launchers of the Gemma-4 vision op kernels (kernels/ops/g4v_<op>.cu,
 * parameters in kernels/ops/g4v_params.h), with their own module table
 * (the Gemma-3 ops and the Gemma-4 text ops have theirs): each compiles its
 * kernel for the device on first use and launches it on the table's stream.
 * Tensors are device addresses of bf16 (uint16) unless noted.
 * models/ops_g4v_ref.h holds the plain C reference of each. */
#ifndef PF_MODEL_OPS_G4V_H
#define PF_MODEL_OPS_G4V_H

#include <stdint.h>

#include "device/device.h"

typedef enum pf_g4v_op_id {
    PF_G4V_PATCH_IN, PF_G4V_POS_ADD, PF_G4V_RMSNORM, PF_G4V_CLAMP, PF_G4V_ROPE2D,
    PF_G4V_POOL, PF_G4V_OP_COUNT
} pf_g4v_op_id;

typedef struct pf_g4v_ops {
    pf_device *dev;
    pf_stream *stream;
    pf_module *mod[PF_G4V_OP_COUNT];
} pf_g4v_ops;

void pf_g4v_ops_init(pf_g4v_ops *ops, pf_device *dev, pf_stream *s);
void pf_g4v_ops_release(pf_g4v_ops *ops);

/* pix: f32 [n] -> out bf16(2 * bf16(bf16(pix) - 0.5)). */
int pf_g4v_patch_in(pf_g4v_ops *o, pf_dptr pix, pf_dptr out, long long n);
/* out = bf16(x + bf16(T[0][px] + T[1][py])); pos int32 [rows, 2]; table
 * [2, npos, dim]; padding rows (px < 0) copied. out may alias x. */
int pf_g4v_pos_add(pf_g4v_ops *o, pf_dptr x, pf_dptr table, pf_dptr pos, pf_dptr out,
                   int rows, int dim, int npos);
/* y = bf16(x * (mean(x^2) + eps)^-0.5 * w) (w 0: no weight), or
 * bf16(res + that) when res is not 0. y may alias x or res. */
int pf_g4v_rmsnorm(pf_g4v_ops *o, pf_dptr x, pf_dptr y, pf_dptr w, pf_dptr res, int rows, int n,
                   float eps);
/* out = min(max(x, *lo), *hi), lo/hi: device bf16 scalars. out may alias x. */
int pf_g4v_clamp(pf_g4v_ops *o, pf_dptr x, pf_dptr out, pf_dptr lo, pf_dptr hi, long long n);
/* In place on x [tokens, heads, head_dim]; cos/sin bf16 [npos, head_dim/4]
 * (pf_g4v_rope_tables); pos int32 [tokens, 2] (x, y) inside the table. */
int pf_g4v_rope2d(pf_g4v_ops *o, pf_dptr x, pf_dptr cos, pf_dptr sin, pf_dptr pos, int tokens,
                  int heads, int head_dim);
/* out [cells, dim] from x's rows members[cell_ptr[c]..cell_ptr[c+1]) (int32):
 * bf16(std(bf16(sum x / k^2) * sqrt(dim))), std_bias/std_scale 0: none. */
int pf_g4v_pool(pf_g4v_ops *o, pf_dptr x, pf_dptr cell_ptr, pf_dptr members, pf_dptr std_bias,
                pf_dptr std_scale, pf_dptr out, int cells, int dim, int k);

/* The 2D RoPE tables for positions [0, npos) (M compute_axial_rope_parameters):
 * inv_j = 1 / theta^(2j / (head_dim/2)) in fp32, j < head_dim/4, angle =
 * fp32(pos) * inv_j, cos and sin in fp32 rounded to bf16; out [npos, head_dim/4]. */
void pf_g4v_rope_tables(double theta, int head_dim, int npos, uint16_t *cos_out,
                        uint16_t *sin_out);

#endif
