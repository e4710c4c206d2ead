/* What the Gemma-3 and Gemma-4 device forwards share: weights looked up by
 * name on the device, a linear layer (GEMM then bf16 rounding), an
 * attention site on the forward's own tensors, and the timing of a
 * re-runnable phase through the measure layer. */
#ifndef PF_FORWARD_UTIL_H
#define PF_FORWARD_UTIL_H

#include <stdarg.h>

#include "attention/attention_run.h"
#include "device/device.h"
#include "measure/measure.h"
#include "models/dev_arena.h"
#include "models/ops.h"
#include "models/weight_set.h"

/* The device copy (wd, parallel to w->specs) of weight "<part>:<name>",
 * the name printf-style; 0 if the set has none. */
pf_dptr pf_fwd_weightv(const pf_weight_set *w, const pf_dptr *wd, const char *fmt, va_list ap);
/* out[m, n] = bf16(x[m, k] . W[n, k]^T + bias) (bias 0: none); scratch:
 * f32 [m, n] at least. */
int pf_fwd_linear(pf_ops *ops, pf_dptr scratch, pf_dptr x, int m, int k, pf_dptr w, int n,
                  pf_dptr bias, pf_dptr out);
/* The family's metadata for a problem, launched later on q/k/v/o (bf16,
 * laid out as attention_run.h says); its mask and tile-class bytes are
 * counted as mask metadata in mem. */
int pf_fwd_attn_prepare(pf_device *dev, pf_dev_arena *mem, const pf_attn_problem *pb,
                        const pf_attn_variant *v, pf_dptr q, pf_dptr k, pf_dptr vv, pf_dptr o,
                        pf_attn_prepared **out);
/* Time a phase that reads only what no step of it writes (so a re-run
 * recomputes the same values): the median and the timer's label. */
int pf_fwd_time(pf_device *dev, pf_stream *s, pf_measure_fn fn, void *ctx,
                const pf_measure_opts *o, double *ms, char *timer, size_t timer_size);

#endif
