/* Gemma-4 reference prefill (see gemma4_ref_forward.h). Section numbers
 * refer to ../shared/models/gemma4-facts.md. */
#include "models/gemma4_ref_forward.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"
#include "kernels/pf_numeric.h"

#define R(x) pf_round_bf16(x)
#define F(h) pf_bf16_to_f32(h)

typedef struct fw {
    const pf_g4_config *c;
    const pf_weight_set *w;
    int rc;
} fw;

/* A tensor by name (printf-style); NULL and f->rc set when it is missing. */
static const uint16_t *need(fw *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const uint16_t *need(fw *f, const char *fmt, ...)
{
    char name[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    const uint16_t *p = pf_ws_get(f->w, "%s", name);
    if (!p && !f->rc)
        f->rc = pf_error_set("weights: missing tensor '%s'", name);
    return p;
}

/* ---- ops on bf16 values held in floats ---- */

/* y[r][o] = bf16(sum_i x[r][i] * W[o][i]), W [out, in] bf16. */
static void linear(const float *x, int rows, int in, const uint16_t *W, int out, float *y)
{
    float *wr = malloc((size_t)in * sizeof *wr);
    for (int o = 0; o < out; o++) {
        for (int i = 0; i < in; i++)
            wr[i] = F(W[(size_t)o * in + i]);
        for (int r = 0; r < rows; r++) {
            const float *xr = x + (size_t)r * in;
            double s = 0;
            for (int i = 0; i < in; i++)
                s += (double)xr[i] * wr[i];
            y[(size_t)r * out + o] = R((float)s);
        }
    }
    free(wr);
}

/* A vision linear, clamp(W clamp(x, in_min, in_max), out_min, out_max) when
 * clipped (section 4, use_clipped_linears). */
typedef struct vlin {
    const uint16_t *w;
    float lo_in, hi_in, lo_out, hi_out;
    int clipped;
} vlin;

static vlin vision_linear(fw *f, int layer, const char *name)
{
    vlin l = {0};
    l.w = need(f, "vision:encoder.layers.%d.%s.linear.weight", layer, name);
    l.clipped = f->c->vision.clipped;
    if (l.clipped) {
        const uint16_t *b[4];
        const char *leaf[4] = {"input_min", "input_max", "output_min", "output_max"};
        for (int i = 0; i < 4; i++)
            b[i] = need(f, "vision:encoder.layers.%d.%s.%s", layer, name, leaf[i]);
        if (!f->rc) {
            l.lo_in = F(b[0][0]);
            l.hi_in = F(b[1][0]);
            l.lo_out = F(b[2][0]);
            l.hi_out = F(b[3][0]);
        }
    }
    return l;
}

static float clampf(float v, float lo, float hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void vision_apply(const vlin *l, const float *x, int rows, int in, int out, float *y,
                         float *tmp)
{
    if (!l->clipped) {
        linear(x, rows, in, l->w, out, y);
        return;
    }
    for (size_t i = 0; i < (size_t)rows * in; i++)
        tmp[i] = clampf(x[i], l->lo_in, l->hi_in);
    linear(tmp, rows, in, l->w, out, y);
    for (size_t i = 0; i < (size_t)rows * out; i++)
        y[i] = clampf(y[i], l->lo_out, l->hi_out);
}

/* Section 0: y = bf16(x * (mean(x^2) + eps)^-0.5 * w) in fp32; w NULL: no scale. */
static void rmsnorm(const float *x, int rows, int n, const uint16_t *w, double eps, float *y)
{
    for (size_t r = 0; r < (size_t)rows; r++) {
        const float *xr = x + r * n;
        double ss = 0;
        for (int i = 0; i < n; i++)
            ss += (double)xr[i] * xr[i];
        float inv = powf((float)(ss / n) + (float)eps, -0.5f);
        for (int i = 0; i < n; i++) {
            float v = xr[i] * inv;
            if (w)
                v *= F(w[i]);
            y[r * n + i] = R(v);
        }
    }
}

/* gelu_tanh in fp32, rounded (torch's bf16 gelu). */
static float gelu(float x)
{
    return R(0.5f * x * (1.0f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x))));
}

/* a = bf16(gelu(g) * u), n values. */
static void geglu(const float *g, const float *u, float *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] = R(gelu(g[i]) * u[i]);
}

/* out = x*cos + rotate_half(x)*sin in bf16 over the pairs (off+i, off+i+h),
 * i < h, with bf16 cos/sin (section 2 RoPE, M1129-1138). */
static void rope_pairs(float *v, int off, int h, const float *cs, const float *sn)
{
    for (int i = 0; i < h; i++) {
        float x1 = v[off + i], x2 = v[off + i + h];
        v[off + i] = R(R(x1 * cs[i]) + R(-x2 * sn[i]));
        v[off + i + h] = R(R(x2 * cs[i]) + R(x1 * sn[i]));
    }
}

/* bf16(cos(pos*inv)), bf16(sin(pos*inv)) with the angle in fp32. */
static void rope_table(int pos, const float *inv, int n, float *cs, float *sn)
{
    for (int i = 0; i < n; i++) {
        float a = (float)pos * inv[i];
        cs[i] = R(cosf(a));
        sn[i] = R(sinf(a));
    }
}

/* Eager attention (M eager_attention_forward): s = bf16(q.k) (scale 1),
 * masked, softmax in fp32, p = bf16(p), out = bf16(sum p v). q [T, Hq, d],
 * k and v [T, Hkv, d], out [T, Hq, d]. */
typedef int (*allow_fn)(const void *ctx, int q, int k);

static void attend(const float *q, const float *k, const float *v, int T, int Hq, int Hkv, int d,
                   allow_fn allow, const void *actx, float *out, float *s)
{
    int grp = Hq / Hkv;
    for (int t = 0; t < T; t++)
        for (int h = 0; h < Hq; h++) {
            const float *qv = q + ((size_t)t * Hq + h) * d;
            int kh = h / grp;
            float m = -INFINITY;
            for (int j = 0; j < T; j++) {
                if (!allow(actx, t, j)) {
                    s[j] = -INFINITY;
                    continue;
                }
                const float *kv = k + ((size_t)j * Hkv + kh) * d;
                double acc = 0;
                for (int i = 0; i < d; i++)
                    acc += (double)qv[i] * kv[i];
                s[j] = R((float)acc);
                if (s[j] > m)
                    m = s[j];
            }
            float sum = 0;
            for (int j = 0; j < T; j++) {
                s[j] = s[j] == -INFINITY ? 0.0f : expf(s[j] - m);
                sum += s[j];
            }
            for (int j = 0; j < T; j++)
                s[j] = R(s[j] / sum);
            float *o = out + ((size_t)t * Hq + h) * d;
            for (int i = 0; i < d; i++) {
                double acc = 0;
                for (int j = 0; j < T; j++)
                    if (s[j] != 0.0f)
                        acc += (double)s[j] * v[((size_t)j * Hkv + kh) * d + i];
                o[i] = R((float)acc);
            }
        }
}

/* ---- vision tower (section 4) ---- */

static int allow_valid_key(const void *ctx, int q, int k)
{
    (void)q;
    return !((const unsigned char *)ctx)[k];
}

/* The soft tokens of every image, in order: feat [soft, text hidden]. */
static int vision(fw *f, const pf_g4_inputs *in, float *feat)
{
    const pf_g4_config *c = f->c;
    const pf_g4_vision_config *v = &c->vision;
    int D = v->hidden, P = in->max_patches, pd = in->patch_dim, hd = v->head_dim;
    int Hq = v->heads, Hkv = v->kv_heads, I = v->intermediate, k = v->pooling_kernel;
    int H = c->text.hidden, half = hd / 2, quarter = hd / 4;
    if (hd % 4)
        return pf_error_set("vision_config.head_dim %d: the 2D RoPE needs a multiple of 4", hd);
    if (Hq % Hkv)
        return pf_error_set("vision_config: %d heads are not a multiple of %d kv heads", Hq, Hkv);
    int wide = D > I ? D : I;
    if (Hq * hd > wide)
        wide = Hq * hd;
    if (pd > wide)
        wide = pd;
    size_t big = (size_t)P * wide;
    float *x = malloc((size_t)P * D * sizeof *x), *xn = malloc(big * sizeof *xn);
    float *q = malloc((size_t)P * Hq * hd * sizeof *q), *kk = malloc((size_t)P * Hkv * hd * sizeof *kk);
    float *vv = malloc((size_t)P * Hkv * hd * sizeof *vv), *att = malloc(big * sizeof *att);
    float *g = malloc(big * sizeof *g), *u = malloc(big * sizeof *u), *tmp = malloc(big * sizeof *tmp);
    float *s = malloc((size_t)P * sizeof *s), *cs = malloc((size_t)P * hd * sizeof *cs);
    float *sn = malloc((size_t)P * hd * sizeof *sn), *inv = malloc((size_t)quarter * sizeof *inv);
    double *acc = malloc((size_t)P * D * sizeof *acc);
    unsigned char *pad = malloc((size_t)P);
    int rc = 0, row = 0;
    if (!x || !xn || !q || !kk || !vv || !att || !g || !u || !tmp || !s || !cs || !sn || !inv ||
        !acc || !pad)
        rc = pf_error_set("out of memory");
    const uint16_t *inproj = need(f, "vision:patch_embedder.input_proj.weight");
    const uint16_t *table = need(f, "vision:patch_embedder.position_embedding_table");
    const uint16_t *proj = need(f, "embed:embedding_projection.weight");
    const uint16_t *sbias = v->standardize ? need(f, "vision:std_bias") : NULL;
    const uint16_t *sscale = v->standardize ? need(f, "vision:std_scale") : NULL;
    if (f->rc)
        rc = -1;
    /* inv_j = 100^(-2j/(d/2)), j < d/4, fp32 (M compute_axial_rope_parameters) */
    for (int j = 0; !rc && j < quarter; j++)
        inv[j] = 1.0f / powf((float)v->rope_theta, (float)(2 * j) / (float)half);
    int npos = v->position_embedding_size;
    for (int img = 0; !rc && img < in->n_images; img++) {
        const float *pv = in->pixel_values + (size_t)img * P * pd;
        const int32_t *pos = in->image_position_ids + (size_t)img * P * 2;
        for (int j = 0; j < P; j++)
            pad[j] = pos[2 * j] == -1 && pos[2 * j + 1] == -1;
        /* patch embed: input_proj(2 * (pv - 0.5)) on bf16 pixels, + T[0][x] + T[1][y] */
        for (size_t i = 0; i < (size_t)P * pd; i++)
            tmp[i] = 2.0f * R(R(pv[i]) - 0.5f);
        linear(tmp, P, pd, inproj, D, x);
        for (int j = 0; j < P; j++) {
            if (pad[j])
                continue;
            const uint16_t *tx = table + (size_t)pos[2 * j] * D;
            const uint16_t *ty = table + ((size_t)npos + pos[2 * j + 1]) * D;
            for (int d = 0; d < D; d++)
                x[(size_t)j * D + d] = R(x[(size_t)j * D + d] + R(F(tx[d]) + F(ty[d])));
        }
        /* 2D RoPE tables: first half of the head rotates by x, second by y */
        for (int j = 0; j < P; j++) {
            rope_table(pos[2 * j], inv, quarter, cs + (size_t)j * hd, sn + (size_t)j * hd);
            rope_table(pos[2 * j + 1], inv, quarter, cs + (size_t)j * hd + quarter,
                       sn + (size_t)j * hd + quarter);
        }
        for (int l = 0; !rc && l < v->layers; l++) {
            const uint16_t *n_in = need(f, "vision:encoder.layers.%d.input_layernorm.weight", l);
            const uint16_t *n_pa = need(f, "vision:encoder.layers.%d.post_attention_layernorm.weight", l);
            const uint16_t *n_pf = need(f, "vision:encoder.layers.%d.pre_feedforward_layernorm.weight", l);
            const uint16_t *n_po = need(f, "vision:encoder.layers.%d.post_feedforward_layernorm.weight", l);
            const uint16_t *qn = need(f, "vision:encoder.layers.%d.self_attn.q_norm.weight", l);
            const uint16_t *kn = need(f, "vision:encoder.layers.%d.self_attn.k_norm.weight", l);
            vlin lq = vision_linear(f, l, "self_attn.q_proj"), lk = vision_linear(f, l, "self_attn.k_proj");
            vlin lv = vision_linear(f, l, "self_attn.v_proj"), lo = vision_linear(f, l, "self_attn.o_proj");
            vlin lg = vision_linear(f, l, "mlp.gate_proj"), lu = vision_linear(f, l, "mlp.up_proj");
            vlin ld = vision_linear(f, l, "mlp.down_proj");
            if (f->rc) {
                rc = -1;
                break;
            }
            rmsnorm(x, P, D, n_in, v->rms_eps, xn);
            vision_apply(&lq, xn, P, D, Hq * hd, q, tmp);
            vision_apply(&lk, xn, P, D, Hkv * hd, kk, tmp);
            vision_apply(&lv, xn, P, D, Hkv * hd, vv, tmp);
            rmsnorm(q, P * Hq, hd, qn, v->rms_eps, q);
            rmsnorm(kk, P * Hkv, hd, kn, v->rms_eps, kk);
            rmsnorm(vv, P * Hkv, hd, NULL, v->rms_eps, vv);
            for (int j = 0; j < P; j++) {
                for (int h = 0; h < Hq; h++)
                    for (int part = 0; part < 2; part++)
                        rope_pairs(q + ((size_t)j * Hq + h) * hd, part * half, quarter,
                                   cs + (size_t)j * hd + part * quarter,
                                   sn + (size_t)j * hd + part * quarter);
                for (int h = 0; h < Hkv; h++)
                    for (int part = 0; part < 2; part++)
                        rope_pairs(kk + ((size_t)j * Hkv + h) * hd, part * half, quarter,
                                   cs + (size_t)j * hd + part * quarter,
                                   sn + (size_t)j * hd + part * quarter);
            }
            attend(q, kk, vv, P, Hq, Hkv, hd, allow_valid_key, pad, att, s);
            vision_apply(&lo, att, P, Hq * hd, D, g, tmp);
            rmsnorm(g, P, D, n_pa, v->rms_eps, g);
            for (size_t i = 0; i < (size_t)P * D; i++)
                x[i] = R(x[i] + g[i]);
            rmsnorm(x, P, D, n_pf, v->rms_eps, xn);
            vision_apply(&lg, xn, P, D, I, g, tmp);
            vision_apply(&lu, xn, P, D, I, u, tmp);
            geglu(g, u, att, (size_t)P * I);
            vision_apply(&ld, att, P, I, D, g, tmp);
            rmsnorm(g, P, D, n_po, v->rms_eps, g);
            for (size_t i = 0; i < (size_t)P * D; i++)
                x[i] = R(x[i] + g[i]);
        }
        if (rc)
            break;
        /* pooling: cell = x/k + (wp/k)*(y/k), sum/k^2 in fp32, bf16, * sqrt(D) */
        int wp, hp;
        pf_g4_image_grid(in, img, &wp, &hp);
        int cells = (wp / k) * (hp / k);
        memset(acc, 0, (size_t)cells * D * sizeof *acc);
        float wk = 1.0f / (float)(k * k);
        for (int j = 0; j < P; j++) {
            if (pad[j])
                continue;
            int cell = pos[2 * j] / k + (wp / k) * (pos[2 * j + 1] / k);
            for (int d = 0; d < D; d++)
                acc[(size_t)cell * D + d] += (double)(x[(size_t)j * D + d] * wk);
        }
        float root = (float)sqrt((double)D);
        for (int cidx = 0; cidx < cells; cidx++) {
            float *o = tmp + (size_t)cidx * D;
            for (int d = 0; d < D; d++) {
                float h = R((float)acc[(size_t)cidx * D + d]) * root;
                if (v->standardize)
                    h = (h - F(sbias[d])) * F(sscale[d]);
                o[d] = R(h);
            }
        }
        /* embed_vision: Linear(RMSNorm_noscale(h)) */
        rmsnorm(tmp, cells, D, NULL, v->rms_eps, xn);
        linear(xn, cells, D, proj, H, feat + (size_t)row * H);
        row += cells;
    }
    free(x), free(xn), free(q), free(kk), free(vv), free(att), free(g), free(u), free(tmp);
    free(s), free(cs), free(sn), free(inv), free(acc), free(pad);
    return rc;
}

/* The images, then the video frames, through the tower: feat rows in that
 * order (the image tokens take the first rows, the video tokens the rest). */
static int encode_items(fw *f, const pf_g4_inputs *in, float *feat)
{
    pf_g4_vision_items it;
    if (!in->n_images && !in->n_frames)
        return 0;
    if (pf_g4_vision_items_make(in, &it))
        return -1;
    int rc = vision(f, &it.v, feat);
    pf_g4_vision_items_free(&it);
    return rc;
}

int pf_g4_ref_vision(const pf_g4_config *c, const pf_weight_set *w, const pf_g4_inputs *in,
                     float *soft)
{
    if (!c->has_vision)
        return pf_error_set("vision_config: the model has no vision tower");
    if (pf_g4_inputs_check(c, in, NULL))
        return -1;
    fw f = {c, w, 0};
    return encode_items(&f, in, soft);
}

/* ---- text decoder (sections 1, 2, 3, 5) ---- */

typedef struct tmask {
    int full, window;
    const int *group; /* request-local vision group per token (-1: none) or NULL */
} tmask;

static int allow_text(const void *ctx, int q, int k)
{
    const tmask *m = ctx;
    if (m->full) /* full layers: pure causal, vision groups or not */
        return k <= q;
    int same = m->group && m->group[q] >= 0 && m->group[q] == m->group[k];
    return (k <= q || same) && k > q - m->window;
}

/* inv_i of layer l's RoPE in fp32 (0 past the rotated pairs), d/2 values. */
static void text_inv(const pf_g4_text_config *t, int l, float *inv)
{
    const pf_g4_rope *r = t->layer_full[l] ? &t->rope_full : &t->rope_sliding;
    int d = pf_g4_layer_head_dim(t, l), pairs = pf_g4_rope_pairs(t, l);
    for (int i = 0; i < d / 2; i++) {
        inv[i] = i < pairs ? 1.0f / powf((float)r->theta, (float)(2 * i) / (float)d) : 0.0f;
        if (r->proportional)
            inv[i] /= (float)r->factor;
    }
}

typedef struct tbuf {
    float *x, *xn, *q, *k, *v, *att, *o, *g, *u, *a, *s, *cs, *sn, *inv;
    float *h1, *x2, *eo, *ea, *egu;
    double *comb;
    float *ple;        /* per-layer inputs [T, L*P] (section 6), or NULL */
    float *ks[2], *vs[2]; /* K/V stored per kind (0 sliding, 1 full) for kv-shared layers */
} tbuf;

/* MoE block of layer l (section 2 MoE): h = post_ff_1(h) + post_ff_2(experts(pre_ff_2(r), router(r))). */
static void moe(fw *f, int l, int T, const float *r, float *h, tbuf *b)
{
    const pf_g4_text_config *t = &f->c->text;
    int H = t->hidden, E = t->num_experts, K = t->top_k_experts, I = t->moe_intermediate;
    const uint16_t *n1 = need(f, "lm:layers.%d.post_feedforward_layernorm_1.weight", l);
    const uint16_t *n2 = need(f, "lm:layers.%d.post_feedforward_layernorm_2.weight", l);
    const uint16_t *np2 = need(f, "lm:layers.%d.pre_feedforward_layernorm_2.weight", l);
    const uint16_t *rp = need(f, "lm:layers.%d.router.proj.weight", l);
    const uint16_t *rs = need(f, "lm:layers.%d.router.scale", l);
    const uint16_t *pes = need(f, "lm:layers.%d.router.per_expert_scale", l);
    const uint16_t *gu = need(f, "lm:layers.%d.experts.gate_up_proj", l);
    const uint16_t *dn = need(f, "lm:layers.%d.experts.down_proj", l);
    if (f->rc)
        return;
    rmsnorm(h, T, H, n1, t->rms_eps, b->h1);
    /* router: s = bf16(bf16(norm(r) * scale) * H^-0.5), logits = bf16(proj s) */
    float hinv = (float)pow((double)H, -0.5);
    rmsnorm(r, T, H, NULL, t->rms_eps, b->xn);
    for (int i = 0; i < T; i++)
        for (int j = 0; j < H; j++)
            b->xn[(size_t)i * H + j] = R(R(b->xn[(size_t)i * H + j] * F(rs[j])) * hinv);
    float *logit = b->g; /* [T, E] */
    linear(b->xn, T, H, rp, E, logit);
    rmsnorm(r, T, H, np2, t->rms_eps, b->x2);
    float *prob = malloc((size_t)E * sizeof *prob);
    int *idx = malloc((size_t)K * sizeof *idx);
    float *wk = malloc((size_t)K * sizeof *wk);
    unsigned char *used = malloc((size_t)E);
    for (int i = 0; i < T; i++) {
        const float *lg = logit + (size_t)i * E;
        float m = -INFINITY, sum = 0;
        for (int e = 0; e < E; e++)
            m = lg[e] > m ? lg[e] : m;
        for (int e = 0; e < E; e++)
            sum += prob[e] = expf(lg[e] - m);
        for (int e = 0; e < E; e++)
            prob[e] /= sum;
        memset(used, 0, (size_t)E);
        float wsum = 0;
        for (int kk = 0; kk < K; kk++) { /* top-k, ties to the lower index */
            int best = -1;
            for (int e = 0; e < E; e++)
                if (!used[e] && (best < 0 || prob[e] > prob[best]))
                    best = e;
            used[best] = 1;
            idx[kk] = best;
            wk[kk] = prob[best];
            wsum += wk[kk];
        }
        double *cb = b->comb;
        memset(cb, 0, (size_t)H * sizeof *cb);
        for (int kk = 0; kk < K; kk++) {
            float wgt = wk[kk] / wsum * F(pes[idx[kk]]);
            const uint16_t *we = gu + (size_t)idx[kk] * 2 * I * H;
            linear(b->x2 + (size_t)i * H, 1, H, we, 2 * I, b->egu);
            geglu(b->egu, b->egu + I, b->ea, (size_t)I);
            linear(b->ea, 1, I, dn + (size_t)idx[kk] * H * I, H, b->eo);
            for (int j = 0; j < H; j++) /* grouped_mm: fp32 products summed in fp32 */
                cb[j] = (float)((float)cb[j] + b->eo[j] * wgt);
        }
        for (int j = 0; j < H; j++)
            b->o[(size_t)i * H + j] = R((float)cb[j]);
    }
    free(prob), free(idx), free(wk), free(used);
    rmsnorm(b->o, T, H, n2, t->rms_eps, b->o);
    for (size_t i = 0; i < (size_t)T * H; i++)
        h[i] = R(b->h1[i] + b->o[i]);
}

/* Section 6 KV sharing: the last non-shared layer of each kind stores its
 * K (normed, RoPE'd) and V (v_normed); kv-shared layers attend to them.
 * n: values of K (and of V) over all tokens. */
static void kv_share(const pf_g4_text_config *t, int l, int n, tbuf *b)
{
    int full = t->layer_full[l];
    if (pf_g4_layer_kv_shared(t, l)) {
        memcpy(b->k, b->ks[full], (size_t)n * sizeof *b->k);
        memcpy(b->v, b->vs[full], (size_t)n * sizeof *b->v);
    } else if (t->kv_shared) {
        memcpy(b->ks[full], b->k, (size_t)n * sizeof *b->k); /* the last writer wins */
        memcpy(b->vs[full], b->v, (size_t)n * sizeof *b->v);
    }
}

/* Section 6, in layer l: h = post_per_layer_input_norm(per_layer_projection(
 * bf16(gelu(per_layer_input_gate r)) * ple_l)), r [T, H]. */
static void ple_block(fw *f, int l, int T, const float *r, float *h, tbuf *b)
{
    const pf_g4_text_config *t = &f->c->text;
    int H = t->hidden, P = t->ple_dim, LP = t->layers * t->ple_dim;
    const uint16_t *wg = need(f, "lm:layers.%d.per_layer_input_gate.weight", l);
    const uint16_t *wp = need(f, "lm:layers.%d.per_layer_projection.weight", l);
    const uint16_t *nw = need(f, "lm:layers.%d.post_per_layer_input_norm.weight", l);
    if (f->rc)
        return;
    linear(r, T, H, wg, P, b->g);
    for (int i = 0; i < T; i++)
        geglu(b->g + (size_t)i * P, b->ple + (size_t)i * LP + (size_t)l * P,
              b->a + (size_t)i * P, (size_t)P);
    linear(b->a, T, P, wp, H, h);
    rmsnorm(h, T, H, nw, t->rms_eps, h);
}

/* Section 6: ple = bf16(bf16(proj + tok) * 2^-0.5), [T, L*P], with tok =
 * bf16(E_ple[id'] * bf16(sqrt(P))) (multimodal ids as pad_token_id) and
 * proj = norm_P(bf16(bf16(W x) * H^-0.5)) of the merged embeddings x. */
static void ple_inputs(fw *f, const pf_g4_inputs *in, const float *x, float *ple, float *tok)
{
    const pf_g4_config *c = f->c;
    const pf_g4_text_config *t = &c->text;
    int T = in->tokens, H = t->hidden, LP = t->layers * t->ple_dim;
    const uint16_t *emb = need(f, "lm:embed_tokens_per_layer.weight");
    const uint16_t *wproj = need(f, "lm:per_layer_model_projection.weight");
    const uint16_t *nw = need(f, "lm:per_layer_projection_norm.weight");
    if (f->rc)
        return;
    float escale = R((float)sqrt((double)t->ple_dim)), hinv = (float)pow((double)H, -0.5);
    for (int i = 0; i < T; i++) {
        int id = in->input_ids[i];
        if (id == c->image_token_id || id == c->video_token_id || id == c->audio_token_id)
            id = t->pad_token_id;
        for (int j = 0; j < LP; j++)
            tok[(size_t)i * LP + j] = R(F(emb[(size_t)id * LP + j]) * escale);
    }
    linear(x, T, H, wproj, LP, ple);
    for (size_t i = 0; i < (size_t)T * LP; i++)
        ple[i] = R(ple[i] * hinv);
    rmsnorm(ple, T * t->layers, t->ple_dim, nw, t->rms_eps, ple);
    float half = (float)pow(2.0, -0.5);
    for (size_t i = 0; i < (size_t)T * LP; i++)
        ple[i] = R(R(ple[i] + tok[i]) * half);
}

/* Decoder layer l over all tokens (section 2). */
static void layer(fw *f, int l, const pf_g4_inputs *in, const int *group, tbuf *b)
{
    const pf_g4_text_config *t = &f->c->text;
    int T = in->tokens, H = t->hidden, Hq = t->heads, d = pf_g4_layer_head_dim(t, l);
    int Hkv = pf_g4_layer_kv_heads(t, l), I = pf_g4_layer_intermediate(t, l);
    int shared = pf_g4_layer_kv_shared(t, l);
    const uint16_t *n_in = need(f, "lm:layers.%d.input_layernorm.weight", l);
    const uint16_t *n_pa = need(f, "lm:layers.%d.post_attention_layernorm.weight", l);
    const uint16_t *n_pf = need(f, "lm:layers.%d.pre_feedforward_layernorm.weight", l);
    const uint16_t *n_po = need(f, "lm:layers.%d.post_feedforward_layernorm.weight", l);
    const uint16_t *wq = need(f, "lm:layers.%d.self_attn.q_proj.weight", l);
    const uint16_t *wk = shared ? NULL : need(f, "lm:layers.%d.self_attn.k_proj.weight", l);
    const uint16_t *wv = !shared && pf_g4_layer_has_v(t, l)
                             ? need(f, "lm:layers.%d.self_attn.v_proj.weight", l) : NULL;
    const uint16_t *wo = need(f, "lm:layers.%d.self_attn.o_proj.weight", l);
    const uint16_t *qn = need(f, "lm:layers.%d.self_attn.q_norm.weight", l);
    const uint16_t *kn = shared ? NULL : need(f, "lm:layers.%d.self_attn.k_norm.weight", l);
    const uint16_t *wg = need(f, "lm:layers.%d.mlp.gate_proj.weight", l);
    const uint16_t *wu = need(f, "lm:layers.%d.mlp.up_proj.weight", l);
    const uint16_t *wd = need(f, "lm:layers.%d.mlp.down_proj.weight", l);
    const uint16_t *ls = need(f, "lm:layers.%d.layer_scalar", l);
    if (f->rc)
        return;
    rmsnorm(b->x, T, H, n_in, t->rms_eps, b->xn);
    linear(b->xn, T, H, wq, Hq * d, b->q);
    if (!shared) {
        linear(b->xn, T, H, wk, Hkv * d, b->k);
        if (wv) /* else k_eq_v: V is the raw k projection */
            linear(b->xn, T, H, wv, Hkv * d, b->v);
        else
            memcpy(b->v, b->k, (size_t)T * Hkv * d * sizeof *b->v);
        rmsnorm(b->k, T * Hkv, d, kn, t->rms_eps, b->k);
        rmsnorm(b->v, T * Hkv, d, NULL, t->rms_eps, b->v);
    }
    rmsnorm(b->q, T * Hq, d, qn, t->rms_eps, b->q);
    text_inv(t, l, b->inv);
    if (shared) /* K/V of the source layer, already normed and RoPE'd */
        kv_share(t, l, T * Hkv * d, b);
    int base = 0;
    for (int r = 0; r < in->batch; r++) { /* positions restart per request */
        for (int p = 0; p < in->req_len[r]; p++) {
            rope_table(p, b->inv, d / 2, b->cs, b->sn);
            for (int h = 0; h < Hq; h++)
                rope_pairs(b->q + ((size_t)(base + p) * Hq + h) * d, 0, d / 2, b->cs, b->sn);
            for (int h = 0; !shared && h < Hkv; h++)
                rope_pairs(b->k + ((size_t)(base + p) * Hkv + h) * d, 0, d / 2, b->cs, b->sn);
        }
        tmask m = {t->layer_full[l], t->sliding_window, group ? group + base : NULL};
        attend(b->q + (size_t)base * Hq * d, b->k + (size_t)base * Hkv * d,
               b->v + (size_t)base * Hkv * d, in->req_len[r], Hq, Hkv, d, allow_text, &m,
               b->att + (size_t)base * Hq * d, b->s);
        base += in->req_len[r];
    }
    if (!shared)
        kv_share(t, l, T * Hkv * d, b);
    linear(b->att, T, Hq * d, wo, H, b->o);
    rmsnorm(b->o, T, H, n_pa, t->rms_eps, b->o);
    for (size_t i = 0; i < (size_t)T * H; i++)
        b->x[i] = R(b->x[i] + b->o[i]);
    /* r = x; h = mlp(pre_ff(r)) */
    rmsnorm(b->x, T, H, n_pf, t->rms_eps, b->xn);
    linear(b->xn, T, H, wg, I, b->g);
    linear(b->xn, T, H, wu, I, b->u);
    geglu(b->g, b->u, b->a, (size_t)T * I);
    float *h = b->att; /* [T, H] */
    linear(b->a, T, I, wd, H, h);
    if (t->moe)
        moe(f, l, T, b->x, h, b);
    if (f->rc)
        return;
    rmsnorm(h, T, H, n_po, t->rms_eps, h);
    if (t->ple_dim) { /* section 6: x = r + ple block(r), before layer_scalar */
        for (size_t i = 0; i < (size_t)T * H; i++)
            b->x[i] = R(b->x[i] + h[i]);
        ple_block(f, l, T, b->x, h, b);
        if (f->rc)
            return;
    }
    float sc = F(ls[0]);
    for (size_t i = 0; i < (size_t)T * H; i++)
        b->x[i] = R(R(b->x[i] + h[i]) * sc);
}

/* Vision group per token: maximal runs of type 1/2 per request (HF
 * get_block_sequence_ids_for_mask), -1 elsewhere. */
static void vision_groups(const pf_g4_inputs *in, int *group)
{
    int base = 0;
    for (int r = 0; r < in->batch; r++) {
        int id = -1, prev = 0;
        for (int p = 0; p < in->req_len[r]; p++) {
            int ty = in->mm_token_type_ids[base + p];
            int vis = ty == PF_G4_MM_IMAGE || ty == PF_G4_MM_VIDEO;
            if (vis && !prev)
                id++;
            group[base + p] = vis ? id : -1;
            prev = vis;
        }
        base += in->req_len[r];
    }
}

int pf_g4_ref_forward(const pf_g4_config *c, const pf_weight_set *w, const pf_g4_inputs *in,
                      int use_mm_types, float *logits)
{
    if (pf_g4_inputs_check(c, in, NULL))
        return -1;
    const pf_g4_text_config *t = &c->text;
    fw f = {c, w, 0};
    int T = in->tokens, H = t->hidden, V = t->vocab;
    int qd = 0, kvd = 0, maxd = 0;
    for (int l = 0; l < t->layers; l++) {
        int d = pf_g4_layer_head_dim(t, l), kv = pf_g4_layer_kv_heads(t, l);
        if (t->heads % kv)
            return pf_error_set("text_config: %d heads are not a multiple of %d kv heads (layer %d)",
                                t->heads, kv, l);
        qd = t->heads * d > qd ? t->heads * d : qd;
        kvd = kv * d > kvd ? kv * d : kvd;
        maxd = d > maxd ? d : maxd;
    }
    int wide = H > pf_g4_max_intermediate(t) ? H : pf_g4_max_intermediate(t);
    wide = qd > wide ? qd : wide;
    wide = t->ple_dim > wide ? t->ple_dim : wide;
    int we = t->moe ? t->num_experts : 0;
    wide = we > wide ? we : wide;
    size_t tw = (size_t)T * wide;
    long long soft = 0;
    long long n_img = 0; /* image soft tokens: the video ones follow them in feat */
    for (int i = 0; i < T; i++) {
        n_img += in->input_ids[i] == c->image_token_id;
        soft += in->input_ids[i] == c->image_token_id || in->input_ids[i] == c->video_token_id;
    }
    tbuf b = {0};
    b.x = malloc((size_t)T * H * sizeof(float));
    b.xn = malloc((size_t)T * H * sizeof(float));
    b.q = malloc((size_t)T * qd * sizeof(float));
    b.k = malloc((size_t)T * kvd * sizeof(float));
    b.v = malloc((size_t)T * kvd * sizeof(float));
    b.att = malloc(tw * sizeof(float));
    b.o = malloc((size_t)T * H * sizeof(float));
    b.g = malloc(tw * sizeof(float));
    b.u = malloc(tw * sizeof(float));
    b.a = malloc(tw * sizeof(float));
    b.s = malloc((size_t)T * sizeof(float));
    b.cs = malloc((size_t)maxd * sizeof(float));
    b.sn = malloc((size_t)maxd * sizeof(float));
    b.inv = malloc((size_t)maxd * sizeof(float));
    int mI = t->moe ? t->moe_intermediate : 1;
    b.h1 = malloc((size_t)T * H * sizeof(float));
    b.x2 = malloc((size_t)T * H * sizeof(float));
    b.eo = malloc((size_t)H * sizeof(float));
    b.ea = malloc((size_t)mI * sizeof(float));
    b.egu = malloc((size_t)2 * mI * sizeof(float));
    b.comb = malloc((size_t)H * sizeof(double));
    float *feat = malloc((size_t)(soft ? soft : 1) * H * sizeof(float));
    int *group = malloc((size_t)T * sizeof(int));
    int rc = 0;
    size_t lp = (size_t)T * t->layers * t->ple_dim, kvn = t->kv_shared ? (size_t)T * kvd : 0;
    float *tok = lp ? malloc(lp * sizeof *tok) : NULL;
    b.ple = lp ? malloc(lp * sizeof *b.ple) : NULL;
    for (int i = 0; i < 2 && kvn; i++) {
        b.ks[i] = malloc(kvn * sizeof(float));
        b.vs[i] = malloc(kvn * sizeof(float));
        rc = !b.ks[i] || !b.vs[i] ? -1 : rc;
    }
    if (rc || (lp && (!tok || !b.ple)))
        rc = -1;
    if (!b.x || !b.xn || !b.q || !b.k || !b.v || !b.att || !b.o || !b.g || !b.u || !b.a || !b.s ||
        !b.cs || !b.sn || !b.inv || !b.h1 || !b.x2 || !b.eo || !b.ea || !b.egu || !b.comb ||
        !feat || !group || rc)
        rc = pf_error_set("out of memory");
    if (!rc)
        rc = encode_items(&f, in, feat);
    /* section 1: multimodal ids look up pad_token_id, scaled by bf16(sqrt(H));
     * image tokens then take the image soft tokens in order, video tokens
     * the frames' soft tokens in order, unscaled */
    const uint16_t *emb = rc ? NULL : need(&f, "lm:embed_tokens.weight");
    if (f.rc)
        rc = -1;
    if (!rc) {
        float scale = R((float)sqrt((double)H));
        long long row = 0, vrow = n_img;
        for (int i = 0; i < T; i++) {
            int id = in->input_ids[i];
            float *xr = b.x + (size_t)i * H;
            if (id == c->image_token_id || id == c->video_token_id) {
                long long r = id == c->image_token_id ? row++ : vrow++;
                memcpy(xr, feat + (size_t)r * H, (size_t)H * sizeof *xr);
                continue;
            }
            if (id == c->audio_token_id)
                id = t->pad_token_id;
            for (int j = 0; j < H; j++)
                xr[j] = R(F(emb[(size_t)id * H + j]) * scale);
        }
    }
    if (!rc && t->ple_dim) {
        ple_inputs(&f, in, b.x, b.ple, tok);
        rc = f.rc;
    }
    int bidir = use_mm_types && in->mm_token_type_ids && t->bidir_vision;
    if (bidir)
        vision_groups(in, group);
    for (int l = 0; !rc && l < t->layers; l++) {
        layer(&f, l, in, bidir ? group : NULL, &b);
        rc = f.rc;
    }
    /* section 3: final norm, tied lm_head, softcap as 3 bf16 ops */
    const uint16_t *nw = rc ? NULL : need(&f, "lm:norm.weight");
    if (!rc && f.rc)
        rc = -1;
    if (!rc) {
        rmsnorm(b.x, T, H, nw, t->rms_eps, b.xn);
        linear(b.xn, T, H, emb, V, logits);
        if (t->softcap > 0) {
            float cap = (float)t->softcap;
            for (size_t i = 0; i < (size_t)T * V; i++)
                logits[i] = R(R(tanhf(R(logits[i] / cap))) * cap);
        }
    }
    free(b.x), free(b.xn), free(b.q), free(b.k), free(b.v), free(b.att), free(b.o), free(b.g);
    free(b.u), free(b.a), free(b.s), free(b.cs), free(b.sn), free(b.inv), free(b.h1), free(b.x2);
    free(b.eo), free(b.ea), free(b.egu), free(b.comb), free(feat), free(group);
    free(tok), free(b.ple), free(b.ks[0]), free(b.ks[1]), free(b.vs[0]), free(b.vs[1]);
    return rc;
}
