/* The device interface: one vtable, two backends (cuda, emu).
 *
 * Device memory is named by pf_dptr, a 64-bit address. On cuda it is a
 * CUdeviceptr; on emu it is the host address of a guarded allocation. Kernels
 * take exactly one by-value struct parameter (see kernels/pf_dialect.h,
 * PF_KERNEL), whose pointer fields hold these addresses, so the same struct
 * layout is valid on both backends. */
#ifndef PF_DEVICE_H
#define PF_DEVICE_H

#include <stddef.h>
#include <stdint.h>

typedef uint64_t pf_dptr;

typedef struct pf_device pf_device;   /* backend-owned */
typedef struct pf_module pf_module;   /* a loaded compiled variant */
typedef struct pf_stream pf_stream;   /* NULL means the default stream */
typedef struct pf_event pf_event;

typedef struct pf_dim3 {
    unsigned x, y, z;
} pf_dim3;

typedef enum pf_backend_kind {
    PF_BACKEND_CUDA, /* zero: a zeroed props (test doubles) reads as cuda */
    PF_BACKEND_EMU,
} pf_backend_kind;

/* What callers may rely on, instead of testing the backend's name. */
typedef struct pf_backend_caps {
    int host_timers; /* events read the host clock: times are not GPU numbers */
    int cupti;       /* CUPTI activity records (GPU kernel times, allocations) */
} pf_backend_caps;

typedef struct pf_device_props {
    char backend[16];          /* "cuda" or "emu", for people; decide on kind */
    pf_backend_kind kind;
    pf_backend_caps caps;
    char name[256];
    int cc_major, cc_minor;    /* emu: the arch it mimics */
    int sm_count;
    size_t smem_per_block;     /* default limit (48 KiB on NVIDIA) */
    size_t smem_per_block_optin; /* with the opt-in attribute */
    size_t smem_per_sm;
    int regs_per_sm;
    int max_threads_per_block;
    int warp_size;
    size_t l2_bytes;
    size_t mem_bytes;
    double mem_bandwidth_gbs;  /* peak, from clock and bus width; 0 if unknown */
    int clock_khz, mem_clock_khz, mem_bus_bits;
    char driver[64];           /* driver version string, "" on emu */
} pf_device_props;

/* A compiled variant as the backend loads it: a cubin image for cuda, a
 * shared-object path for emu. Produced by harness/jit/jit.h. */
typedef struct pf_binary {
    const void *image;  /* cuda: cubin bytes */
    size_t image_size;
    const char *so_path; /* emu: path of the compiled shared object */
} pf_binary;

struct pf_measure_observer; /* measure/observer.h */

/* One problem of a grouped GEMM (see gemm_bf16_grouped). */
typedef struct pf_gemm_problem {
    int m;
    pf_dptr a, b, c;
} pf_gemm_problem;

typedef struct pf_backend_ops {
    const char *name;
    void (*close)(pf_device *dev);
    int (*props)(pf_device *dev, pf_device_props *out);

    int (*alloc)(pf_device *dev, size_t bytes, const char *label, pf_dptr *out);
    int (*free)(pf_device *dev, pf_dptr p);
    int (*copy_htod)(pf_device *dev, pf_dptr dst, const void *src, size_t n, pf_stream *s);
    int (*copy_dtoh)(pf_device *dev, void *dst, pf_dptr src, size_t n, pf_stream *s);
    int (*copy_dtod)(pf_device *dev, pf_dptr dst, pf_dptr src, size_t n, pf_stream *s);
    int (*memset8)(pf_device *dev, pf_dptr dst, int value, size_t n, pf_stream *s);

    int (*stream_create)(pf_device *dev, pf_stream **out);
    int (*stream_destroy)(pf_device *dev, pf_stream *s);
    int (*stream_sync)(pf_device *dev, pf_stream *s);
    int (*event_create)(pf_device *dev, pf_event **out);
    int (*event_destroy)(pf_device *dev, pf_event *e);
    int (*event_record)(pf_device *dev, pf_event *e, pf_stream *s);
    /* Milliseconds between two recorded events (after they completed). */
    int (*event_elapsed_ms)(pf_device *dev, pf_event *start, pf_event *end, float *ms);

    int (*module_load)(pf_device *dev, const pf_binary *bin, pf_module **out);
    int (*module_unload)(pf_device *dev, pf_module *m);
    /* Launch kernel `name` of module `m`. `params` points at the kernel's one
     * struct parameter of `params_size` bytes. Dynamic shared memory above
     * the default limit is opted in by the backend (error if over optin). */
    int (*launch)(pf_device *dev, pf_module *m, const char *name, pf_dim3 grid, pf_dim3 block,
                  size_t dyn_smem, pf_stream *s, const void *params, size_t params_size);

    /* C[m,n] (fp32, row-major) = A[m,k] (bf16, row-major) x B (bf16):
     * B is [k,n] row-major when b_trans == 0, [n,k] row-major when 1.
     * fp32 accumulation. cuda: cuBLASLt; emu: OpenBLAS sgemm on widened data. */
    int (*gemm_bf16)(pf_device *dev, int m, int n, int k, pf_dptr a, pf_dptr b, int b_trans,
                     pf_dptr c, pf_stream *s);

    /* Grouped GEMM (one MoE layer's experts): for each problem i,
     * C_i[m_i,n] (bf16, row-major) = A_i[m_i,k] (bf16, row-major) x B_i^T,
     * B_i bf16 [n,k] row-major; fp32 accumulation, rounded to bf16 once.
     * Problems with m_i == 0 are skipped. cuda: one cublasGemmGroupedBatchedEx
     * call; emu: OpenBLAS sgemm per problem. */
    int (*gemm_bf16_grouped)(pf_device *dev, int n, int k, const pf_gemm_problem *p, int count,
                             pf_stream *s);

    /* The backend's profiler as a measurement observer (measure/observer.h):
     * cuda offers CUPTI; NULL where there is none. */
    int (*profiler)(pf_device *dev, struct pf_measure_observer *out);
} pf_backend_ops;

struct pf_device_base {
    const pf_backend_ops *ops;
};

/* Every backend's pf_device starts with a struct pf_device_base. Only the
 * backends and device.c use the table; everyone else calls pf_dev_*. */
static inline const pf_backend_ops *pf_device_ops(pf_device *d)
{
    return ((struct pf_device_base *)d)->ops;
}

/* The device interface as functions (each forwards to the table). */
static inline int pf_dev_props(pf_device *d, pf_device_props *out)
{
    return pf_device_ops(d)->props(d, out);
}
static inline int pf_dev_alloc(pf_device *d, size_t bytes, const char *label, pf_dptr *out)
{
    return pf_device_ops(d)->alloc(d, bytes, label, out);
}
static inline int pf_dev_free(pf_device *d, pf_dptr p)
{
    return pf_device_ops(d)->free(d, p);
}
static inline int pf_dev_copy_htod(pf_device *d, pf_dptr dst, const void *src, size_t n,
                                   pf_stream *s)
{
    return pf_device_ops(d)->copy_htod(d, dst, src, n, s);
}
static inline int pf_dev_copy_dtoh(pf_device *d, void *dst, pf_dptr src, size_t n, pf_stream *s)
{
    return pf_device_ops(d)->copy_dtoh(d, dst, src, n, s);
}
static inline int pf_dev_copy_dtod(pf_device *d, pf_dptr dst, pf_dptr src, size_t n, pf_stream *s)
{
    return pf_device_ops(d)->copy_dtod(d, dst, src, n, s);
}
static inline int pf_dev_memset8(pf_device *d, pf_dptr dst, int value, size_t n, pf_stream *s)
{
    return pf_device_ops(d)->memset8(d, dst, value, n, s);
}
static inline int pf_dev_stream_create(pf_device *d, pf_stream **out)
{
    return pf_device_ops(d)->stream_create(d, out);
}
static inline int pf_dev_stream_destroy(pf_device *d, pf_stream *s)
{
    return pf_device_ops(d)->stream_destroy(d, s);
}
static inline int pf_dev_stream_sync(pf_device *d, pf_stream *s)
{
    return pf_device_ops(d)->stream_sync(d, s);
}
static inline int pf_dev_event_create(pf_device *d, pf_event **out)
{
    return pf_device_ops(d)->event_create(d, out);
}
static inline int pf_dev_event_destroy(pf_device *d, pf_event *e)
{
    return pf_device_ops(d)->event_destroy(d, e);
}
static inline int pf_dev_event_record(pf_device *d, pf_event *e, pf_stream *s)
{
    return pf_device_ops(d)->event_record(d, e, s);
}
static inline int pf_dev_event_elapsed_ms(pf_device *d, pf_event *start, pf_event *end, float *ms)
{
    return pf_device_ops(d)->event_elapsed_ms(d, start, end, ms);
}
static inline int pf_dev_module_load(pf_device *d, const pf_binary *bin, pf_module **out)
{
    return pf_device_ops(d)->module_load(d, bin, out);
}
static inline int pf_dev_module_unload(pf_device *d, pf_module *m)
{
    return pf_device_ops(d)->module_unload(d, m);
}
static inline int pf_dev_launch(pf_device *d, pf_module *m, const char *name, pf_dim3 grid,
                                pf_dim3 block, size_t dyn_smem, pf_stream *s, const void *params,
                                size_t params_size)
{
    return pf_device_ops(d)->launch(d, m, name, grid, block, dyn_smem, s, params, params_size);
}
static inline int pf_dev_gemm_bf16(pf_device *d, int m, int n, int k, pf_dptr a, pf_dptr b,
                                   int b_trans, pf_dptr c, pf_stream *s)
{
    return pf_device_ops(d)->gemm_bf16(d, m, n, k, a, b, b_trans, c, s);
}
static inline int pf_dev_gemm_bf16_grouped(pf_device *d, int n, int k, const pf_gemm_problem *p,
                                           int count, pf_stream *s)
{
    return pf_device_ops(d)->gemm_bf16_grouped(d, n, k, p, count, s);
}
/* The backend's profiler as a measurement observer; -1 (no message) where
 * the backend has none. */
static inline int pf_dev_profiler(pf_device *d, struct pf_measure_observer *out)
{
    const pf_backend_ops *ops = pf_device_ops(d);
    return ops->profiler ? ops->profiler(d, out) : -1;
}

/* Discovery. `pf_cuda_available` loads libcuda at run time (dlopen) and
 * returns the number of GPUs, 0 when no driver or no device, with a reason
 * string describing why (never aborts). */
int pf_cuda_device_count(char *why, size_t why_size);
int pf_cuda_open(int ordinal, pf_device **out);
/* emu mimics the limits of `arch`, any arch of device/arch.h ("sm_86"). */
int pf_emu_open(const char *arch, pf_device **out);

/* `which` is "auto", "cuda", "cuda:N", "emu" or "emu:sm_XX". auto picks cuda:0 when a GPU
 * is present, else emu (sm_90 limits). */
int pf_device_open(const char *which, pf_device **out);
void pf_device_close(pf_device *dev);

#endif
