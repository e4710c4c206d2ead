/* The Gemma-3 prefill forward on a device (gemma3_forward.h): setup, the
 * language model, the head, and the phase timing. The vision side is in
 * gemma3_vision.c. */
#include "models/gemma3_forward.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"
#include "device/arch.h"
#include "kernels/pf_numeric.h"
#include "models/forward_util.h"
#include "models/gemma3_forward_state.h"
#include "models/weight_set_dev.h"

#define BF16 2

/* ---- helpers shared with gemma3_vision.c ---- */

pf_dptr g3_weight(const g3_fwd *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pf_dptr d = pf_fwd_weightv(f->w, f->wd, fmt, ap);
    va_end(ap);
    return d;
}

int g3_linear(g3_fwd *f, pf_dptr x, int m, int k, pf_dptr w, int n, pf_dptr bias, pf_dptr out)
{
    return pf_fwd_linear(&f->ops, f->f32, x, m, k, w, n, bias, out);
}

int pf_g3_attn_head_dim(int hd)
{
    static const int dims[] = {64, 72, 128, 256, 512};
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++)
        if (hd <= dims[i])
            return dims[i];
    return -1;
}

int g3_attn_bufs_init(g3_fwd *f, g3_attn_bufs *b, pf_dptr q, pf_dptr k, pf_dptr v, pf_dptr o,
                      long long rows_q, long long rows_kv, int hd)
{
    *b = (g3_attn_bufs){q, k, v, o, rows_q, rows_kv, hd, pf_g3_attn_head_dim(hd), q, k, v, o};
    if (b->hd_pad < 0)
        return pf_error_set("attention head dim %d: the attention family goes up to 512", hd);
    if (b->hd_pad == hd)
        return 0;
    size_t qb = (size_t)rows_q * b->hd_pad * BF16, kb = (size_t)rows_kv * b->hd_pad * BF16;
    return pf_arena_alloc(&f->mem, qb, PF_MEM_ACTIVATIONS, "padded q", &b->qp) ||
                   pf_arena_alloc(&f->mem, kb, PF_MEM_ACTIVATIONS, "padded k", &b->kp) ||
                   pf_arena_alloc(&f->mem, kb, PF_MEM_ACTIVATIONS, "padded v", &b->vp) ||
                   pf_arena_alloc(&f->mem, qb, PF_MEM_ACTIVATIONS, "padded o", &b->op)
               ? -1
               : 0;
}

int g3_attn_run(g3_fwd *f, const g3_attn_bufs *b, pf_attn_prepared *ap)
{
    pf_ops *o = &f->ops;
    int hd = b->hd, hp = b->hd_pad;
    if (hp != hd && (pf_op_copy_cols(o, b->q, hd, b->qp, hp, b->rows_q, hd) ||
                     pf_op_copy_cols(o, b->k, hd, b->kp, hp, b->rows_kv, hd) ||
                     pf_op_copy_cols(o, b->v, hd, b->vp, hp, b->rows_kv, hd)))
        return -1;
    if (pf_attn_launch(ap, o->stream))
        return -1;
    return hp != hd ? pf_op_copy_cols(o, b->op, hp, b->o, hd, b->rows_q, hd) : 0;
}

int g3_attn_prepare(g3_fwd *f, const pf_layout *L, pf_mask_spec spec, int heads, int kv_heads,
                    const g3_attn_bufs *b, float scale, const pf_attn_variant *v,
                    pf_attn_prepared **out)
{
    pf_attn_problem pb = {L, spec, scale, heads, kv_heads, b->hd_pad};
    return pf_fwd_attn_prepare(f->dev, &f->mem, &pb, v, b->qp, b->kp, b->vp, b->op, out);
}

/* ---- setup ---- */

int pf_g3_forward_defaults(pf_device *dev, const pf_g3_config *c, pf_g3_forward_opts *o)
{
    memset(o, 0, sizeof *o);
    pf_measure_defaults(&o->measure);
    char arch[16];
    if (pf_device_arch(dev, arch, sizeof arch))
        return -1;
    int hd = pf_g3_attn_head_dim(c->text.head_dim);
    if (hd < 0 || pf_attn_variant_default(hd, arch, &o->attn_full) ||
        pf_attn_variant_default(hd, arch, &o->attn_sliding))
        return pf_error_set("text_config.head_dim %d: no attention kernel for it on %s",
                            c->text.head_dim, arch);
    if (c->has_vision) {
        int raw = c->vision.hidden / c->vision.heads, vhd = pf_g3_attn_head_dim(raw);
        if (raw * c->vision.heads != c->vision.hidden || vhd < 0 ||
            pf_attn_variant_default(vhd, arch, &o->attn_vision))
            return pf_error_set("vision_config: head dim %d (hidden_size / num_attention_heads) "
                                "has no attention kernel on %s", raw, arch);
    }
    return 0;
}

int pf_g3_inputs_check(const pf_g3_config *c, const pf_g3_inputs *in)
{
    if (in->batch <= 0 || in->tokens <= 0)
        return pf_error_set("inputs: no tokens");
    long long sum = 0;
    for (int r = 0; r < in->batch; r++) {
        if (in->req_len[r] <= 0)
            return pf_error_set("inputs: request %d has no tokens", r);
        sum += in->req_len[r];
    }
    if (sum != in->tokens)
        return pf_error_set("inputs: request lengths sum to %lld, not %d tokens", sum, in->tokens);
    int n_img_tok = 0;
    for (int t = 0; t < in->tokens; t++) {
        int id = in->input_ids[t];
        int is_img = c->has_vision && id == c->image_token_index;
        n_img_tok += is_img;
        if (!is_img && (id < 0 || id >= c->text.vocab))
            return pf_error_set("input_ids: token %d has id %d, outside the vocabulary [0, %d)", t,
                                id, c->text.vocab);
        if (in->token_type_ids && in->token_type_ids[t] != 0 && in->token_type_ids[t] != 1)
            return pf_error_set("token_type_ids: token %d has type %d (Gemma-3 uses 0 text, 1 "
                                "image)", t, in->token_type_ids[t]);
    }
    if (!c->has_vision) {
        if (in->n_images || in->token_type_ids)
            return pf_error_set("inputs: the model is text-only but images/token_type_ids were "
                                "given");
        return 0;
    }
    if ((long long)n_img_tok != (long long)in->n_images * c->mm_tokens_per_image)
        return pf_error_set("input_ids: %d image tokens (id %d), but %d images x "
                            "mm_tokens_per_image %d = %lld",
                            n_img_tok, c->image_token_index, in->n_images, c->mm_tokens_per_image,
                            (long long)in->n_images * c->mm_tokens_per_image);
    if (in->n_images && !in->pixel_values)
        return pf_error_set("pixel_values: missing for %d images", in->n_images);
    return 0;
}

/* Host values uploaded, a lazy synthetic set drawn on the device
 * (weight_set_dev.h). */
static int upload_weights(g3_fwd *f)
{
    f->wd = calloc((size_t)f->w->n, sizeof *f->wd);
    if (!f->wd)
        return pf_error_set("out of memory");
    return pf_weight_set_to_device(f->w, f->dev, f->ops.stream, &f->mem, f->wd);
}

/* Token-level host arrays: RoPE positions restart per request, image-token
 * rows take projector rows in order (HF's masked_scatter). */
static int upload_tokens(g3_fwd *f)
{
    const pf_g3_inputs *in = f->in;
    int T = f->T, maxlen = 1, img = 0, rc = 0;
    int *pos = malloc((size_t)T * sizeof *pos), *row = malloc((size_t)T * sizeof *row);
    if (!pos || !row) {
        free(pos);
        free(row);
        return pf_error_set("out of memory");
    }
    for (int r = 0, t = 0; r < in->batch; r++) {
        maxlen = in->req_len[r] > maxlen ? in->req_len[r] : maxlen;
        for (int i = 0; i < in->req_len[r]; i++, t++)
            pos[t] = i;
    }
    for (int t = 0; t < T; t++)
        row[t] = f->c->has_vision && in->input_ids[t] == f->c->image_token_index ? img++ : -1;
    int half = f->hd / 2;
    size_t tab = (size_t)maxlen * half;
    uint16_t *cs = malloc(tab * 2 * sizeof *cs);
    if (!cs)
        rc = pf_error_set("out of memory for RoPE tables");
    pf_dev_arena *a = &f->mem;
    const pf_g3_text_config *tc = &f->c->text;
    if (!rc)
        rc = pf_arena_upload(a, in->input_ids, (size_t)T * 4, PF_MEM_ACTIVATIONS, "input ids", &f->ids);
    if (!rc)
        rc = pf_arena_upload(a, row, (size_t)T * 4, PF_MEM_ACTIVATIONS, "image rows", &f->feat_row);
    if (!rc)
        rc = pf_arena_upload(a, pos, (size_t)T * 4, PF_MEM_ACTIVATIONS, "positions", &f->pos);
    if (!rc) {
        pf_rope_tables(tc->rope_full.theta, tc->rope_full.factor, f->hd, maxlen, cs, cs + tab);
        rc = pf_arena_upload(a, cs, tab * 2, PF_MEM_ACTIVATIONS, "rope cos", &f->cos_full) ||
             pf_arena_upload(a, cs + tab, tab * 2, PF_MEM_ACTIVATIONS, "rope sin", &f->sin_full);
    }
    if (!rc) {
        pf_rope_tables(tc->rope_sliding.theta, tc->rope_sliding.factor, f->hd, maxlen, cs, cs + tab);
        rc = pf_arena_upload(a, cs, tab * 2, PF_MEM_ACTIVATIONS, "rope cos", &f->cos_sl) ||
             pf_arena_upload(a, cs + tab, tab * 2, PF_MEM_ACTIVATIONS, "rope sin", &f->sin_sl);
    }
    free(cs);
    free(pos);
    free(row);
    return rc ? -1 : 0;
}

static size_t max_sz(size_t a, size_t b)
{
    return a > b ? a : b;
}

static int alloc_text(g3_fwd *f)
{
    size_t T = (size_t)f->T, H = (size_t)f->H, Q = (size_t)f->nh * f->hd,
           KV = (size_t)f->nkv * f->hd, I = (size_t)f->I;
    struct {
        pf_dptr *p;
        size_t bytes;
        const char *name;
    } bufs[] = {
        {&f->x[0], T * H * BF16, "residual"},   {&f->x[1], T * H * BF16, "residual"},
        {&f->xn, T * H * BF16, "normed"},       {&f->q_raw, T * Q * BF16, "q projection"},
        {&f->k_raw, T * KV * BF16, "k projection"}, {&f->q, T * Q * BF16, "q"},
        {&f->k, T * KV * BF16, "k"},            {&f->v, T * KV * BF16, "v"},
        {&f->attn, T * Q * BF16, "attention out"}, {&f->t, T * H * BF16, "o projection"},
        {&f->t2, T * H * BF16, "post-norm"},    {&f->h, T * H * BF16, "mid residual"},
        {&f->hn, T * H * BF16, "pre-ff norm"},  {&f->g, T * I * BF16, "gate"},
        {&f->u, T * I * BF16, "up"},            {&f->act, T * I * BF16, "geglu"},
        {&f->m, T * H * BF16, "down"},          {&f->last, (size_t)f->out_rows * H * BF16, "last rows"},
        {&f->logits, (size_t)f->out_rows * f->V * sizeof(float), "logits"},
    };
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        if (pf_arena_alloc(&f->mem, bufs[i].bytes, PF_MEM_ACTIVATIONS, bufs[i].name, bufs[i].p))
            return -1;
    size_t f32 = T * max_sz(max_sz(Q, H), I);
    if (f->c->has_vision) {
        const pf_g3_vision_config *vc = &f->c->vision;
        size_t N = (size_t)f->in->n_images * pf_g3_patches_per_side(f->c) * pf_g3_patches_per_side(f->c);
        f32 = max_sz(f32, N * max_sz((size_t)vc->hidden, (size_t)vc->intermediate));
        f32 = max_sz(f32, (size_t)f->in->n_images * f->c->mm_tokens_per_image * H);
        if (pf_arena_alloc(&f->mem, (size_t)f->in->n_images * f->c->mm_tokens_per_image * H * BF16,
                           PF_MEM_ACTIVATIONS, "image features", &f->feat))
            return -1;
    }
    return pf_arena_alloc(&f->mem, f32 * sizeof(float), PF_MEM_ACTIVATIONS, "GEMM scratch", &f->f32);
}

static int prepare_text_attention(g3_fwd *f)
{
    const pf_g3_inputs *in = f->in;
    int64_t *lens = malloc((size_t)in->batch * sizeof *lens);
    int64_t *types = calloc((size_t)f->T, sizeof *types);
    int rc = 0;
    if (!lens || !types)
        rc = pf_error_set("out of memory for the layout");
    for (int r = 0; !rc && r < in->batch; r++)
        lens[r] = in->req_len[r];
    for (int t = 0; !rc && t < f->T; t++)
        types[t] = in->token_type_ids && !f->o->ignore_token_types ? in->token_type_ids[t] : 0;
    if (!rc && pf_layout_from_types(in->batch, lens, NULL, types, &f->layout))
        rc = pf_error_prefix("token layout");
    free(lens);
    free(types);
    if (rc)
        return -1;
    float scale = pf_g3_attn_scale(f->c);
    int W = f->c->text.sliding_window, any_full = 0, any_sliding = 0;
    for (int l = 0; l < f->c->text.layers; l++)
        f->c->text.layer_full[l] ? (any_full = 1) : (any_sliding = 1);
    pf_mask_spec full = {PF_RULE_GEMMA3, PF_LAYER_FULL, 0};
    pf_mask_spec sliding = {PF_RULE_GEMMA3, PF_LAYER_SLIDING, W};
    if (g3_attn_bufs_init(f, &f->ab, f->q, f->k, f->v, f->attn, (long long)f->T * f->nh,
                          (long long)f->T * f->nkv, f->hd))
        return -1;
    if (any_full && g3_attn_prepare(f, f->layout, full, f->nh, f->nkv, &f->ab, scale,
                                    &f->o->attn_full, &f->attn_full))
        return pf_error_prefix("full-attention layers");
    if (any_sliding && g3_attn_prepare(f, f->layout, sliding, f->nh, f->nkv, &f->ab, scale,
                                       &f->o->attn_sliding, &f->attn_sliding))
        return pf_error_prefix("sliding-window layers");
    return 0;
}

/* ---- the language model ---- */

static int embed(g3_fwd *f)
{
    /* sqrt(H) is a buffer cast to the weight dtype: bf16 (facts section 1) */
    float scale = pf_bf16_to_f32(pf_f32_to_bf16(sqrtf((float)f->H)));
    if (pf_op_embed(&f->ops, f->ids, f->c->has_vision ? f->feat_row : 0,
                    g3_weight(f, "lm:embed_tokens.weight"), f->feat, f->x[0], f->T, f->H, scale))
        return pf_error_prefix("embedding");
    return 0;
}

/* Decoder layer l, only the steps whose category is in cats, in order. */
static int decoder_layer(g3_fwd *f, int l, int cats)
{
    pf_ops *o = &f->ops;
    int T = f->T, H = f->H, Q = f->nh * f->hd, KV = f->nkv * f->hd, full = f->c->text.layer_full[l];
    float eps = (float)f->c->text.rms_eps;
    pf_dptr in = f->x[l % 2], out = f->x[(l + 1) % 2];
    pf_dptr cs = full ? f->cos_full : f->cos_sl, sn = full ? f->sin_full : f->sin_sl;
    const char *P = "lm:layers.%d.";
    char nm[128];
#define LW(leaf) (snprintf(nm, sizeof nm, "%s%s", P, leaf), g3_weight(f, nm, l))
    int other = cats & G3_OTHER, gemm = cats & G3_GEMM, attn = cats & G3_ATTN;
    if ((other && pf_op_rmsnorm(o, in, f->xn, LW("input_layernorm.weight"), T, H, eps)) ||
        (gemm && (g3_linear(f, f->xn, T, H, LW("self_attn.q_proj.weight"), Q, 0, f->q_raw) ||
                  g3_linear(f, f->xn, T, H, LW("self_attn.k_proj.weight"), KV, 0, f->k_raw) ||
                  g3_linear(f, f->xn, T, H, LW("self_attn.v_proj.weight"), KV, 0, f->v))) ||
        /* q/k norms before RoPE; RoPE in place (both in this category) */
        (other && (pf_op_rmsnorm(o, f->q_raw, f->q, LW("self_attn.q_norm.weight"), T * f->nh, f->hd, eps) ||
                   pf_op_rmsnorm(o, f->k_raw, f->k, LW("self_attn.k_norm.weight"), T * f->nkv, f->hd, eps) ||
                   pf_op_rope(o, f->q, cs, sn, f->pos, T, f->nh, f->hd) ||
                   pf_op_rope(o, f->k, cs, sn, f->pos, T, f->nkv, f->hd))) ||
        (attn && g3_attn_run(f, &f->ab, full ? f->attn_full : f->attn_sliding)) ||
        (gemm && g3_linear(f, f->attn, T, Q, LW("self_attn.o_proj.weight"), H, 0, f->t)) ||
        (other && (pf_op_rmsnorm(o, f->t, f->t2, LW("post_attention_layernorm.weight"), T, H, eps) ||
                   pf_op_add(o, in, f->t2, f->h, (long long)T * H, 0) ||
                   pf_op_rmsnorm(o, f->h, f->hn, LW("pre_feedforward_layernorm.weight"), T, H, eps))) ||
        (gemm && (g3_linear(f, f->hn, T, H, LW("mlp.gate_proj.weight"), f->I, 0, f->g) ||
                  g3_linear(f, f->hn, T, H, LW("mlp.up_proj.weight"), f->I, 0, f->u))) ||
        (other && pf_op_gelu(o, f->g, f->u, f->act, (long long)T * f->I)) ||
        (gemm && g3_linear(f, f->act, T, f->I, LW("mlp.down_proj.weight"), H, 0, f->m)) ||
        (other && (pf_op_rmsnorm(o, f->m, f->t2, LW("post_feedforward_layernorm.weight"), T, H, eps) ||
                   pf_op_add(o, f->h, f->t2, out, (long long)T * H, 0))))
        return pf_error_prefix("decoder layer %d", l);
#undef LW
    return 0;
}

/* Final norm and the tied lm_head, on every row or each request's last. */
static int head(g3_fwd *f)
{
    int H = f->H;
    pf_dptr x = f->x[f->c->text.layers % 2];
    if (pf_op_rmsnorm(&f->ops, x, f->xn, g3_weight(f, "lm:norm.weight"), f->T, H,
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
    if (pf_dev_gemm_bf16(f->dev, f->out_rows, f->V, H, rows, g3_weight(f, "lm:embed_tokens.weight"),
                         1, f->logits, f->ops.stream))
        return pf_error_prefix("lm_head");
    return 0;
}

/* ---- phases and timing ---- */

enum { PH_VISION, PH_PROJECTOR, PH_EMBED, PH_LAYER, PH_HEAD, PH_ALL };

typedef struct phase {
    g3_fwd *f;
    int kind, layer, cats;
} phase;

static int run_all(g3_fwd *f)
{
    if (f->c->has_vision && (g3_vision_tower(f) || g3_projector(f)))
        return -1;
    if (embed(f))
        return -1;
    for (int l = 0; l < f->c->text.layers; l++)
        if (decoder_layer(f, l, G3_ALL))
            return -1;
    return head(f);
}

static int run_phase(void *ctx, pf_stream *s)
{
    (void)s; /* every op enqueues on f->ops.stream, the stream measured */
    phase *p = ctx;
    switch (p->kind) {
    case PH_VISION: return g3_vision_tower(p->f);
    case PH_PROJECTOR: return g3_projector(p->f);
    case PH_EMBED: return embed(p->f);
    case PH_LAYER: return decoder_layer(p->f, p->layer, p->cats);
    case PH_HEAD: return head(p->f);
    default: return run_all(p->f);
    }
}

/* Run a phase once; with timing, then again through the measure layer. */
static int phase_run(g3_fwd *f, pf_g3_forward_report *rep, int kind, int layer, int cats,
                     double *ms)
{
    phase p = {f, kind, layer, cats};
    if (kind != PH_ALL && run_phase(&p, NULL))
        return -1;
    if (!f->o->time_phases || !ms)
        return 0;
    return pf_fwd_time(f->dev, f->ops.stream, run_phase, &p, &f->o->measure, ms, rep->timer,
                       sizeof rep->timer);
}

static int forward_phases(g3_fwd *f, pf_g3_forward_report *rep)
{
    if (f->c->has_vision && f->in->n_images &&
        (phase_run(f, rep, PH_VISION, 0, 0, &rep->vision_ms) ||
         phase_run(f, rep, PH_PROJECTOR, 0, 0, &rep->projector_ms)))
        return -1;
    if (phase_run(f, rep, PH_EMBED, 0, 0, &rep->embed_ms))
        return -1;
    for (int l = 0; l < f->c->text.layers; l++) {
        pf_g3_layer_times *lt = &rep->layers[l];
        if (f->o->progress && f->o->time_phases)
            fprintf(stderr, "\rforward: timing decoder layer %d/%d", l + 1, f->c->text.layers);
        if (decoder_layer(f, l, G3_ALL))
            return -1;
        if (f->o->time_phases &&
            (phase_run(f, rep, PH_LAYER, l, G3_ATTN, &lt->attention_ms) ||
             phase_run(f, rep, PH_LAYER, l, G3_GEMM, &lt->gemm_ms) ||
             phase_run(f, rep, PH_LAYER, l, G3_OTHER, &lt->other_ms)))
            return -1;
    }
    if (f->o->progress && f->o->time_phases)
        fprintf(stderr, "\rforward: timing the head and the whole forward\n");
    if (phase_run(f, rep, PH_HEAD, 0, 0, &rep->head_ms))
        return -1;
    return phase_run(f, rep, PH_ALL, 0, 0, &rep->total_ms);
}

int pf_g3_forward(pf_device *dev, const pf_g3_config *c, const pf_weight_set *w,
                  const pf_g3_inputs *in, const pf_g3_forward_opts *o, float *logits,
                  pf_g3_forward_report *rep_out)
{
    if (pf_g3_inputs_check(c, in))
        return -1;
    pf_g3_forward_report rep_local, *rep = rep_out ? rep_out : &rep_local;
    memset(rep, 0, sizeof *rep);
    g3_fwd f;
    memset(&f, 0, sizeof f);
    f.dev = dev;
    f.c = c;
    f.in = in;
    f.o = o;
    f.w = w;
    f.T = in->tokens;
    f.H = c->text.hidden;
    f.nh = c->text.heads;
    f.nkv = c->text.kv_heads;
    f.hd = c->text.head_dim;
    f.I = c->text.intermediate;
    f.V = c->text.vocab;
    f.out_rows = o->all_logits ? in->tokens : in->batch;
    pf_ops_init(&f.ops, dev, NULL);
    pf_arena_init(&f.mem, dev);
    int rc = upload_weights(&f) || upload_tokens(&f) || alloc_text(&f) ||
             prepare_text_attention(&f) ||
             (c->has_vision && in->n_images && g3_vision_setup(&f));
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
    g3_vision_release(&f);
    pf_attn_release(f.attn_full);
    pf_attn_release(f.attn_sliding);
    pf_layout_free(f.layout);
    pf_ops_release(&f.ops);
    pf_arena_free_all(&f.mem);
    free(f.wd);
    return rc ? -1 : 0;
}
