/* A fake libcuda.so.1 for testing the cuda backend's plumbing on machines
 * without a GPU (built and loaded by test_device_select_cuda_mock.c).
 *
 * "Device" memory is host memory; streams run synchronously; one kernel,
 * "mock_scale", exists: params {uint64 data; uint32 n; float mul} scale n
 * floats in place. Limits mimic an sm_90 part. It implements exactly the
 * entry points the backend resolves, with the versioned names cuda.h maps
 * them to, and reports what it saw through mock_state(). Not thread-safe
 * beyond what the test needs (one launching thread at a time). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cuda.h>

#define MOCK_OPTIN (227 * 1024)
#define MOCK_MAX_ALLOC ((size_t)1 << 30)

typedef struct mock_state_t {
    int live_allocs, launches, ctx_current_unused, max_dyn_smem_attr, inits;
} mock_state_t;
static mock_state_t state;
/* Like the real driver, the current context is per thread. */
static _Thread_local int ctx_current;
mock_state_t *mock_state(void) { return &state; }

static int ctx_token, module_token, func_token;
typedef struct mock_event {
    double t;
} mock_event;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

CUresult CUDAAPI cuInit(unsigned int flags) { (void)flags; state.inits++; return CUDA_SUCCESS; }
CUresult CUDAAPI cuDriverGetVersion(int *v) { *v = 12080; return CUDA_SUCCESS; }
CUresult CUDAAPI cuGetErrorName(CUresult e, const char **s)
{
    *s = e == CUDA_ERROR_OUT_OF_MEMORY   ? "CUDA_ERROR_OUT_OF_MEMORY"
         : e == CUDA_ERROR_INVALID_IMAGE ? "CUDA_ERROR_INVALID_IMAGE"
         : e == CUDA_ERROR_NOT_FOUND     ? "CUDA_ERROR_NOT_FOUND"
                                         : "CUDA_ERROR_INVALID_VALUE";
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuGetErrorString(CUresult e, const char **s)
{
    *s = e == CUDA_ERROR_OUT_OF_MEMORY ? "out of memory" : "mock error";
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuDeviceGetCount(int *n) { *n = 1; return CUDA_SUCCESS; }
CUresult CUDAAPI cuDeviceGet(CUdevice *d, int ordinal)
{
    if (ordinal != 0)
        return CUDA_ERROR_INVALID_DEVICE;
    *d = 0;
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuDeviceGetName(char *name, int len, CUdevice d)
{
    (void)d;
    strncpy(name, "Mock H100", (size_t)len);
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuDeviceGetAttribute(int *v, CUdevice_attribute a, CUdevice d)
{
    (void)d;
    switch (a) {
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: *v = 9; break;
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: *v = 0; break;
    case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT: *v = 132; break;
    case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK: *v = 48 * 1024; break;
    case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN: *v = MOCK_OPTIN; break;
    case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR: *v = 228 * 1024; break;
    case CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR: *v = 65536; break;
    case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK: *v = 1024; break;
    case CU_DEVICE_ATTRIBUTE_WARP_SIZE: *v = 32; break;
    case CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE: *v = 50 * 1024 * 1024; break;
    case CU_DEVICE_ATTRIBUTE_CLOCK_RATE: *v = 1980000; break;
    case CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE: *v = 2619000; break;
    case CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH: *v = 5120; break;
    default: return CUDA_ERROR_INVALID_VALUE;
    }
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuDeviceTotalMem(size_t *b, CUdevice d) { (void)d; *b = (size_t)80 << 30; return CUDA_SUCCESS; }
CUresult CUDAAPI cuDevicePrimaryCtxRetain(CUcontext *c, CUdevice d)
{
    (void)d;
    *c = (CUcontext)(void *)&ctx_token;
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuDevicePrimaryCtxRelease(CUdevice d) { (void)d; return CUDA_SUCCESS; }
CUresult CUDAAPI cuCtxSetCurrent(CUcontext c)
{
    ctx_current = c == (CUcontext)(void *)&ctx_token;
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuCtxSynchronize(void) { return CUDA_SUCCESS; }

#define NEED_CTX()                                                                     \
    do {                                                                               \
        if (!ctx_current)                                                        \
            return CUDA_ERROR_INVALID_CONTEXT;                                         \
    } while (0)

CUresult CUDAAPI cuMemAlloc(CUdeviceptr *p, size_t n)
{
    NEED_CTX();
    if (n == 0)
        return CUDA_ERROR_INVALID_VALUE;
    if (n > MOCK_MAX_ALLOC)
        return CUDA_ERROR_OUT_OF_MEMORY;
    void *m = malloc(n);
    if (!m)
        return CUDA_ERROR_OUT_OF_MEMORY;
    state.live_allocs++;
    *p = (CUdeviceptr)(uintptr_t)m;
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuMemFree(CUdeviceptr p)
{
    NEED_CTX();
    free((void *)(uintptr_t)p);
    state.live_allocs--;
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuMemcpyHtoDAsync(CUdeviceptr d, const void *s, size_t n, CUstream st)
{
    (void)st;
    NEED_CTX();
    memcpy((void *)(uintptr_t)d, s, n);
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuMemcpyDtoHAsync(void *d, CUdeviceptr s, size_t n, CUstream st)
{
    (void)st;
    NEED_CTX();
    memcpy(d, (void *)(uintptr_t)s, n);
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuMemcpyDtoDAsync(CUdeviceptr d, CUdeviceptr s, size_t n, CUstream st)
{
    (void)st;
    NEED_CTX();
    memmove((void *)(uintptr_t)d, (void *)(uintptr_t)s, n);
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuMemsetD8Async(CUdeviceptr d, unsigned char v, size_t n, CUstream st)
{
    (void)st;
    NEED_CTX();
    memset((void *)(uintptr_t)d, v, n);
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuStreamCreate(CUstream *s, unsigned int flags)
{
    (void)flags;
    NEED_CTX();
    *s = (CUstream)malloc(8);
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuStreamDestroy(CUstream s) { free(s); return CUDA_SUCCESS; }
CUresult CUDAAPI cuStreamSynchronize(CUstream s) { (void)s; return CUDA_SUCCESS; }
CUresult CUDAAPI cuEventCreate(CUevent *e, unsigned int flags)
{
    (void)flags;
    NEED_CTX();
    *e = (CUevent)calloc(1, sizeof(mock_event));
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuEventDestroy(CUevent e) { free(e); return CUDA_SUCCESS; }
CUresult CUDAAPI cuEventRecord(CUevent e, CUstream s)
{
    (void)s;
    ((mock_event *)(void *)e)->t = now_ms();
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuEventSynchronize(CUevent e) { (void)e; return CUDA_SUCCESS; }
CUresult CUDAAPI cuStreamWaitEvent(CUstream s, CUevent e, unsigned int flags)
{
    (void)s;
    (void)e;
    (void)flags;
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuEventElapsedTime(float *ms, CUevent a, CUevent b)
{
    *ms = (float)(((mock_event *)(void *)b)->t - ((mock_event *)(void *)a)->t);
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuModuleLoadData(CUmodule *m, const void *image)
{
    NEED_CTX();
    if (strncmp((const char *)image, "MOCKCUBIN", 9) != 0) /* stops at a NUL */
        return CUDA_ERROR_INVALID_IMAGE;
    *m = (CUmodule)(void *)&module_token;
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuModuleUnload(CUmodule m) { (void)m; return CUDA_SUCCESS; }
CUresult CUDAAPI cuModuleGetFunction(CUfunction *f, CUmodule m, const char *name)
{
    if (m != (CUmodule)(void *)&module_token || strcmp(name, "mock_scale") != 0)
        return CUDA_ERROR_NOT_FOUND;
    *f = (CUfunction)(void *)&func_token;
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuFuncSetAttribute(CUfunction f, CUfunction_attribute a, int v)
{
    (void)f;
    if (a != CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES || v > MOCK_OPTIN)
        return CUDA_ERROR_INVALID_VALUE;
    state.max_dyn_smem_attr = v;
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuFuncGetParamInfo(CUfunction f, size_t i, size_t *off, size_t *size)
{
    (void)f;
    if (i != 0)
        return CUDA_ERROR_INVALID_VALUE;
    *off = 0;
    *size = 16;
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                                unsigned by, unsigned bz, unsigned smem, CUstream s, void **params,
                                void **extra)
{
    (void)f, (void)s, (void)extra, (void)gy, (void)gz, (void)by, (void)bz;
    NEED_CTX();
    /* like the driver: above 48 KiB needs the attribute */
    if (smem > 48 * 1024 && (int)smem > state.max_dyn_smem_attr)
        return CUDA_ERROR_INVALID_VALUE;
    struct {
        uint64_t data;
        uint32_t n;
        float mul;
    } p;
    memcpy(&p, params[0], sizeof p);
    float *x = (float *)(uintptr_t)p.data;
    uint64_t threads = (uint64_t)gx * bx;
    for (uint64_t i = 0; i < p.n && i < threads; i++)
        x[i] *= p.mul;
    state.launches++;
    return CUDA_SUCCESS;
}
