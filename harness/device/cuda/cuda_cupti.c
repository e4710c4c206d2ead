/* CUPTI activity records -> kernel times and allocation peaks (see
 * cuda_cupti.h). libcupti is linked but does not need the driver until its
 * first call, so a machine without a GPU never reaches this code. */
#include "device/cuda/cuda_cupti.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cupti.h>

#include "core/pf_error.h"

#define PF_CUPTI_BUFFER_BYTES ((size_t)4 << 20)
#define PF_CUPTI_ALIGN 8

static pthread_mutex_t cupti_lock = PTHREAD_MUTEX_INITIALIZER;
static int cupti_enabled, callbacks_registered;
static pf_cupti_kernels kernels;
static size_t live_bytes, peak_bytes, dropped;

static int cupti_check(CUptiResult r, const char *call)
{
    if (r == CUPTI_SUCCESS)
        return 0;
    const char *text = NULL;
    if (cuptiGetResultString(r, &text) != CUPTI_SUCCESS || !text)
        text = "unknown CUPTI error";
    return pf_error_set("%s: %s (%d)", call, text, (int)r);
}

static void CUPTIAPI buffer_requested(uint8_t **buffer, size_t *size, size_t *max_records)
{
    /* Records must be 8-byte aligned; malloc already is on 64-bit hosts. */
    *buffer = aligned_alloc(PF_CUPTI_ALIGN, PF_CUPTI_BUFFER_BYTES);
    *size = *buffer ? PF_CUPTI_BUFFER_BYTES : 0;
    *max_records = 0; /* as many as fit */
}

static void add_kernel(const CUpti_ActivityKernel10 *k)
{
    if (k->end <= k->start)
        return;
    if (kernels.count == 0 || k->start < kernels.first_start_ns)
        kernels.first_start_ns = k->start;
    if (kernels.count == 0 || k->end > kernels.last_end_ns)
        kernels.last_end_ns = k->end;
    kernels.busy_ms += (double)(k->end - k->start) * 1e-6;
    kernels.count++;
}

static void add_memory(const CUpti_ActivityMemory4 *m)
{
    if (m->memoryKind != CUPTI_ACTIVITY_MEMORY_KIND_DEVICE)
        return;
    if (m->memoryOperationType == CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_ALLOCATION) {
        live_bytes += m->bytes;
        if (live_bytes > peak_bytes)
            peak_bytes = live_bytes;
    } else if (m->memoryOperationType == CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_RELEASE) {
        /* Frees of memory allocated before enabling are not in the sum. */
        live_bytes = m->bytes > live_bytes ? 0 : live_bytes - m->bytes;
    }
}

static void CUPTIAPI buffer_completed(CUcontext ctx, uint32_t stream, uint8_t *buffer, size_t size,
                                      size_t valid)
{
    (void)ctx, (void)stream, (void)size;
    CUpti_Activity *rec = NULL;
    pthread_mutex_lock(&cupti_lock);
    while (cuptiActivityGetNextRecord(buffer, valid, &rec) == CUPTI_SUCCESS) {
        if (rec->kind == CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL ||
            rec->kind == CUPTI_ACTIVITY_KIND_KERNEL)
            add_kernel((const CUpti_ActivityKernel10 *)rec);
        else if (rec->kind == CUPTI_ACTIVITY_KIND_MEMORY2)
            add_memory((const CUpti_ActivityMemory4 *)rec);
    }
    size_t n = 0;
    if (cuptiActivityGetNumDroppedRecords(ctx, stream, &n) == CUPTI_SUCCESS)
        dropped += n;
    pthread_mutex_unlock(&cupti_lock);
    free(buffer);
}

int pf_cupti_enable(void)
{
    if (cupti_enabled)
        return 0;
    if (!callbacks_registered) {
        if (cupti_check(cuptiActivityRegisterCallbacks(buffer_requested, buffer_completed),
                        "cuptiActivityRegisterCallbacks"))
            return -1;
        callbacks_registered = 1;
    }
    if (cupti_check(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL),
                    "cuptiActivityEnable(CONCURRENT_KERNEL)"))
        return -1;
    if (cupti_check(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_MEMORY2),
                    "cuptiActivityEnable(MEMORY2)")) {
        cuptiActivityDisable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL);
        return -1;
    }
    cupti_enabled = 1;
    return 0;
}

int pf_cupti_disable(void)
{
    if (!cupti_enabled)
        return 0;
    cupti_enabled = 0;
    int rc = cupti_check(cuptiActivityDisable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL),
                         "cuptiActivityDisable(CONCURRENT_KERNEL)");
    if (cupti_check(cuptiActivityDisable(CUPTI_ACTIVITY_KIND_MEMORY2),
                    "cuptiActivityDisable(MEMORY2)"))
        rc = -1;
    return rc;
}

int pf_cupti_flush(void)
{
    return cupti_check(cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED),
                       "cuptiActivityFlushAll");
}

void pf_cupti_take_kernels(pf_cupti_kernels *out)
{
    pthread_mutex_lock(&cupti_lock);
    *out = kernels;
    memset(&kernels, 0, sizeof kernels);
    pthread_mutex_unlock(&cupti_lock);
}

void pf_cupti_memory(size_t *live, size_t *peak)
{
    pthread_mutex_lock(&cupti_lock);
    if (live)
        *live = live_bytes;
    if (peak)
        *peak = peak_bytes;
    pthread_mutex_unlock(&cupti_lock);
}

void pf_cupti_reset_peak(void)
{
    pthread_mutex_lock(&cupti_lock);
    peak_bytes = live_bytes;
    pthread_mutex_unlock(&cupti_lock);
}

size_t pf_cupti_dropped(void)
{
    pthread_mutex_lock(&cupti_lock);
    size_t n = dropped;
    pthread_mutex_unlock(&cupti_lock);
    return n;
}
