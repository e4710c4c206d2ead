/* Backend-agnostic timing loop (nvbench style).
 *
 * The caller supplies a callback that enqueues one run of the work on a
 * stream. pf_measure_run warms up, then takes samples, each bracketed by the
 * backend's events and preceded by an L2 flush (a memset of a buffer twice
 * the L2 size, outside the timed region), until the relative standard
 * deviation falls under a threshold or a sample/time cap is hit.
 *
 * Every summary carries the timer that produced it, decided in one place
 * (choose_timer in measure.c) from what actually timed the samples:
 *   "cupti"        a profiler observer's kernel timestamps (cuda, use_cupti)
 *   "cuda-events"  device events bracketing the work on the stream
 *   "emu-host"     the emulator (its events are host timestamps)
 *   "host"         the host clock around launch + sync: the fallback when a
 *                  device timer cannot be created; never labelled as GPU time
 * so host timings are never mistaken for GPU numbers. */
#ifndef PF_MEASURE_H
#define PF_MEASURE_H

#include <stddef.h>

#include "device/device.h"
#include "measure/observer.h"

/* Enqueue one run of the measured work on `s`. 0 / -1 (pf_error set). */
typedef int (*pf_measure_fn)(void *ctx, pf_stream *s);

typedef struct pf_measure_opts {
    int warmup;          /* untimed runs before sampling (default 3) */
    int min_samples;     /* never stop before this many (default 10) */
    int max_samples;     /* hard cap (default 1000) */
    double stdrel;       /* stop when stdev/mean < this (default 0.005) */
    double max_seconds;  /* wall-clock cap on the sampling phase (default 5) */
    int flush_l2;        /* memset a 2x-L2 buffer before each sample (default 1) */
    size_t flush_bytes;  /* 0: 2 x the device's L2 size (32 MiB if unknown) */
    int use_cupti;       /* time samples with the backend's profiler (cuda: CUPTI
                            kernel records, first kernel start to last kernel end)
                            and track the peak of device allocations; ignored where
                            the backend has none */
    const pf_measure_observer *observer; /* an extra observer (may time), or NULL */
} pf_measure_opts;

typedef struct pf_measure_summary {
    double min_ms, max_ms, median_ms, mean_ms, stdev_ms, q1_ms, q3_ms;
    double stdrel;       /* stdev / mean (0 for fewer than 2 samples) */
    int samples;
    int converged;       /* 1: stopped because stdrel fell under the threshold */
    char timer[16];      /* "cupti", "cuda-events", "emu-host", "host" */
    char timer_note[160]; /* why a preferred timer was not used ("" if it was) */
    size_t mem_peak_bytes; /* cupti: peak device bytes allocated during the run; else 0 */
} pf_measure_summary;

void pf_measure_defaults(pf_measure_opts *o);

/* The timer label of a backend (cuda -> "cuda-events", emu -> "emu-host"). */
const char *pf_measure_timer_label(pf_backend_kind kind);

/* Run the loop. `samples_ms`, if not NULL, receives every sample in order
 * (capacity o->max_samples). `o` NULL means defaults. */
int pf_measure_run(pf_device *dev, pf_stream *s, pf_measure_fn fn, void *ctx,
                   const pf_measure_opts *o, pf_measure_summary *out, double *samples_ms);

/* Statistics of n >= 1 samples: quartiles and median by linear
 * interpolation between order statistics (numpy's default), sample stdev
 * (n - 1 denominator). Leaves `timer` and `converged` untouched. */
int pf_measure_summarize(const double *samples_ms, int n, pf_measure_summary *out);

#endif
