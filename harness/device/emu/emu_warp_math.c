/* Pure warp-wide tensor-core math for the emu backend (see emu_warp_math.h
 * for the fragment layouts and the numeric contract), plus the collective
 * adapters and the address checks that make a kernel fail on emu where the
 * GPU would fault (misaligned or non-shared addresses). */
#include "device/emu/emu_warp_math.h"

#include <string.h>

#include "device/emu/emu_block.h"
#include "device/emu/emu_init.h"
#include "device/emu/emu_race.h"
#include "kernels/pf_numeric.h"

static float half_to_f32(pf_mma_type type, uint16_t h)
{
    return type == PF_MMA_BF16 ? pf_bf16_to_f32(h) : pf_f16_to_f32(h);
}

static uint16_t lo16(uint32_t r) { return (uint16_t)(r & 0xffffu); }
static uint16_t hi16(uint32_t r) { return (uint16_t)(r >> 16); }

void pf_warp_mma_m16n8k16(pf_mma_type type, float d[PF_WARP][4], const uint32_t a[PF_WARP][4],
                          const uint32_t b[PF_WARP][2], const float c[PF_WARP][4])
{
    float A[16][16], B[16][8], C[16][8];
    for (int lane = 0; lane < PF_WARP; lane++) {
        int g = lane >> 2, t = lane & 3;
        for (int half = 0; half < 2; half++) { /* k columns 0..7, then 8..15 */
            int col = 2 * t + 8 * half;
            uint32_t top = a[lane][2 * half], bottom = a[lane][2 * half + 1];
            A[g][col] = half_to_f32(type, lo16(top));
            A[g][col + 1] = half_to_f32(type, hi16(top));
            A[g + 8][col] = half_to_f32(type, lo16(bottom));
            A[g + 8][col + 1] = half_to_f32(type, hi16(bottom));
            uint32_t bk = b[lane][half];
            B[col][g] = half_to_f32(type, lo16(bk));
            B[col + 1][g] = half_to_f32(type, hi16(bk));
        }
        C[g][2 * t] = c[lane][0];
        C[g][2 * t + 1] = c[lane][1];
        C[g + 8][2 * t] = c[lane][2];
        C[g + 8][2 * t + 1] = c[lane][3];
    }
    /* C is fully copied before d (which may alias c) is written. */
    float D[16][8];
    for (int m = 0; m < 16; m++)
        for (int n = 0; n < 8; n++) {
            float acc = C[m][n];
            for (int k = 0; k < 16; k++)
                acc += A[m][k] * B[k][n]; /* product exact in fp32 */
            D[m][n] = acc;
        }
    for (int lane = 0; lane < PF_WARP; lane++) {
        int g = lane >> 2, t = lane & 3;
        d[lane][0] = D[g][2 * t];
        d[lane][1] = D[g][2 * t + 1];
        d[lane][2] = D[g + 8][2 * t];
        d[lane][3] = D[g + 8][2 * t + 1];
    }
}

void pf_warp_ldmatrix(int num_mats, int trans, uint32_t r[PF_WARP][4],
                      const void *const row_addr[PF_WARP])
{
    for (int j = 0; j < num_mats; j++) {
        uint16_t M[8][8];
        for (int row = 0; row < 8; row++)
            memcpy(M[row], row_addr[j * 8 + row], sizeof M[row]);
        for (int lane = 0; lane < PF_WARP; lane++) {
            int q = lane >> 2, c = 2 * (lane & 3);
            uint16_t e0 = trans ? M[c][q] : M[q][c];
            uint16_t e1 = trans ? M[c + 1][q] : M[q][c + 1];
            r[lane][j] = (uint32_t)e0 | ((uint32_t)e1 << 16);
        }
    }
}

static void mma_collective(pf_mma_type type, const void *const ins[PF_WARP], void *const outs[PF_WARP])
{
    uint32_t a[PF_WARP][4], b[PF_WARP][2];
    float c[PF_WARP][4], d[PF_WARP][4];
    for (int lane = 0; lane < PF_WARP; lane++) {
        const pf_emu_mma_wire *w = (const pf_emu_mma_wire *)ins[lane];
        memcpy(a[lane], w->a, sizeof a[lane]);
        memcpy(b[lane], w->b, sizeof b[lane]);
        memcpy(c[lane], w->c, sizeof c[lane]);
    }
    pf_warp_mma_m16n8k16(type, d, a, b, c);
    for (int lane = 0; lane < PF_WARP; lane++)
        memcpy(outs[lane], d[lane], sizeof d[lane]);
}

void pf_emu_mma_bf16_collective(void *ctx, const void *const ins[PF_WARP], void *const outs[PF_WARP])
{
    (void)ctx;
    mma_collective(PF_MMA_BF16, ins, outs);
}

void pf_emu_mma_f16_collective(void *ctx, const void *const ins[PF_WARP], void *const outs[PF_WARP])
{
    (void)ctx;
    mma_collective(PF_MMA_F16, ins, outs);
}

/* ---- checks against the running block (skipped outside a block, e.g. in
 * unit tests that call the adapters directly) */

static pf_emu_block *current_block(void)
{
    pf_emu_fiber *f = pf_emu_current_fiber();
    return f ? f->block : NULL;
}

static int in_shared(const pf_emu_block *b, const void *p, size_t n)
{
    uintptr_t a = (uintptr_t)p, lo = (uintptr_t)b->smem_map;
    return b->smem_map && a >= lo && a - lo <= b->smem_map_size && n <= b->smem_map_size - (a - lo);
}

/* The GPU needs each ldmatrix row (16 bytes) 16-byte aligned in shared memory. */
static void check_ldmatrix_rows(int num_mats, const void *const addr[PF_WARP])
{
    pf_emu_block *b = current_block();
    if (!b)
        return;
    for (int lane = 0; lane < 8 * num_mats; lane++) {
        if ((uintptr_t)addr[lane] & 15u)
            pf_emu_block_fail(b, "ldmatrix.x%d: warp %u lane %d row address %p is not 16-byte aligned",
                              num_mats, pf_emu_current_fiber()->pub.warp, lane, addr[lane]);
        if (!in_shared(b, addr[lane], 16))
            pf_emu_block_fail(b, "ldmatrix.x%d: warp %u lane %d row address %p is not in shared memory",
                              num_mats, pf_emu_current_fiber()->pub.warp, lane, addr[lane]);
    }
    /* the checks see the rows as read by the warp, at the kernel's call */
    void *pc = pf_emu_current_fiber()->call_pc;
    for (int lane = 0; lane < 8 * num_mats; lane++) {
#ifdef PF_EMU_TSAN
        __tsan_read_range_pc((void *)addr[lane], 16, pc);
#endif
        if (b->written)
            pf_emu_init_access(addr[lane], 16, 0, pc);
    }
}

void pf_emu_cp_async_check(const void *smem, const void *gmem, int src_bytes)
{
    pf_emu_block *b = current_block();
    if (!b)
        return;
    unsigned tid = pf_emu_current_fiber()->tid;
    if (src_bytes < 0 || src_bytes > 16)
        pf_emu_block_fail(b, "cp.async: thread %u: src_bytes %d outside 0..16", tid, src_bytes);
    if (((uintptr_t)smem & 15u) || (src_bytes > 0 && ((uintptr_t)gmem & 15u)))
        pf_emu_block_fail(b, "cp.async: thread %u: address not 16-byte aligned (shared %p, global %p)", tid,
                          smem, gmem);
    if (!in_shared(b, smem, 16))
        pf_emu_block_fail(b, "cp.async: thread %u: destination %p is not in shared memory", tid, smem);
    if (src_bytes > 0 && in_shared(b, gmem, 1))
        pf_emu_block_fail(b, "cp.async: thread %u: source %p is in shared memory, not global", tid, gmem);
}

void pf_emu_ldmatrix_collective(void *ctx, const void *const ins[PF_WARP], void *const outs[PF_WARP])
{
    (void)ctx;
    const pf_emu_ldmatrix_wire *w0 = (const pf_emu_ldmatrix_wire *)ins[0];
    const void *addr[PF_WARP];
    uint32_t r[PF_WARP][4];
    for (int lane = 0; lane < PF_WARP; lane++)
        addr[lane] = ((const pf_emu_ldmatrix_wire *)ins[lane])->row_addr;
    check_ldmatrix_rows(w0->num_mats, addr);
    pf_warp_ldmatrix(w0->num_mats, w0->trans, r, addr);
    for (int lane = 0; lane < PF_WARP; lane++)
        memcpy(outs[lane], r[lane], (size_t)w0->num_mats * sizeof(uint32_t));
}
