/* pfattn: launching an exported kernel through the CUDA driver API, loaded
 * with dlopen("libcuda.so.1") on first use so that programs link (and build
 * metadata) on machines without a driver. The module of a kernel is loaded
 * once per context: the cubin of the device's exact arch, else the PTX of
 * the newest exported arch not above it (JIT-compiled by the driver). */
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pfattn_internal.h"

/* The kernel's one by-value parameter, from the kernel's own header. */
#include "../kernels/attention_params.h"

/* The few driver types and constants used (cuda.h is not needed to build). */
typedef int CUresult;
typedef int CUdevice;
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;
#define CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR 75
#define CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR 76
#define CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES 8
#define STATIC_SMEM_LIMIT (48 * 1024)

static struct driver {
    int loaded;
    CUresult (*init)(unsigned);
    CUresult (*ctx_get_current)(CUcontext *);
    CUresult (*ctx_get_device)(CUdevice *);
    CUresult (*device_get_attribute)(int *, int, CUdevice);
    CUresult (*module_load_data)(CUmodule *, const void *);
    CUresult (*module_get_function)(CUfunction *, CUmodule, const char *);
    CUresult (*func_set_attribute)(CUfunction, int, int);
    CUresult (*launch_kernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned,
                              unsigned, unsigned, CUstream, void **, void **);
    CUresult (*get_error_string)(CUresult, const char **);
} drv;

/* One loaded kernel per (context, kernel). */
#define MAX_MODULES 256
static struct module_rec {
    CUcontext ctx;
    int kernel;
    CUfunction fn;
} modules[MAX_MODULES];
static int n_modules;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char kernel_dir_set[1024];

void pfattn_set_kernel_dir(const char *dir)
{
    pthread_mutex_lock(&lock);
    snprintf(kernel_dir_set, sizeof kernel_dir_set, "%s", dir ? dir : "");
    pthread_mutex_unlock(&lock);
}

static const char *kernel_dir(void)
{
    const char *env = getenv("PFATTN_KERNEL_DIR");
    if (kernel_dir_set[0])
        return kernel_dir_set;
    if (env && env[0])
        return env;
#ifdef PFATTN_INSTALL_KERNEL_DIR
    if (access(PFATTN_INSTALL_KERNEL_DIR, R_OK) == 0)
        return PFATTN_INSTALL_KERNEL_DIR;
#endif
#ifdef PFATTN_SOURCE_KERNEL_DIR
    return PFATTN_SOURCE_KERNEL_DIR;
#else
    return "kernels";
#endif
}

static int cu_fail(CUresult r, const char *call)
{
    const char *s = NULL;
    if (drv.get_error_string)
        drv.get_error_string(r, &s);
    return pfattn_fail(PFATTN_ERR_CUDA, "%s failed: %s (CUresult %d)", call,
                       s ? s : "unknown error", r);
}

/* Caller holds the lock. */
static int driver_load(void)
{
    if (drv.loaded)
        return PFATTN_OK;
    void *h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return pfattn_fail(PFATTN_ERR_CUDA, "cannot load the CUDA driver (libcuda.so.1): %s",
                           dlerror());
    struct {
        void **slot;
        const char *name;
    } syms[] = {
        {(void **)&drv.init, "cuInit"},
        {(void **)&drv.ctx_get_current, "cuCtxGetCurrent"},
        {(void **)&drv.ctx_get_device, "cuCtxGetDevice"},
        {(void **)&drv.device_get_attribute, "cuDeviceGetAttribute"},
        {(void **)&drv.module_load_data, "cuModuleLoadData"},
        {(void **)&drv.module_get_function, "cuModuleGetFunction"},
        {(void **)&drv.func_set_attribute, "cuFuncSetAttribute"},
        {(void **)&drv.launch_kernel, "cuLaunchKernel"},
        {(void **)&drv.get_error_string, "cuGetErrorString"},
    };
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++)
        if (!(*syms[i].slot = dlsym(h, syms[i].name))) {
            dlclose(h);
            memset(&drv, 0, sizeof drv);
            return pfattn_fail(PFATTN_ERR_CUDA, "libcuda.so.1 has no %s (driver too old)",
                               syms[i].name);
        }
    CUresult r = drv.init(0);
    if (r != 0) {
        int rc = cu_fail(r, "cuInit");
        memset(&drv, 0, sizeof drv);
        return rc;
    }
    drv.loaded = 1;
    return PFATTN_OK;
}

/* Whole file, NUL-terminated (PTX is text). */
static int read_file(const char *path, char **out)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return PFATTN_ERR_IO;
    char *buf = NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (n > 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) &&
        fread(buf, 1, (size_t)n, f) == (size_t)n) {
        buf[n] = '\0';
        *out = buf;
    } else {
        free(buf);
    }
    fclose(f);
    return *out ? PFATTN_OK : PFATTN_ERR_IO;
}

/* "sm_90a" -> 90, *specific = 1. */
static int arch_cc(const char *arch, int *specific)
{
    int cc = atoi(arch + 3);
    *specific = arch[strlen(arch) - 1] == 'a';
    return cc;
}

/* Load kernel k for compute capability cc; caller holds the lock. */
static int module_load(int k, int cc, CUfunction *fn)
{
    const pfattn_kernel *kn = &pfattn_kernels[k];
    int exact = -1, ptx = -1, ptx_cc = 0;
    for (int i = 0; i < pfattn_n_archs; i++) {
        int spec, c = arch_cc(pfattn_archs[i], &spec);
        if (c == cc && (exact < 0 || spec))
            exact = i; /* sm_90a beats sm_90 on sm_90 */
        if (!spec && c <= cc && c >= ptx_cc)
            ptx = i, ptx_cc = c;
    }
    if (exact < 0 && ptx < 0)
        return pfattn_fail(PFATTN_ERR_NO_KERNEL, "kernel %s: the device (sm_%d) is older than "
                           "every exported arch (first: %s)", kn->name, cc,
                           pfattn_n_archs ? pfattn_archs[0] : "none");
    char path[1200], *image = NULL;
    CUmodule mod = NULL;
    CUresult r = -1;
    const char *tried = "";
    if (exact >= 0) {
        snprintf(path, sizeof path, "%s/%s.%s.cubin", kernel_dir(), kn->name, pfattn_archs[exact]);
        if (read_file(path, &image) == PFATTN_OK)
            r = drv.module_load_data(&mod, image);
        free(image);
        tried = path;
    }
    if (r != 0 && (ptx = exact >= 0 ? exact : ptx) >= 0) {
        snprintf(path, sizeof path, "%s/%s.%s.ptx", kernel_dir(), kn->name, pfattn_archs[ptx]);
        if (read_file(path, &image) != PFATTN_OK)
            return pfattn_fail(PFATTN_ERR_IO, "kernel %s: cannot read %s%s%s (set "
                               "PFATTN_KERNEL_DIR or pfattn_set_kernel_dir)", kn->name, path,
                               tried[0] ? " or " : "", tried);
        r = drv.module_load_data(&mod, image);
        free(image);
        if (r != 0)
            return cu_fail(r, "cuModuleLoadData (PTX)");
    }
    if ((r = drv.module_get_function(fn, mod, "attention")) != 0)
        return cu_fail(r, "cuModuleGetFunction(attention)");
    if (kn->smem_bytes > STATIC_SMEM_LIMIT &&
        (r = drv.func_set_attribute(*fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                    kn->smem_bytes)) != 0)
        return cu_fail(r, "cuFuncSetAttribute(max dynamic shared memory)");
    return PFATTN_OK;
}

static int function_for(int k, CUfunction *fn)
{
    pthread_mutex_lock(&lock);
    int rc = driver_load();
    CUcontext ctx = NULL;
    CUdevice dev = 0;
    int major = 0, minor = 0;
    CUresult r = 0;
    if (!rc && ((r = drv.ctx_get_current(&ctx)) != 0 || !ctx))
        rc = r ? cu_fail(r, "cuCtxGetCurrent")
               : pfattn_fail(PFATTN_ERR_CUDA, "no current CUDA context in this thread: make "
                             "one current first (cudaSetDevice and any runtime call, or "
                             "torch.cuda.init())");
    for (int i = 0; !rc && i < n_modules; i++)
        if (modules[i].ctx == ctx && modules[i].kernel == k) {
            *fn = modules[i].fn;
            pthread_mutex_unlock(&lock);
            return PFATTN_OK;
        }
    if (!rc && ((r = drv.ctx_get_device(&dev)) != 0 ||
                (r = drv.device_get_attribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
                                              dev)) != 0 ||
                (r = drv.device_get_attribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
                                              dev)) != 0))
        rc = cu_fail(r, "reading the device's compute capability");
    if (!rc && n_modules == MAX_MODULES)
        rc = pfattn_fail(PFATTN_ERR_NOMEM, "more than %d (context, kernel) modules", MAX_MODULES);
    if (!rc && !(rc = module_load(k, major * 10 + minor, fn)))
        modules[n_modules++] = (struct module_rec){ctx, k, *fn};
    pthread_mutex_unlock(&lock);
    return rc;
}

size_t pfattn_launch_args_size(void)
{
    return sizeof(pfattn_launch_args);
}

void pfattn_launch_args_init(pfattn_launch_args *a, const pfattn_metadata *md)
{
    memset(a, 0, sizeof *a);
    a->kernel = -1;
    if (!md)
        return;
    a->kernel = md->kernel;
    a->seq_len = md->seq_len;
    a->batch = (int32_t)md->batch;
    a->num_work = (int32_t)md->num_work;
    a->rule = md->rule;
    a->layer = md->layer;
    a->window = md->window;
    a->band = md->band;
}

/* Everything checkable without a GPU; *k gets the kernel to run. */
static int check_args(const pfattn_launch_args *a, int *k, int *use_causal, int *use_same,
                      int *win)
{
    int rc = pfattn_flags(a->rule, a->layer, a->window, use_causal, use_same, win);
    if (rc)
        return rc;
    if (a->batch <= 0 || a->num_work < 0 || a->num_qo_heads <= 0 || a->num_kv_heads <= 0 ||
        a->num_qo_heads % a->num_kv_heads || a->num_qo_heads > 65535)
        return pfattn_fail(PFATTN_ERR_INVALID, "launch: bad sizes (batch %d, work %d, heads "
                           "%d:%d; query heads must be a multiple of kv heads, <= 65535)",
                           a->batch, a->num_work, a->num_qo_heads, a->num_kv_heads);
    if (!(a->scale > 0.0f) || !isfinite(a->scale))
        return pfattn_fail(PFATTN_ERR_INVALID, "launch: softmax scale must be positive and "
                           "finite (got %g)", (double)a->scale);
    if ((rc = pfattn_select(a->head_dim, a->layer, a->rule, a->seq_len, k, NULL)))
        return rc;
    const pfattn_kernel *kn = &pfattn_kernels[*k];
    if (a->kernel >= 0 && a->kernel != *k)
        return pfattn_fail(PFATTN_ERR_INVALID, "launch: the metadata was built for kernel %s "
                           "but seq_len %lld picks %s: rebuild it with the same seq_len",
                           pfattn_kernels[a->kernel < pfattn_n_kernels ? a->kernel : 0].name,
                           (long long)a->seq_len, kn->name);
    const char *missing = !a->q ? "q" : !a->k ? "k" : !a->v ? "v" : !a->o ? "o"
                        : !a->qo_indptr ? "qo_indptr" : !a->kv_indptr ? "kv_indptr"
                        : a->num_work && (!a->work_request || !a->work_qtile) ? "work list"
                        : NULL;
    if (!missing && kn->mask_storage == PFATTN_MASK_SPANS && !a->group_ids)
        missing = "group_ids (spans storage)";
    if (!missing && kn->mask_storage != PFATTN_MASK_SPANS && (!a->mask || !a->mask_indptr))
        missing = "mask and mask_indptr";
    if (!missing && kn->mask_storage == PFATTN_MASK_WINDOW && a->band.stride <= 0)
        missing = "band (window storage: pfattn_mask_band)";
    if (!missing && kn->tile_skip && (!a->tile_class || !a->tile_indptr))
        missing = "tile_class and tile_indptr (TILE_SKIP kernel)";
    if (missing)
        return pfattn_fail(PFATTN_ERR_INVALID, "launch: kernel %s needs %s", kn->name, missing);
    return PFATTN_OK;
}

int pfattn_launch(const pfattn_launch_args *a)
{
    if (!a)
        return pfattn_fail(PFATTN_ERR_INVALID, "launch: no arguments");
    int k, use_causal, use_same, win;
    int rc = check_args(a, &k, &use_causal, &use_same, &win);
    if (rc || a->num_work == 0)
        return rc;
    const pfattn_kernel *kn = &pfattn_kernels[k];
    pf_attn_params p;
    memset(&p, 0, sizeof p);
    p.q = a->q;
    p.k = a->k;
    p.v = a->v;
    p.o = a->o;
    p.lse = a->lse;
    p.qo_indptr = a->qo_indptr;
    p.kv_indptr = a->kv_indptr;
    p.work_request = a->work_request;
    p.work_qtile = a->work_qtile;
    p.num_work = a->num_work;
    p.batch = a->batch;
    p.num_qo_heads = a->num_qo_heads;
    p.num_kv_heads = a->num_kv_heads;
    p.sm_scale_log2 = (float)(a->scale * 1.4426950408889634);
    p.use_causal = use_causal;
    p.use_same = use_same;
    p.window = win;
    p.mask = a->mask;
    p.mask_indptr = a->mask_indptr;
    p.group_ids = a->group_ids;
    p.band_left = a->band.left;
    p.band_right = a->band.right;
    p.band_stride = a->band.stride;
    p.band_past = a->band.past;
    p.tile_class = a->tile_class;
    p.tile_indptr = a->tile_indptr;
    CUfunction fn;
    if ((rc = function_for(k, &fn)))
        return rc;
    void *params[] = {&p};
    CUresult r = drv.launch_kernel(fn, (unsigned)a->num_work, (unsigned)a->num_qo_heads, 1,
                                   (unsigned)kn->threads, 1, 1, (unsigned)kn->smem_bytes,
                                   (CUstream)a->stream, params, NULL);
    return r ? cu_fail(r, "cuLaunchKernel") : PFATTN_OK;
}
