/* The Gemma-3 reference forward (see gemma3_ref_forward.h). Each step names
 * the facts-sheet section it follows; bf16 rounding sites are facts
 * section 7. Activations are bf16 bits (uint16_t) in row-major [tokens, dim]
 * arrays; requests are concatenated, and only attention looks across rows. */
#include "models/gemma3_ref_forward.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"
#include "kernels/pf_numeric.h"
#include "models/ops.h"
#include "models/ops_ref.h"

typedef uint16_t bf16;

#define F(h) pf_bf16_to_f32(h)
#define B(f) pf_f32_to_bf16(f)

/* bf16 of a double, rounded once (to nearest even): a plain (float) first
 * would round twice where the float lands on a bf16 tie. */
static float round_bf16_d(double d)
{
    float f = (float)d;
    if ((pf_f32_bits(f) & 0xffff) == 0x8000 && (double)f != d)
        f = nextafterf(f, d > f ? INFINITY : -INFINITY);
    return pf_round_bf16(f);
}

/* sum a[i] * b[i * stride] in double. HF's CPU GEMMs accumulate in fp32 in
 * an order of their kernel's choosing (vector lanes over k or over the
 * output, depending on the layout); the double sum is the order-free value
 * they approximate, so the one rounding after it differs from HF's only
 * where HF's fp32 error crosses a bf16 rounding boundary (a few outputs in
 * ten thousand, then propagated). */
static double dot(const bf16 *a, const bf16 *b, int n, long long stride)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += (double)F(a[i]) * F(b[i * stride]);
    return s;
}

/* y[m,n] = bf16(x[m,k] W + bias): one rounding per output, the bias added
 * before it. W is nn.Linear's [n,k], or [k,n] when kn (the projector's
 * x @ W). */
static void linear(const bf16 *x, long long m, int k, const bf16 *W, int n, int kn,
                   const bf16 *bias, bf16 *y)
{
    for (long long i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = kn ? dot(x + i * k, W + j, k, n) : dot(x + i * k, W + (long long)j * k, k, 1);
            y[i * n + j] = B(round_bf16_d(bias ? s + F(bias[j]) : s));
        }
}

/* Which keys a query sees (facts section 5; DESIGN "Mask semantics"). */
typedef struct mask {
    int bidirectional; /* the vision tower: every patch of the image */
    int window;        /* > 0: sliding layer, k > q - window */
    const int *group;  /* image group per token (-1 text), or NULL: causal only */
} mask;

static int visible(const mask *m, int q, int k)
{
    if (m->bidirectional)
        return 1;
    int ok = k <= q || (m->group && m->group[q] >= 0 && m->group[q] == m->group[k]);
    return ok && (m->window <= 0 || k > q - m->window);
}

/* Eager attention over one sequence of S tokens: q [S, nh*hd], k and v
 * [S, nkv*hd], out [S, nh*hd]; query head h reads kv head h / (nh/nkv).
 * Scores bf16(bf16(q.k) * scale) (the mask adds 0 or -inf: no rounding of
 * its own), softmax in double, probabilities rounded to bf16, then P.V
 * rounded once. */
static int attention(const bf16 *q, const bf16 *k, const bf16 *v, int S, int nh, int nkv,
                     int hd, float scale, const mask *m, bf16 *out)
{
    double *sc = malloc((size_t)S * sizeof *sc);
    float *p = malloc((size_t)S * sizeof *p);
    if (!sc || !p) {
        free(sc);
        free(p);
        return pf_error_set("out of memory for attention scores (%d keys)", S);
    }
    int group = nh / nkv;
    for (int h = 0; h < nh; h++) {
        int kh = h / group;
        for (int i = 0; i < S; i++) {
            const bf16 *qi = q + ((long long)i * nh + h) * hd;
            double mx = -INFINITY;
            for (int j = 0; j < S; j++) {
                if (!visible(m, i, j))
                    continue;
                double d = dot(qi, k + ((long long)j * nkv + kh) * hd, hd, 1);
                sc[j] = pf_round_bf16(round_bf16_d(d) * scale);
                if (sc[j] > mx)
                    mx = sc[j];
            }
            double sum = 0;
            for (int j = 0; j < S; j++)
                if (visible(m, i, j))
                    sum += sc[j] = exp(sc[j] - mx);
            for (int j = 0; j < S; j++)
                p[j] = visible(m, i, j) ? round_bf16_d(sc[j] / sum) : 0.0f;
            bf16 *oi = out + ((long long)i * nh + h) * hd;
            for (int e = 0; e < hd; e++) {
                double o = 0;
                for (int j = 0; j < S; j++)
                    o += (double)p[j] * F(v[((long long)j * nkv + kh) * hd + e]);
                oi[e] = B(round_bf16_d(o));
            }
        }
    }
    free(sc);
    free(p);
    return 0;
}

/* Buffers freed together; failed is set if any allocation failed. */
#define MAXBUF 24
typedef struct bufs {
    void *p[MAXBUF];
    int n, failed;
} bufs;

static void *balloc(bufs *b, size_t count, size_t size)
{
    void *p = b->n < MAXBUF ? calloc(count ? count : 1, size) : NULL;
    if (p)
        b->p[b->n++] = p;
    else
        b->failed = 1;
    return p;
}

static void bfree(bufs *b)
{
    for (int i = 0; i < b->n; i++)
        free(b->p[i]);
    b->n = 0;
}

/* SigLIP tower + projector (facts section 4): pixels [n, C, R, R] -> image
 * features [n * mm_tokens_per_image, H] in token order. */
static int vision(const pf_g3_config *c, const pf_weight_set *w, const float *pix, int n,
                  bf16 *feat)
{
    const pf_g3_vision_config *v = &c->vision;
    int D = v->hidden, I = v->intermediate, P = v->patch_size, g = pf_g3_patches_per_side(c);
    int np = g * g, cols = v->channels * P * P, hd = D / v->heads, k = pf_g3_pool_kernel(c);
    long long rows = (long long)n * np;
    float eps = (float)v->ln_eps;
    bufs b = {0};
    bf16 *patches = balloc(&b, (size_t)rows * cols, 2), *x = balloc(&b, (size_t)rows * D, 2);
    bf16 *xn = balloc(&b, (size_t)rows * D, 2), *q = balloc(&b, (size_t)rows * D, 2);
    bf16 *kk = balloc(&b, (size_t)rows * D, 2), *vv = balloc(&b, (size_t)rows * D, 2);
    bf16 *att = balloc(&b, (size_t)rows * D, 2), *hid = balloc(&b, (size_t)rows * I, 2);
    bf16 *pooled = balloc(&b, (size_t)n * c->mm_tokens_per_image * D, 2);
    if (b.failed) {
        bfree(&b);
        return pf_error_set("out of memory for the vision tower (%d images)", n);
    }
    /* patch embedding: pixels cast to bf16, the conv as a GEMM + bias, then
     * + position_embedding[p] (its own rounding) */
    pf_ref_patchify(pix, patches, n, v->channels, v->image_size, P);
    linear(patches, rows, cols, pf_ws_get(w, "vision:embeddings.patch_embedding.weight"), D, 0,
           pf_ws_get(w, "vision:embeddings.patch_embedding.bias"), xn);
    pf_ref_add(xn, pf_ws_get(w, "vision:embeddings.position_embedding.weight"), x, rows * D,
               (long long)np * D);
    mask bidir = {1, 0, NULL};
    int rc = 0;
    for (int l = 0; l < v->layers && !rc; l++) {
#define VW(leaf) pf_ws_get(w, "vision:encoder.layers.%d." leaf, l)
        /* pre-LN attention, biases everywhere, scale (D/heads)^-0.5, no mask */
        pf_ref_layernorm(x, xn, VW("layer_norm1.weight"), VW("layer_norm1.bias"), (int)rows, D,
                         eps);
        linear(xn, rows, D, VW("self_attn.q_proj.weight"), D, 0, VW("self_attn.q_proj.bias"), q);
        linear(xn, rows, D, VW("self_attn.k_proj.weight"), D, 0, VW("self_attn.k_proj.bias"), kk);
        linear(xn, rows, D, VW("self_attn.v_proj.weight"), D, 0, VW("self_attn.v_proj.bias"), vv);
        for (int img = 0; img < n && !rc; img++) {
            long long o = (long long)img * np * D;
            rc = attention(q + o, kk + o, vv + o, np, v->heads, v->heads, hd,
                           (float)(1.0 / sqrt((double)hd)), &bidir, att + o);
        }
        linear(att, rows, D, VW("self_attn.out_proj.weight"), D, 0, VW("self_attn.out_proj.bias"),
               xn);
        pf_ref_add(x, xn, x, rows * D, 0);
        /* pre-LN MLP: fc2(gelu_tanh(fc1 x)) */
        pf_ref_layernorm(x, xn, VW("layer_norm2.weight"), VW("layer_norm2.bias"), (int)rows, D,
                         eps);
        linear(xn, rows, D, VW("mlp.fc1.weight"), I, 0, VW("mlp.fc1.bias"), hid);
        pf_ref_gelu(hid, NULL, hid, rows * I);
        linear(hid, rows, I, VW("mlp.fc2.weight"), D, 0, VW("mlp.fc2.bias"), xn);
        pf_ref_add(x, xn, x, rows * D, 0);
#undef VW
    }
    if (!rc) {
        pf_ref_layernorm(x, xn, pf_ws_get(w, "vision:post_layernorm.weight"),
                         pf_ws_get(w, "vision:post_layernorm.bias"), (int)rows, D, eps);
        /* projector: avg-pool k x k, Gemma RMSNorm (vision eps), x @ W [D, H] */
        long long t = (long long)n * c->mm_tokens_per_image;
        pf_ref_avgpool(xn, pooled, n, g, k, D);
        pf_ref_rmsnorm(pooled, pooled, pf_ws_get(w, "proj:mm_soft_emb_norm.weight"), (int)t, D,
                       eps);
        linear(pooled, t, D, pf_ws_get(w, "proj:mm_input_projection_weight"), c->text.hidden, 1,
               NULL, feat);
    }
    bfree(&b);
    return rc;
}

/* The decoder's per-token state shared by its layers. */
typedef struct lm_state {
    const pf_g3_config *c;
    const pf_weight_set *w;
    const pf_g3_inputs *in;
    const int *pos;    /* position of each token in its request */
    const int *group;  /* image group per token, per request (-1 text), or NULL */
    const bf16 *cos[2], *sin[2]; /* RoPE tables [npos, hd/2]; [1] full layers */
    bf16 *xn, *q, *k, *v, *att, *o, *gate, *up;
} lm_state;

/* One decoder layer in place on x [T, H] (facts section 2):
 *   h = x + post_attention_layernorm(attn(input_layernorm(x)))
 *   x = h + post_feedforward_layernorm(mlp(pre_feedforward_layernorm(h))) */
static int decoder_layer(const lm_state *s, int l, bf16 *x)
{
    const pf_g3_text_config *t = &s->c->text;
    const pf_weight_set *w = s->w;
    int T = s->in->tokens, H = t->hidden, I = t->intermediate, hd = t->head_dim;
    int nh = t->heads, nkv = t->kv_heads, full = t->layer_full[l];
    float eps = (float)t->rms_eps;
#define LW(leaf) pf_ws_get(w, "lm:layers.%d." leaf, l)
    pf_ref_rmsnorm(x, s->xn, LW("input_layernorm.weight"), T, H, eps);
    linear(s->xn, T, H, LW("self_attn.q_proj.weight"), nh * hd, 0, NULL, s->q);
    linear(s->xn, T, H, LW("self_attn.k_proj.weight"), nkv * hd, 0, NULL, s->k);
    linear(s->xn, T, H, LW("self_attn.v_proj.weight"), nkv * hd, 0, NULL, s->v);
    /* q/k norms over head_dim (one weight for all heads), before RoPE */
    pf_ref_rmsnorm(s->q, s->q, LW("self_attn.q_norm.weight"), T * nh, hd, eps);
    pf_ref_rmsnorm(s->k, s->k, LW("self_attn.k_norm.weight"), T * nkv, hd, eps);
    pf_ref_rope(s->q, s->cos[full], s->sin[full], s->pos, T, nh, hd);
    pf_ref_rope(s->k, s->cos[full], s->sin[full], s->pos, T, nkv, hd);
    /* attention within each request, with this layer kind's mask */
    float scale = pf_g3_attn_scale(s->c);
    int off = 0;
    for (int r = 0; r < s->in->batch; r++) {
        int S = s->in->req_len[r];
        mask m = {0, full ? 0 : t->sliding_window, s->group ? s->group + off : NULL};
        if (attention(s->q + (long long)off * nh * hd, s->k + (long long)off * nkv * hd,
                      s->v + (long long)off * nkv * hd, S, nh, nkv, hd, scale, &m,
                      s->att + (long long)off * nh * hd))
            return -1;
        off += S;
    }
    linear(s->att, T, nh * hd, LW("self_attn.o_proj.weight"), H, 0, NULL, s->o);
    pf_ref_rmsnorm(s->o, s->o, LW("post_attention_layernorm.weight"), T, H, eps);
    pf_ref_add(x, s->o, x, (long long)T * H, 0);
    /* GeGLU MLP: down(gelu_tanh(gate x) * up x) */
    pf_ref_rmsnorm(x, s->xn, LW("pre_feedforward_layernorm.weight"), T, H, eps);
    linear(s->xn, T, H, LW("mlp.gate_proj.weight"), I, 0, NULL, s->gate);
    linear(s->xn, T, H, LW("mlp.up_proj.weight"), I, 0, NULL, s->up);
    pf_ref_gelu(s->gate, s->up, s->gate, (long long)T * I);
    linear(s->gate, T, I, LW("mlp.down_proj.weight"), H, 0, NULL, s->o);
    pf_ref_rmsnorm(s->o, s->o, LW("post_feedforward_layernorm.weight"), T, H, eps);
    pf_ref_add(x, s->o, x, (long long)T * H, 0);
#undef LW
    return 0;
}

/* Inputs the forward can run, else a one-line error naming what is wrong. */
static int check_inputs(const pf_g3_config *c, const pf_g3_inputs *in)
{
    if (in->batch < 1 || !in->req_len || !in->input_ids)
        return pf_error_set("forward: no requests");
    long long sum = 0;
    for (int r = 0; r < in->batch; r++) {
        if (in->req_len[r] < 1)
            return pf_error_set("forward: request %d has %d tokens", r, in->req_len[r]);
        sum += in->req_len[r];
    }
    if (sum != in->tokens)
        return pf_error_set("forward: request lengths sum to %lld, tokens is %d", sum,
                            in->tokens);
    long long images = 0;
    for (int t = 0; t < in->tokens; t++) {
        int id = in->input_ids[t];
        if (c->has_vision && id == c->image_token_index)
            images++;
        else if (id < 0 || id >= c->text.vocab)
            return pf_error_set("forward: input_ids[%d] = %d is outside the vocabulary [0, %d)",
                                t, id, c->text.vocab);
    }
    if (in->n_images < 0 || (in->n_images > 0 && !c->has_vision))
        return pf_error_set("forward: %d images, but the model has no vision tower",
                            in->n_images);
    if (in->n_images > 0 && !in->pixel_values)
        return pf_error_set("forward: %d images without pixel_values", in->n_images);
    if (images != (long long)in->n_images * c->mm_tokens_per_image)
        return pf_error_set("forward: input_ids hold %lld image tokens (id %d), %d images need "
                            "%lld (mm_tokens_per_image %d)", images, c->image_token_index,
                            in->n_images, (long long)in->n_images * c->mm_tokens_per_image,
                            c->mm_tokens_per_image);
    return 0;
}

/* Every tensor of the config present with its size (a weight set built for
 * another config would otherwise be read out of bounds). */
static int check_weights(const pf_g3_config *c, const pf_weight_set *w)
{
    pf_g3_spec *s;
    int n, rc = 0;
    if (pf_g3_weight_specs(c, &s, &n))
        return -1;
    for (int i = 0; i < n && !rc; i++) {
        const pf_g3_spec *have = pf_ws_spec(w, s[i].name);
        if (!have || have->count != s[i].count)
            rc = pf_error_set("forward: weight set %s tensor '%s' of this config",
                              have ? "has another size for" : "lacks", s[i].name);
    }
    free(s);
    return rc;
}

/* Image group of each token (facts section 5): the index of the maximal run
 * of token_type_ids == 1 it belongs to within its request, -1 for text. */
static void image_groups(const pf_g3_inputs *in, int *group)
{
    int off = 0;
    for (int r = 0; r < in->batch; r++) {
        int next = 0;
        for (int i = 0; i < in->req_len[r]; i++) {
            int t = off + i, img = in->token_type_ids[t] == 1;
            int prev = i > 0 && in->token_type_ids[t - 1] == 1;
            group[t] = img ? (prev ? group[t - 1] : next++) : -1;
        }
        off += in->req_len[r];
    }
}

int pf_g3_ref_forward(const pf_g3_config *c, const pf_weight_set *w, const pf_g3_inputs *in,
                      float *logits)
{
    if (check_inputs(c, in) || check_weights(c, w))
        return -1;
    const pf_g3_text_config *t = &c->text;
    int T = in->tokens, H = t->hidden, hd = t->head_dim, V = t->vocab, npos = 0;
    long long qn = (long long)T * t->heads * hd, kvn = (long long)T * t->kv_heads * hd;
    long long mm = (long long)in->n_images * c->mm_tokens_per_image;
    for (int r = 0; r < in->batch; r++)
        npos = in->req_len[r] > npos ? in->req_len[r] : npos;
    bufs b = {0};
    lm_state s = {.c = c, .w = w, .in = in};
    bf16 *x = balloc(&b, (size_t)T * H, 2), *feat = balloc(&b, (size_t)mm * H, 2);
    int *ids = balloc(&b, (size_t)T, sizeof(int)), *feat_row = balloc(&b, (size_t)T, sizeof(int));
    int *pos = balloc(&b, (size_t)T, sizeof(int)), *group = balloc(&b, (size_t)T, sizeof(int));
    bf16 *rope = balloc(&b, (size_t)4 * npos * (hd / 2), 2);
    s.xn = balloc(&b, (size_t)T * H, 2);
    s.o = balloc(&b, (size_t)T * H, 2);
    s.q = balloc(&b, (size_t)qn, 2);
    s.att = balloc(&b, (size_t)qn, 2);
    s.k = balloc(&b, (size_t)kvn, 2);
    s.v = balloc(&b, (size_t)kvn, 2);
    s.gate = balloc(&b, (size_t)T * t->intermediate, 2);
    s.up = balloc(&b, (size_t)T * t->intermediate, 2);
    if (b.failed) {
        bfree(&b);
        return pf_error_set("out of memory for a forward of %d tokens", T);
    }
    int rc = in->n_images > 0 ? vision(c, w, in->pixel_values, in->n_images, feat) : 0;

    /* embedding (facts section 1): bf16(E[id] * bf16(sqrt H)); image tokens
     * take the projector's features in order, unscaled */
    for (int i = 0, next = 0; i < T; i++) {
        int img = c->has_vision && in->input_ids[i] == c->image_token_index;
        ids[i] = img && in->input_ids[i] >= V ? 0 : in->input_ids[i];
        feat_row[i] = img ? next++ : -1;
    }
    pf_ref_embed(ids, feat_row, pf_ws_get(w, "lm:embed_tokens.weight"), feat, x, T, H,
                 pf_round_bf16((float)sqrt((double)H))); /* python float -> fp32 -> bf16 */

    /* positions restart at 0 in each request; RoPE tables per layer kind */
    for (int r = 0, off = 0; r < in->batch; off += in->req_len[r++])
        for (int i = 0; i < in->req_len[r]; i++)
            pos[off + i] = i;
    long long tab = (long long)npos * (hd / 2);
    pf_rope_tables(t->rope_sliding.theta, t->rope_sliding.factor, hd, npos, rope, rope + tab);
    pf_rope_tables(t->rope_full.theta, t->rope_full.factor, hd, npos, rope + 2 * tab,
                   rope + 3 * tab);
    s.cos[0] = rope, s.sin[0] = rope + tab, s.cos[1] = rope + 2 * tab, s.sin[1] = rope + 3 * tab;
    s.pos = pos;
    if (in->token_type_ids && c->has_vision) { /* CausalLM has no image groups */
        image_groups(in, group);
        s.group = group;
    }
    for (int l = 0; l < t->layers && !rc; l++)
        rc = decoder_layer(&s, l, x);

    /* final norm, tied lm_head: logits = bf16(h E^T), no softcapping */
    if (!rc) {
        pf_ref_rmsnorm(x, s.xn, pf_ws_get(w, "lm:norm.weight"), T, H, (float)t->rms_eps);
        const bf16 *E = pf_ws_get(w, "lm:embed_tokens.weight");
        for (long long i = 0; i < T; i++)
            for (int j = 0; j < V; j++)
                logits[i * V + j] = round_bf16_d(dot(s.xn + i * H, E + (long long)j * H, H, 1));
    }
    bfree(&b);
    return rc;
}
