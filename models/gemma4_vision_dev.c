/* The Gemma-4 vision side on a device (see gemma4_vision_dev.h; facts
 * section 4). Padding patches are dropped at setup: each image's real
 * patches (in their input order) are the rows of one bidirectional
 * attention request, so no key needs masking and no work goes to padding;
 * the result is the same because a padding patch is never a key and its
 * own row is dropped by the pooling. Per layer, as the reference:
 *
 *   xn = norm_in(x); q, k, v = clip(W clip(xn)) for q/k/v
 *   q = rope2d(q_norm(q)); k = rope2d(k_norm(k)); v = v_norm(v)
 *   h = x + post_attn(clip(W_o clip(attn(q, k, v))))
 *   x' = h + post_ff(down(gelu(gate(pre_ff(h))) * up(pre_ff(h))))
 *
 * then pooling by position (with the sqrt(D) scale and standardize),
 * the weightless norm and embed_vision's projection into the text width.
 * A head dim the attention family lacks runs at the variant's (larger)
 * head dim on copies padded with zero columns (q.k and P.v unchanged), as
 * the Gemma-3 forward does.
 * Every GEMM is pf_dev_gemm_bf16 (fp32 out) then one rounding. */
#include "models/gemma4_vision_dev.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attention/attention_run.h"
#include "attention/layout.h"
#include "core/pf_error.h"
#include "models/forward_util.h"
#include "models/ops_g4v.h"

#define BF16 2

/* A vision linear: weight and, when clipped, its four bound scalars. */
typedef struct vlin {
    pf_dptr w, in_lo, in_hi, out_lo, out_hi;
} vlin;

typedef struct vlayer {
    pf_dptr n_in, n_pa, n_pf, n_po, qn, kn;
    vlin q, k, v, o, gate, up, down;
} vlayer;

struct pf_g4_vision_dev {
    pf_device *dev;
    pf_ops *ops;
    pf_g4v_ops vops;
    const pf_g4_config *c;
    int clipped;
    int N, n_soft, D, I, Hq, Hkv, hd, hd_pad, pd, H, npos, k;
    vlayer *layer;
    pf_dptr inproj, table, proj, std_bias, std_scale;
    /* inputs (uploaded once) */
    pf_dptr pix, pos, cos, sin, cell_ptr, members;
    /* activations */
    pf_dptr patches, x[2], xn, q, kk, v, o, t, h, g, u, a, clip, f32, pooled, pooled_n;
    pf_dptr qp, kp, vp, op; /* attention tensors (padded copies, or q, kk, v, o) */
    pf_layout *layout;
    pf_attn_prepared *attn;
};

/* The device copy of weight "<part>:<name>" (printf-style); 0 and an error
 * naming it if the set has no such tensor. */
static pf_dptr weight(const pf_weight_set *w, const pf_dptr *wd, int *rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static pf_dptr weight(const pf_weight_set *w, const pf_dptr *wd, int *rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pf_dptr d = pf_fwd_weightv(w, wd, fmt, ap);
    va_end(ap);
    if (!d && !*rc) {
        char name[160];
        va_start(ap, fmt);
        vsnprintf(name, sizeof name, fmt, ap);
        va_end(ap);
        *rc = pf_error_set("weights: missing tensor '%s'", name);
    }
    return d;
}

static vlin vision_linear(pf_g4_vision_dev *vd, const pf_weight_set *w, const pf_dptr *wd,
                          int *rc, int l, const char *name)
{
    const char *pre = "vision:encoder.layers.";
    vlin r = {0};
    r.w = weight(w, wd, rc, "%s%d.%s.linear.weight", pre, l, name);
    if (vd->clipped) {
        r.in_lo = weight(w, wd, rc, "%s%d.%s.input_min", pre, l, name);
        r.in_hi = weight(w, wd, rc, "%s%d.%s.input_max", pre, l, name);
        r.out_lo = weight(w, wd, rc, "%s%d.%s.output_min", pre, l, name);
        r.out_hi = weight(w, wd, rc, "%s%d.%s.output_max", pre, l, name);
    }
    return r;
}

static int resolve_weights(pf_g4_vision_dev *vd, const pf_weight_set *w, const pf_dptr *wd)
{
    const pf_g4_vision_config *v = &vd->c->vision;
    int rc = 0;
    vd->inproj = weight(w, wd, &rc, "vision:patch_embedder.input_proj.weight");
    vd->table = weight(w, wd, &rc, "vision:patch_embedder.position_embedding_table");
    vd->proj = weight(w, wd, &rc, "embed:embedding_projection.weight");
    if (v->standardize) {
        vd->std_bias = weight(w, wd, &rc, "vision:std_bias");
        vd->std_scale = weight(w, wd, &rc, "vision:std_scale");
    }
    const char *pre = "vision:encoder.layers.";
    for (int l = 0; l < v->layers && !rc; l++) {
        vlayer *L = &vd->layer[l];
        L->n_in = weight(w, wd, &rc, "%s%d.input_layernorm.weight", pre, l);
        L->n_pa = weight(w, wd, &rc, "%s%d.post_attention_layernorm.weight", pre, l);
        L->n_pf = weight(w, wd, &rc, "%s%d.pre_feedforward_layernorm.weight", pre, l);
        L->n_po = weight(w, wd, &rc, "%s%d.post_feedforward_layernorm.weight", pre, l);
        L->qn = weight(w, wd, &rc, "%s%d.self_attn.q_norm.weight", pre, l);
        L->kn = weight(w, wd, &rc, "%s%d.self_attn.k_norm.weight", pre, l);
        L->q = vision_linear(vd, w, wd, &rc, l, "self_attn.q_proj");
        L->k = vision_linear(vd, w, wd, &rc, l, "self_attn.k_proj");
        L->v = vision_linear(vd, w, wd, &rc, l, "self_attn.v_proj");
        L->o = vision_linear(vd, w, wd, &rc, l, "self_attn.o_proj");
        L->gate = vision_linear(vd, w, wd, &rc, l, "mlp.gate_proj");
        L->up = vision_linear(vd, w, wd, &rc, l, "mlp.up_proj");
        L->down = vision_linear(vd, w, wd, &rc, l, "mlp.down_proj");
    }
    return rc;
}

/* Host side of the layout: compacted pixels and positions of the real
 * patches, the pooling cells' member lists, one request length per image
 * with patches. */
typedef struct host_plan {
    float *pix;
    int32_t *pos, *cell_ptr, *members;
    int64_t *lens, *types;
    int n_req;
} host_plan;

static void plan_free(host_plan *p)
{
    free(p->pix), free(p->pos), free(p->cell_ptr), free(p->members), free(p->lens), free(p->types);
}

static int plan(pf_g4_vision_dev *vd, const pf_g4_inputs *in, host_plan *p)
{
    int P = in->max_patches, pd = in->patch_dim, k = vd->k;
    long long N = 0, soft = 0;
    for (int i = 0; i < in->n_images; i++) {
        const int32_t *pos = in->image_position_ids + (size_t)i * P * 2;
        for (int j = 0; j < P; j++)
            N += !(pos[2 * j] == -1 && pos[2 * j + 1] == -1);
        int wp, hp;
        pf_g4_image_grid(in, i, &wp, &hp);
        soft += (long long)(wp / k) * (hp / k);
    }
    /* row counts (patches x heads) and GEMM sizes are int */
    int wide = pd > vd->I ? pd : vd->I;
    wide = vd->Hq * vd->hd > wide ? vd->Hq * vd->hd : wide;
    if (N > 0x7fffffff / wide || soft > 0x7fffffff / vd->H)
        return pf_error_set("vision: %lld patches (%lld soft tokens) are more than the device "
                            "side indexes", N, soft);
    vd->N = (int)N;
    vd->n_soft = (int)soft;
    p->pix = malloc((size_t)(N ? N : 1) * pd * sizeof *p->pix);
    p->pos = malloc((size_t)(N ? N : 1) * 2 * sizeof *p->pos);
    p->cell_ptr = calloc((size_t)soft + 1, sizeof *p->cell_ptr);
    p->members = malloc((size_t)(N ? N : 1) * sizeof *p->members);
    p->lens = malloc((size_t)(in->n_images ? in->n_images : 1) * sizeof *p->lens);
    p->types = calloc((size_t)(N ? N : 1), sizeof *p->types);
    int *cell = malloc((size_t)(N ? N : 1) * sizeof *cell);
    if (!p->pix || !p->pos || !p->cell_ptr || !p->members || !p->lens || !p->types || !cell) {
        free(cell);
        return pf_error_set("out of memory for the vision layout");
    }
    /* compact rows in input order; cell of each row (global over images) */
    long long r = 0, cbase = 0;
    for (int i = 0; i < in->n_images; i++) {
        const int32_t *pos = in->image_position_ids + (size_t)i * P * 2;
        const float *pv = in->pixel_values + (size_t)i * P * pd;
        int wp, hp;
        pf_g4_image_grid(in, i, &wp, &hp);
        long long r0 = r;
        for (int j = 0; j < P; j++) {
            int x = pos[2 * j], y = pos[2 * j + 1];
            if (x == -1 && y == -1)
                continue;
            memcpy(p->pix + (size_t)r * pd, pv + (size_t)j * pd, (size_t)pd * sizeof *p->pix);
            p->pos[2 * r] = x;
            p->pos[2 * r + 1] = y;
            cell[r] = (int)(cbase + x / k + (long long)(wp / k) * (y / k));
            p->cell_ptr[cell[r] + 1]++;
            r++;
        }
        if (r > r0)
            p->lens[p->n_req++] = r - r0;
        cbase += (long long)(wp / k) * (hp / k);
    }
    for (long long c = 0; c < soft; c++)
        p->cell_ptr[c + 1] += p->cell_ptr[c];
    int *fill = calloc((size_t)soft + 1, sizeof *fill);
    if (!fill) {
        free(cell);
        return pf_error_set("out of memory for the vision layout");
    }
    for (long long j = 0; j < N; j++)
        p->members[p->cell_ptr[cell[j]] + fill[cell[j]]++] = (int32_t)j;
    free(fill);
    free(cell);
    return 0;
}

int pf_g4_vision_dev_setup(pf_device *dev, pf_ops *ops, pf_dev_arena *mem, const pf_g4_config *c,
                           const pf_weight_set *w, const pf_dptr *wd, const pf_g4_inputs *in,
                           const pf_attn_variant *v, pf_g4_vision_dev **out)
{
    *out = NULL;
    if (!c->has_vision)
        return pf_error_set("vision_config: the model has no vision tower");
    const pf_g4_vision_config *vc = &c->vision;
    if (vc->head_dim % 4)
        return pf_error_set("vision_config.head_dim %d: the 2D RoPE needs a multiple of 4",
                            vc->head_dim);
    if (vc->kv_heads <= 0 || vc->heads % vc->kv_heads)
        return pf_error_set("vision_config: %d heads are not a multiple of %d kv heads",
                            vc->heads, vc->kv_heads);
    pf_g4_vision_dev *vd = calloc(1, sizeof *vd);
    if (!vd)
        return pf_error_set("out of memory");
    vd->dev = dev;
    vd->ops = ops;
    pf_g4v_ops_init(&vd->vops, dev, ops->stream);
    vd->c = c;
    vd->clipped = vc->clipped;
    vd->D = vc->hidden;
    vd->I = vc->intermediate;
    vd->Hq = vc->heads;
    vd->Hkv = vc->kv_heads;
    vd->hd = vc->head_dim;
    vd->hd_pad = v->head_dim;
    vd->pd = in->patch_dim;
    vd->H = c->text.hidden;
    vd->npos = vc->position_embedding_size;
    vd->k = vc->pooling_kernel;
    vd->layer = calloc((size_t)(vc->layers > 0 ? vc->layers : 1), sizeof *vd->layer);
    host_plan hp = {0};
    int rc = vd->layer ? 0 : pf_error_set("out of memory");
    if (!rc && vd->hd_pad < vd->hd)
        rc = pf_error_set("vision attention: variant head dim %d is smaller than the model's %d",
                          vd->hd_pad, vd->hd);
    if (!rc)
        rc = resolve_weights(vd, w, wd);
    if (!rc)
        rc = plan(vd, in, &hp);
    if (rc || vd->N == 0) { /* no patches: nothing to run */
        plan_free(&hp);
        if (rc) {
            pf_g4_vision_dev_free(vd);
            return -1;
        }
        *out = vd;
        return 0;
    }
    size_t N = (size_t)vd->N, D = (size_t)vd->D, QD = (size_t)vd->Hq * vd->hd;
    size_t KD = (size_t)vd->Hkv * vd->hd, I = (size_t)vd->I, S = (size_t)vd->n_soft;
    size_t wide = D > QD ? D : QD;
    wide = I > wide ? I : wide;
    size_t f32 = N * wide > S * vd->H ? N * wide : S * vd->H;
    int q4 = vd->hd / 4;
    uint16_t *cs = malloc((size_t)vd->npos * q4 * BF16), *sn = malloc((size_t)vd->npos * q4 * BF16);
    if (!cs || !sn)
        rc = pf_error_set("out of memory");
    else
        pf_g4v_rope_tables(vc->rope_theta, vd->hd, vd->npos, cs, sn);
    struct {
        const void *src;
        size_t bytes;
        const char *name;
        pf_dptr *p;
    } ups[] = {
        {hp.pix, N * vd->pd * sizeof(float), "vision pixels", &vd->pix},
        {hp.pos, N * 2 * sizeof(int32_t), "vision positions", &vd->pos},
        {cs, (size_t)vd->npos * q4 * BF16, "vision rope cos", &vd->cos},
        {sn, (size_t)vd->npos * q4 * BF16, "vision rope sin", &vd->sin},
        {hp.cell_ptr, (S + 1) * sizeof(int32_t), "vision pool cells", &vd->cell_ptr},
        {hp.members, N * sizeof(int32_t), "vision pool members", &vd->members},
    };
    for (size_t i = 0; !rc && i < sizeof ups / sizeof ups[0]; i++)
        rc = pf_arena_upload(mem, ups[i].src, ups[i].bytes, PF_MEM_ACTIVATIONS, ups[i].name,
                             ups[i].p);
    free(cs);
    free(sn);
    struct {
        pf_dptr *p;
        size_t bytes;
        const char *name;
    } bufs[] = {
        {&vd->patches, N * vd->pd * BF16, "vision patches"},
        {&vd->x[0], N * D * BF16, "vision residual"},
        {&vd->x[1], N * D * BF16, "vision residual"},
        {&vd->xn, N * D * BF16, "vision norm"},
        {&vd->q, N * QD * BF16, "vision q"},
        {&vd->kk, N * KD * BF16, "vision k"},
        {&vd->v, N * KD * BF16, "vision v"},
        {&vd->o, N * QD * BF16, "vision attention out"},
        {&vd->t, N * D * BF16, "vision projection"},
        {&vd->h, N * D * BF16, "vision mid residual"},
        {&vd->g, N * I * BF16, "vision gate"},
        {&vd->u, N * I * BF16, "vision up"},
        {&vd->a, N * I * BF16, "vision geglu"},
        {&vd->clip, vd->clipped ? N * wide * BF16 : BF16, "vision clipped input"},
        {&vd->f32, f32 * sizeof(float), "vision GEMM out"},
        {&vd->qp, vd->hd_pad != vd->hd ? N * vd->Hq * vd->hd_pad * BF16 : 0, "vision padded q"},
        {&vd->kp, vd->hd_pad != vd->hd ? N * vd->Hkv * vd->hd_pad * BF16 : 0, "vision padded k"},
        {&vd->vp, vd->hd_pad != vd->hd ? N * vd->Hkv * vd->hd_pad * BF16 : 0, "vision padded v"},
        {&vd->op, vd->hd_pad != vd->hd ? N * vd->Hq * vd->hd_pad * BF16 : 0, "vision padded o"},
        {&vd->pooled, S * D * BF16, "vision pooled"},
        {&vd->pooled_n, S * D * BF16, "vision pooled, normed"},
    };
    for (size_t i = 0; !rc && i < sizeof bufs / sizeof bufs[0]; i++)
        if (bufs[i].bytes)
            rc = pf_arena_alloc(mem, bufs[i].bytes, PF_MEM_ACTIVATIONS, bufs[i].name, bufs[i].p);
    if (vd->hd_pad == vd->hd) {
        vd->qp = vd->q;
        vd->kp = vd->kk;
        vd->vp = vd->v;
        vd->op = vd->o;
    }
    /* each image's real patches: one request attending to all of them */
    if (!rc && pf_layout_from_types(hp.n_req, hp.lens, NULL, hp.types, &vd->layout))
        rc = pf_error_prefix("vision layout");
    plan_free(&hp);
    if (!rc) {
        pf_attn_problem pb = {vd->layout, {PF_RULE_BIDIRECTIONAL, PF_LAYER_FULL, 0}, 1.0f,
                              vd->Hq, vd->Hkv, vd->hd_pad};
        if (pf_fwd_attn_prepare(dev, mem, &pb, v, vd->qp, vd->kp, vd->vp, vd->op, &vd->attn))
            rc = pf_error_prefix("vision attention");
    }
    if (rc) {
        pf_g4_vision_dev_free(vd);
        return -1;
    }
    *out = vd;
    return 0;
}

/* out[m, n] = clamp(bf16(clamp(x, in) . W^T), out) for a clipped linear,
 * bf16(x . W^T) otherwise; x [m, k]. */
static int linear(pf_g4_vision_dev *vd, pf_dptr x, int m, int k, const vlin *l, int n,
                  pf_dptr out)
{
    pf_stream *s = vd->ops->stream;
    if (vd->clipped) {
        if (pf_g4v_clamp(&vd->vops, x, vd->clip, l->in_lo, l->in_hi, (long long)m * k))
            return -1;
        x = vd->clip;
    }
    if (pf_dev_gemm_bf16(vd->dev, m, n, k, x, l->w, 1, vd->f32, s))
        return pf_error_prefix("GEMM [%d x %d] . [%d x %d]^T", m, k, n, k);
    if (pf_op_bias_round(vd->ops, vd->f32, 0, out, m, n))
        return -1;
    if (vd->clipped && pf_g4v_clamp(&vd->vops, out, out, l->out_lo, l->out_hi, (long long)m * n))
        return -1;
    return 0;
}

/* The attention over q, kk, v into o (through the padded copies if any). */
static int attention(pf_g4_vision_dev *vd)
{
    pf_ops *o = vd->ops;
    int hd = vd->hd, hp = vd->hd_pad;
    long long rq = (long long)vd->N * vd->Hq, rkv = (long long)vd->N * vd->Hkv;
    if (hp != hd && (pf_op_copy_cols(o, vd->q, hd, vd->qp, hp, rq, hd) ||
                     pf_op_copy_cols(o, vd->kk, hd, vd->kp, hp, rkv, hd) ||
                     pf_op_copy_cols(o, vd->v, hd, vd->vp, hp, rkv, hd)))
        return -1;
    if (pf_attn_launch(vd->attn, o->stream))
        return -1;
    return hp != hd ? pf_op_copy_cols(o, vd->op, hp, vd->o, hd, rq, hd) : 0;
}

static int encoder_layer(pf_g4_vision_dev *vd, int j, pf_dptr in, pf_dptr out)
{
    const vlayer *L = &vd->layer[j];
    pf_g4v_ops *o = &vd->vops;
    int N = vd->N, D = vd->D, I = vd->I, QD = vd->Hq * vd->hd, KD = vd->Hkv * vd->hd;
    float eps = (float)vd->c->vision.rms_eps;
    if (pf_g4v_rmsnorm(o, in, vd->xn, L->n_in, 0, N, D, eps) ||
        linear(vd, vd->xn, N, D, &L->q, QD, vd->q) ||
        linear(vd, vd->xn, N, D, &L->k, KD, vd->kk) ||
        linear(vd, vd->xn, N, D, &L->v, KD, vd->v) ||
        pf_g4v_rmsnorm(o, vd->q, vd->q, L->qn, 0, N * vd->Hq, vd->hd, eps) ||
        pf_g4v_rmsnorm(o, vd->kk, vd->kk, L->kn, 0, N * vd->Hkv, vd->hd, eps) ||
        pf_g4v_rmsnorm(o, vd->v, vd->v, 0, 0, N * vd->Hkv, vd->hd, eps) ||
        pf_g4v_rope2d(o, vd->q, vd->cos, vd->sin, vd->pos, N, vd->Hq, vd->hd) ||
        pf_g4v_rope2d(o, vd->kk, vd->cos, vd->sin, vd->pos, N, vd->Hkv, vd->hd) ||
        attention(vd) ||
        linear(vd, vd->o, N, QD, &L->o, D, vd->t) ||
        pf_g4v_rmsnorm(o, vd->t, vd->h, L->n_pa, in, N, D, eps) ||
        pf_g4v_rmsnorm(o, vd->h, vd->xn, L->n_pf, 0, N, D, eps) ||
        linear(vd, vd->xn, N, D, &L->gate, I, vd->g) ||
        linear(vd, vd->xn, N, D, &L->up, I, vd->u) ||
        pf_op_gelu(vd->ops, vd->g, vd->u, vd->a, (long long)N * I) ||
        linear(vd, vd->a, N, I, &L->down, D, vd->t) ||
        pf_g4v_rmsnorm(o, vd->t, out, L->n_po, vd->h, N, D, eps))
        return pf_error_prefix("vision layer %d", j);
    return 0;
}

int pf_g4_vision_dev_run(pf_g4_vision_dev *vd, pf_dptr out)
{
    if (vd->N == 0)
        return 0;
    pf_g4v_ops *o = &vd->vops;
    pf_stream *s = vd->ops->stream;
    int N = vd->N, D = vd->D, S = vd->n_soft, layers = vd->c->vision.layers;
    float eps = (float)vd->c->vision.rms_eps;
    /* patch embed: input_proj(2 (pv - 0.5)) + T[0][x] + T[1][y] */
    if (pf_g4v_patch_in(o, vd->pix, vd->patches, (long long)N * vd->pd) ||
        pf_dev_gemm_bf16(vd->dev, N, D, vd->pd, vd->patches, vd->inproj, 1, vd->f32, s) ||
        pf_op_bias_round(vd->ops, vd->f32, 0, vd->t, N, D) ||
        pf_g4v_pos_add(o, vd->t, vd->table, vd->pos, vd->x[0], N, D, vd->npos))
        return pf_error_prefix("vision patch embedder");
    for (int j = 0; j < layers; j++)
        if (encoder_layer(vd, j, vd->x[j % 2], vd->x[(j + 1) % 2]))
            return -1;
    /* pooling (scale, standardize), then embed_vision: Linear(RMSNorm_noscale) */
    if (pf_g4v_pool(o, vd->x[layers % 2], vd->cell_ptr, vd->members, vd->std_bias, vd->std_scale,
                    vd->pooled, S, D, vd->k) ||
        pf_g4v_rmsnorm(o, vd->pooled, vd->pooled_n, 0, 0, S, D, eps) ||
        pf_dev_gemm_bf16(vd->dev, S, vd->H, D, vd->pooled_n, vd->proj, 1, vd->f32, s) ||
        pf_op_bias_round(vd->ops, vd->f32, 0, out, S, vd->H))
        return pf_error_prefix("vision pooling and embed_vision");
    return 0;
}

int pf_g4_vision_dev_soft_tokens(const pf_g4_vision_dev *vd)
{
    return vd->n_soft;
}

void pf_g4_vision_dev_free(pf_g4_vision_dev *vd)
{
    if (!vd)
        return;
    pf_attn_release(vd->attn);
    pf_layout_free(vd->layout);
    pf_g4v_ops_release(&vd->vops);
    free(vd->layer);
    free(vd);
}
