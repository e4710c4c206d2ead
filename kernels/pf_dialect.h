/* The kernel dialect: CUDA in the subset that is also C11 (see
 * docs/ARCHITECTURE.md for the API table). Under NVRTC (__CUDACC_RTC__) the
 * names map onto CUDA; under PF_EMU (the host C compiler, emu backend) they
 * map onto the emulator runtime in libpftune_core (harness/emu_*.c), where
 * every CUDA thread is a fiber.
 *
 * Differences a kernel author may notice on emu:
 *  - PF_SHARED declares a pointer, not an array: sizeof(name) is the pointer
 *    size. Every PF_SHARED site gets one block-wide array (as on a GPU, also
 *    when the declaring function runs many times), 16-byte aligned, followed
 *    by a canary redzone checked at the end of each block.
 *  - Dynamic shared memory is a separate region (not after the static part),
 *    ending exactly at a guard page.
 *  - Shared memory starts filled with 0xff bytes (NaN as float), so a kernel
 *    that reads it before writing it computes garbage instead of zeros
 *    (--sanitize init reports such a read with its source line).
 *  - cp.async copies land at the cp_async_wait that retires their group,
 *    not at issue (see pf_tensorcore.h).
 *  - A warp collective waits for all lanes named in its mask; lanes of one
 *    warp may not be inside two different collectives at once.
 *  - pf_bar_sync needs a block of whole warps, and whole warps arriving.
 *  - Launch bounds: use PF_KERNEL_BOUNDED(name, T, p, threads); CUDA does not
 *    accept an attribute in front of `extern "C"`, so PF_LAUNCH_BOUNDS alone
 *    only fits a hand-written `extern "C" __global__ void PF_LAUNCH_BOUNDS(n)`
 *    declaration (NVRTC only). */
#ifndef PF_DIALECT_H
#define PF_DIALECT_H

/* ------------------------------------------------------------------ NVRTC */
#if defined(__CUDACC_RTC__)

typedef signed char int8_t;
typedef unsigned char uint8_t;
typedef short int16_t;
typedef unsigned short uint16_t;
typedef int int32_t;
typedef unsigned int uint32_t;
typedef long long int64_t;
typedef unsigned long long uint64_t;

#define PF_KERNEL(name, ParamType, p) extern "C" __global__ void name(ParamType p)
#define PF_KERNEL_BOUNDED(name, ParamType, p, threads) \
    extern "C" __global__ void __launch_bounds__(threads) name(ParamType p)
#define PF_DEVICE static __device__ __forceinline__
#define PF_SHARED(type, name, count) __shared__ __align__(16) type name[count]
#define PF_DYNAMIC_SHARED(type, name)                            \
    extern __shared__ __align__(16) unsigned char pf_dyn_smem_[]; \
    type *name = (type *)pf_dyn_smem_
#define PF_RESTRICT __restrict__
#define PF_UNROLL _Pragma("unroll")
#define PF_LAUNCH_BOUNDS(threads) __launch_bounds__(threads)

#define INFINITY __int_as_float(0x7f800000)
#define NAN __int_as_float(0x7fffffff)

/* 2^x as one MUFU.EX2 (ex2.approx.ftz: ~2 ulp, subnormal results flushed to
 * 0, ex2(-inf) = 0); exp2f adds range fix-ups around it. */
PF_DEVICE float pf_exp2_approx(float x)
{
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

/* Named barrier: `nthreads` threads (whole warps) of the block meet at
 * barrier `id` (1..15; 0 is __syncthreads's). */
PF_DEVICE void pf_bar_sync(int id, int nthreads)
{
    asm volatile("bar.sync %0, %1;" ::"r"(id), "r"(nthreads) : "memory");
}

/* -------------------------------------------------------------------- emu */
#else

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The part of the emulator's state a kernel reads, shared with the runtime
 * (harness/device/emu/emu_block.h includes this header with PF_EMU_ABI_ONLY). */
typedef struct pf_emu_uint3 {
    unsigned x, y, z;
} pf_emu_uint3;

typedef struct pf_emu_thread {
    pf_emu_uint3 thread_idx, block_idx, block_dim, grid_dim;
    unsigned lane, warp;      /* lane in its warp, warp in its block */
    unsigned char *dyn_smem;  /* the block's dynamic shared memory */
} pf_emu_thread;

/* One per PF_SHARED declaration site: identifies the array across calls. */
typedef struct pf_emu_smem_site {
    const char *name, *file;
    int line;
} pf_emu_smem_site;

/* The current fiber (CUDA thread) of this host thread. libpftune_core is
 * loaded at start-up, so its TLS is static and initial-exec access (no
 * __tls_get_addr call) is valid from the dlopen'd kernel too. */
extern __thread pf_emu_thread *pf_emu_self __attribute__((tls_model("initial-exec")));

enum { PF_EMU_SHFL_IDX, PF_EMU_SHFL_UP, PF_EMU_SHFL_DOWN, PF_EMU_SHFL_XOR };
enum { PF_EMU_VOTE_BALLOT, PF_EMU_VOTE_ANY, PF_EMU_VOTE_ALL };

void pf_emu_syncthreads(const char *file, int line);
void pf_emu_bar_sync(int id, int nthreads, const char *file, int line);
void *pf_emu_shared_static(const pf_emu_smem_site *site, size_t bytes);
uint32_t pf_emu_shfl32(int op, unsigned mask, uint32_t value, int arg, int width);
uint32_t pf_emu_vote(int op, unsigned mask, int pred);
void pf_emu_syncwarp(unsigned mask);
/* See harness/device/emu/emu_runtime.h: all 32 lanes pass in/out; one lane runs fn. */
void pf_emu_warp_collective(const void *in, size_t in_size, void *out, size_t out_size,
                            void (*fn)(void *ctx, const void *const ins[32], void *const outs[32]),
                            void *ctx);

#ifndef PF_EMU_ABI_ONLY

#define __global__
#define __device__
#define __host__
#define __forceinline__ __attribute__((always_inline)) inline
#define __restrict__ __restrict
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))

/* The kernel plus the entry the launcher looks up (dlsym name__pf_entry). */
#define PF_KERNEL(name, ParamType, p)                              \
    void name(ParamType p);                                        \
    void name##__pf_entry(const void *pf_params_);                 \
    void name##__pf_entry(const void *pf_params_)                  \
    {                                                              \
        name(*(const ParamType *)pf_params_);                      \
    }                                                              \
    void name(ParamType p)
#define PF_KERNEL_BOUNDED(name, ParamType, p, threads) PF_KERNEL(name, ParamType, p)
#define PF_DEVICE static inline
#define PF_SHARED(type, name, count)                                                         \
    static const pf_emu_smem_site pf_smem_site_##name = {#name, __FILE__, __LINE__};         \
    type *name = (type *)pf_emu_shared_static(&pf_smem_site_##name, sizeof(type) * (size_t)(count))
#define PF_DYNAMIC_SHARED(type, name) type *name = (type *)pf_emu_self->dyn_smem
#define PF_RESTRICT __restrict
#define PF_UNROLL
#define PF_LAUNCH_BOUNDS(threads)

#define threadIdx (pf_emu_self->thread_idx)
#define blockIdx (pf_emu_self->block_idx)
#define blockDim (pf_emu_self->block_dim)
#define gridDim (pf_emu_self->grid_dim)
#define warpSize 32

#define __syncthreads() pf_emu_syncthreads(__FILE__, __LINE__)
#define pf_bar_sync(id, nthreads) pf_emu_bar_sync((id), (nthreads), __FILE__, __LINE__)
#define PF_EMU_ARG2(a, b, ...) b
#define __syncwarp(...) pf_emu_syncwarp(PF_EMU_ARG2(_, ##__VA_ARGS__, 0xffffffffu))
#define __threadfence() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define __threadfence_block() __atomic_thread_fence(__ATOMIC_SEQ_CST)

#ifdef PF_EMU_INITCHECK
/* --sanitize init: the JIT compiles with -fsanitize=kernel-address and
 * call-only instrumentation, so every load and store of the kernel calls
 * one of these (hidden: they never bind to a user-space ASan runtime).
 * The runtime tracks which shared-memory bytes this launch has written. */
void pf_emu_init_access(const void *addr, size_t n, int write, void *pc);
#define PF_EMU_INIT_HOOK(kind, size, write)                                                \
    __attribute__((visibility("hidden"), no_sanitize_address)) void                       \
        __asan_##kind##size##_noabort(void *a);                                            \
    void __asan_##kind##size##_noabort(void *a)                                            \
    {                                                                                      \
        pf_emu_init_access(a, size, write, __builtin_return_address(0));                   \
    }
PF_EMU_INIT_HOOK(load, 1, 0) PF_EMU_INIT_HOOK(load, 2, 0) PF_EMU_INIT_HOOK(load, 4, 0)
PF_EMU_INIT_HOOK(load, 8, 0) PF_EMU_INIT_HOOK(load, 16, 0)
PF_EMU_INIT_HOOK(store, 1, 1) PF_EMU_INIT_HOOK(store, 2, 1) PF_EMU_INIT_HOOK(store, 4, 1)
PF_EMU_INIT_HOOK(store, 8, 1) PF_EMU_INIT_HOOK(store, 16, 1)
__attribute__((visibility("hidden"), no_sanitize_address)) void __asan_loadN_noabort(void *a, size_t n);
void __asan_loadN_noabort(void *a, size_t n) { pf_emu_init_access(a, n, 0, __builtin_return_address(0)); }
__attribute__((visibility("hidden"), no_sanitize_address)) void __asan_storeN_noabort(void *a, size_t n);
void __asan_storeN_noabort(void *a, size_t n) { pf_emu_init_access(a, n, 1, __builtin_return_address(0)); }
#endif

/* ---- bit casts and math */
static inline float __int_as_float(int v) { float f; memcpy(&f, &v, 4); return f; }
static inline float __uint_as_float(unsigned v) { float f; memcpy(&f, &v, 4); return f; }
static inline int __float_as_int(float f) { int v; memcpy(&v, &f, 4); return v; }
static inline unsigned __float_as_uint(float f) { unsigned v; memcpy(&v, &f, 4); return v; }
/* glibc declares __expf/__logf itself: macros avoid the clash */
#define __expf(x) expf(x)
#define __logf(x) logf(x)
static inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
/* ex2.approx.ftz's twin: exact exp2f, subnormal results flushed to 0 as
 * the GPU's .ftz does */
static inline float pf_exp2_approx(float x)
{
    float y = exp2f(x);
    return y < 1.17549435e-38f ? 0.0f : y;
}
static inline float __fdividef(float a, float b) { return a / b; }
static inline int __popc(unsigned v) { return __builtin_popcount(v); }
static inline int __ffs(int v) { return __builtin_ffs(v); }
static inline int __clz(int v) { return v ? __builtin_clz((unsigned)v) : 32; }

/* ---- warp shuffles: 32-bit values through the runtime, 64-bit in halves */
static inline int pf_emu_shfl_i(int op, unsigned m, int v, int a, int w)
{
    return (int)pf_emu_shfl32(op, m, (uint32_t)v, a, w);
}
static inline unsigned pf_emu_shfl_u(int op, unsigned m, unsigned v, int a, int w)
{
    return pf_emu_shfl32(op, m, v, a, w);
}
static inline float pf_emu_shfl_f(int op, unsigned m, float v, int a, int w)
{
    return __uint_as_float(pf_emu_shfl32(op, m, __float_as_uint(v), a, w));
}
static inline uint64_t pf_emu_shfl_u64(int op, unsigned m, uint64_t v, int a, int w)
{
    uint64_t lo = pf_emu_shfl32(op, m, (uint32_t)v, a, w);
    uint64_t hi = pf_emu_shfl32(op, m, (uint32_t)(v >> 32), a, w);
    return lo | (hi << 32);
}
static inline long long pf_emu_shfl_ll(int op, unsigned m, long long v, int a, int w)
{
    return (long long)pf_emu_shfl_u64(op, m, (uint64_t)v, a, w);
}
static inline unsigned long long pf_emu_shfl_ull(int op, unsigned m, unsigned long long v, int a, int w)
{
    return (unsigned long long)pf_emu_shfl_u64(op, m, (uint64_t)v, a, w);
}
static inline long pf_emu_shfl_l(int op, unsigned m, long v, int a, int w)
{
    return (long)pf_emu_shfl_u64(op, m, (uint64_t)v, a, w);
}
static inline unsigned long pf_emu_shfl_ul(int op, unsigned m, unsigned long v, int a, int w)
{
    return (unsigned long)pf_emu_shfl_u64(op, m, (uint64_t)v, a, w);
}
static inline double pf_emu_shfl_d(int op, unsigned m, double v, int a, int w)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    u = pf_emu_shfl_u64(op, m, u, a, w);
    memcpy(&v, &u, 8);
    return v;
}

#define PF_EMU_SHFL(op, m, v, a, w)                                                    \
    _Generic((v), float: pf_emu_shfl_f, double: pf_emu_shfl_d, unsigned: pf_emu_shfl_u, \
             long: pf_emu_shfl_l, unsigned long: pf_emu_shfl_ul, long long: pf_emu_shfl_ll, \
             unsigned long long: pf_emu_shfl_ull, default: pf_emu_shfl_i)(op, m, v, a, w)
/* width is optional (default warpSize), as in CUDA */
#define PF_EMU_ARG5(a, b, c, d, e, ...) e
#define PF_EMU_SHFL3(op, m, v, a) PF_EMU_SHFL(op, m, v, a, 32)
#define PF_EMU_SHFL4(op, m, v, a, w) PF_EMU_SHFL(op, m, v, a, w)
#define PF_EMU_SHFL_PICK(...) PF_EMU_ARG5(__VA_ARGS__, PF_EMU_SHFL4, PF_EMU_SHFL3, _, _)
#define __shfl_sync(...) PF_EMU_SHFL_PICK(__VA_ARGS__)(PF_EMU_SHFL_IDX, __VA_ARGS__)
#define __shfl_up_sync(...) PF_EMU_SHFL_PICK(__VA_ARGS__)(PF_EMU_SHFL_UP, __VA_ARGS__)
#define __shfl_down_sync(...) PF_EMU_SHFL_PICK(__VA_ARGS__)(PF_EMU_SHFL_DOWN, __VA_ARGS__)
#define __shfl_xor_sync(...) PF_EMU_SHFL_PICK(__VA_ARGS__)(PF_EMU_SHFL_XOR, __VA_ARGS__)

#define __ballot_sync(mask, pred) pf_emu_vote(PF_EMU_VOTE_BALLOT, (mask), (pred) != 0)
#define __any_sync(mask, pred) ((int)pf_emu_vote(PF_EMU_VOTE_ANY, (mask), (pred) != 0))
#define __all_sync(mask, pred) ((int)pf_emu_vote(PF_EMU_VOTE_ALL, (mask), (pred) != 0))

/* ---- atomics: blocks run concurrently on several host threads */
static inline int pf_emu_atomic_add_i(int *a, int v) { return __atomic_fetch_add(a, v, __ATOMIC_SEQ_CST); }
static inline unsigned pf_emu_atomic_add_u(unsigned *a, unsigned v)
{
    return __atomic_fetch_add(a, v, __ATOMIC_SEQ_CST);
}
static inline unsigned long long pf_emu_atomic_add_ull(unsigned long long *a, unsigned long long v)
{
    return __atomic_fetch_add(a, v, __ATOMIC_SEQ_CST);
}
static inline float pf_emu_atomic_add_f(float *a, float v)
{
    unsigned *bits = (unsigned *)a;
    unsigned old = __atomic_load_n(bits, __ATOMIC_SEQ_CST), want;
    do
        want = __float_as_uint(__uint_as_float(old) + v);
    while (!__atomic_compare_exchange_n(bits, &old, want, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
    return __uint_as_float(old);
}
static inline int pf_emu_atomic_max_i(int *a, int v)
{
    int old = __atomic_load_n(a, __ATOMIC_SEQ_CST);
    while (old < v && !__atomic_compare_exchange_n(a, &old, v, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        ;
    return old;
}
static inline int pf_emu_atomic_min_i(int *a, int v)
{
    int old = __atomic_load_n(a, __ATOMIC_SEQ_CST);
    while (old > v && !__atomic_compare_exchange_n(a, &old, v, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        ;
    return old;
}
static inline unsigned pf_emu_atomic_max_u(unsigned *a, unsigned v)
{
    unsigned old = __atomic_load_n(a, __ATOMIC_SEQ_CST);
    while (old < v && !__atomic_compare_exchange_n(a, &old, v, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        ;
    return old;
}
static inline unsigned pf_emu_atomic_min_u(unsigned *a, unsigned v)
{
    unsigned old = __atomic_load_n(a, __ATOMIC_SEQ_CST);
    while (old > v && !__atomic_compare_exchange_n(a, &old, v, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        ;
    return old;
}
static inline int pf_emu_atomic_cas_i(int *a, int expected, int desired)
{
    __atomic_compare_exchange_n(a, &expected, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return expected; /* the old value either way */
}
static inline unsigned pf_emu_atomic_cas_u(unsigned *a, unsigned expected, unsigned desired)
{
    __atomic_compare_exchange_n(a, &expected, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return expected;
}
static inline int pf_emu_atomic_exch_i(int *a, int v) { return __atomic_exchange_n(a, v, __ATOMIC_SEQ_CST); }
static inline unsigned pf_emu_atomic_exch_u(unsigned *a, unsigned v)
{
    return __atomic_exchange_n(a, v, __ATOMIC_SEQ_CST);
}

#define atomicAdd(a, v)                                                        \
    _Generic((a), int *: pf_emu_atomic_add_i, unsigned *: pf_emu_atomic_add_u, \
             unsigned long long *: pf_emu_atomic_add_ull, float *: pf_emu_atomic_add_f)(a, v)
#define atomicMax(a, v) _Generic((a), int *: pf_emu_atomic_max_i, unsigned *: pf_emu_atomic_max_u)(a, v)
#define atomicMin(a, v) _Generic((a), int *: pf_emu_atomic_min_i, unsigned *: pf_emu_atomic_min_u)(a, v)
#define atomicCAS(a, e, d) _Generic((a), int *: pf_emu_atomic_cas_i, unsigned *: pf_emu_atomic_cas_u)(a, e, d)
#define atomicExch(a, v) _Generic((a), int *: pf_emu_atomic_exch_i, unsigned *: pf_emu_atomic_exch_u)(a, v)

#endif /* !PF_EMU_ABI_ONLY */
#endif /* emu */

#ifndef PF_EMU_ABI_ONLY
/* ------------------------------------------------------------- both sides */
PF_DEVICE int pf_min_i(int a, int b) { return a < b ? a : b; }
PF_DEVICE int pf_max_i(int a, int b) { return a > b ? a : b; }

#include "pf_numeric.h"
#include "pf_tensorcore.h"
#endif

#endif
