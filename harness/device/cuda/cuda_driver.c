/* Run-time loading of libcuda.so.1 (see cuda_driver.h). */
#define _GNU_SOURCE /* dlinfo */
#include "device/cuda/cuda_driver.h"

#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"

#define PF_STR_(x) #x
#define PF_STR(x) PF_STR_(x) /* expands macros first: cuMemAlloc -> "cuMemAlloc_v2" */

static pf_cu_api cu_api;
static int cu_loaded;                /* 1: cu_api usable */
static char cu_why[PF_ERROR_MAX];    /* why not, when cu_loaded == 0 */
static pthread_once_t cu_once = PTHREAD_ONCE_INIT;

static const struct {
    CUresult rc;
    const char *name;
} cu_error_names[] = {
    {CUDA_SUCCESS, "CUDA_SUCCESS"},
    {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE"},
    {CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY"},
    {CUDA_ERROR_NOT_INITIALIZED, "CUDA_ERROR_NOT_INITIALIZED"},
    {CUDA_ERROR_DEINITIALIZED, "CUDA_ERROR_DEINITIALIZED"},
    {CUDA_ERROR_STUB_LIBRARY, "CUDA_ERROR_STUB_LIBRARY"},
    {CUDA_ERROR_NO_DEVICE, "CUDA_ERROR_NO_DEVICE"},
    {CUDA_ERROR_INVALID_DEVICE, "CUDA_ERROR_INVALID_DEVICE"},
    {CUDA_ERROR_INVALID_IMAGE, "CUDA_ERROR_INVALID_IMAGE"},
    {CUDA_ERROR_INVALID_CONTEXT, "CUDA_ERROR_INVALID_CONTEXT"},
    {CUDA_ERROR_NO_BINARY_FOR_GPU, "CUDA_ERROR_NO_BINARY_FOR_GPU"},
    {CUDA_ERROR_UNSUPPORTED_PTX_VERSION, "CUDA_ERROR_UNSUPPORTED_PTX_VERSION"},
    {CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND"},
    {CUDA_ERROR_ILLEGAL_ADDRESS, "CUDA_ERROR_ILLEGAL_ADDRESS"},
    {CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES"},
    {CUDA_ERROR_LAUNCH_FAILED, "CUDA_ERROR_LAUNCH_FAILED"},
    {CUDA_ERROR_SYSTEM_DRIVER_MISMATCH, "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH"},
    {CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE, "CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE"},
    {CUDA_ERROR_UNKNOWN, "CUDA_ERROR_UNKNOWN"},
};

const char *pf_cu_error_name(CUresult rc)
{
    const char *name = NULL;
    if (cu_loaded && cu_api.cuGetErrorName && cu_api.cuGetErrorName(rc, &name) == CUDA_SUCCESS &&
        name)
        return name;
    for (size_t i = 0; i < sizeof cu_error_names / sizeof cu_error_names[0]; i++)
        if (cu_error_names[i].rc == rc)
            return cu_error_names[i].name;
    return "CUDA_ERROR_(unrecognized)";
}

static const char *cu_error_text(CUresult rc)
{
    const char *text = NULL;
    if (cu_loaded && cu_api.cuGetErrorString &&
        cu_api.cuGetErrorString(rc, &text) == CUDA_SUCCESS && text)
        return text;
    if (rc == CUDA_ERROR_STUB_LIBRARY)
        return "the CUDA toolkit's stub library was loaded instead of a real driver";
    return "no description";
}

int pf_cu_check(CUresult rc, const char *fmt, ...)
{
    if (rc == CUDA_SUCCESS)
        return 0;
    char call[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(call, sizeof call, fmt, ap);
    va_end(ap);
    return pf_error_set("%s: %s (%d): %s", call, pf_cu_error_name(rc), (int)rc,
                        cu_error_text(rc));
}

/* The toolkit ships a libcuda stub for linking only; someone may have put
 * its directory on LD_LIBRARY_PATH (or symlinked it as libcuda.so.1). */
static int is_stub_library(void *handle, char *path, size_t path_size)
{
    struct link_map *map = NULL;
    path[0] = '\0';
    if (dlinfo(handle, RTLD_DI_LINKMAP, &map) != 0 || !map || !map->l_name)
        return 0;
    char resolved[PATH_MAX];
    /* Follow symlinks: a libcuda.so.1 link may point into the stubs dir. */
    snprintf(path, path_size, "%s", realpath(map->l_name, resolved) ? resolved : map->l_name);
    return strstr(path, "/stubs/") != NULL;
}

static void cu_load_once(void)
{
    void *h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(cu_why, sizeof cu_why, "libcuda.so.1 not found: no NVIDIA driver on this machine");
        return;
    }
    char path[PATH_MAX];
    if (is_stub_library(h, path, sizeof path)) {
        snprintf(cu_why, sizeof cu_why,
                 "libcuda.so.1 at %.400s is the CUDA toolkit's stub library, not an NVIDIA driver",
                 path);
        dlclose(h);
        return;
    }
#define PF_CU_RESOLVE(name)                                                             \
    *(void **)&cu_api.name = dlsym(h, PF_STR(name));                                   \
    if (!cu_api.name) {                                                                 \
        snprintf(cu_why, sizeof cu_why,                                                 \
                 "libcuda.so.1 lacks %s: NVIDIA driver too old for CUDA %d", PF_STR(name), \
                 CUDA_VERSION / 1000);                                                  \
        dlclose(h);                                                                     \
        return;                                                                         \
    }
    PF_CU_API_LIST(PF_CU_RESOLVE)
#undef PF_CU_RESOLVE
    *(void **)&cu_api.event_elapsed = dlsym(h, "cuEventElapsedTime_v2");
    if (!cu_api.event_elapsed)
        *(void **)&cu_api.event_elapsed = dlsym(h, "cuEventElapsedTime");
    if (!cu_api.event_elapsed) {
        snprintf(cu_why, sizeof cu_why, "libcuda.so.1 lacks cuEventElapsedTime");
        dlclose(h);
        return;
    }

    *(void **)&cu_api.func_get_param_info = dlsym(h, "cuFuncGetParamInfo");

    CUresult rc = cu_api.cuInit(0);
    if (rc != CUDA_SUCCESS) {
        /* Error strings need an initialized driver; use our own names. */
        snprintf(cu_why, sizeof cu_why, "cuInit failed: %s (%d)%s", pf_cu_error_name(rc), (int)rc,
                 rc == CUDA_ERROR_STUB_LIBRARY ? ": libcuda.so.1 is the toolkit's stub, not a driver"
                 : rc == CUDA_ERROR_NO_DEVICE  ? ": no CUDA-capable device"
                                               : "");
        /* Keep the handle: unloading a half-initialized driver is unsafe. */
        return;
    }
    cu_loaded = 1;
}

const pf_cu_api *pf_cu_load(void)
{
    pthread_once(&cu_once, cu_load_once);
    if (!cu_loaded) {
        pf_error_set("%s", cu_why);
        return NULL;
    }
    return &cu_api;
}
