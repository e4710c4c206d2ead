/* Parameter structs of the Gemma-4 vision op kernels (kernels/ops/g4v_<op>.cu),
 * shared by the kernels and the host launchers (models/ops_g4v.c). Plain C,
 * no system headers: pointers are 64-bit device addresses on every side.
 * Activations are bf16 bits; each op rounds where HF rounds
 * (../shared/models/gemma4-facts.md sections 0 and 4). Block sizes are
 * ops_params.h's: PF_OPS_ROW_THREADS per row op, PF_OPS_THREADS otherwise. */
#ifndef PF_G4V_PARAMS_H
#define PF_G4V_PARAMS_H

/* Patch preprocessing: out[i] = bf16(2 * bf16(bf16(pix[i]) - 0.5)), the
 * pixels cast to the model dtype, then 2 * (pv - 0.5) in bf16 (M608-617). */
typedef struct pf_g4v_patch_in_params {
    const float *pix;
    unsigned short *out;
    long long n;
} pf_g4v_patch_in_params;

/* The 2D position table: for each row r with pos[r] = (x, y), x >= 0,
 *   out[r][d] = bf16(x[r][d] + bf16(T[x][d] + T[npos + y][d])),
 * T the table [2, npos, dim] (x row block first); rows with x < 0 (padding)
 * are copied. out may alias x. */
typedef struct pf_g4v_pos_add_params {
    const unsigned short *x;
    const unsigned short *table;
    const int *pos; /* [rows, 2] (x = col, y = row) */
    unsigned short *out;
    int rows, dim, npos;
} pf_g4v_pos_add_params;

/* The x*w RMSNorm (with an optional residual add) is g4_rmsnorm.cu,
 * shared with the text model (g4_params.h). */

/* out[i] = min(max(x[i], *lo), *hi) (torch.clamp's order): a clipped linear's input or output
 * bounds (use_clipped_linears, M167-193), read from the device (0-dim
 * checkpoint buffers). NaN passes through. out may alias x. */
typedef struct pf_g4v_clamp_params {
    const unsigned short *x;
    unsigned short *out;
    const unsigned short *lo, *hi;
    long long n;
} pf_g4v_clamp_params;

/* 2D axial RoPE in place on x [tokens, heads, head_dim] (M703-758,
 * M836-889): with q = head_dim/4 and bf16 tables cos/sin [npos, q], the
 * first half of each head rotates by the token's x, the second by its y,
 * rotate_half inside each half:
 *   part p in {0, 1}, base b = p * head_dim/2, c = table row pos[t][p]:
 *   x[b+i]   = bf16(bf16(x[b+i] cos[c][i]) + bf16(-x[b+i+q] sin[c][i]))
 *   x[b+i+q] = bf16(bf16(x[b+i+q] cos[c][i]) + bf16(x[b+i] sin[c][i])), i < q. */
typedef struct pf_g4v_rope2d_params {
    unsigned short *x;
    const unsigned short *cos, *sin;
    const int *pos; /* [tokens, 2] (x, y) */
    int tokens, heads, head_dim;
} pf_g4v_rope2d_params;

/* Position pooling, scale and standardize (section 4 Pooling, standardize):
 * cell c's patches are members[cell_ptr[c] .. cell_ptr[c+1]) (rows of x);
 *   s = sum over them of fp32(x[m][d] * inv_kk)   (fp32, in member order)
 *   h = bf16(s) * root                            (root = sqrt(dim) in fp32)
 *   h = (h - std_bias[d]) * std_scale[d]          (when std_bias is given)
 *   out[c][d] = bf16(h). */
typedef struct pf_g4v_pool_params {
    const unsigned short *x;
    const int *cell_ptr; /* [cells + 1] */
    const int *members;  /* [cell_ptr[cells]] */
    const unsigned short *std_bias, *std_scale; /* [dim] or 0 */
    unsigned short *out;                        /* [cells, dim] */
    int cells, dim;
    float inv_kk, root;
} pf_g4v_pool_params;

#endif
