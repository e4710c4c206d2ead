/* SigLIP vision tower and the Gemma-3 projector on the device
 * (../shared/models/gemma3-facts.md section 4): patch embedding as a GEMM,
 * learned positions, pre-LN encoder layers with biases and bidirectional
 * attention over each image, post-layernorm; then average pool, Gemma
 * RMSNorm (vision eps) and x @ W into the text width. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"
#include "models/gemma3_forward_state.h"

#define BF16 2

int g3_vision_setup(g3_fwd *f)
{
    const pf_g3_vision_config *vc = &f->c->vision;
    g3_vision_bufs *b = &f->vis;
    int g = pf_g3_patches_per_side(f->c), P = vc->patch_size, C = vc->channels;
    b->n_img = f->in->n_images;
    b->np = g * g;
    b->dim = vc->hidden;
    b->inter = vc->intermediate;
    b->heads = vc->heads;
    size_t N = (size_t)b->n_img * b->np, D = (size_t)b->dim;
    size_t npix = (size_t)b->n_img * C * vc->image_size * vc->image_size;
    int mm = f->c->mm_tokens_per_image;
    pf_dev_arena *a = &f->mem;
    int rc = pf_arena_upload(a, f->in->pixel_values, npix * sizeof(float), PF_MEM_ACTIVATIONS,
                             "pixel values", &b->pix);
    struct {
        pf_dptr *p;
        size_t bytes;
        const char *name;
    } bufs[] = {
        {&b->patches, N * C * P * P * BF16, "vision patches"},
        {&b->x[0], N * D * BF16, "vision residual"},
        {&b->x[1], N * D * BF16, "vision residual"},
        {&b->xn, N * D * BF16, "vision norm"},
        {&b->q, N * D * BF16, "vision q"},
        {&b->k, N * D * BF16, "vision k"},
        {&b->v, N * D * BF16, "vision v"},
        {&b->o, N * D * BF16, "vision attention out"},
        {&b->t, N * D * BF16, "vision projection"},
        {&b->h, N * D * BF16, "vision mid residual"},
        {&b->f, N * b->inter * BF16, "vision fc1"},
        {&b->a, N * b->inter * BF16, "vision gelu"},
        {&b->post, N * D * BF16, "vision post-layernorm"},
        {&b->pooled, (size_t)b->n_img * mm * D * BF16, "pooled features"},
        {&b->pooled_n, (size_t)b->n_img * mm * D * BF16, "pooled, normed"},
    };
    for (size_t i = 0; !rc && i < sizeof bufs / sizeof bufs[0]; i++)
        rc = pf_arena_alloc(a, bufs[i].bytes, PF_MEM_ACTIVATIONS, bufs[i].name, bufs[i].p);
    if (rc)
        return -1;
    /* Each image is one request of np tokens attending to all of them. */
    int64_t *lens = malloc((size_t)b->n_img * sizeof *lens);
    int64_t *types = calloc(N, sizeof *types);
    if (!lens || !types) {
        free(lens);
        free(types);
        return pf_error_set("out of memory for the vision layout");
    }
    for (int i = 0; i < b->n_img; i++)
        lens[i] = b->np;
    rc = pf_layout_from_types(b->n_img, lens, NULL, types, &b->layout);
    free(lens);
    free(types);
    if (rc)
        return pf_error_prefix("vision layout");
    pf_mask_spec spec = {PF_RULE_BIDIRECTIONAL, PF_LAYER_FULL, 0};
    int hd = b->dim / b->heads;
    if (g3_attn_bufs_init(f, &b->ab, b->q, b->k, b->v, b->o, (long long)N * b->heads,
                          (long long)N * b->heads, hd))
        return -1;
    return g3_attn_prepare(f, b->layout, spec, b->heads, b->heads, &b->ab,
                           1.0f / sqrtf((float)hd), &f->o->attn_vision, &b->attn);
}

void g3_vision_release(g3_fwd *f)
{
    pf_attn_release(f->vis.attn);
    pf_layout_free(f->vis.layout);
    f->vis.attn = NULL;
    f->vis.layout = NULL;
}

static int encoder_layer(g3_fwd *f, int j, pf_dptr in, pf_dptr out)
{
    g3_vision_bufs *b = &f->vis;
    pf_ops *o = &f->ops;
    int N = b->n_img * b->np, D = b->dim;
    float eps = (float)f->c->vision.ln_eps;
    const char *L = "vision:encoder.layers.%d.";
    char nm[128];
#define VW(leaf) (snprintf(nm, sizeof nm, "%s%s", L, leaf), g3_weight(f, nm, j))
    if (pf_op_layernorm(o, in, b->xn, VW("layer_norm1.weight"), VW("layer_norm1.bias"), N, D, eps) ||
        g3_linear(f, b->xn, N, D, VW("self_attn.q_proj.weight"), D, VW("self_attn.q_proj.bias"), b->q) ||
        g3_linear(f, b->xn, N, D, VW("self_attn.k_proj.weight"), D, VW("self_attn.k_proj.bias"), b->k) ||
        g3_linear(f, b->xn, N, D, VW("self_attn.v_proj.weight"), D, VW("self_attn.v_proj.bias"), b->v) ||
        g3_attn_run(f, &b->ab, b->attn) ||
        g3_linear(f, b->o, N, D, VW("self_attn.out_proj.weight"), D, VW("self_attn.out_proj.bias"), b->t) ||
        pf_op_add(o, in, b->t, b->h, (long long)N * D, 0) ||
        pf_op_layernorm(o, b->h, b->xn, VW("layer_norm2.weight"), VW("layer_norm2.bias"), N, D, eps) ||
        g3_linear(f, b->xn, N, D, VW("mlp.fc1.weight"), b->inter, VW("mlp.fc1.bias"), b->f) ||
        pf_op_gelu(o, b->f, 0, b->a, (long long)N * b->inter) ||
        g3_linear(f, b->a, N, b->inter, VW("mlp.fc2.weight"), D, VW("mlp.fc2.bias"), b->t) ||
        pf_op_add(o, b->h, b->t, out, (long long)N * D, 0))
        return pf_error_prefix("vision layer %d", j);
#undef VW
    return 0;
}

int g3_vision_tower(g3_fwd *f)
{
    const pf_g3_vision_config *vc = &f->c->vision;
    g3_vision_bufs *b = &f->vis;
    pf_ops *o = &f->ops;
    int N = b->n_img * b->np, D = b->dim, P = vc->patch_size, C = vc->channels;
    if (N == 0)
        return 0;
    /* Pixels are cast to bf16 first (patchify rounds), then the conv as a GEMM. */
    if (pf_op_patchify(o, b->pix, b->patches, b->n_img, C, vc->image_size, P) ||
        g3_linear(f, b->patches, N, C * P * P, g3_weight(f, "vision:embeddings.patch_embedding.weight"),
                  D, g3_weight(f, "vision:embeddings.patch_embedding.bias"), b->t) ||
        pf_op_add(o, b->t, g3_weight(f, "vision:embeddings.position_embedding.weight"), b->x[0],
                  (long long)N * D, (long long)b->np * D))
        return pf_error_prefix("vision embeddings");
    for (int j = 0; j < vc->layers; j++)
        if (encoder_layer(f, j, b->x[j % 2], b->x[(j + 1) % 2]))
            return -1;
    if (pf_op_layernorm(o, b->x[vc->layers % 2], b->post, g3_weight(f, "vision:post_layernorm.weight"),
                        g3_weight(f, "vision:post_layernorm.bias"), N, D, (float)vc->ln_eps))
        return pf_error_prefix("vision post-layernorm");
    return 0;
}

int g3_projector(g3_fwd *f)
{
    g3_vision_bufs *b = &f->vis;
    pf_ops *o = &f->ops;
    int mm = f->c->mm_tokens_per_image, rows = b->n_img * mm, D = b->dim;
    if (rows == 0)
        return 0;
    /* W is stored [D_vis, H] and applied as x @ W: B untransposed. */
    if (pf_op_avgpool(o, b->post, b->pooled, b->n_img, pf_g3_patches_per_side(f->c),
                      pf_g3_pool_kernel(f->c), D) ||
        pf_op_rmsnorm(o, b->pooled, b->pooled_n, g3_weight(f, "proj:mm_soft_emb_norm.weight"), rows,
                      D, (float)f->c->vision.ln_eps) ||
        pf_dev_gemm_bf16(f->dev, rows, f->H, D, b->pooled_n,
                         g3_weight(f, "proj:mm_input_projection_weight"), 0, f->f32, o->stream) ||
        pf_op_bias_round(o, f->f32, 0, f->feat, rows, f->H))
        return pf_error_prefix("projector");
    return 0;
}
