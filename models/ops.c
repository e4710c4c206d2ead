/* Op launchers (see ops.h): argument checks, grid sizes, lazy JIT load. */
#include "models/ops.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/pf_error.h"
#include "models/op_launch.h"
#include "kernels/ops/ops_params.h"
#include "kernels/pf_numeric.h"

static const struct {
    const char *file, *entry;
} op_src[PF_OP_COUNT] = {
    [PF_OP_RMSNORM] = {"rmsnorm", "rmsnorm"},          [PF_OP_LAYERNORM] = {"layernorm", "layernorm"},
    [PF_OP_GELU] = {"gelu", "gelu_mul"},               [PF_OP_ROPE] = {"rope", "rope"},
    [PF_OP_EMBED] = {"embed", "embed"},                [PF_OP_ADD] = {"add", "add"},
    [PF_OP_AVGPOOL] = {"avgpool", "avgpool"},          [PF_OP_BIAS_ROUND] = {"bias_round", "bias_round"},
    [PF_OP_PATCHIFY] = {"patchify", "patchify"},      [PF_OP_COPY_COLS] = {"copy_cols", "copy_cols"},
};

void pf_ops_init(pf_ops *ops, pf_device *dev, pf_stream *s)
{
    memset(ops, 0, sizeof *ops);
    ops->dev = dev;
    ops->stream = s;
}

void pf_ops_release(pf_ops *ops)
{
    pf_op_unload(ops->dev, ops->mod, PF_OP_COUNT);
}

static int launch(pf_ops *o, pf_op_id id, pf_dim3 grid, unsigned threads, const void *p,
                  size_t size)
{
    return pf_op_launch(o->dev, o->stream, &o->mod[id], op_src[id].file, op_src[id].entry, grid,
                        threads, p, size);
}

static pf_dim3 grid_for(long long n)
{
    return pf_op_grid(n, PF_OPS_THREADS);
}

#define ADDR(T, d) ((T *)(uintptr_t)(d))

int pf_op_rmsnorm(pf_ops *o, pf_dptr x, pf_dptr y, pf_dptr w, int rows, int n, float eps)
{
    if (rows <= 0 || n <= 0 || rows > 0x7fffffff)
        return pf_error_set("rmsnorm: bad shape [%d, %d]", rows, n);
    pf_rmsnorm_params p = {ADDR(const unsigned short, x), ADDR(unsigned short, y),
                           ADDR(const unsigned short, w), rows, n, eps};
    pf_dim3 g = {(unsigned)rows, 1, 1};
    return launch(o, PF_OP_RMSNORM, g, PF_OPS_ROW_THREADS, &p, sizeof p);
}

int pf_op_layernorm(pf_ops *o, pf_dptr x, pf_dptr y, pf_dptr w, pf_dptr b, int rows, int n,
                    float eps)
{
    if (rows <= 0 || n <= 0)
        return pf_error_set("layernorm: bad shape [%d, %d]", rows, n);
    pf_layernorm_params p = {ADDR(const unsigned short, x), ADDR(unsigned short, y),
                             ADDR(const unsigned short, w), ADDR(const unsigned short, b),
                             rows, n, eps};
    pf_dim3 g = {(unsigned)rows, 1, 1};
    return launch(o, PF_OP_LAYERNORM, g, PF_OPS_ROW_THREADS, &p, sizeof p);
}

int pf_op_gelu(pf_ops *o, pf_dptr g, pf_dptr u, pf_dptr out, long long n)
{
    pf_gelu_params p = {ADDR(const unsigned short, g), ADDR(const unsigned short, u),
                        ADDR(unsigned short, out), n};
    return launch(o, PF_OP_GELU, grid_for(n), PF_OPS_THREADS, &p, sizeof p);
}

int pf_op_rope(pf_ops *o, pf_dptr x, pf_dptr cos, pf_dptr sin, pf_dptr pos, int tokens,
               int heads, int head_dim)
{
    if (head_dim % 2)
        return pf_error_set("rope: head dim %d is odd", head_dim);
    pf_rope_params p = {ADDR(unsigned short, x), ADDR(const unsigned short, cos),
                        ADDR(const unsigned short, sin), ADDR(const int, pos), tokens, heads,
                        head_dim};
    return launch(o, PF_OP_ROPE, grid_for((long long)tokens * heads * head_dim / 2),
                  PF_OPS_THREADS, &p, sizeof p);
}

int pf_op_embed(pf_ops *o, pf_dptr ids, pf_dptr feat_row, pf_dptr table, pf_dptr feat,
                pf_dptr out, int tokens, int hidden, float scale)
{
    pf_embed_params p = {ADDR(const int, ids),           ADDR(const int, feat_row),
                         ADDR(const unsigned short, table), ADDR(const unsigned short, feat),
                         ADDR(unsigned short, out),      tokens, hidden, scale};
    return launch(o, PF_OP_EMBED, grid_for((long long)tokens * hidden), PF_OPS_THREADS, &p,
                  sizeof p);
}

int pf_op_add(pf_ops *o, pf_dptr a, pf_dptr b, pf_dptr out, long long n, long long b_period)
{
    pf_add_params p = {ADDR(const unsigned short, a), ADDR(const unsigned short, b),
                       ADDR(unsigned short, out), n, b_period};
    return launch(o, PF_OP_ADD, grid_for(n), PF_OPS_THREADS, &p, sizeof p);
}

int pf_op_avgpool(pf_ops *o, pf_dptr x, pf_dptr out, int images, int g, int k, int dim)
{
    if (k <= 0 || g % k)
        return pf_error_set("avgpool: kernel %d does not divide %d patches per side", k, g);
    pf_avgpool_params p = {ADDR(const unsigned short, x), ADDR(unsigned short, out), images, g,
                           k, dim};
    long long t = g / k;
    return launch(o, PF_OP_AVGPOOL, grid_for((long long)images * t * t * dim), PF_OPS_THREADS,
                  &p, sizeof p);
}

int pf_op_bias_round(pf_ops *o, pf_dptr c, pf_dptr bias, pf_dptr out, long long m, int n)
{
    pf_bias_round_params p = {ADDR(const float, c), ADDR(const unsigned short, bias),
                              ADDR(unsigned short, out), m, n};
    return launch(o, PF_OP_BIAS_ROUND, grid_for(m * n), PF_OPS_THREADS, &p, sizeof p);
}

int pf_op_patchify(pf_ops *o, pf_dptr pix, pf_dptr out, int images, int channels, int size,
                   int patch)
{
    if (patch <= 0 || size % patch)
        return pf_error_set("patchify: patch %d does not divide image size %d", patch, size);
    pf_patchify_params p = {ADDR(const float, pix), ADDR(unsigned short, out), images, channels,
                            size, patch};
    long long n = (long long)images * channels * size * size;
    return launch(o, PF_OP_PATCHIFY, grid_for(n), PF_OPS_THREADS, &p, sizeof p);
}

int pf_op_copy_cols(pf_ops *o, pf_dptr in, int in_cols, pf_dptr out, int out_cols, long long rows,
                    int cols)
{
    if (cols < 0 || cols > in_cols || cols > out_cols || rows < 0)
        return pf_error_set("copy_cols: bad shape (%d of %d columns into %d)", cols, in_cols,
                            out_cols);
    pf_copy_cols_params p = {ADDR(const unsigned short, in), ADDR(unsigned short, out), rows,
                             in_cols, out_cols, cols};
    return launch(o, PF_OP_COPY_COLS, grid_for(rows * out_cols), PF_OPS_THREADS, &p, sizeof p);
}

void pf_rope_tables(double theta, double factor, int head_dim, int npos, uint16_t *cos_out,
                    uint16_t *sin_out)
{
    int h = head_dim / 2;
    for (int i = 0; i < h; i++) {
        /* torch: base ** (arange(0, dim, 2).float() / dim), then 1.0 / that, in fp32 */
        float e = (float)(2 * i) / (float)head_dim;
        float inv = 1.0f / powf((float)theta, e);
        inv = inv / (float)factor;
        for (int t = 0; t < npos; t++) {
            float a = (float)t * inv;
            cos_out[(size_t)t * h + i] = pf_f32_to_bf16(cosf(a));
            sin_out[(size_t)t * h + i] = pf_f32_to_bf16(sinf(a));
        }
    }
}
