/* The emu device backend: device memory is guarded host memory, streams
 * execute in order synchronously, kernels are shared objects built from the
 * kernel source by the host compiler and run on the fiber runtime, GEMMs go
 * to OpenBLAS. Timings are host timings. */
#define _GNU_SOURCE
#include <cblas.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "device/arch.h"
#include "device/device.h"
#include "device/emu/emu_dlopen.h"
#include "device/emu/emu_guard.h"
#include "device/emu/emu_launch.h"
#include "core/pf_error.h"
#include "kernels/pf_numeric.h"

struct pf_device {
    struct pf_device_base base;
    pf_device_props props;
};

struct pf_module {
    void *handle;
    char path[512];
};

struct pf_stream {
    int unused;
};

struct pf_event {
    double ms; /* CLOCK_MONOTONIC at record time */
    int recorded;
};

static void *ptr(pf_dptr p)
{
    return (void *)(uintptr_t)p;
}

static void emu_close(pf_device *dev)
{
    free(dev);
}

static int emu_props(pf_device *dev, pf_device_props *out)
{
    *out = dev->props;
    return 0;
}

static int emu_alloc(pf_device *dev, size_t bytes, const char *label, pf_dptr *out)
{
    (void)dev;
    void *p;
    if (pf_emu_guard_alloc(bytes, label, &p) != 0)
        return -1;
    *out = (pf_dptr)(uintptr_t)p;
    return 0;
}

static int emu_free(pf_device *dev, pf_dptr p)
{
    (void)dev;
    return pf_emu_guard_free(ptr(p));
}

static int emu_copy_htod(pf_device *dev, pf_dptr dst, const void *src, size_t n, pf_stream *s)
{
    (void)dev;
    (void)s;
    if (pf_emu_guard_range(ptr(dst), n, "copy to device") != 0)
        return -1;
    if (n)
        memcpy(ptr(dst), src, n);
    return 0;
}

static int emu_copy_dtoh(pf_device *dev, void *dst, pf_dptr src, size_t n, pf_stream *s)
{
    (void)dev;
    (void)s;
    if (pf_emu_guard_range(ptr(src), n, "copy from device") != 0)
        return -1;
    if (n)
        memcpy(dst, ptr(src), n);
    return 0;
}

static int emu_copy_dtod(pf_device *dev, pf_dptr dst, pf_dptr src, size_t n, pf_stream *s)
{
    (void)dev;
    (void)s;
    if (pf_emu_guard_range(ptr(src), n, "device copy source") != 0 ||
        pf_emu_guard_range(ptr(dst), n, "device copy destination") != 0)
        return -1;
    if (n)
        memmove(ptr(dst), ptr(src), n);
    return 0;
}

static int emu_memset8(pf_device *dev, pf_dptr dst, int value, size_t n, pf_stream *s)
{
    (void)dev;
    (void)s;
    if (pf_emu_guard_range(ptr(dst), n, "memset") != 0)
        return -1;
    if (n)
        memset(ptr(dst), value, n);
    return 0;
}

static int emu_stream_create(pf_device *dev, pf_stream **out)
{
    (void)dev;
    *out = (pf_stream *)calloc(1, sizeof **out);
    return *out ? 0 : pf_error_set("emu: out of memory");
}

static int emu_stream_destroy(pf_device *dev, pf_stream *s)
{
    (void)dev;
    free(s);
    return 0;
}

static int emu_stream_sync(pf_device *dev, pf_stream *s)
{
    (void)dev;
    (void)s;
    return 0; /* everything already ran */
}

static int emu_event_create(pf_device *dev, pf_event **out)
{
    (void)dev;
    *out = (pf_event *)calloc(1, sizeof **out);
    return *out ? 0 : pf_error_set("emu: out of memory");
}

static int emu_event_destroy(pf_device *dev, pf_event *e)
{
    (void)dev;
    free(e);
    return 0;
}

static int emu_event_record(pf_device *dev, pf_event *e, pf_stream *s)
{
    (void)dev;
    (void)s;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    e->ms = (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
    e->recorded = 1;
    return 0;
}

static int emu_event_elapsed_ms(pf_device *dev, pf_event *start, pf_event *end, float *ms)
{
    (void)dev;
    if (!start->recorded || !end->recorded)
        return pf_error_set("emu: elapsed time of an event that was never recorded");
    *ms = (float)(end->ms - start->ms);
    return 0;
}

static int emu_module_load(pf_device *dev, const pf_binary *bin, pf_module **out)
{
    (void)dev;
    if (!bin->so_path)
        return pf_error_set("emu: module has no shared object (compiled for a GPU target?)");
    void *h = pf_emu_dlopen_trusted(bin->so_path);
    if (!h)
        return -1;
    pf_module *m = (pf_module *)calloc(1, sizeof *m);
    if (!m) {
        dlclose(h);
        return pf_error_set("emu: out of memory");
    }
    m->handle = h;
    snprintf(m->path, sizeof m->path, "%s", bin->so_path);
    *out = m;
    return 0;
}

static int emu_module_unload(pf_device *dev, pf_module *m)
{
    (void)dev;
    if (!m)
        return 0;
#ifndef PF_TSAN
    dlclose(m->handle);
#else
    /* kept mapped: TSan's reports and symbolizer keep code addresses of
     * earlier kernels, which a later module at the same address would steal */
#endif
    free(m);
    return 0;
}

static int check_dims(const pf_device_props *p, const char *name, pf_dim3 grid, pf_dim3 block)
{
    unsigned long max = (unsigned long)p->max_threads_per_block;
    unsigned long threads = (unsigned long)block.x * block.y * block.z;
    if (block.x == 0 || block.y == 0 || block.z == 0 || grid.x == 0 || grid.y == 0 || grid.z == 0)
        return pf_error_set("emu: launch of %s: empty grid (%u,%u,%u) or block (%u,%u,%u)", name, grid.x,
                            grid.y, grid.z, block.x, block.y, block.z);
    if (threads > max || block.x > 1024 || block.y > 1024 || block.z > 64)
        return pf_error_set("emu: launch of %s: block (%u,%u,%u) exceeds %lu threads (or 1024x1024x64)",
                            name, block.x, block.y, block.z, max);
    if (grid.x > 2147483647u || grid.y > 65535 || grid.z > 65535)
        return pf_error_set("emu: launch of %s: grid (%u,%u,%u) exceeds (2^31-1, 65535, 65535)", name,
                            grid.x, grid.y, grid.z);
    return 0;
}

static int emu_launch(pf_device *dev, pf_module *m, const char *name, pf_dim3 grid, pf_dim3 block,
                      size_t dyn_smem, pf_stream *s, const void *params, size_t params_size)
{
    (void)s;
    if (check_dims(&dev->props, name, grid, block) != 0)
        return -1;
    if (dyn_smem > dev->props.smem_per_block_optin)
        return pf_error_set("emu: launch of %s: %zu bytes of dynamic shared memory exceed the %zu-byte "
                            "opt-in limit of sm_%d%d",
                            name, dyn_smem, dev->props.smem_per_block_optin, dev->props.cc_major,
                            dev->props.cc_minor);
    char sym[320];
    snprintf(sym, sizeof sym, "%s__pf_entry", name);
    void *entry = dlsym(m->handle, sym);
    if (!entry)
        return pf_error_set("emu: kernel %s not found in %s (no PF_KERNEL of that name)", name, m->path);
    /* a private, 16-byte aligned copy: the caller may reuse its buffer */
    void *copy = aligned_alloc(16, (params_size + 15) / 16 * 16 + 16);
    if (!copy)
        return pf_error_set("emu: out of memory");
    if (params_size)
        memcpy(copy, params, params_size);
    pf_emu_launch L;
    memset(&L, 0, sizeof L);
    L.kernel = name;
    *(void **)&L.entry = entry;
    L.params = copy;
    L.grid = grid;
    L.block = block;
    L.dyn_smem = dyn_smem;
    L.smem_limit = dev->props.smem_per_block_optin;
    L.static_smem_limit = dev->props.smem_per_block;
    int rc = pf_emu_launch_run(&L); /* also checks the buffers' canaries */
    free(copy);
    return rc;
}

static int widen(const pf_bf16 *src, size_t n, float **out)
{
    float *f = (float *)malloc((n ? n : 1) * sizeof *f);
    if (!f)
        return pf_error_set("emu: out of memory widening a %zu-element bf16 matrix", n);
    for (size_t i = 0; i < n; i++)
        f[i] = pf_bf16_to_f32(src[i]);
    *out = f;
    return 0;
}

static int emu_gemm_bf16(pf_device *dev, int m, int n, int k, pf_dptr a, pf_dptr b, int b_trans, pf_dptr c,
                         pf_stream *s)
{
    (void)dev;
    (void)s;
    if (m < 0 || n < 0 || k < 0)
        return pf_error_set("emu: gemm with negative size %dx%dx%d", m, n, k);
    size_t sa = (size_t)m * (size_t)k, sb = (size_t)k * (size_t)n, sc = (size_t)m * (size_t)n;
    if (pf_emu_guard_range(ptr(a), sa * 2, "gemm A") != 0 || pf_emu_guard_range(ptr(b), sb * 2, "gemm B") != 0 ||
        pf_emu_guard_range(ptr(c), sc * 4, "gemm C") != 0)
        return -1;
    if (sc == 0)
        return 0;
    if (k == 0) {
        memset(ptr(c), 0, sc * 4);
        return 0;
    }
    float *fa = NULL, *fb = NULL;
    if (widen((const pf_bf16 *)ptr(a), sa, &fa) != 0 || widen((const pf_bf16 *)ptr(b), sb, &fb) != 0) {
        free(fa);
        return -1;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, b_trans ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, fa, k, fb,
                b_trans ? k : n, 0.0f, (float *)ptr(c), n);
    free(fa);
    free(fb);
    return 0;
}

/* Checks every problem before computing any, so a bad one leaves the
 * outputs untouched. */
static int grouped_check(int n, int k, const pf_gemm_problem *p, int count)
{
    if (n <= 0 || k <= 0 || count < 0)
        return pf_error_set("emu: grouped gemm with n=%d k=%d count=%d (n, k must be positive)", n, k, count);
    for (int i = 0; i < count; i++) {
        size_t m = (size_t)p[i].m;
        if (p[i].m < 0)
            return pf_error_set("emu: grouped gemm problem %d has %d rows", i, p[i].m);
        if (m && (pf_emu_guard_range(ptr(p[i].a), m * (size_t)k * 2, "grouped gemm A") != 0 ||
                  pf_emu_guard_range(ptr(p[i].b), (size_t)n * (size_t)k * 2, "grouped gemm B") != 0 ||
                  pf_emu_guard_range(ptr(p[i].c), m * (size_t)n * 2, "grouped gemm C") != 0))
            return pf_error_prefix("grouped gemm problem %d", i);
    }
    return 0;
}

static int emu_gemm_bf16_grouped(pf_device *dev, int n, int k, const pf_gemm_problem *p, int count, pf_stream *s)
{
    (void)dev;
    (void)s;
    if (grouped_check(n, k, p, count) != 0)
        return -1;
    for (int i = 0; i < count; i++) {
        size_t m = (size_t)p[i].m, sc = m * (size_t)n;
        if (!m)
            continue;
        float *fa = NULL, *fb = NULL, *fc = (float *)malloc(sc * sizeof *fc);
        if (!fc || widen((const pf_bf16 *)ptr(p[i].a), m * (size_t)k, &fa) != 0 ||
            widen((const pf_bf16 *)ptr(p[i].b), (size_t)n * (size_t)k, &fb) != 0) {
            free(fa);
            free(fc);
            return fc ? -1 : pf_error_set("emu: out of memory for a %zux%d grouped gemm result", m, n);
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, n, k, 1.0f, fa, k, fb, k, 0.0f, fc, n);
        pf_bf16 *c = (pf_bf16 *)ptr(p[i].c);
        for (size_t e = 0; e < sc; e++)
            c[e] = pf_f32_to_bf16(fc[e]);
        free(fa);
        free(fb);
        free(fc);
    }
    return 0;
}

static const pf_backend_ops emu_ops = {
    .name = "emu",
    .close = emu_close,
    .props = emu_props,
    .alloc = emu_alloc,
    .free = emu_free,
    .copy_htod = emu_copy_htod,
    .copy_dtoh = emu_copy_dtoh,
    .copy_dtod = emu_copy_dtod,
    .memset8 = emu_memset8,
    .stream_create = emu_stream_create,
    .stream_destroy = emu_stream_destroy,
    .stream_sync = emu_stream_sync,
    .event_create = emu_event_create,
    .event_destroy = emu_event_destroy,
    .event_record = emu_event_record,
    .event_elapsed_ms = emu_event_elapsed_ms,
    .module_load = emu_module_load,
    .module_unload = emu_module_unload,
    .launch = emu_launch,
    .gemm_bf16 = emu_gemm_bf16,
    .gemm_bf16_grouped = emu_gemm_bf16_grouped,
};

int pf_emu_open(const char *arch, pf_device **out)
{
    const pf_arch *a = pf_arch_lookup(arch ? arch : "sm_90");
    if (!a)
        return pf_error_prefix("emu");
    pf_device *d = (pf_device *)calloc(1, sizeof *d);
    if (!d)
        return pf_error_set("emu: out of memory");
    d->base.ops = &emu_ops;
    pf_device_props *p = &d->props;
    snprintf(p->backend, sizeof p->backend, "emu");
    p->kind = PF_BACKEND_EMU;
    p->caps.host_timers = 1;
    snprintf(p->name, sizeof p->name, "emu (CPU, %s limits)", a->name);
    p->cc_major = a->cc_major;
    p->cc_minor = a->cc_minor;
    p->sm_count = a->sm_count;
    p->smem_per_block = a->smem_per_block;
    p->smem_per_block_optin = a->smem_per_block_optin;
    p->smem_per_sm = a->smem_per_sm;
    p->regs_per_sm = a->regs_per_sm;
    p->max_threads_per_block = a->max_threads_per_block;
    p->warp_size = 32;
    p->l2_bytes = a->l2_bytes;
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    p->mem_bytes = pages > 0 && page > 0 ? (size_t)pages * (size_t)page : 0; /* host RAM */
    p->mem_bandwidth_gbs = 0;
    *out = d;
    return 0;
}
