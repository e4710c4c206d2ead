/* Gemma-4 vision op launchers (see ops_g4v.h): argument checks, grid sizes,
 * lazy JIT load. */
#include "models/ops_g4v.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/pf_error.h"
#include "models/op_launch.h"
#include "kernels/ops/g4_params.h"
#include "kernels/ops/g4v_params.h"
#include "kernels/ops/ops_params.h"
#include "kernels/pf_numeric.h"

static const char *const op_name[PF_G4V_OP_COUNT] = {
    [PF_G4V_PATCH_IN] = "g4v_patch_in", [PF_G4V_POS_ADD] = "g4v_pos_add",
    [PF_G4V_RMSNORM] = "g4_rmsnorm",   [PF_G4V_CLAMP] = "g4v_clamp",
    [PF_G4V_ROPE2D] = "g4v_rope2d",     [PF_G4V_POOL] = "g4v_pool",
};

void pf_g4v_ops_init(pf_g4v_ops *ops, pf_device *dev, pf_stream *s)
{
    memset(ops, 0, sizeof *ops);
    ops->dev = dev;
    ops->stream = s;
}

void pf_g4v_ops_release(pf_g4v_ops *ops)
{
    pf_op_unload(ops->dev, ops->mod, PF_G4V_OP_COUNT);
}

static int launch(pf_g4v_ops *o, pf_g4v_op_id id, pf_dim3 grid, unsigned threads, const void *p,
                  size_t size)
{
    return pf_op_launch(o->dev, o->stream, &o->mod[id], op_name[id], op_name[id], grid,
                        threads, p, size);
}

static pf_dim3 grid_for(long long n)
{
    return pf_op_grid(n, PF_OPS_THREADS);
}

#define ADDR(T, d) ((T *)(uintptr_t)(d))

int pf_g4v_patch_in(pf_g4v_ops *o, pf_dptr pix, pf_dptr out, long long n)
{
    if (n <= 0)
        return pf_error_set("g4v_patch_in: bad size %lld", n);
    pf_g4v_patch_in_params p = {ADDR(const float, pix), ADDR(unsigned short, out), n};
    return launch(o, PF_G4V_PATCH_IN, grid_for(n), PF_OPS_THREADS, &p, sizeof p);
}

int pf_g4v_pos_add(pf_g4v_ops *o, pf_dptr x, pf_dptr table, pf_dptr pos, pf_dptr out,
                   int rows, int dim, int npos)
{
    if (rows <= 0 || dim <= 0 || npos <= 0)
        return pf_error_set("g4v_pos_add: bad shape [%d, %d], table %d", rows, dim, npos);
    pf_g4v_pos_add_params p = {ADDR(const unsigned short, x), ADDR(const unsigned short, table),
                               ADDR(const int, pos),        ADDR(unsigned short, out),
                               rows, dim, npos};
    return launch(o, PF_G4V_POS_ADD, grid_for((long long)rows * dim), PF_OPS_THREADS, &p,
                  sizeof p);
}

int pf_g4v_rmsnorm(pf_g4v_ops *o, pf_dptr x, pf_dptr y, pf_dptr w, pf_dptr res, int rows, int n,
                   float eps)
{
    if (rows <= 0 || n <= 0)
        return pf_error_set("g4v_rmsnorm: bad shape [%d, %d]", rows, n);
    pf_g4_rmsnorm_params p = {ADDR(const unsigned short, x), ADDR(unsigned short, y),
                              ADDR(const unsigned short, w), rows, n, eps,
                              ADDR(const unsigned short, res)};
    pf_dim3 g = {(unsigned)rows, 1, 1};
    return launch(o, PF_G4V_RMSNORM, g, PF_G4_ROW_THREADS, &p, sizeof p);
}

int pf_g4v_clamp(pf_g4v_ops *o, pf_dptr x, pf_dptr out, pf_dptr lo, pf_dptr hi, long long n)
{
    if (n <= 0 || !lo || !hi)
        return pf_error_set("g4v_clamp: bad size %lld or missing bounds", n);
    pf_g4v_clamp_params p = {ADDR(const unsigned short, x), ADDR(unsigned short, out),
                             ADDR(const unsigned short, lo), ADDR(const unsigned short, hi), n};
    return launch(o, PF_G4V_CLAMP, grid_for(n), PF_OPS_THREADS, &p, sizeof p);
}

int pf_g4v_rope2d(pf_g4v_ops *o, pf_dptr x, pf_dptr cos, pf_dptr sin, pf_dptr pos, int tokens,
                  int heads, int head_dim)
{
    if (tokens <= 0 || heads <= 0 || head_dim <= 0 || head_dim % 4)
        return pf_error_set("g4v_rope2d: bad shape [%d, %d, %d] (head dim a multiple of 4)",
                            tokens, heads, head_dim);
    pf_g4v_rope2d_params p = {ADDR(unsigned short, x), ADDR(const unsigned short, cos),
                              ADDR(const unsigned short, sin), ADDR(const int, pos), tokens,
                              heads, head_dim};
    return launch(o, PF_G4V_ROPE2D, grid_for((long long)tokens * heads * head_dim / 2),
                  PF_OPS_THREADS, &p, sizeof p);
}

int pf_g4v_pool(pf_g4v_ops *o, pf_dptr x, pf_dptr cell_ptr, pf_dptr members, pf_dptr std_bias,
                pf_dptr std_scale, pf_dptr out, int cells, int dim, int k)
{
    if (cells <= 0 || dim <= 0 || k <= 0)
        return pf_error_set("g4v_pool: bad shape [%d, %d], kernel %d", cells, dim, k);
    if (!std_bias != !std_scale)
        return pf_error_set("g4v_pool: std_bias and std_scale go together");
    pf_g4v_pool_params p = {ADDR(const unsigned short, x),
                            ADDR(const int, cell_ptr),
                            ADDR(const int, members),
                            ADDR(const unsigned short, std_bias),
                            ADDR(const unsigned short, std_scale),
                            ADDR(unsigned short, out),
                            cells,
                            dim,
                            1.0f / (float)(k * k),
                            (float)sqrt((double)dim)};
    return launch(o, PF_G4V_POOL, grid_for((long long)cells * dim), PF_OPS_THREADS, &p, sizeof p);
}

void pf_g4v_rope_tables(double theta, int head_dim, int npos, uint16_t *cos_out,
                        uint16_t *sin_out)
{
    int q = head_dim / 4;
    for (int j = 0; j < q; j++) {
        float inv = 1.0f / powf((float)theta, (float)(2 * j) / (float)(head_dim / 2));
        for (int t = 0; t < npos; t++) {
            float a = (float)t * inv;
            cos_out[(size_t)t * q + j] = pf_f32_to_bf16(cosf(a));
            sin_out[(size_t)t * q + j] = pf_f32_to_bf16(sinf(a));
        }
    }
}
