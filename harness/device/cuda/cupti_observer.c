/* CUPTI as a measurement observer (see cupti_observer.h). One process-wide
 * CUPTI state, so the observer's own state is only the baseline of live
 * device bytes when sampling started. */
#include "device/cuda/cupti_observer.h"

#include <string.h>

#include "core/pf_error.h"
#include "device/cuda/cuda_cupti.h"
#include "measure/observer.h"

static size_t live_before;

static int cupti_start(void *self)
{
    (void)self;
    /* CUPTI stays enabled once used: toggling MEMORY2 would lose frees and
     * skew the running sum of live bytes. */
    if (pf_cupti_enable() || pf_cupti_flush())
        return -1;
    pf_cupti_reset_peak();
    pf_cupti_memory(&live_before, NULL);
    return 0;
}

static int cupti_sample_begin(void *self)
{
    (void)self;
    pf_cupti_kernels k;
    if (pf_cupti_flush())
        return -1;
    pf_cupti_take_kernels(&k); /* drop records of earlier work */
    return 0;
}

/* The span from the first kernel's start to the last kernel's end, as the
 * GPU recorded them (the loop has synced the stream). */
static int cupti_sample_end(void *self, double *ms)
{
    (void)self;
    pf_cupti_kernels k;
    if (pf_cupti_flush())
        return -1;
    pf_cupti_take_kernels(&k);
    if (k.count == 0)
        return pf_error_set("CUPTI recorded no kernel (does the measured work launch any?)");
    *ms = (double)(k.last_end_ns - k.first_start_ns) * 1e-6;
    return 0;
}

static int cupti_finish(void *self, size_t *mem_peak_bytes)
{
    (void)self;
    size_t peak = 0;
    if (pf_cupti_flush())
        return -1;
    pf_cupti_memory(NULL, &peak);
    *mem_peak_bytes = peak > live_before ? peak - live_before : 0;
    return 0;
}

int pf_cupti_observer(pf_device *dev, struct pf_measure_observer *out)
{
    (void)dev;
    memset(out, 0, sizeof *out);
    out->name = "cupti";
    out->times = 1;
    out->start = cupti_start;
    out->sample_begin = cupti_sample_begin;
    out->sample_end = cupti_sample_end;
    out->finish = cupti_finish;
    return 0;
}
