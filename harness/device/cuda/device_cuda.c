/* The cuda backend: pf_backend_ops over the driver API (loaded at run time,
 * see cuda_driver.h) on the device's primary context, which cuBLASLt shares.
 *
 * Streams and events are the driver's handles cast to pf_stream / pf_event;
 * a NULL stream is the default stream. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/cuda/cuda_driver.h"
#include "device/cuda/cuda_gemm.h"
#include "device/cuda/cuda_gemm_grouped.h"
#include "device/device.h"
#include "core/pf_error.h"
#include "device/cuda/cupti_observer.h"

#define PF_FUNC_CACHE_MAX 32

typedef struct cuda_func {
    char name[128];
    CUfunction fn;
    size_t dyn_smem_opted; /* MAX_DYNAMIC_SHARED_SIZE_BYTES set so far */
    size_t param_size;     /* the kernel's one parameter, 0 if unknown */
} cuda_func;

/* The function cache is shared by all threads launching from a module. */
struct pf_module {
    CUmodule mod;
    pthread_mutex_t lock;
    int n_funcs;
    cuda_func funcs[PF_FUNC_CACHE_MAX];
};

struct pf_device {
    struct pf_device_base base;
    const pf_cu_api *cu;
    int ordinal;
    CUdevice dev;
    CUcontext ctx; /* primary context, retained */
    pf_device_props props;
    pf_cublaslt *gemm; /* created on first gemm */
    pf_cublas_grouped *grouped; /* created on first grouped gemm */
    pthread_mutex_t gemm_lock;
};

static CUstream cu_stream(pf_stream *s) { return (CUstream)(void *)s; }
static CUevent cu_event(pf_event *e) { return (CUevent)(void *)e; }

/* The context must be current on whichever thread calls in. */
static int make_current(pf_device *d)
{
    return pf_cu_check(d->cu->cuCtxSetCurrent(d->ctx), "cuCtxSetCurrent(cuda:%d)", d->ordinal);
}

static int attr(pf_device *d, CUdevice_attribute a, const char *what, int *out)
{
    return pf_cu_check(d->cu->cuDeviceGetAttribute(out, a, d->dev), "cuDeviceGetAttribute(%s)",
                       what);
}

/* Clock attributes are deprecated in recent drivers; missing ones read 0. */
static int attr_optional(pf_device *d, CUdevice_attribute a)
{
    int v = 0;
    if (d->cu->cuDeviceGetAttribute(&v, a, d->dev) != CUDA_SUCCESS)
        return 0;
    return v;
}

static int query_props(pf_device *d, pf_device_props *p)
{
    memset(p, 0, sizeof *p);
    snprintf(p->backend, sizeof p->backend, "cuda");
    p->kind = PF_BACKEND_CUDA;
    p->caps.cupti = 1; /* linked; it attaches to the driver this backend loaded */
    if (pf_cu_check(d->cu->cuDeviceGetName(p->name, (int)sizeof p->name, d->dev),
                    "cuDeviceGetName(cuda:%d)", d->ordinal))
        return -1;
    int smem = 0, optin = 0, per_sm = 0, l2 = 0;
    if (attr(d, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, "COMPUTE_CAPABILITY_MAJOR",
             &p->cc_major) ||
        attr(d, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, "COMPUTE_CAPABILITY_MINOR",
             &p->cc_minor) ||
        attr(d, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, "MULTIPROCESSOR_COUNT", &p->sm_count) ||
        attr(d, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK, "MAX_SHARED_MEMORY_PER_BLOCK",
             &smem) ||
        attr(d, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
             "MAX_SHARED_MEMORY_PER_BLOCK_OPTIN", &optin) ||
        attr(d, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR,
             "MAX_SHARED_MEMORY_PER_MULTIPROCESSOR", &per_sm) ||
        attr(d, CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR,
             "MAX_REGISTERS_PER_MULTIPROCESSOR", &p->regs_per_sm) ||
        attr(d, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, "MAX_THREADS_PER_BLOCK",
             &p->max_threads_per_block) ||
        attr(d, CU_DEVICE_ATTRIBUTE_WARP_SIZE, "WARP_SIZE", &p->warp_size) ||
        attr(d, CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, "L2_CACHE_SIZE", &l2))
        return -1;
    p->smem_per_block = (size_t)smem;
    p->smem_per_block_optin = (size_t)optin;
    p->smem_per_sm = (size_t)per_sm;
    p->l2_bytes = (size_t)l2;
    if (pf_cu_check(d->cu->cuDeviceTotalMem(&p->mem_bytes, d->dev), "cuDeviceTotalMem(cuda:%d)",
                    d->ordinal))
        return -1;
    p->clock_khz = attr_optional(d, CU_DEVICE_ATTRIBUTE_CLOCK_RATE);
    p->mem_clock_khz = attr_optional(d, CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE);
    p->mem_bus_bits = attr_optional(d, CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH);
    /* Double data rate: two transfers per memory clock. */
    p->mem_bandwidth_gbs = 2.0 * p->mem_clock_khz * 1e3 * (p->mem_bus_bits / 8.0) / 1e9;
    int version = 0;
    if (pf_cu_check(d->cu->cuDriverGetVersion(&version), "cuDriverGetVersion"))
        return -1;
    snprintf(p->driver, sizeof p->driver, "CUDA %d.%d", version / 1000, (version % 1000) / 10);
    return 0;
}

static void cuda_close(pf_device *d)
{
    if (!d)
        return;
    if (d->ctx && make_current(d) == 0) {
        d->cu->cuCtxSynchronize();
        pf_cublaslt_destroy(d->gemm);
        pf_cublas_grouped_destroy(d->grouped);
        d->cu->cuDevicePrimaryCtxRelease(d->dev);
    }
    pthread_mutex_destroy(&d->gemm_lock);
    free(d);
}

static int cuda_props(pf_device *d, pf_device_props *out)
{
    *out = d->props;
    return 0;
}

static int cuda_alloc(pf_device *d, size_t bytes, const char *label, pf_dptr *out)
{
    if (make_current(d))
        return -1;
    CUdeviceptr p = 0;
    /* A zero-byte request still gets a distinct, valid address. */
    if (pf_cu_check(d->cu->cuMemAlloc(&p, bytes ? bytes : 1), "cuMemAlloc(%zu bytes%s%s)", bytes,
                    label ? ", " : "", label ? label : ""))
        return -1;
    *out = (pf_dptr)p;
    return 0;
}

static int cuda_free(pf_device *d, pf_dptr p)
{
    if (!p)
        return 0;
    if (make_current(d))
        return -1;
    return pf_cu_check(d->cu->cuMemFree((CUdeviceptr)p), "cuMemFree(0x%llx)",
                       (unsigned long long)p);
}

static int cuda_copy_htod(pf_device *d, pf_dptr dst, const void *src, size_t n, pf_stream *s)
{
    if (n == 0)
        return 0;
    if (make_current(d))
        return -1;
    return pf_cu_check(d->cu->cuMemcpyHtoDAsync((CUdeviceptr)dst, src, n, cu_stream(s)),
                       "cuMemcpyHtoDAsync(%zu bytes)", n);
}

/* Synchronous for the host: the destination is valid when this returns. */
static int cuda_copy_dtoh(pf_device *d, void *dst, pf_dptr src, size_t n, pf_stream *s)
{
    if (n == 0)
        return 0;
    if (make_current(d))
        return -1;
    if (pf_cu_check(d->cu->cuMemcpyDtoHAsync(dst, (CUdeviceptr)src, n, cu_stream(s)),
                    "cuMemcpyDtoHAsync(%zu bytes)", n))
        return -1;
    return pf_cu_check(d->cu->cuStreamSynchronize(cu_stream(s)),
                       "cuStreamSynchronize(after a %zu-byte device-to-host copy)", n);
}

static int cuda_copy_dtod(pf_device *d, pf_dptr dst, pf_dptr src, size_t n, pf_stream *s)
{
    if (n == 0)
        return 0;
    if (make_current(d))
        return -1;
    return pf_cu_check(
        d->cu->cuMemcpyDtoDAsync((CUdeviceptr)dst, (CUdeviceptr)src, n, cu_stream(s)),
        "cuMemcpyDtoDAsync(%zu bytes)", n);
}

static int cuda_memset8(pf_device *d, pf_dptr dst, int value, size_t n, pf_stream *s)
{
    if (n == 0)
        return 0;
    if (make_current(d))
        return -1;
    return pf_cu_check(
        d->cu->cuMemsetD8Async((CUdeviceptr)dst, (unsigned char)value, n, cu_stream(s)),
        "cuMemsetD8Async(%zu bytes)", n);
}

static int cuda_stream_create(pf_device *d, pf_stream **out)
{
    if (make_current(d))
        return -1;
    CUstream st = NULL;
    if (pf_cu_check(d->cu->cuStreamCreate(&st, CU_STREAM_NON_BLOCKING), "cuStreamCreate"))
        return -1;
    *out = (pf_stream *)(void *)st;
    return 0;
}

static int cuda_stream_destroy(pf_device *d, pf_stream *s)
{
    if (!s)
        return 0;
    if (make_current(d))
        return -1;
    return pf_cu_check(d->cu->cuStreamDestroy(cu_stream(s)), "cuStreamDestroy");
}

static int cuda_stream_sync(pf_device *d, pf_stream *s)
{
    if (make_current(d))
        return -1;
    return pf_cu_check(d->cu->cuStreamSynchronize(cu_stream(s)), "cuStreamSynchronize");
}

static int cuda_event_create(pf_device *d, pf_event **out)
{
    if (make_current(d))
        return -1;
    CUevent e = NULL;
    if (pf_cu_check(d->cu->cuEventCreate(&e, CU_EVENT_DEFAULT), "cuEventCreate"))
        return -1;
    *out = (pf_event *)(void *)e;
    return 0;
}

static int cuda_event_destroy(pf_device *d, pf_event *e)
{
    if (!e)
        return 0;
    if (make_current(d))
        return -1;
    return pf_cu_check(d->cu->cuEventDestroy(cu_event(e)), "cuEventDestroy");
}

static int cuda_event_record(pf_device *d, pf_event *e, pf_stream *s)
{
    if (make_current(d))
        return -1;
    return pf_cu_check(d->cu->cuEventRecord(cu_event(e), cu_stream(s)), "cuEventRecord");
}

static int cuda_event_elapsed_ms(pf_device *d, pf_event *start, pf_event *end, float *ms)
{
    if (make_current(d))
        return -1;
    if (pf_cu_check(d->cu->cuEventSynchronize(cu_event(end)), "cuEventSynchronize"))
        return -1;
    return pf_cu_check(d->cu->event_elapsed(ms, cu_event(start), cu_event(end)),
                       "cuEventElapsedTime");
}

static int cuda_module_load(pf_device *d, const pf_binary *bin, pf_module **out)
{
    if (!bin || !bin->image || bin->image_size == 0)
        return pf_error_set("module load: no cubin image (was the variant compiled for a GPU arch?)");
    if (make_current(d))
        return -1;
    pf_module *m = calloc(1, sizeof *m);
    if (!m)
        return pf_error_set("module load: out of host memory");
    if (pf_cu_check(d->cu->cuModuleLoadData(&m->mod, bin->image), "cuModuleLoadData(%zu-byte cubin)",
                    bin->image_size)) {
        free(m);
        return -1;
    }
    pthread_mutex_init(&m->lock, NULL);
    *out = m;
    return 0;
}

static int cuda_module_unload(pf_device *d, pf_module *m)
{
    if (!m)
        return 0;
    int rc = make_current(d);
    if (rc == 0)
        rc = pf_cu_check(d->cu->cuModuleUnload(m->mod), "cuModuleUnload");
    pthread_mutex_destroy(&m->lock);
    free(m);
    return rc;
}

static cuda_func *lookup_function(pf_device *d, pf_module *m, const char *name)
{
    for (int i = 0; i < m->n_funcs; i++)
        if (strcmp(m->funcs[i].name, name) == 0)
            return &m->funcs[i];
    if (strlen(name) >= sizeof m->funcs[0].name) {
        pf_error_set("kernel name '%s' too long", name);
        return NULL;
    }
    CUfunction fn = NULL;
    if (pf_cu_check(d->cu->cuModuleGetFunction(&fn, m->mod, name), "cuModuleGetFunction(%s)",
                    name))
        return NULL;
    /* Full cache: reuse the last slot; lookups still succeed, only slower. */
    cuda_func *f = &m->funcs[m->n_funcs < PF_FUNC_CACHE_MAX ? m->n_funcs++ : PF_FUNC_CACHE_MAX - 1];
    snprintf(f->name, sizeof f->name, "%s", name);
    f->fn = fn;
    f->dyn_smem_opted = 0;
    f->param_size = 0;
    size_t offset = 0, size = 0;
    if (d->cu->func_get_param_info && d->cu->func_get_param_info(fn, 0, &offset, &size) == CUDA_SUCCESS)
        f->param_size = size;
    return f;
}

static int cuda_launch(pf_device *d, pf_module *m, const char *name, pf_dim3 grid, pf_dim3 block,
                       size_t dyn_smem, pf_stream *s, const void *params, size_t params_size)
{
    if (make_current(d))
        return -1;
    if (dyn_smem > d->props.smem_per_block_optin)
        return pf_error_set("launch %s: %zu bytes of dynamic shared memory exceed the device's "
                            "opt-in limit of %zu bytes per block",
                            name, dyn_smem, d->props.smem_per_block_optin);
    pthread_mutex_lock(&m->lock);
    cuda_func *f = lookup_function(d, m, name);
    CUfunction fn = f ? f->fn : NULL;
    int rc = f ? 0 : -1;
    if (f && f->param_size && f->param_size != params_size)
        rc = pf_error_set("launch %s: the host passes a %zu-byte parameter struct, the kernel "
                          "takes %zu bytes (struct layouts differ)",
                          name, params_size, f->param_size);
    if (rc == 0 && dyn_smem > d->props.smem_per_block && dyn_smem > f->dyn_smem_opted) {
        rc = pf_cu_check(d->cu->cuFuncSetAttribute(
                             fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, (int)dyn_smem),
                         "cuFuncSetAttribute(%s, MAX_DYNAMIC_SHARED_SIZE_BYTES=%zu)", name,
                         dyn_smem);
        if (rc == 0)
            f->dyn_smem_opted = dyn_smem;
    }
    pthread_mutex_unlock(&m->lock);
    if (rc)
        return -1;
    void *args[1] = {(void *)(uintptr_t)params};
    return pf_cu_check(d->cu->cuLaunchKernel(fn, grid.x, grid.y, grid.z, block.x, block.y,
                                             block.z, (unsigned)dyn_smem, cu_stream(s), args, NULL),
                       "cuLaunchKernel(%s, grid %ux%ux%u, block %ux%ux%u, smem %zu)", name, grid.x,
                       grid.y, grid.z, block.x, block.y, block.z, dyn_smem);
}

static int cuda_gemm_bf16(pf_device *d, int m, int n, int k, pf_dptr a, pf_dptr b, int b_trans,
                          pf_dptr c, pf_stream *s)
{
    if (make_current(d))
        return -1;
    pthread_mutex_lock(&d->gemm_lock);
    int rc = d->gemm ? 0 : pf_cublaslt_create(d->cu, &d->gemm);
    pthread_mutex_unlock(&d->gemm_lock);
    if (rc)
        return -1;
    return pf_cublaslt_gemm_bf16(d->gemm, m, n, k, (CUdeviceptr)a, (CUdeviceptr)b, b_trans,
                                 (CUdeviceptr)c, cu_stream(s));
}

static int cuda_gemm_bf16_grouped(pf_device *d, int n, int k, const pf_gemm_problem *p,
                                  int count, pf_stream *s)
{
    if (make_current(d))
        return -1;
    pthread_mutex_lock(&d->gemm_lock);
    int rc = d->grouped ? 0 : pf_cublas_grouped_create(d->cu, &d->grouped);
    pthread_mutex_unlock(&d->gemm_lock);
    if (rc)
        return -1;
    return pf_cublas_grouped_gemm(d->grouped, n, k, p, count, cu_stream(s));
}

static const pf_backend_ops cuda_ops = {
    .name = "cuda",
    .close = cuda_close,
    .props = cuda_props,
    .alloc = cuda_alloc,
    .free = cuda_free,
    .copy_htod = cuda_copy_htod,
    .copy_dtoh = cuda_copy_dtoh,
    .copy_dtod = cuda_copy_dtod,
    .memset8 = cuda_memset8,
    .stream_create = cuda_stream_create,
    .stream_destroy = cuda_stream_destroy,
    .stream_sync = cuda_stream_sync,
    .event_create = cuda_event_create,
    .event_destroy = cuda_event_destroy,
    .event_record = cuda_event_record,
    .event_elapsed_ms = cuda_event_elapsed_ms,
    .module_load = cuda_module_load,
    .module_unload = cuda_module_unload,
    .launch = cuda_launch,
    .gemm_bf16 = cuda_gemm_bf16,
    .gemm_bf16_grouped = cuda_gemm_bf16_grouped,
    .profiler = pf_cupti_observer,
};

int pf_cuda_device_count(char *why, size_t why_size)
{
    if (why && why_size)
        why[0] = '\0';
    const pf_cu_api *cu = pf_cu_load();
    int n = 0;
    if (cu && pf_cu_check(cu->cuDeviceGetCount(&n), "cuDeviceGetCount") == 0 && n == 0)
        pf_error_set("the NVIDIA driver reports no CUDA devices");
    if (n <= 0 && why && why_size)
        snprintf(why, why_size, "%s", pf_error_get());
    return n > 0 ? n : 0;
}

int pf_cuda_open(int ordinal, pf_device **out)
{
    char why[PF_ERROR_MAX];
    int count = pf_cuda_device_count(why, sizeof why);
    if (count == 0)
        return pf_error_set("no GPU: %s", why);
    if (ordinal < 0 || ordinal >= count)
        return pf_error_set("cuda:%d: no such device (%d GPU%s present: cuda:0..cuda:%d)", ordinal,
                            count, count == 1 ? "" : "s", count - 1);
    pf_device *d = calloc(1, sizeof *d);
    if (!d)
        return pf_error_set("cuda:%d: out of host memory", ordinal);
    d->base.ops = &cuda_ops;
    pthread_mutex_init(&d->gemm_lock, NULL);
    d->cu = pf_cu_load();
    d->ordinal = ordinal;
    if (pf_cu_check(d->cu->cuDeviceGet(&d->dev, ordinal), "cuDeviceGet(%d)", ordinal) ||
        pf_cu_check(d->cu->cuDevicePrimaryCtxRetain(&d->ctx, d->dev),
                    "cuDevicePrimaryCtxRetain(cuda:%d)", ordinal)) {
        pthread_mutex_destroy(&d->gemm_lock);
        free(d);
        return -1;
    }
    if (make_current(d) || query_props(d, &d->props)) {
        cuda_close(d);
        return -1;
    }
    *out = d;
    return 0;
}
