/* Parameter structs of the Gemma-4 op kernels (kernels/ops/g4_<op>.cu),
 * shared by the kernels and the host launchers (models/ops_g4.c). Plain C,
 * no system headers: pointers are 64-bit device addresses on every side.
 * Activations are bf16 (raw bits); each op rounds where HF transformers 5.24
 * rounds (../shared/models/gemma4-facts.md, sections 0-3 and 7). The ops
 * Gemma-4 shares with Gemma-3 (embedding, RoPE, residual add, GEMM rounding)
 * stay in ops_params.h; RoPE runs there with tables whose non-rotated pairs
 * are cos 1, sin 0 (an exact identity in bf16). */
#ifndef PF_G4_PARAMS_H
#define PF_G4_PARAMS_H

/* Block size of the row ops (g4_rmsnorm) and of the grouping ops. */
#define PF_G4_ROW_THREADS 128
#define PF_G4_GROUP_THREADS 256
/* Block size of the elementwise ops. */
#define PF_G4_THREADS 256
/* Router limits (per-thread arrays): the released model has 128 / 8. */
#define PF_G4_MAX_EXPERTS 512
#define PF_G4_MAX_TOPK 32

/* y[r] = bf16(x32[r] * rsqrt(mean(x32[r]^2) + eps) * w32) (Gemma4RMSNorm:
 * x*w, not x*(1+w)); w 0: no scale (v_norm, the router's norm). One block
 * per row. y may alias x. */
typedef struct pf_g4_rmsnorm_params {
    const unsigned short *x;
    unsigned short *y;
    const unsigned short *w; /* [n] or 0 */
    int rows, n;
    float eps;
    const unsigned short *res; /* [rows, n] or 0: y = bf16(res + bf16(norm)) */
} pf_g4_rmsnorm_params;

/* out[i] = bf16(bf16(x[i] * w[i % n]) * c): the router's input,
 * bf16(bf16(norm(r) * router.scale) * H^-0.5). out may alias x. */
typedef struct pf_g4_scale_params {
    const unsigned short *x, *w;
    unsigned short *out;
    long long total;
    int n;
    float c;
} pf_g4_scale_params;

/* out[i] = bf16(bf16(a[i] + b[i]) * s[0]): the last residual add of a
 * decoder layer times layer_scalar (a [1] bf16 weight on the device). */
typedef struct pf_g4_add_scale_params {
    const unsigned short *a, *b, *s;
    unsigned short *out;
    long long n;
} pf_g4_add_scale_params;

/* Per token t: p = softmax(logits[t]) in fp32, the top_k experts by p (ties
 * to the lower index, in descending order), w = p / sum of the chosen p,
 * then w *= per_expert_scale[e]. idx int32 [tokens, top_k], w fp32
 * [tokens, top_k]. One thread per token. */
typedef struct pf_g4_router_params {
    const unsigned short *logits; /* [tokens, experts] bf16 (router.proj output) */
    const unsigned short *pes;    /* [experts] per_expert_scale */
    int *idx;
    float *w;
    int tokens, experts, top_k;
} pf_g4_router_params;

/* counts[e] = number of entries of idx [n] equal to e. One block per expert. */
typedef struct pf_g4_moe_count_params {
    const int *idx;
    int *counts;
    long long n;
    int experts;
} pf_g4_moe_count_params;

/* Token grouping by expert: slots are ordered by expert, then by entry
 * (token-major) order; expert e's slots start at the sum of counts[0..e).
 * For entry i = t*top_k + k with idx[i] = e: slot_of[i] = its slot and
 * perm[slot] = t. One block per expert. */
typedef struct pf_g4_moe_gather_params {
    const int *idx, *counts;
    int *perm, *slot_of;
    long long n;
    int experts, top_k;
} pf_g4_moe_gather_params;

/* out[s, :] = x[rows[s], :] for s < n_rows (n columns of bf16). */
typedef struct pf_g4_gather_rows_params {
    const unsigned short *x;
    const int *rows;
    unsigned short *out;
    long long n_rows;
    int n;
} pf_g4_gather_rows_params;

/* gu [rows, 2*inter] (an expert's gate_up output: gate | up) ->
 * out [rows, inter] = bf16(bf16(gelu_tanh(gate)) * up). */
typedef struct pf_g4_geglu_params {
    const unsigned short *gu;
    unsigned short *out;
    long long rows;
    int inter;
} pf_g4_geglu_params;

/* HF's grouped_mm combine: out[t, j] = bf16(sum over k, in top-k order, of
 * fp32(eo[slot_of[t*K+k], j]) * w[t*K+k]), the sum in fp32. */
typedef struct pf_g4_combine_params {
    const unsigned short *eo;   /* [slots, hidden] expert outputs */
    const int *slot_of;         /* [tokens * top_k] */
    const float *w;             /* [tokens * top_k] routing weights */
    unsigned short *out;        /* [tokens, hidden] */
    int tokens, hidden, top_k;
} pf_g4_combine_params;

/* Final logits, fp32 in and out, as 3 bf16 ops after the rounded lm_head:
 * l = bf16(x); cap > 0: out = bf16(bf16(tanh(bf16(l / cap))) * cap), else
 * out = l. out may alias x. */
typedef struct pf_g4_softcap_params {
    const float *x;
    float *out;
    long long n;
    float cap;
} pf_g4_softcap_params;

#endif
