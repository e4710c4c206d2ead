/* CUPTI Activity API on the cuda backend: kernel start/end timestamps from
 * the GPU (CONCURRENT_KERNEL records) and device memory allocation tracking
 * (MEMORY2 records -> running sum of live bytes -> peak).
 *
 * Only call these once a cuda device is open: CUPTI attaches to the driver
 * that the cuda backend loaded. Records arrive in buffers that CUPTI hands
 * back on flush (possibly on its own thread); the accumulators below are
 * guarded by a mutex. */
#ifndef PF_CUDA_CUPTI_H
#define PF_CUDA_CUPTI_H

#include <stddef.h>
#include <stdint.h>

/* Kernels seen since the last pf_cupti_take_kernels(). */
typedef struct pf_cupti_kernels {
    int count;
    uint64_t first_start_ns, last_end_ns; /* GPU timestamps */
    double busy_ms;                       /* sum of kernel durations */
} pf_cupti_kernels;

/* Register buffer callbacks and enable the activity kinds (idempotent). */
int pf_cupti_enable(void);
/* Disable the kinds (records already produced can still be flushed). */
int pf_cupti_disable(void);
/* Deliver all pending records (forced flush). */
int pf_cupti_flush(void);
/* Return and reset the kernel accumulator. */
void pf_cupti_take_kernels(pf_cupti_kernels *out);
/* Device bytes allocated and not yet freed since enabling, and their peak.
 * pf_cupti_reset_peak() sets the peak to the current live bytes. */
void pf_cupti_memory(size_t *live_bytes, size_t *peak_bytes);
void pf_cupti_reset_peak(void);
/* Records CUPTI reported as dropped (buffers too small); 0 normally. */
size_t pf_cupti_dropped(void);

#endif
