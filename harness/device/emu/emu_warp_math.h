/* Warp-wide tensor-core instructions as pure functions over all 32 lanes.
 *
 * The emu backend runs each CUDA thread as a fiber; a warp-collective
 * instruction (mma.sync, ldmatrix) gathers every lane's registers and one
 * lane calls a function here that computes every lane's result. Layouts are
 * exactly those of the PTX ISA:
 *
 * mma.m16n8k16 (.row.col, f32 accumulate), groupID g = lane>>2,
 * threadID_in_group t = lane%4; element pairs are packed lo-first in a
 * 32-bit register:
 *   A 16x16: a[0] = A[g][2t..2t+1]     a[1] = A[g+8][2t..2t+1]
 *            a[2] = A[g][2t+8..2t+9]   a[3] = A[g+8][2t+8..2t+9]
 *   B 16x8:  b[0] = B[2t..2t+1][g]     b[1] = B[2t+8..2t+9][g]
 *   C/D 16x8: c[0..1] = C[g][2t..2t+1]  c[2..3] = C[g+8][2t..2t+1]
 *
 * ldmatrix.m8n8.xN.b16: lane i supplies the address of row i%8 of matrix
 * i/8 (16 contiguous bytes); lane l receives for matrix j register r[j] =
 * M_j[l/4][2(l%4)..2(l%4)+1], or with .trans M_j[2(l%4)..2(l%4)+1][l/4].
 *
 * Numerics of the emulated mma: every product of two bf16 (or f16) values
 * is exact in fp32; they are summed in fp32 onto c in k order 0..15. Tensor
 * core hardware adds in a different order and with its own internal
 * rounding, so results may differ from the GPU in the last bits; compare
 * against the GPU with a tolerance. */
#ifndef PF_EMU_WARP_MATH_H
#define PF_EMU_WARP_MATH_H

#include <stdint.h>

#define PF_WARP 32

typedef enum pf_mma_type { PF_MMA_BF16 = 0, PF_MMA_F16 = 1 } pf_mma_type;

/* d[l] = A x B + C for the fragments of all lanes; d may alias c. */
void pf_warp_mma_m16n8k16(pf_mma_type type, float d[PF_WARP][4], const uint32_t a[PF_WARP][4],
                          const uint32_t b[PF_WARP][2], const float c[PF_WARP][4]);

/* num_mats in {1,2,4}; row_addr[i] is lane i's row address (lanes >= 8 *
 * num_mats are ignored and may be NULL). r[l][j] for j < num_mats is set. */
void pf_warp_ldmatrix(int num_mats, int trans, uint32_t r[PF_WARP][4],
                      const void *const row_addr[PF_WARP]);

/* What each lane hands to pf_emu_warp_collective. kernels/pf_tensorcore.h
 * (which cannot include harness headers) repeats these definitions under
 * the same guard; keep the two identical. */
#ifndef PF_EMU_WIRE_TYPES
#define PF_EMU_WIRE_TYPES
typedef struct pf_emu_mma_wire {
    uint32_t a[4];
    uint32_t b[2];
    float c[4];
} pf_emu_mma_wire;   /* out: float d[4] */
typedef struct pf_emu_ldmatrix_wire {
    const void *row_addr;
    int num_mats;        /* 1, 2 or 4 (lane 0's value is used) */
    int trans;
} pf_emu_ldmatrix_wire; /* out: uint32_t r[4] */
#endif

/* Adapters with the pf_emu_warp_collective callback signature (ctx unused):
 * they gather the lanes' wires, call the functions above and scatter. */
void pf_emu_mma_bf16_collective(void *ctx, const void *const ins[PF_WARP], void *const outs[PF_WARP]);
void pf_emu_mma_f16_collective(void *ctx, const void *const ins[PF_WARP], void *const outs[PF_WARP]);
void pf_emu_ldmatrix_collective(void *ctx, const void *const ins[PF_WARP], void *const outs[PF_WARP]);
/* Fails the running block (as the GPU would fault) on a misaligned or
 * non-shared destination, a misaligned source or src_bytes outside 0..16.
 * The ldmatrix adapter checks its rows the same way. No-op outside a block. */
void pf_emu_cp_async_check(const void *smem, const void *gmem, int src_bytes);

#endif
