/* The Gemma-4 prefill forward on a device (gemma4_forward.h): setup, the
 * language model (dense and MoE decoder layers), the head and the phase
 * timing. Section numbers refer to ../shared/models/gemma4-facts.md. */
#include "models/gemma4_forward.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"
#include "models/forward_util.h"
#include "device/arch.h"
#include "kernels/pf_numeric.h"
#include "models/gemma4_forward_state.h"
#include "models/weight_set_dev.h"

#define BF16 2

/* ---- helpers ---- */

/* The device copy of weight "<part>:<name>" (printf-style); 0 if absent. */
static pf_dptr weight(const g4_fwd *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static pf_dptr weight(const g4_fwd *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pf_dptr d = pf_fwd_weightv(f->w, f->wd, fmt, ap);
    va_end(ap);
    return d;
}

/* out[m, n] = bf16(x[m, k] . W[n, k]^T). */
static int linear(g4_fwd *f, pf_dptr x, int m, int k, pf_dptr w, int n, pf_dptr out)
{
    return pf_fwd_linear(&f->ops, f->f32, x, m, k, w, n, 0, out);
}

static int attn_prepare(g4_fwd *f, pf_mask_spec spec, int kv_heads, int head_dim,
                        const pf_attn_variant *v, pf_attn_prepared **out)
{
    pf_attn_problem pb = {f->layout, spec, 1.0f, f->nh, kv_heads, head_dim}; /* scaling 1.0 */
    return pf_fwd_attn_prepare(f->dev, &f->mem, &pb, v, f->q, f->k, f->v, f->attn, out);
}

static size_t max_sz(size_t a, size_t b)
{
    return a > b ? a : b;
}

/* ---- vision: the one spot that wires the device vision side ---- */

/* The images, then the video frames, in one run of the tower: the image
 * tokens take the first soft-token rows, the video tokens the rest. */
static int g4_vision_setup(g4_fwd *f)
{
    pf_g4_vision_items it;
    if (pf_g4_vision_items_make(f->in, &it))
        return -1;
    int rc = pf_g4_vision_dev_setup(f->dev, &f->ops, &f->mem, f->c, f->w, f->wd, &it.v,
                                    &f->o->attn_vision, &f->vis);
    pf_g4_vision_items_free(&it); /* the setup keeps its own copies */
    if (rc)
        return pf_error_prefix("vision");
    return pf_arena_alloc(&f->mem,
                          (size_t)pf_g4_vision_dev_soft_tokens(f->vis) * f->H * BF16,
                          PF_MEM_ACTIVATIONS, "image soft tokens", &f->feat);
}

static int g4_vision_run(g4_fwd *f)
{
    return pf_g4_vision_dev_run(f->vis, f->feat) ? pf_error_prefix("vision") : 0;
}

static void g4_vision_free(g4_fwd *f)
{
    pf_g4_vision_dev_free(f->vis);
    f->vis = NULL;
}

/* ---- setup ---- */

int pf_g4_forward_defaults(pf_device *dev, const pf_g4_config *c, pf_g4_forward_opts *o)
{
    memset(o, 0, sizeof *o);
    pf_measure_defaults(&o->measure);
    char arch[16];
    if (pf_device_arch(dev, arch, sizeof arch))
        return -1;
    const pf_g4_text_config *t = &c->text;
    if (pf_attn_variant_default(t->global_head_dim, arch, &o->attn_full))
        return pf_error_set("text_config.global_head_dim %d: the attention family supports 64, "
                            "72, 128, 256 and 512", t->global_head_dim);
    if (pf_attn_variant_default(t->head_dim, arch, &o->attn_sliding))
        return pf_error_set("text_config.head_dim %d: the attention family supports 64, 72, "
                            "128, 256 and 512", t->head_dim);
    if (c->has_vision && pf_attn_variant_default(c->vision.head_dim, arch, &o->attn_vision))
        return pf_error_set("vision_config.head_dim %d: the attention family supports 64, 72, "
                            "128, 256 and 512", c->vision.head_dim);
    return 0;
}

/* Host values uploaded, a lazy synthetic set drawn on the device
 * (weight_set_dev.h). */
static int upload_weights(g4_fwd *f)
{
    f->wd = calloc((size_t)f->w->n, sizeof *f->wd);
    if (!f->wd)
        return pf_error_set("out of memory");
    return pf_weight_set_to_device(f->w, f->dev, f->ops.stream, &f->mem, f->wd);
}

/* The RoPE tables of the first layer of a kind (full or sliding). */
static int upload_rope(g4_fwd *f, int full, int maxlen, pf_dptr *cs_out, pf_dptr *sn_out)
{
    const pf_g4_text_config *t = &f->c->text;
    int l = 0;
    while (l < t->layers && t->layer_full[l] != full)
        l++;
    if (l == t->layers)
        return 0; /* no layer of this kind */
    int d = pf_g4_layer_head_dim(t, l);
    size_t tab = (size_t)maxlen * (d / 2);
    uint16_t *cs = malloc(tab * 2 * sizeof *cs);
    if (!cs)
        return pf_error_set("out of memory for RoPE tables");
    pf_g4_rope_tables(full ? &t->rope_full : &t->rope_sliding, d, pf_g4_rope_pairs(t, l), maxlen,
                      cs, cs + tab);
    int rc = pf_arena_upload(&f->mem, cs, tab * 2, PF_MEM_ACTIVATIONS, "rope cos", cs_out) ||
             pf_arena_upload(&f->mem, cs + tab, tab * 2, PF_MEM_ACTIVATIONS, "rope sin", sn_out);
    free(cs);
    return rc ? -1 : 0;
}

/* Token-level host arrays: RoPE positions restart per request (section 1:
 * arange per sequence), multimodal ids look up pad_token_id, image tokens
 * take the image soft-token rows in order (masked_scatter), video tokens
 * the frames' rows after them. */
static int upload_tokens(g4_fwd *f)
{
    const pf_g4_inputs *in = f->in;
    const pf_g4_config *c = f->c;
    int T = f->T, maxlen = 1, img = 0, vid = 0, rc = 0;
    for (int t = 0; t < T; t++)
        vid += in->input_ids[t] == c->image_token_id; /* video rows start here */
    int *pos = malloc((size_t)T * sizeof *pos), *row = malloc((size_t)T * sizeof *row);
    int *ids = malloc((size_t)T * sizeof *ids);
    if (!pos || !row || !ids)
        rc = pf_error_set("out of memory");
    for (int r = 0, t = 0; !rc && r < in->batch; r++) {
        maxlen = in->req_len[r] > maxlen ? in->req_len[r] : maxlen;
        for (int i = 0; i < in->req_len[r]; i++, t++)
            pos[t] = i;
    }
    for (int t = 0; !rc && t < T; t++) {
        int id = in->input_ids[t];
        int mm = id == c->image_token_id || id == c->video_token_id || id == c->audio_token_id;
        row[t] = id == c->image_token_id && in->n_images   ? img++
                 : id == c->video_token_id && in->n_frames ? vid++
                                                           : -1;
        ids[t] = mm ? c->text.pad_token_id : id;
    }
    pf_dev_arena *a = &f->mem;
    if (!rc)
        rc = pf_arena_upload(a, ids, (size_t)T * 4, PF_MEM_ACTIVATIONS, "input ids", &f->ids) ||
             pf_arena_upload(a, row, (size_t)T * 4, PF_MEM_ACTIVATIONS, "image rows", &f->feat_row) ||
             pf_arena_upload(a, pos, (size_t)T * 4, PF_MEM_ACTIVATIONS, "positions", &f->pos) ||
             upload_rope(f, 1, maxlen, &f->cos_full, &f->sin_full) ||
             upload_rope(f, 0, maxlen, &f->cos_sl, &f->sin_sl);
    free(pos);
    free(row);
    free(ids);
    return rc ? -1 : 0;
}

/* Buffers of the E2B/E4B extras; *f32 grows to the PLE projection. */
static int alloc_extras(g4_fwd *f, size_t KV, size_t *f32)
{
    const pf_g4_text_config *tc = &f->c->text;
    size_t T = (size_t)f->T, H = (size_t)f->H, P = (size_t)tc->ple_dim;
    size_t LP = (size_t)tc->layers * P, pe = P ? 1 : 0, kv = tc->kv_shared ? 1 : 0;
    struct {
        pf_dptr *p;
        size_t bytes;
        const char *name;
    } bufs[] = {
        {&f->ple, pe * T * LP * BF16, "per-layer inputs"},
        {&f->ple_tok, pe * T * LP * BF16, "per-layer token embeddings"},
        {&f->ple_p, pe * T * LP * BF16, "per-layer projection"},
        {&f->pl_in, pe * T * P * BF16, "per-layer input of a layer"},
        {&f->pl_g, pe * T * P * BF16, "per-layer gate"},
        {&f->pl_a, pe * T * P * BF16, "per-layer gelu"},
        {&f->pl_r, pe * T * H * BF16, "per-layer residual"},
        {&f->pl_o, pe * T * H * BF16, "per-layer projection out"},
        {&f->pl_n, pe * T * H * BF16, "per-layer norm"},
        {&f->ks[0], kv * T * KV * BF16, "shared k (sliding)"},
        {&f->vs[0], kv * T * KV * BF16, "shared v (sliding)"},
        {&f->ks[1], kv * T * KV * BF16, "shared k (full)"},
        {&f->vs[1], kv * T * KV * BF16, "shared v (full)"},
    };
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        if (bufs[i].bytes &&
            pf_arena_alloc(&f->mem, bufs[i].bytes, PF_MEM_ACTIVATIONS, bufs[i].name, bufs[i].p))
            return -1;
    if (P) {
        uint16_t one = pf_f32_to_bf16(1.0f); /* the weight of an unweighted pf_g4_op_scale */
        if (pf_arena_upload(&f->mem, &one, BF16, PF_MEM_ACTIVATIONS, "one", &f->one))
            return -1;
    }
    *f32 = max_sz(*f32, T * LP);
    return 0;
}

static int alloc_text(g4_fwd *f)
{
    const pf_g4_text_config *tc = &f->c->text;
    size_t T = (size_t)f->T, H = (size_t)f->H, I = (size_t)f->I, Q = 0, KV = 0;
    for (int l = 0; l < tc->layers; l++) {
        Q = max_sz(Q, (size_t)f->nh * pf_g4_layer_head_dim(tc, l));
        KV = max_sz(KV, (size_t)pf_g4_layer_kv_heads(tc, l) * pf_g4_layer_head_dim(tc, l));
    }
    size_t TK = (size_t)f->TK, E = (size_t)f->E, Im = (size_t)f->Im;
    struct {
        pf_dptr *p;
        size_t bytes;
        const char *name;
    } bufs[] = {
        {&f->x[0], T * H * BF16, "residual"},       {&f->x[1], T * H * BF16, "residual"},
        {&f->xn, T * H * BF16, "normed"},           {&f->q_raw, T * Q * BF16, "q projection"},
        {&f->k_raw, T * KV * BF16, "k projection"}, {&f->v_raw, T * KV * BF16, "v projection"},
        {&f->q, T * Q * BF16, "q"},                 {&f->k, T * KV * BF16, "k"},
        {&f->v, T * KV * BF16, "v"},                {&f->attn, T * Q * BF16, "attention out"},
        {&f->t, T * H * BF16, "o projection"},      {&f->t2, T * H * BF16, "post-attention norm"},
        {&f->h, T * H * BF16, "mid residual"},      {&f->hn, T * H * BF16, "pre-ff norm"},
        {&f->g, T * I * BF16, "gate"},              {&f->u, T * I * BF16, "up"},
        {&f->act, T * I * BF16, "geglu"},           {&f->m, T * H * BF16, "mlp out"},
        {&f->hp, T * H * BF16, "post-ff norm"},
        {&f->last, (size_t)f->out_rows * H * BF16, "last rows"},
        {&f->logits, (size_t)f->out_rows * f->V * sizeof(float), "logits"},
    };
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        if (pf_arena_alloc(&f->mem, bufs[i].bytes, PF_MEM_ACTIVATIONS, bufs[i].name, bufs[i].p))
            return -1;
    size_t f32 = T * max_sz(max_sz(Q, H), max_sz(KV, I));
    if ((tc->ple_dim || tc->kv_shared) && alloc_extras(f, KV, &f32))
        return -1;
    if (tc->moe) {
        struct {
            pf_dptr *p;
            size_t bytes;
            const char *name;
        } moe[] = {
            {&f->h1, T * H * BF16, "post-ff norm 1"}, {&f->rin, T * H * BF16, "router input"},
            {&f->rlog, T * E * BF16, "router logits"}, {&f->ridx, TK * 4, "routed experts"},
            {&f->rw, TK * 4, "routing weights"},      {&f->counts, E * 4, "tokens per expert"},
            {&f->perm, TK * 4, "slot tokens"},         {&f->slot, TK * 4, "entry slots"},
            {&f->xe, T * H * BF16, "pre-ff norm 2"},   {&f->xg, TK * H * BF16, "expert inputs"},
            {&f->gu, TK * 2 * Im * BF16, "expert gate_up"}, {&f->ea, TK * Im * BF16, "expert geglu"},
            {&f->eo, TK * H * BF16, "expert outputs"}, {&f->comb, T * H * BF16, "combined"},
            {&f->cn, T * H * BF16, "post-ff norm 2"},  {&f->mo, T * H * BF16, "moe block out"},
        };
        for (size_t i = 0; i < sizeof moe / sizeof moe[0]; i++)
            if (pf_arena_alloc(&f->mem, moe[i].bytes, PF_MEM_ACTIVATIONS, moe[i].name, moe[i].p))
                return -1;
        f32 = max_sz(f32, T * E); /* router logits; the experts write bf16 */
        f->counts_h = calloc(E, sizeof *f->counts_h);
        f->problems = calloc(2 * E, sizeof *f->problems);
        if (!f->counts_h || !f->problems)
            return pf_error_set("out of memory");
    }
    return pf_arena_alloc(&f->mem, f32 * sizeof(float), PF_MEM_ACTIVATIONS, "GEMM scratch", &f->f32);
}

/* Section 5: groups from mm_token_type_ids (image 1 and video 2 are vision)
 * when the model asks for it, else every token is text to the mask. */
static int prepare_text_attention(g4_fwd *f)
{
    const pf_g4_inputs *in = f->in;
    const pf_g4_text_config *tc = &f->c->text;
    int use_types = in->mm_token_type_ids && tc->bidir_vision && !f->o->ignore_mm_types;
    int64_t *lens = malloc((size_t)in->batch * sizeof *lens);
    int64_t *types = calloc((size_t)f->T, sizeof *types);
    int rc = 0;
    if (!lens || !types)
        rc = pf_error_set("out of memory for the layout");
    for (int r = 0; !rc && r < in->batch; r++)
        lens[r] = in->req_len[r];
    for (int t = 0; !rc && use_types && t < f->T; t++) {
        int ty = in->mm_token_type_ids[t];
        types[t] = ty == PF_G4_MM_IMAGE || ty == PF_G4_MM_VIDEO ? ty : 0;
    }
    if (!rc && pf_layout_from_types(in->batch, lens, NULL, types, &f->layout))
        rc = pf_error_prefix("token layout");
    free(lens);
    free(types);
    if (rc)
        return -1;
    int any_full = 0, any_sliding = 0;
    for (int l = 0; l < tc->layers; l++)
        tc->layer_full[l] ? (any_full = 1) : (any_sliding = 1);
    pf_mask_spec full = {PF_RULE_GEMMA4, PF_LAYER_FULL, 0};
    pf_mask_spec sliding = {PF_RULE_GEMMA4, PF_LAYER_SLIDING, tc->sliding_window};
    if (any_full && attn_prepare(f, full, tc->global_kv_heads, tc->global_head_dim,
                                 &f->o->attn_full, &f->attn_full))
        return pf_error_prefix("full-attention layers");
    if (any_sliding && attn_prepare(f, sliding, tc->kv_heads, tc->head_dim, &f->o->attn_sliding,
                                    &f->attn_sliding))
        return pf_error_prefix("sliding-window layers");
    return 0;
}

/* ---- the language model ---- */

static int embed(g4_fwd *f)
{
    /* section 1: E[id] * bf16(sqrt(H)), soft tokens unscaled */
    float scale = pf_bf16_to_f32(pf_f32_to_bf16(sqrtf((float)f->H)));
    int images = f->feat != 0;
    if (pf_op_embed(&f->ops, f->ids, images ? f->feat_row : 0, weight(f, "lm:embed_tokens.weight"),
                    images ? f->feat : 0, f->x[0], f->T, f->H, scale))
        return pf_error_prefix("embedding");
    return 0;
}

/* Section 6 per-layer inputs, [T, L*P]: tok = bf16(E_ple[id'] * bf16(sqrt(P)))
 * (ids as embedded: multimodal ones are pad_token_id), proj =
 * norm_P(bf16(bf16(W x0) * H^-0.5)) of the merged embeddings x0, ple =
 * bf16(bf16(proj + tok) * 2^-0.5). */
static int ple_inputs(g4_fwd *f)
{
    const pf_g4_text_config *tc = &f->c->text;
    int T = f->T, P = tc->ple_dim, LP = tc->layers * P;
    long long n = (long long)T * LP;
    float escale = pf_bf16_to_f32(pf_f32_to_bf16(sqrtf((float)P)));
    float hinv = (float)pow((double)f->H, -0.5), half = (float)pow(2.0, -0.5);
    if (pf_op_embed(&f->ops, f->ids, 0, weight(f, "lm:embed_tokens_per_layer.weight"), 0,
                    f->ple_tok, T, LP, escale) ||
        linear(f, f->x[0], T, f->H, weight(f, "lm:per_layer_model_projection.weight"), LP,
               f->ple_p) ||
        pf_g4_op_scale(&f->g4, f->ple_p, f->one, f->ple_p, n, 1, hinv) ||
        pf_g4_op_rmsnorm(&f->g4, f->ple_p, f->ple, weight(f, "lm:per_layer_projection_norm.weight"),
                         T * tc->layers, P, (float)tc->rms_eps) ||
        pf_op_add(&f->ops, f->ple, f->ple_tok, f->ple_p, n, 0) ||
        pf_g4_op_scale(&f->g4, f->ple_p, f->one, f->ple, n, 1, half))
        return pf_error_prefix("per-layer inputs");
    return 0;
}

/* The end of decoder layer l with per-layer inputs (section 6): r = h + hp,
 * out = bf16(bf16(r + norm(proj(bf16(gelu(gate r)) * ple_l))) * layer_scalar). */
static int ple_layer(g4_fwd *f, int l, int cats, pf_dptr out)
{
    const pf_g4_text_config *tc = &f->c->text;
    int T = f->T, H = f->H, P = tc->ple_dim, LP = tc->layers * P;
    int other = cats & G4_OTHER, gemm = cats & G4_GEMM;
    long long n = (long long)T * H;
    pf_dptr ple_l = f->ple + (size_t)l * P * BF16; /* layer l's columns of [T, L*P] */
    if ((other && (pf_op_add(&f->ops, f->h, f->hp, f->pl_r, n, 0) ||
                   pf_op_copy_cols(&f->ops, ple_l, LP, f->pl_in, P, T, P))) ||
        (gemm && linear(f, f->pl_r, T, H, weight(f, "lm:layers.%d.per_layer_input_gate.weight", l),
                        P, f->pl_g)) ||
        (other && pf_op_gelu(&f->ops, f->pl_g, f->pl_in, f->pl_a, (long long)T * P)) ||
        (gemm && linear(f, f->pl_a, T, P, weight(f, "lm:layers.%d.per_layer_projection.weight", l),
                        H, f->pl_o)) ||
        (other && (pf_g4_op_rmsnorm(&f->g4, f->pl_o, f->pl_n,
                                    weight(f, "lm:layers.%d.post_per_layer_input_norm.weight", l),
                                    T, H, (float)tc->rms_eps) ||
                   pf_g4_op_add_scale(&f->g4, f->pl_r, f->pl_n,
                                      weight(f, "lm:layers.%d.layer_scalar", l), out, n))))
        return pf_error_prefix("per-layer input");
    return 0;
}

/* Layer l is the last non-shared layer of its kind and kv-shared layers
 * follow: it keeps its K/V for them (HF kv_sharing_modes "store"). */
static int kv_store(const pf_g4_text_config *tc, int l)
{
    int first_shared = tc->layers - tc->kv_shared;
    if (!tc->kv_shared || l >= first_shared)
        return 0;
    for (int j = l + 1; j < first_shared; j++)
        if (tc->layer_full[j] == tc->layer_full[l])
            return 0;
    return 1;
}

/* Section 6 KV sharing: a kv-shared layer takes the kept K/V, their source
 * keeps its own (both copies, so the attention prepared on f->k / f->v
 * serves every layer). */
static int kv_share(g4_fwd *f, int l, size_t bytes)
{
    const pf_g4_text_config *tc = &f->c->text;
    int full = tc->layer_full[l];
    if (pf_g4_layer_kv_shared(tc, l))
        return pf_dev_copy_dtod(f->dev, f->k, f->ks[full], bytes, f->ops.stream) ||
               pf_dev_copy_dtod(f->dev, f->v, f->vs[full], bytes, f->ops.stream);
    if (kv_store(tc, l))
        return pf_dev_copy_dtod(f->dev, f->ks[full], f->k, bytes, f->ops.stream) ||
               pf_dev_copy_dtod(f->dev, f->vs[full], f->v, bytes, f->ops.stream);
    return 0;
}

/* Section 2 MoE, routing: the router on r (the stream after the attention
 * residual), then the entries grouped by expert; the per-expert counts come
 * to the host to size the expert GEMMs. */
static int moe_route(g4_fwd *f, int l)
{
    pf_g4_ops *o = &f->g4;
    int T = f->T, H = f->H;
    float eps = (float)f->c->text.rms_eps;
    float hinv = (float)pow((double)H, -0.5);
    if (pf_g4_op_rmsnorm(o, f->h, f->rin, 0, T, H, eps) ||
        pf_g4_op_scale(o, f->rin, weight(f, "lm:layers.%d.router.scale", l), f->rin,
                       (long long)T * H, H, hinv) ||
        linear(f, f->rin, T, H, weight(f, "lm:layers.%d.router.proj.weight", l), f->E, f->rlog) ||
        pf_g4_op_router(o, f->rlog, weight(f, "lm:layers.%d.router.per_expert_scale", l), f->ridx,
                        f->rw, T, f->E, f->K) ||
        pf_g4_op_rmsnorm(o, f->h, f->xe, weight(f, "lm:layers.%d.pre_feedforward_layernorm_2.weight", l),
                         T, H, eps) ||
        pf_g4_op_moe_count(o, f->ridx, f->counts, f->TK, f->E) ||
        pf_g4_op_moe_gather(o, f->ridx, f->counts, f->perm, f->slot, f->TK, f->E, f->K) ||
        pf_g4_op_gather_rows(o, f->xe, f->perm, f->xg, f->TK, H))
        return -1;
    if (pf_dev_copy_dtoh(f->dev, f->counts_h, f->counts, (size_t)f->E * sizeof(int), f->ops.stream) ||
        pf_dev_stream_sync(f->dev, f->ops.stream))
        return pf_error_prefix("tokens per expert");
    long long sum = 0;
    for (int e = 0; e < f->E; e++)
        sum += f->counts_h[e];
    if (sum != f->TK)
        return pf_error_set("internal: %lld routed entries, expected %lld", sum, f->TK);
    return 0;
}

/* The experts as two grouped GEMMs over their slots (one cuBLAS grouped
 * call on cuda, OpenBLAS per expert on emu): gate_up [E, 2*Im, H], GeGLU,
 * down [E, H, Im]; each output rounded to bf16 once, as grouped_mm does. */
static int moe_experts(g4_fwd *f, int l)
{
    int H = f->H, Im = f->Im;
    pf_dptr gu_w = weight(f, "lm:layers.%d.experts.gate_up_proj", l);
    pf_dptr dn_w = weight(f, "lm:layers.%d.experts.down_proj", l);
    if (!gu_w || !dn_w)
        return pf_error_set("internal: expert weights of layer %d missing", l);
    pf_gemm_problem *up = f->problems, *down = f->problems + f->E;
    long long off = 0;
    for (int e = 0; e < f->E; e++) {
        int n = f->counts_h[e];
        up[e] = (pf_gemm_problem){n, f->xg + (size_t)off * H * BF16,
                                  gu_w + (size_t)e * 2 * Im * H * BF16,
                                  f->gu + (size_t)off * 2 * Im * BF16};
        down[e] = (pf_gemm_problem){n, f->ea + (size_t)off * Im * BF16,
                                    dn_w + (size_t)e * H * Im * BF16,
                                    f->eo + (size_t)off * H * BF16};
        off += n;
    }
    if (pf_dev_gemm_bf16_grouped(f->dev, 2 * Im, H, up, f->E, f->ops.stream))
        return pf_error_prefix("layer %d expert gate_up GEMMs", l);
    if (pf_g4_op_geglu(&f->g4, f->gu, f->ea, f->TK, Im))
        return -1;
    if (pf_dev_gemm_bf16_grouped(f->dev, H, Im, down, f->E, f->ops.stream))
        return pf_error_prefix("layer %d expert down GEMMs", l);
    return 0;
}

/* Combine in fp32 (grouped_mm), post_feedforward_layernorm_2, and the sum
 * with the dense MLP's post_feedforward_layernorm_1. */
static int moe_combine(g4_fwd *f, int l)
{
    int T = f->T, H = f->H;
    float eps = (float)f->c->text.rms_eps;
    if (pf_g4_op_combine(&f->g4, f->eo, f->slot, f->rw, f->comb, T, H, f->K) ||
        pf_g4_op_rmsnorm(&f->g4, f->comb, f->cn,
                         weight(f, "lm:layers.%d.post_feedforward_layernorm_2.weight", l), T, H, eps) ||
        pf_op_add(&f->ops, f->h1, f->cn, f->mo, (long long)T * H, 0))
        return -1;
    return 0;
}

/* Decoder layer l (section 2), only the steps whose category is in cats, in
 * order. No step writes a buffer an earlier step of the layer reads, so any
 * category re-runs alone with the same result. */
static int decoder_layer(g4_fwd *f, int l, int cats)
{
    pf_ops *o = &f->ops;
    pf_g4_ops *o4 = &f->g4;
    const pf_g4_text_config *tc = &f->c->text;
    int T = f->T, H = f->H, full = tc->layer_full[l], hd = pf_g4_layer_head_dim(tc, l);
    int nkv = pf_g4_layer_kv_heads(tc, l), Q = f->nh * hd, KV = nkv * hd;
    int has_v = pf_g4_layer_has_v(tc, l), moe = tc->moe, I = pf_g4_layer_intermediate(tc, l);
    int kv = !pf_g4_layer_kv_shared(tc, l); /* computes its own K/V */
    float eps = (float)tc->rms_eps;
    pf_dptr in = f->x[l % 2], out = f->x[(l + 1) % 2];
    pf_dptr cs = full ? f->cos_full : f->cos_sl, sn = full ? f->sin_full : f->sin_sl;
    /* k_eq_v (full layers): V is v_norm of the raw k projection */
    pf_dptr vsrc = has_v ? f->v_raw : f->k_raw;
    char nm[160];
#define LW(leaf) (snprintf(nm, sizeof nm, "lm:layers.%d.%s", l, leaf), weight(f, "%s", nm))
    int other = cats & G4_OTHER, gemm = cats & G4_GEMM, attn = cats & G4_ATTN;
    if ((other && pf_g4_op_rmsnorm(o4, in, f->xn, LW("input_layernorm.weight"), T, H, eps)) ||
        (gemm && (linear(f, f->xn, T, H, LW("self_attn.q_proj.weight"), Q, f->q_raw) ||
                  (kv && linear(f, f->xn, T, H, LW("self_attn.k_proj.weight"), KV, f->k_raw)) ||
                  (kv && has_v &&
                   linear(f, f->xn, T, H, LW("self_attn.v_proj.weight"), KV, f->v_raw)))) ||
        /* q/k norms, v_norm (no weight), RoPE in place (all in this category) */
        (other && (pf_g4_op_rmsnorm(o4, f->q_raw, f->q, LW("self_attn.q_norm.weight"), T * f->nh, hd, eps) ||
                   (kv && (pf_g4_op_rmsnorm(o4, f->k_raw, f->k, LW("self_attn.k_norm.weight"),
                                            T * nkv, hd, eps) ||
                           pf_g4_op_rmsnorm(o4, vsrc, f->v, 0, T * nkv, hd, eps))) ||
                   pf_op_rope(o, f->q, cs, sn, f->pos, T, f->nh, hd) ||
                   (kv && pf_op_rope(o, f->k, cs, sn, f->pos, T, nkv, hd)) ||
                   kv_share(f, l, (size_t)T * KV * BF16))) ||
        (attn && pf_attn_launch(full ? f->attn_full : f->attn_sliding, o->stream)) ||
        (gemm && linear(f, f->attn, T, Q, LW("self_attn.o_proj.weight"), H, f->t)) ||
        (other && (pf_g4_op_rmsnorm(o4, f->t, f->t2, LW("post_attention_layernorm.weight"), T, H, eps) ||
                   pf_op_add(o, in, f->t2, f->h, (long long)T * H, 0) ||
                   pf_g4_op_rmsnorm(o4, f->h, f->hn, LW("pre_feedforward_layernorm.weight"), T, H, eps))) ||
        (gemm && (linear(f, f->hn, T, H, LW("mlp.gate_proj.weight"), I, f->g) ||
                  linear(f, f->hn, T, H, LW("mlp.up_proj.weight"), I, f->u))) ||
        (other && pf_op_gelu(o, f->g, f->u, f->act, (long long)T * I)) ||
        (gemm && linear(f, f->act, T, I, LW("mlp.down_proj.weight"), H, f->m)) ||
        (moe && other &&
         pf_g4_op_rmsnorm(o4, f->m, f->h1, LW("post_feedforward_layernorm_1.weight"), T, H, eps)) ||
        (moe && (cats & G4_ROUTE) && moe_route(f, l)) ||
        (moe && (cats & G4_EXPERTS) && moe_experts(f, l)) ||
        (moe && (cats & G4_COMBINE) && moe_combine(f, l)) ||
        (other && pf_g4_op_rmsnorm(o4, moe ? f->mo : f->m, f->hp,
                                   LW("post_feedforward_layernorm.weight"), T, H, eps)) ||
        (tc->ple_dim ? ple_layer(f, l, cats, out)
                     : other && pf_g4_op_add_scale(o4, f->h, f->hp, LW("layer_scalar"), out,
                                                   (long long)T * H)))
        return pf_error_prefix("decoder layer %d", l);
#undef LW
    return 0;
}

/* Section 3: final norm, tied lm_head (rounded), softcap; every row or each
 * request's last. */
static int head(g4_fwd *f)
{
    int H = f->H;
    pf_dptr x = f->x[f->c->text.layers % 2];
    if (pf_g4_op_rmsnorm(&f->g4, x, f->xn, weight(f, "lm:norm.weight"), f->T, H,
                         (float)f->c->text.rms_eps))
        return pf_error_prefix("final norm");
    pf_dptr rows = f->xn;
    if (!f->o->all_logits) {
        size_t row = (size_t)H * BF16, end = 0;
        for (int r = 0; r < f->in->batch; r++) {
            end += (size_t)f->in->req_len[r];
            if (pf_dev_copy_dtod(f->dev, f->last + r * row, f->xn + (end - 1) * row, row,
                                 f->ops.stream))
                return pf_error_prefix("last rows");
        }
        rows = f->last;
    }
    long long n = (long long)f->out_rows * f->V;
    if (pf_dev_gemm_bf16(f->dev, f->out_rows, f->V, H, rows, weight(f, "lm:embed_tokens.weight"),
                         1, f->logits, f->ops.stream) ||
        pf_g4_op_softcap(&f->g4, f->logits, f->logits, n, (float)f->c->text.softcap))
        return pf_error_prefix("lm_head");
    return 0;
}

/* ---- phases and timing ---- */

enum { PH_VISION, PH_EMBED, PH_PLE, PH_LAYER, PH_HEAD, PH_ALL };

typedef struct phase {
    g4_fwd *f;
    int kind, layer, cats;
} phase;

static int run_all(g4_fwd *f)
{
    if (f->vis && g4_vision_run(f))
        return -1;
    if (embed(f))
        return -1;
    if (f->c->text.ple_dim && ple_inputs(f))
        return -1;
    for (int l = 0; l < f->c->text.layers; l++)
        if (decoder_layer(f, l, G4_ALL))
            return -1;
    return head(f);
}

static int run_phase(void *ctx, pf_stream *s)
{
    (void)s; /* every op enqueues on f->ops.stream, the stream measured */
    phase *p = ctx;
    switch (p->kind) {
    case PH_VISION: return g4_vision_run(p->f);
    case PH_EMBED: return embed(p->f);
    case PH_PLE: return ple_inputs(p->f);
    case PH_LAYER: return decoder_layer(p->f, p->layer, p->cats);
    case PH_HEAD: return head(p->f);
    default: return run_all(p->f);
    }
}

/* Run a phase once; with timing, then again through the measure layer. */
static int phase_run(g4_fwd *f, pf_g4_forward_report *rep, int kind, int layer, int cats,
                     int run_once, double *ms)
{
    phase p = {f, kind, layer, cats};
    if (run_once && run_phase(&p, NULL))
        return -1;
    if (!f->o->time_phases || !ms)
        return 0;
    return pf_fwd_time(f->dev, f->ops.stream, run_phase, &p, &f->o->measure, ms, rep->timer,
                       sizeof rep->timer);
}

static int forward_phases(g4_fwd *f, pf_g4_forward_report *rep)
{
    if (f->vis && phase_run(f, rep, PH_VISION, 0, 0, 1, &rep->vision_ms))
        return -1;
    if (phase_run(f, rep, PH_EMBED, 0, 0, 1, &rep->embed_ms))
        return -1;
    if (f->c->text.ple_dim && phase_run(f, rep, PH_PLE, 0, 0, 1, &rep->ple_ms))
        return -1;
    for (int l = 0; l < f->c->text.layers; l++) {
        pf_g4_layer_times *lt = &rep->layers[l];
        if (decoder_layer(f, l, G4_ALL))
            return -1;
        if (f->o->time_phases &&
            (phase_run(f, rep, PH_LAYER, l, G4_ATTN, 0, &lt->attention_ms) ||
             phase_run(f, rep, PH_LAYER, l, G4_GEMM, 0, &lt->gemm_ms) ||
             phase_run(f, rep, PH_LAYER, l, G4_OTHER, 0, &lt->other_ms)))
            return -1;
        if (f->o->time_phases && f->c->text.moe &&
            (phase_run(f, rep, PH_LAYER, l, G4_ROUTE, 0, &lt->moe_routing_ms) ||
             phase_run(f, rep, PH_LAYER, l, G4_EXPERTS, 0, &lt->moe_experts_ms) ||
             phase_run(f, rep, PH_LAYER, l, G4_COMBINE, 0, &lt->moe_combine_ms)))
            return -1;
    }
    if (phase_run(f, rep, PH_HEAD, 0, 0, 1, &rep->head_ms))
        return -1;
    return phase_run(f, rep, PH_ALL, 0, 0, 0, &rep->total_ms);
}

/* What the device forward needs beyond pf_g4_inputs_check. */
static int forward_check(const pf_g4_config *c)
{
    const pf_g4_text_config *t = &c->text;
    for (int l = 0; l < t->layers; l++)
        if (pf_g4_layer_kv_heads(t, l) <= 0 || t->heads % pf_g4_layer_kv_heads(t, l))
            return pf_error_set("text_config: %d heads are not a multiple of %d kv heads (layer %d)",
                                t->heads, pf_g4_layer_kv_heads(t, l), l);
    if (t->moe && (t->num_experts <= 0 || t->top_k_experts <= 0 ||
                   t->top_k_experts > t->num_experts))
        return pf_error_set("text_config.top_k_experts %d: must be in [1, num_experts %d]",
                            t->top_k_experts, t->num_experts);
    return 0;
}

int pf_g4_forward(pf_device *dev, const pf_g4_config *c, const pf_weight_set *w,
                  const pf_g4_inputs *in, const pf_g4_forward_opts *o, float *logits,
                  pf_g4_forward_report *rep_out)
{
    if (pf_g4_inputs_check(c, in, NULL) || forward_check(c))
        return -1;
    pf_g4_forward_report rep_local, *rep = rep_out ? rep_out : &rep_local;
    memset(rep, 0, sizeof *rep);
    g4_fwd f;
    memset(&f, 0, sizeof f);
    f.dev = dev;
    f.c = c;
    f.in = in;
    f.o = o;
    f.w = w;
    f.T = in->tokens;
    f.H = c->text.hidden;
    f.nh = c->text.heads;
    f.I = pf_g4_max_intermediate(&c->text);
    f.V = c->text.vocab;
    f.E = c->text.moe ? c->text.num_experts : 0;
    f.K = c->text.moe ? c->text.top_k_experts : 0;
    f.Im = c->text.moe ? c->text.moe_intermediate : 0;
    f.TK = (long long)f.T * f.K;
    f.out_rows = o->all_logits ? in->tokens : in->batch;
    pf_ops_init(&f.ops, dev, NULL);
    pf_g4_ops_init(&f.g4, dev, f.ops.stream);
    pf_arena_init(&f.mem, dev);
    int rc = upload_weights(&f) || upload_tokens(&f) || alloc_text(&f) ||
             ((in->n_images || in->n_frames) && g4_vision_setup(&f)) ||
             prepare_text_attention(&f);
    if (!rc)
        rc = forward_phases(&f, rep);
    if (!rc && pf_dev_stream_sync(dev, NULL))
        rc = pf_error_prefix("forward");
    if (!rc && pf_dev_copy_dtoh(dev, logits, f.logits,
                                (size_t)f.out_rows * f.V * sizeof(float), NULL))
        rc = pf_error_prefix("logits download");
    rep->peak_bytes = f.mem.peak;
    rep->weight_bytes = f.mem.by_class[PF_MEM_WEIGHTS];
    rep->activation_bytes = f.mem.by_class[PF_MEM_ACTIVATIONS];
    rep->mask_bytes = f.mem.by_class[PF_MEM_MASK];
    pf_attn_variant_to_string(&o->attn_full, rep->variant_full, sizeof rep->variant_full);
    pf_attn_variant_to_string(&o->attn_sliding, rep->variant_sliding, sizeof rep->variant_sliding);
    if (c->has_vision)
        pf_attn_variant_to_string(&o->attn_vision, rep->variant_vision, sizeof rep->variant_vision);
    g4_vision_free(&f);
    pf_attn_release(f.attn_full);
    pf_attn_release(f.attn_sliding);
    pf_layout_free(f.layout);
    pf_g4_ops_release(&f.g4);
    pf_ops_release(&f.ops);
    pf_arena_free_all(&f.mem);
    free(f.counts_h);
    free(f.problems);
    free(f.wd);
    return rc ? -1 : 0;
}
