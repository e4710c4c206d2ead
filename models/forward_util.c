/* Pieces both device forwards use (forward_util.h). */
#include "models/forward_util.h"

#include <stdio.h>
#include <string.h>

#include "core/pf_error.h"

pf_dptr pf_fwd_weightv(const pf_weight_set *w, const pf_dptr *wd, const char *fmt, va_list ap)
{
    char name[160];
    vsnprintf(name, sizeof name, fmt, ap);
    for (int i = 0; i < w->n; i++)
        if (strcmp(w->specs[i].name, name) == 0)
            return wd[i];
    return 0;
}

int pf_fwd_linear(pf_ops *ops, pf_dptr scratch, pf_dptr x, int m, int k, pf_dptr w, int n,
                  pf_dptr bias, pf_dptr out)
{
    if (!w)
        return pf_error_set("internal: a weight of the forward is missing");
    if (pf_dev_gemm_bf16(ops->dev, m, n, k, x, w, 1, scratch, ops->stream))
        return pf_error_prefix("GEMM [%d x %d] . [%d x %d]^T", m, k, n, k);
    return pf_op_bias_round(ops, scratch, bias, out, m, n);
}

int pf_fwd_attn_prepare(pf_device *dev, pf_dev_arena *mem, const pf_attn_problem *pb,
                        const pf_attn_variant *v, pf_dptr q, pf_dptr k, pf_dptr vv, pf_dptr o,
                        pf_attn_prepared **out)
{
    pf_attn_opts opts = {0};
    opts.external_tensors = 1;
    pf_attn_run_info info;
    if (pf_attn_prepare_opts(dev, NULL, pb, v, &opts, NULL, NULL, NULL, 0, 0, out, &info))
        return -1;
    pf_attn_bind(*out, q, k, vv, o);
    pf_arena_account(mem, (size_t)(info.mask_bytes + info.tile_class_bytes), PF_MEM_MASK);
    return 0;
}

int pf_fwd_time(pf_device *dev, pf_stream *s, pf_measure_fn fn, void *ctx,
                const pf_measure_opts *o, double *ms, char *timer, size_t timer_size)
{
    pf_measure_summary sum;
    if (pf_measure_run(dev, s, fn, ctx, o, &sum, NULL))
        return -1;
    *ms = sum.median_ms;
    snprintf(timer, timer_size, "%s", sum.timer);
    return 0;
}
