/* The timing loop and its statistics (see measure.h). */
#include "measure/measure.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device/cuda/cuda_cupti.h"
#include "core/pf_error.h"

#define PF_FLUSH_FALLBACK_BYTES ((size_t)32 << 20)

void pf_measure_defaults(pf_measure_opts *o)
{
    memset(o, 0, sizeof *o);
    o->warmup = 3;
    o->min_samples = 10;
    o->max_samples = 1000;
    o->stdrel = 0.005;
    o->max_seconds = 5.0;
    o->flush_l2 = 1;
}

const char *pf_measure_timer_label(pf_backend_kind kind)
{
    switch (kind) {
    case PF_BACKEND_CUDA:
        return "cuda-events";
    case PF_BACKEND_EMU:
        return "emu-host";
    }
    return "unknown";
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Quantile q of sorted data, linear interpolation between order statistics. */
static double quantile_sorted(const double *v, int n, double q)
{
    double pos = q * (n - 1);
    int lo = (int)floor(pos);
    int hi = lo + 1 < n ? lo + 1 : lo;
    double frac = pos - lo;
    return v[lo] + (v[hi] - v[lo]) * frac;
}

int pf_measure_summarize(const double *samples_ms, int n, pf_measure_summary *out)
{
    if (n < 1)
        return pf_error_set("no samples to summarize");
    double *v = malloc((size_t)n * sizeof *v);
    if (!v)
        return pf_error_set("out of memory for %d samples", n);
    memcpy(v, samples_ms, (size_t)n * sizeof *v);
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += v[i];
    double mean = sum / n, ss = 0;
    for (int i = 0; i < n; i++)
        ss += (v[i] - mean) * (v[i] - mean);
    out->samples = n;
    out->min_ms = v[0];
    out->max_ms = v[n - 1];
    out->mean_ms = mean;
    out->stdev_ms = n > 1 ? sqrt(ss / (n - 1)) : 0.0;
    out->stdrel = n > 1 && mean > 0 ? out->stdev_ms / mean : 0.0;
    out->median_ms = quantile_sorted(v, n, 0.5);
    out->q1_ms = quantile_sorted(v, n, 0.25);
    out->q3_ms = quantile_sorted(v, n, 0.75);
    free(v);
    return 0;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct loop_state {
    pf_device *dev;
    pf_stream *s;
    pf_event *start, *end;
    pf_dptr flush;
    size_t flush_bytes;
    int cupti;
} loop_state;

/* CUPTI timing: the span from the first kernel's start to the last kernel's
 * end, as the GPU recorded them. */
static int take_sample_cupti(loop_state *L, pf_measure_fn fn, void *ctx, double *ms)
{
    pf_cupti_kernels k;
    if (pf_cupti_flush())
        return -1;
    pf_cupti_take_kernels(&k); /* drop records of earlier work */
    if (fn(ctx, L->s) || pf_dev_stream_sync(L->dev, L->s) || pf_cupti_flush())
        return -1;
    pf_cupti_take_kernels(&k);
    if (k.count == 0)
        return pf_error_set("CUPTI recorded no kernel (does the measured work launch any?)");
    *ms = (double)(k.last_end_ns - k.first_start_ns) * 1e-6;
    return 0;
}

static int take_sample(loop_state *L, pf_measure_fn fn, void *ctx, double *ms)
{
    /* Outside the timed region: evict the previous run's data from L2. */
    if (L->flush && pf_dev_memset8(L->dev, L->flush, 0, L->flush_bytes, L->s))
        return -1;
    if (L->cupti)
        return take_sample_cupti(L, fn, ctx, ms);
    float elapsed = 0;
    if (pf_dev_event_record(L->dev, L->start, L->s) || fn(ctx, L->s) ||
        pf_dev_event_record(L->dev, L->end, L->s) ||
        pf_dev_event_elapsed_ms(L->dev, L->start, L->end, &elapsed))
        return -1;
    *ms = elapsed;
    return 0;
}

static int sample_loop(loop_state *L, pf_measure_fn fn, void *ctx, const pf_measure_opts *o,
                       pf_measure_summary *out, double *v)
{
    for (int i = 0; i < o->warmup; i++)
        if (fn(ctx, L->s))
            return pf_error_prefix("warm-up run %d", i + 1);
    if (pf_dev_stream_sync(L->dev, L->s))
        return -1;
    double t0 = now_seconds();
    int n = 0;
    out->converged = 0;
    while (n < o->max_samples) {
        if (take_sample(L, fn, ctx, &v[n]))
            return pf_error_prefix("sample %d", n + 1);
        n++;
        if (n >= o->min_samples && n >= 2) {
            if (pf_measure_summarize(v, n, out))
                return -1;
            if (out->stdrel < o->stdrel) {
                out->converged = 1;
                break;
            }
        }
        if (now_seconds() - t0 > o->max_seconds && n >= 1)
            break;
    }
    return pf_measure_summarize(v, n, out);
}

int pf_measure_run(pf_device *dev, pf_stream *s, pf_measure_fn fn, void *ctx,
                   const pf_measure_opts *o, pf_measure_summary *out, double *samples_ms)
{
    pf_measure_opts defaults;
    if (!o) {
        pf_measure_defaults(&defaults);
        o = &defaults;
    }
    if (o->max_samples < 1 || o->min_samples > o->max_samples || o->warmup < 0)
        return pf_error_set("measure: bad options (samples %d..%d, warm-up %d)", o->min_samples,
                            o->max_samples, o->warmup);
    memset(out, 0, sizeof *out);
    loop_state L = {.dev = dev, .s = s};
    pf_device_props props;
    if (pf_dev_props(dev, &props))
        return -1;
    snprintf(out->timer, sizeof out->timer, "%s", pf_measure_timer_label(props.kind));
    if (o->flush_l2) {
        L.flush_bytes = o->flush_bytes    ? o->flush_bytes
                        : props.l2_bytes ? 2 * props.l2_bytes
                                         : PF_FLUSH_FALLBACK_BYTES;
        if (pf_dev_alloc(dev, L.flush_bytes, "L2 flush buffer", &L.flush))
            return -1;
    }
    /* CUPTI stays enabled once used: toggling MEMORY2 would lose frees and
     * skew the running sum of live bytes. */
    L.cupti = o->use_cupti && props.caps.cupti;
    size_t live_before = 0, peak = 0;
    double *v = samples_ms ? samples_ms : malloc((size_t)o->max_samples * sizeof *v);
    int rc = -1;
    if (!v) {
        pf_error_set("out of memory for %d samples", o->max_samples);
    } else if (L.cupti && (pf_cupti_enable() || pf_cupti_flush())) {
        /* error set */
    } else if (pf_dev_event_create(dev, &L.start) == 0 && pf_dev_event_create(dev, &L.end) == 0) {
        if (L.cupti) {
            pf_cupti_reset_peak();
            pf_cupti_memory(&live_before, NULL);
            snprintf(out->timer, sizeof out->timer, "cupti");
        }
        rc = sample_loop(&L, fn, ctx, o, out, v);
        if (rc == 0 && L.cupti && pf_cupti_flush() == 0) {
            pf_cupti_memory(NULL, &peak);
            out->mem_peak_bytes = peak - live_before;
        }
    }
    if (L.end)
        pf_dev_event_destroy(dev, L.end);
    if (L.start)
        pf_dev_event_destroy(dev, L.start);
    if (L.flush)
        pf_dev_free(dev, L.flush);
    if (v != samples_ms)
        free(v);
    return rc;
}
