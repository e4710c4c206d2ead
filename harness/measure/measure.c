/* The timing loop and its statistics (see measure.h). */
#include "measure/measure.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/pf_error.h"
#include "core/clock.h"

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

/* Which clock times the samples. */
typedef enum { TIMER_OBSERVER, TIMER_EVENTS, TIMER_HOST } timer_kind;

#define MAX_OBSERVERS 2

typedef struct loop_state {
    pf_device *dev;
    pf_stream *s;
    pf_event *start, *end;
    pf_dptr flush;
    size_t flush_bytes;
    timer_kind timer;
    pf_measure_observer obs[MAX_OBSERVERS]; /* started observers */
    int n_obs, timing_obs;                  /* timing_obs: index of the timer, or -1 */
} loop_state;

/* Host timings of the emulator keep their own label everywhere. */
static int host_is_the_device(const pf_device_props *p)
{
    return p->caps.host_timers;
}

static void note(pf_measure_summary *out, const char *what)
{
    if (!out->timer_note[0])
        snprintf(out->timer_note, sizeof out->timer_note, "%s: %.120s", what, pf_error_get());
    pf_error_clear();
}

/* The one place the timer and its label are decided: a timing observer
 * (the backend's profiler) if it starts, else the device's events, else
 * the host clock. Each fallback says why in timer_note. */
static void choose_timer(loop_state *L, const pf_measure_opts *o, const pf_device_props *props,
                         pf_measure_summary *out)
{
    pf_measure_observer cand[MAX_OBSERVERS];
    int n = 0;
    if (o->use_cupti && pf_dev_profiler(L->dev, &cand[n]) == 0)
        n++;
    if (o->observer)
        cand[n++] = *o->observer;
    L->timing_obs = -1;
    for (int i = 0; i < n; i++) {
        if (cand[i].start && cand[i].start(cand[i].self)) {
            note(out, cand[i].times ? "profiler timer unavailable" : "observer unavailable");
            continue;
        }
        if (cand[i].times && L->timing_obs < 0)
            L->timing_obs = L->n_obs;
        L->obs[L->n_obs++] = cand[i];
    }
    int host = host_is_the_device(props);
    if (L->timing_obs >= 0) {
        L->timer = TIMER_OBSERVER;
        snprintf(out->timer, sizeof out->timer, "%s", L->obs[L->timing_obs].name);
    } else if (pf_dev_event_create(L->dev, &L->start) == 0 &&
               pf_dev_event_create(L->dev, &L->end) == 0) {
        L->timer = TIMER_EVENTS;
        snprintf(out->timer, sizeof out->timer, "%s", host ? "emu-host" : "cuda-events");
    } else {
        note(out, "device events unavailable");
        L->timer = TIMER_HOST;
        snprintf(out->timer, sizeof out->timer, "%s", host ? "emu-host" : "host");
    }
}

static int take_sample(loop_state *L, pf_measure_fn fn, void *ctx, double *ms)
{
    /* Outside the timed region: evict the previous run's data from L2. */
    if (L->flush && pf_dev_memset8(L->dev, L->flush, 0, L->flush_bytes, L->s))
        return -1;
    for (int i = 0; i < L->n_obs; i++)
        if (L->obs[i].sample_begin && L->obs[i].sample_begin(L->obs[i].self))
            return pf_error_prefix("%s", L->obs[i].name);
    double t0 = pf_clock_seconds();
    if (L->timer == TIMER_EVENTS && pf_dev_event_record(L->dev, L->start, L->s))
        return -1;
    if (fn(ctx, L->s))
        return -1;
    if (L->timer == TIMER_EVENTS && pf_dev_event_record(L->dev, L->end, L->s))
        return -1;
    if (pf_dev_stream_sync(L->dev, L->s))
        return -1;
    *ms = (pf_clock_seconds() - t0) * 1e3;
    if (L->timer == TIMER_EVENTS) {
        float elapsed = 0;
        if (pf_dev_event_elapsed_ms(L->dev, L->start, L->end, &elapsed))
            return -1;
        *ms = elapsed;
    }
    for (int i = 0; i < L->n_obs; i++) {
        double obs_ms = 0;
        if (L->obs[i].sample_end && L->obs[i].sample_end(L->obs[i].self, &obs_ms))
            return pf_error_prefix("%s", L->obs[i].name);
        if (i == L->timing_obs)
            *ms = obs_ms;
    }
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
    double t0 = pf_clock_seconds();
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
        if (pf_clock_seconds() - t0 > o->max_seconds && n >= 1)
            break;
    }
    if (pf_measure_summarize(v, n, out))
        return -1;
    for (int i = 0; i < L->n_obs; i++) {
        size_t peak = 0;
        if (L->obs[i].finish && L->obs[i].finish(L->obs[i].self, &peak))
            return pf_error_prefix("%s", L->obs[i].name);
        if (peak > out->mem_peak_bytes)
            out->mem_peak_bytes = peak;
    }
    return 0;
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
    double *v = samples_ms ? samples_ms : malloc((size_t)o->max_samples * sizeof *v);
    if (!v)
        return pf_error_set("out of memory for %d samples", o->max_samples);
    int rc = 0;
    if (o->flush_l2) {
        L.flush_bytes = o->flush_bytes    ? o->flush_bytes
                        : props.l2_bytes ? 2 * props.l2_bytes
                                         : PF_FLUSH_FALLBACK_BYTES;
        rc = pf_dev_alloc(dev, L.flush_bytes, "L2 flush buffer", &L.flush);
    }
    if (rc == 0) {
        choose_timer(&L, o, &props, out);
        rc = sample_loop(&L, fn, ctx, o, out, v);
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
