/* The CUDA driver API, loaded at run time.
 *
 * libcuda is never linked: pf_cu_load() dlopens libcuda.so.1 once and fills
 * a table of entry points, so pftune starts on machines without a driver.
 * The table's fields are named after cuda.h's API names; cuda.h #defines
 * many of them to versioned symbols (cuMemAlloc -> cuMemAlloc_v2), and the
 * loader asks dlsym for exactly those versioned names. */
#ifndef PF_CUDA_DRIVER_H
#define PF_CUDA_DRIVER_H

#include <stddef.h>

#include <cuda.h>

/* X(api name as written in cuda.h). The field type is that of cuda.h's
 * prototype; the symbol loaded is the macro-expanded (versioned) name. */
#define PF_CU_API_LIST(X)                                                               \
    X(cuInit)                                                                           \
    X(cuDriverGetVersion)                                                               \
    X(cuGetErrorName)                                                                   \
    X(cuGetErrorString)                                                                 \
    X(cuDeviceGetCount)                                                                 \
    X(cuDeviceGet)                                                                      \
    X(cuDeviceGetName)                                                                  \
    X(cuDeviceGetAttribute)                                                             \
    X(cuDeviceTotalMem)                                                                 \
    X(cuDevicePrimaryCtxRetain)                                                         \
    X(cuDevicePrimaryCtxRelease)                                                        \
    X(cuCtxSetCurrent)                                                                  \
    X(cuCtxSynchronize)                                                                 \
    X(cuMemAlloc)                                                                       \
    X(cuMemFree)                                                                        \
    X(cuMemcpyHtoDAsync)                                                                \
    X(cuMemcpyDtoHAsync)                                                                \
    X(cuMemcpyDtoDAsync)                                                                \
    X(cuMemsetD8Async)                                                                  \
    X(cuStreamCreate)                                                                   \
    X(cuStreamDestroy)                                                                  \
    X(cuStreamSynchronize)                                                              \
    X(cuEventCreate)                                                                    \
    X(cuEventDestroy)                                                                   \
    X(cuEventRecord)                                                                    \
    X(cuEventSynchronize)                                                               \
    X(cuStreamWaitEvent)                                                                \
    X(cuModuleLoadData)                                                                 \
    X(cuModuleUnload)                                                                   \
    X(cuModuleGetFunction)                                                              \
    X(cuFuncSetAttribute)                                                               \
    X(cuLaunchKernel)

/* cuEventElapsedTime is #defined to cuEventElapsedTime_v2, which only newer
 * drivers (12.8+) export; the loader falls back to the original symbol,
 * whose signature is the same. */
typedef CUresult (*pf_cu_event_elapsed_fn)(float *ms, CUevent start, CUevent end);

typedef struct pf_cu_api {
#define PF_CU_FIELD(name) __typeof__(&name) name;
    PF_CU_API_LIST(PF_CU_FIELD)
#undef PF_CU_FIELD
    pf_cu_event_elapsed_fn event_elapsed;
    /* Optional (drivers >= 12.4), NULL when absent: lets the launcher check
     * the host's parameter struct size against the kernel's. */
    __typeof__(&cuFuncGetParamInfo) func_get_param_info;
} pf_cu_api;

/* Load libcuda.so.1 and cuInit(0) (once per process). Returns the table, or
 * NULL with pf_error set to why there is no usable driver. */
const pf_cu_api *pf_cu_load(void);

/* Turn a failed call into an error "<call>: CUDA_ERROR_X: <description>",
 * the call (with arguments) formatted from fmt. Returns 0 when rc is
 * CUDA_SUCCESS, else -1. */
int pf_cu_check(CUresult rc, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* "CUDA_ERROR_X" for rc, also when the driver's own lookup is unavailable
 * (the toolkit's stub library answers every call with an error). */
const char *pf_cu_error_name(CUresult rc);

#endif
