/* Gemma-4 op launchers (see ops_g4.h): argument checks, grid sizes, lazy
 * JIT load, like ops.c with a table of their own. */
#include "models/ops_g4.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/pf_error.h"
#include "models/op_launch.h"
#include "kernels/ops/g4_params.h"
#include "kernels/pf_numeric.h"

static const char *const op_name[PF_G4_OP_COUNT] = {
    [PF_G4_OP_RMSNORM] = "g4_rmsnorm",         [PF_G4_OP_SCALE] = "g4_scale",
    [PF_G4_OP_ADD_SCALE] = "g4_add_scale",     [PF_G4_OP_ROUTER] = "g4_router",
    [PF_G4_OP_MOE_COUNT] = "g4_moe_count",     [PF_G4_OP_MOE_GATHER] = "g4_moe_gather",
    [PF_G4_OP_GATHER_ROWS] = "g4_gather_rows", [PF_G4_OP_GEGLU] = "g4_geglu",
    [PF_G4_OP_COMBINE] = "g4_combine",         [PF_G4_OP_SOFTCAP] = "g4_softcap",
};

void pf_g4_ops_init(pf_g4_ops *ops, pf_device *dev, pf_stream *s)
{
    memset(ops, 0, sizeof *ops);
    ops->dev = dev;
    ops->stream = s;
}

void pf_g4_ops_release(pf_g4_ops *ops)
{
    pf_op_unload(ops->dev, ops->mod, PF_G4_OP_COUNT);
}

static int launch(pf_g4_ops *o, pf_g4_op_id id, pf_dim3 grid, unsigned threads, const void *p,
                  size_t size)
{
    return pf_op_launch(o->dev, o->stream, &o->mod[id], op_name[id], op_name[id], grid,
                        threads, p, size);
}

static pf_dim3 grid_for(long long n)
{
    return pf_op_grid(n, PF_G4_THREADS);
}

#define ADDR(T, d) ((T *)(uintptr_t)(d))
#define U16(d) ADDR(unsigned short, d)
#define CU16(d) ADDR(const unsigned short, d)

int pf_g4_op_rmsnorm(pf_g4_ops *o, pf_dptr x, pf_dptr y, pf_dptr w, int rows, int n, float eps)
{
    if (rows <= 0 || n <= 0)
        return pf_error_set("g4_rmsnorm: bad shape [%d, %d]", rows, n);
    pf_g4_rmsnorm_params p = {CU16(x), U16(y), CU16(w), rows, n, eps, 0};
    pf_dim3 g = {(unsigned)rows, 1, 1};
    return launch(o, PF_G4_OP_RMSNORM, g, PF_G4_ROW_THREADS, &p, sizeof p);
}

int pf_g4_op_scale(pf_g4_ops *o, pf_dptr x, pf_dptr w, pf_dptr out, long long total, int n,
                   float c)
{
    if (n <= 0 || total < 0 || !w)
        return pf_error_set("g4_scale: bad shape (%lld elements, period %d)", total, n);
    pf_g4_scale_params p = {CU16(x), CU16(w), U16(out), total, n, c};
    return launch(o, PF_G4_OP_SCALE, grid_for(total), PF_G4_THREADS, &p, sizeof p);
}

int pf_g4_op_add_scale(pf_g4_ops *o, pf_dptr a, pf_dptr b, pf_dptr s, pf_dptr out, long long n)
{
    if (!s)
        return pf_error_set("g4_add_scale: no scalar");
    pf_g4_add_scale_params p = {CU16(a), CU16(b), CU16(s), U16(out), n};
    return launch(o, PF_G4_OP_ADD_SCALE, grid_for(n), PF_G4_THREADS, &p, sizeof p);
}

int pf_g4_op_router(pf_g4_ops *o, pf_dptr logits, pf_dptr pes, pf_dptr idx, pf_dptr w,
                    int tokens, int experts, int top_k)
{
    if (experts <= 0 || experts > PF_G4_MAX_EXPERTS || top_k <= 0 || top_k > experts ||
        top_k > PF_G4_MAX_TOPK)
        return pf_error_set("g4_router: %d experts, top %d (at most %d experts, top %d)",
                            experts, top_k, PF_G4_MAX_EXPERTS, PF_G4_MAX_TOPK);
    pf_g4_router_params p = {CU16(logits), CU16(pes), ADDR(int, idx), ADDR(float, w),
                             tokens, experts, top_k};
    return launch(o, PF_G4_OP_ROUTER, grid_for(tokens), PF_G4_THREADS, &p, sizeof p);
}

int pf_g4_op_moe_count(pf_g4_ops *o, pf_dptr idx, pf_dptr counts, long long n, int experts)
{
    if (experts <= 0 || n > 0x7fffffff)
        return pf_error_set("g4_moe_count: %d experts, %lld entries", experts, n);
    pf_g4_moe_count_params p = {ADDR(const int, idx), ADDR(int, counts), n, experts};
    pf_dim3 g = {(unsigned)experts, 1, 1};
    return launch(o, PF_G4_OP_MOE_COUNT, g, PF_G4_GROUP_THREADS, &p, sizeof p);
}

int pf_g4_op_moe_gather(pf_g4_ops *o, pf_dptr idx, pf_dptr counts, pf_dptr perm,
                        pf_dptr slot_of, long long n, int experts, int top_k)
{
    if (experts <= 0 || top_k <= 0 || n > 0x7fffffff)
        return pf_error_set("g4_moe_gather: %d experts, top %d, %lld entries", experts, top_k, n);
    pf_g4_moe_gather_params p = {ADDR(const int, idx), ADDR(const int, counts), ADDR(int, perm),
                                 ADDR(int, slot_of), n, experts, top_k};
    pf_dim3 g = {(unsigned)experts, 1, 1};
    return launch(o, PF_G4_OP_MOE_GATHER, g, PF_G4_GROUP_THREADS, &p, sizeof p);
}

int pf_g4_op_gather_rows(pf_g4_ops *o, pf_dptr x, pf_dptr rows, pf_dptr out, long long n_rows,
                         int n)
{
    pf_g4_gather_rows_params p = {CU16(x), ADDR(const int, rows), U16(out), n_rows, n};
    return launch(o, PF_G4_OP_GATHER_ROWS, grid_for(n_rows * n), PF_G4_THREADS, &p, sizeof p);
}

int pf_g4_op_geglu(pf_g4_ops *o, pf_dptr gu, pf_dptr out, long long rows, int inter)
{
    pf_g4_geglu_params p = {CU16(gu), U16(out), rows, inter};
    return launch(o, PF_G4_OP_GEGLU, grid_for(rows * inter), PF_G4_THREADS, &p, sizeof p);
}

int pf_g4_op_combine(pf_g4_ops *o, pf_dptr eo, pf_dptr slot_of, pf_dptr w, pf_dptr out,
                     int tokens, int hidden, int top_k)
{
    pf_g4_combine_params p = {CU16(eo), ADDR(const int, slot_of), ADDR(const float, w), U16(out),
                              tokens, hidden, top_k};
    return launch(o, PF_G4_OP_COMBINE, grid_for((long long)tokens * hidden), PF_G4_THREADS, &p,
                  sizeof p);
}

int pf_g4_op_softcap(pf_g4_ops *o, pf_dptr x, pf_dptr out, long long n, float cap)
{
    pf_g4_softcap_params p = {ADDR(const float, x), ADDR(float, out), n, cap};
    return launch(o, PF_G4_OP_SOFTCAP, grid_for(n), PF_G4_THREADS, &p, sizeof p);
}

void pf_g4_rope_tables(const pf_g4_rope *r, int head_dim, int pairs, int npos,
                       uint16_t *cos_out, uint16_t *sin_out)
{
    int h = head_dim / 2;
    for (int i = 0; i < h; i++) {
        /* torch: 1 / base ** (arange(0, d, 2).float() / d) in fp32 */
        float inv = i < pairs ? 1.0f / powf((float)r->theta, (float)(2 * i) / (float)head_dim)
                              : 0.0f;
        if (r->proportional)
            inv /= (float)r->factor;
        for (int t = 0; t < npos; t++) {
            float a = (float)t * inv;
            cos_out[(size_t)t * h + i] = pf_f32_to_bf16(cosf(a));
            sin_out[(size_t)t * h + i] = pf_f32_to_bf16(sinf(a));
        }
    }
}
