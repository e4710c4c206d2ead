/* Observers of the measurement loop (measure.h): something that watches
 * each sample and may time it or report extra quantities. A backend offers
 * its profiler as one (CUPTI on cuda: kernel timestamps and the device
 * memory peak), so the measure layer itself includes no CUDA header. */
#ifndef PF_MEASURE_OBSERVER_H
#define PF_MEASURE_OBSERVER_H

#include <stddef.h>

typedef struct pf_measure_observer {
    const char *name;  /* also the timer label when it times ("cupti") */
    int times;         /* 1: sample_end gives each sample's time */
    void *self;
    /* Before the warm-up. A failure makes the loop go on without this
     * observer (and, for a timer, fall back to the next timer, whose label
     * the summary then carries). */
    int (*start)(void *self);
    /* Around each sample; sample_end is called after the stream is synced. */
    int (*sample_begin)(void *self);
    int (*sample_end)(void *self, double *ms);
    /* After the last sample: extra results (peak device bytes, 0 if none). */
    int (*finish)(void *self, size_t *mem_peak_bytes);
} pf_measure_observer;

#endif
