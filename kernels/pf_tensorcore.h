/* Tensor-core and async-copy instructions for kernels: mma.sync m16n8k16,
 * ldmatrix, cp.async. Included by pf_dialect.h after it has defined
 * PF_DEVICE and the fixed-width ints.
 *
 * Under NVRTC (__CUDACC_RTC__) each is one inline PTX instruction (sm_80+).
 * Under PF_EMU each warp-wide instruction is a pf_emu_warp_collective whose
 * callback (harness/device/emu/emu_warp_math.c, resolved from libpftune_core when the
 * kernel .so is loaded) computes all 32 lanes at once; cp.async copies
 * are queued per thread and land at the retiring wait. Fragment layouts and emulated numerics: see
 * harness/device/emu/emu_warp_math.h (they follow the PTX ISA exactly; the emulated mma
 * sums exact fp32 products in k order, so the last bits may differ from
 * tensor-core hardware).
 *
 * API (all lanes of the warp must call the warp-wide ones together):
 *   pf_mma_m16n8k16_bf16(float d[4], const uint32_t a[4], const uint32_t b[2],
 *                        const float c[4])   d may alias c; also _f16
 *   pf_ldmatrix_x1/x2/x4(uint32_t *r, const void *row_addr) and _trans:
 *                        row_addr points into shared memory, 16-byte aligned
 *   pf_sptr, pf_sptr_of(p), pf_ldmatrix_x2/x4[_trans]_at(r, a): the same
 *                        ldmatrix on a shared address a (pf_sptr: a 32-bit
 *                        shared-window address under NVRTC, a byte pointer
 *                        under emu; a + bytes works on both). A base taken
 *                        once plus compile-time byte offsets lets ptxas fold
 *                        the offsets into the LDSM's immediate instead of
 *                        keeping one hoisted address register per LDSM
 *   pf_cp_async_16(smem, gmem), pf_cp_async_16_zfill(smem, gmem, src_bytes)
 *                        (16-byte aligned; src_bytes 0..16, the rest zeroed;
 *                        src_bytes == 0 reads nothing)
 *   pf_cp_async_commit(), pf_cp_async_wait(N) (N a literal) */
#ifndef PF_TENSORCORE_H
#define PF_TENSORCORE_H

#if defined(__CUDACC_RTC__)

#define PF_MMA_M16N8K16(name, ptx_types)                                                    \
    PF_DEVICE void name(float d[4], const uint32_t a[4], const uint32_t b[2], const float c[4]) \
    {                                                                                       \
        float c0 = c[0], c1 = c[1], c2 = c[2], c3 = c[3];                                   \
        asm("mma.sync.aligned.m16n8k16.row.col.f32." ptx_types ".f32 "                      \
            "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%10,%11,%12,%13};"                     \
            : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])                                \
            : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]),             \
              "f"(c0), "f"(c1), "f"(c2), "f"(c3));                                          \
    }
PF_MMA_M16N8K16(pf_mma_m16n8k16_bf16, "bf16.bf16")
PF_MMA_M16N8K16(pf_mma_m16n8k16_f16, "f16.f16")
#undef PF_MMA_M16N8K16

PF_DEVICE uint32_t pf_smem_addr(const void *p)
{
    return (uint32_t)__cvta_generic_to_shared(p);
}

/* asm volatile (never deleted, never moved across a barrier, another
 * volatile asm or a cp.async wait, all of which are ordered) but without a
 * "memory" clobber: the compiler may schedule ordinary loads and stores
 * (mask bytes, softmax arithmetic) across them. Every shared-memory write
 * an ldmatrix reads is ordered before it by __syncthreads or a cp.async
 * wait in the kernels, never by program order alone. */
PF_DEVICE void pf_ldmatrix_x1(uint32_t *r, const void *row_addr)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x1.shared.b16 {%0}, [%1];"
                 : "=r"(r[0]) : "r"(pf_smem_addr(row_addr)));
}
PF_DEVICE void pf_ldmatrix_x2(uint32_t *r, const void *row_addr)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0,%1}, [%2];"
                 : "=r"(r[0]), "=r"(r[1]) : "r"(pf_smem_addr(row_addr)));
}
PF_DEVICE void pf_ldmatrix_x4(uint32_t *r, const void *row_addr)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(pf_smem_addr(row_addr)));
}
PF_DEVICE void pf_ldmatrix_x1_trans(uint32_t *r, const void *row_addr)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x1.trans.shared.b16 {%0}, [%1];"
                 : "=r"(r[0]) : "r"(pf_smem_addr(row_addr)));
}
PF_DEVICE void pf_ldmatrix_x2_trans(uint32_t *r, const void *row_addr)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0,%1}, [%2];"
                 : "=r"(r[0]), "=r"(r[1]) : "r"(pf_smem_addr(row_addr)));
}
PF_DEVICE void pf_ldmatrix_x4_trans(uint32_t *r, const void *row_addr)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(pf_smem_addr(row_addr)));
}

typedef uint32_t pf_sptr;
#define pf_sptr_of(p) pf_smem_addr(p)
PF_DEVICE void pf_ldmatrix_x4_at(uint32_t *r, pf_sptr a)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(a));
}
PF_DEVICE void pf_ldmatrix_x2_at(uint32_t *r, pf_sptr a)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0,%1}, [%2];"
                 : "=r"(r[0]), "=r"(r[1]) : "r"(a));
}
PF_DEVICE void pf_ldmatrix_x2_trans_at(uint32_t *r, pf_sptr a)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0,%1}, [%2];"
                 : "=r"(r[0]), "=r"(r[1]) : "r"(a));
}
PF_DEVICE void pf_ldmatrix_x4_trans_at(uint32_t *r, pf_sptr a)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(a));
}

PF_DEVICE void pf_cp_async_16(void *smem, const void *gmem)
{
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;"
                 :: "r"(pf_smem_addr(smem)), "l"(gmem) : "memory");
}
/* src-size operand: copies src_bytes, zero-fills up to 16. */
PF_DEVICE void pf_cp_async_16_zfill(void *smem, const void *gmem, int src_bytes)
{
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;"
                 :: "r"(pf_smem_addr(smem)), "l"(gmem), "r"(src_bytes) : "memory");
}
PF_DEVICE void pf_cp_async_commit(void)
{
    asm volatile("cp.async.commit_group;" ::: "memory");
}
#define pf_cp_async_wait(N) asm volatile("cp.async.wait_group %0;" :: "n"(N) : "memory")

#else /* emu (PF_EMU), like pf_dialect.h: anything but NVRTC */

/* Wire formats handed to pf_emu_warp_collective; identical copies live in
 * harness/device/emu/emu_warp_math.h under the same guard. */
#ifndef PF_EMU_WIRE_TYPES
#define PF_EMU_WIRE_TYPES
typedef struct pf_emu_mma_wire {
    uint32_t a[4];
    uint32_t b[2];
    float c[4];
} pf_emu_mma_wire;
typedef struct pf_emu_ldmatrix_wire {
    const void *row_addr;
    int num_mats;
    int trans;
} pf_emu_ldmatrix_wire;
#endif

/* In libpftune_core (harness/device/emu/emu_warp_math.c). */
void pf_emu_mma_bf16_collective(void *ctx, const void *const ins[32], void *const outs[32]);
void pf_emu_mma_f16_collective(void *ctx, const void *const ins[32], void *const outs[32]);
void pf_emu_ldmatrix_collective(void *ctx, const void *const ins[32], void *const outs[32]);

PF_DEVICE void pf_emu_mma(void (*fn)(void *, const void *const *, void *const *), float d[4],
                          const uint32_t a[4], const uint32_t b[2], const float c[4])
{
    pf_emu_mma_wire w;
    float out[4];
    memcpy(w.a, a, sizeof w.a);
    memcpy(w.b, b, sizeof w.b);
    memcpy(w.c, c, sizeof w.c);
    pf_emu_warp_collective(&w, sizeof w, out, sizeof out, fn, 0);
    memcpy(d, out, sizeof out);
}
PF_DEVICE void pf_mma_m16n8k16_bf16(float d[4], const uint32_t a[4], const uint32_t b[2], const float c[4])
{
    pf_emu_mma(pf_emu_mma_bf16_collective, d, a, b, c);
}
PF_DEVICE void pf_mma_m16n8k16_f16(float d[4], const uint32_t a[4], const uint32_t b[2], const float c[4])
{
    pf_emu_mma(pf_emu_mma_f16_collective, d, a, b, c);
}

PF_DEVICE void pf_emu_ldmatrix(uint32_t *r, const void *row_addr, int num_mats, int trans)
{
    pf_emu_ldmatrix_wire w;
    w.row_addr = row_addr;
    w.num_mats = num_mats;
    w.trans = trans;
    pf_emu_warp_collective(&w, sizeof w, r, (size_t)num_mats * sizeof(uint32_t),
                           pf_emu_ldmatrix_collective, 0);
}
PF_DEVICE void pf_ldmatrix_x1(uint32_t *r, const void *row_addr) { pf_emu_ldmatrix(r, row_addr, 1, 0); }
PF_DEVICE void pf_ldmatrix_x2(uint32_t *r, const void *row_addr) { pf_emu_ldmatrix(r, row_addr, 2, 0); }
PF_DEVICE void pf_ldmatrix_x4(uint32_t *r, const void *row_addr) { pf_emu_ldmatrix(r, row_addr, 4, 0); }
PF_DEVICE void pf_ldmatrix_x1_trans(uint32_t *r, const void *row_addr) { pf_emu_ldmatrix(r, row_addr, 1, 1); }
PF_DEVICE void pf_ldmatrix_x2_trans(uint32_t *r, const void *row_addr) { pf_emu_ldmatrix(r, row_addr, 2, 1); }
PF_DEVICE void pf_ldmatrix_x4_trans(uint32_t *r, const void *row_addr) { pf_emu_ldmatrix(r, row_addr, 4, 1); }
typedef const unsigned char *pf_sptr;
#define pf_sptr_of(p) ((pf_sptr)(p))
PF_DEVICE void pf_ldmatrix_x4_at(uint32_t *r, pf_sptr a) { pf_emu_ldmatrix(r, a, 4, 0); }
PF_DEVICE void pf_ldmatrix_x2_at(uint32_t *r, pf_sptr a) { pf_emu_ldmatrix(r, a, 2, 0); }
PF_DEVICE void pf_ldmatrix_x2_trans_at(uint32_t *r, pf_sptr a) { pf_emu_ldmatrix(r, a, 2, 1); }
PF_DEVICE void pf_ldmatrix_x4_trans_at(uint32_t *r, pf_sptr a) { pf_emu_ldmatrix(r, a, 4, 1); }

/* Asynchronous as on the GPU: a copy is queued at issue and lands when the
 * wait that retires its group runs (under chaos: at a random point before
 * that), so touching the destination early reads stale data and, under the
 * race check, is reported. The runtime also fails the launch where the GPU
 * would fault (alignment, destination not shared). */
void pf_emu_cp_async(void *smem, const void *gmem, int src_bytes);
void pf_emu_cp_async_commit(void);
void pf_emu_cp_async_wait(int n);
/* macros, so that reports name the kernel's line, not this header's */
#define pf_cp_async_16(smem, gmem) pf_emu_cp_async((smem), (gmem), 16)
#define pf_cp_async_16_zfill(smem, gmem, src_bytes) pf_emu_cp_async((smem), (gmem), (src_bytes))
#define pf_cp_async_commit() pf_emu_cp_async_commit()
#define pf_cp_async_wait(N) pf_emu_cp_async_wait(N)

#endif

#endif
