/* Parameter structs of the model op kernels (kernels/ops/<op>.cu), shared by the
 * kernels and the host launcher (models/ops.c). Plain C, no system headers:
 * pointers are 64-bit device addresses on every side. Activations are bf16
 * (raw bits, pf_bf16); each op rounds where HF rounds
 * (../shared/models/gemma3-facts.md section 7). */
#ifndef PF_OPS_PARAMS_H
#define PF_OPS_PARAMS_H

/* Block size of the row-reduction ops (rmsnorm, layernorm): a power of two. */
#define PF_OPS_ROW_THREADS 128
/* Block size of the elementwise ops. */
#define PF_OPS_THREADS 256

/* y[r] = bf16(x32[r] * rsqrt(mean(x32[r]^2) + eps) * (1 + w32)), one block
 * per row (Gemma RMSNorm; q/k norms are rows of head_dim). y may alias x. */
typedef struct pf_rmsnorm_params {
    const unsigned short *x;
    unsigned short *y;
    const unsigned short *w; /* [n] */
    int rows, n;
    float eps;
} pf_rmsnorm_params;

/* y[r] = bf16((x32 - mean) * rsqrt(var + eps) * w + b), biased variance. */
typedef struct pf_layernorm_params {
    const unsigned short *x;
    unsigned short *y;
    const unsigned short *w, *b; /* [n] */
    int rows, n;
    float eps;
} pf_layernorm_params;

/* out = bf16(bf16(gelu_tanh(g)) * u), or bf16(gelu_tanh(g)) when u is 0. */
typedef struct pf_gelu_params {
    const unsigned short *g, *u;
    unsigned short *out;
    long long n;
} pf_gelu_params;

/* In place on x [tokens, heads, head_dim]: rotate_half RoPE with bf16 tables
 * cos/sin [positions, head_dim/2] (the halves of HF's cat(angle, angle)):
 *   x[i]   = bf16(bf16(x[i] cos) + bf16(-x[i+h] sin))
 *   x[i+h] = bf16(bf16(x[i+h] cos) + bf16(x[i] sin)),  h = head_dim/2. */
typedef struct pf_rope_params {
    unsigned short *x;
    const unsigned short *cos, *sin;
    const int *pos; /* [tokens] position of each token in its request */
    int tokens, heads, head_dim;
} pf_rope_params;

/* out[t] = feat_row[t] >= 0 ? feat[feat_row[t]] : bf16(E[ids[t]] * scale). */
typedef struct pf_embed_params {
    const int *ids, *feat_row;       /* [tokens]; feat_row may be 0 */
    const unsigned short *table;     /* [vocab, hidden] */
    const unsigned short *feat;      /* [n_features, hidden] or 0 */
    unsigned short *out;             /* [tokens, hidden] */
    int tokens, hidden;
    float scale;                     /* bf16(sqrt(hidden)) */
} pf_embed_params;

/* out[i] = bf16(a[i] + b[i % b_period]) (b_period 0: n). out may alias a. */
typedef struct pf_add_params {
    const unsigned short *a, *b;
    unsigned short *out;
    long long n, b_period;
} pf_add_params;

/* x [images, g*g, dim] (patch p = gy*g + gx) -> out [images, t*t, dim],
 * t = g / k: out token ty*t+tx = bf16(fp32 mean of the k x k patches). */
typedef struct pf_avgpool_params {
    const unsigned short *x;
    unsigned short *out;
    int images, g, k, dim;
} pf_avgpool_params;

/* out[m, n] = bf16(c[m, n] + bias[n]) (bias 0: none): the rounding after a
 * GEMM (HF adds a Linear's bias before it rounds). */
typedef struct pf_bias_round_params {
    const float *c;
    const unsigned short *bias;
    unsigned short *out;
    long long m;
    int n;
} pf_bias_round_params;

/* pixels f32 [images, C, R, R] -> patches bf16 [images*g*g, C*P*P]:
 * row gy*g+gx, column c*P*P + ky*P + kx (the conv weight's reshape). */
typedef struct pf_patchify_params {
    const float *pix;
    unsigned short *out;
    int images, channels, image_size, patch;
} pf_patchify_params;

/* Row-wise column copy: out[r, j] = j < cols ? in[r, j] : 0 for j <
 * out_cols (in rows in_cols wide). Pads heads to a head dim the attention
 * family has (out_cols > cols) and takes the padding off again. */
typedef struct pf_copy_cols_params {
    const unsigned short *in;
    unsigned short *out;
    long long rows;
    int in_cols, out_cols, cols;
} pf_copy_cols_params;

#endif
