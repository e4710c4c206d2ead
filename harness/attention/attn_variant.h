/* The variant space of the attention kernel family (kernels/attention.cu):
 * axes, text form, defaults, the one validity function, enumeration.
 *
 * Kernel work split (mirrored here so validity and shared memory are exact):
 * the WARPS warps of a block form a WSM x WSN grid, WSM = min(WARPS,
 * BLOCK_M/16) (derived), or BLOCK_M/WARP_ROWS where the variant sets
 * WARP_ROWS; WSN = WARPS/WSM. Warp (wm, wn) owns BLOCK_M/WSM query rows;
 * it computes S = Q K^T for BLOCK_N/WSN keys of those rows and the output O
 * for HEAD_DIM_PAD/WSN columns of them (HEAD_DIM_PAD = HEAD_DIM rounded up
 * to 16: 72 -> 80). When WSN > 1, P (softmax probabilities, bf16) is staged
 * through shared memory and row max/sum are reduced there; with WSN == 1 P
 * stays in registers. Splitting keys and output columns over warps bounds
 * the per-thread accumulator (BLOCK_M*(BLOCK_N+HEAD_DIM_PAD)/(32*WARPS)
 * floats) for large head dims.
 *
 * Text form: "BLOCK_M=64,BLOCK_N=64,WARPS=4,STAGES=2,MASK_STORAGE=spans,
 * INDPTR_T=int32,TILE_SKIP=1,HEAD_DIM=128" (keys case-insensitive), plus
 * ",WARP_ROWS=32" only where the variant sets query rows per warp (the
 * derived grid's variants keep their text, names and JIT keys). */
#ifndef PF_ATTN_VARIANT_H
#define PF_ATTN_VARIANT_H

#include <stddef.h>

#include "jit/jit.h"

typedef struct pf_attn_variant {
    int block_m, block_n, warps, stages;
    int mask_storage; /* PF_MASK_DENSE / BITMAP / WINDOW / SPANS */
    int indptr64;     /* 0: int32 indptrs, 1: int64 */
    int tile_skip;    /* 0: every k tile, element-wise mask; 1: tile classes */
    int head_dim;     /* 64, 72, 128, 256, 512 */
    int warp_rows;    /* query rows per warp; 0: derived (min(WARPS, BLOCK_M/16)
                         row groups). Set only where it differs from the
                         derived value (pf_attn_variant_valid) */
} pf_attn_variant;

/* Keys accepted by the parser, for messages and help. */
#define PF_ATTN_VARIANT_KEYS \
    "BLOCK_M, BLOCK_N, WARPS, STAGES, MASK_STORAGE, INDPTR_T, TILE_SKIP, HEAD_DIM, WARP_ROWS"

/* Per-thread fp32 accumulator budget (S tile part + O part) above which a
 * variant is refused outright. Below it ptxas decides: the tuner prunes
 * variants that spill (NVRTC compile for the device's arch), and the
 * defaults are asserted spill-free (test_attention_compile). Measured with
 * CUDA 13: 160 floats (32 rows x (32 keys + 128 columns), or 16 rows x
 * (64 keys + 256 columns)) compile spill-free on sm_80/sm_90 with spans;
 * 192 (32 x (64 + 128)) spill 30-100 bytes whatever the storage. At
 * HEAD_DIM 512 136 floats already spill, 128 do not: the budget there is
 * PF_ATTN_MAX_ACC_FLOATS_512. */
#define PF_ATTN_MAX_ACC_FLOATS 160
#define PF_ATTN_MAX_ACC_FLOATS_512 128

/* Is head_dim one the family supports? */
int pf_attn_head_dim_supported(int head_dim);
/* HEAD_DIM rounded up to the MMA K step (16). */
int pf_attn_head_dim_pad(int head_dim);

/* Opt-in shared memory limit per block of an arch of device/arch.h
 * ("sm_86"), in bytes; 0 (and a message) for an unknown arch. */
size_t pf_attn_arch_smem_limit(const char *arch);

/* Default variant for a head dim and arch (always valid on arch; arch NULL
 * means the oldest arch's default). -1 if the head dim or arch is
 * unsupported. */
int pf_attn_variant_default(int head_dim, const char *arch, pf_attn_variant *out);

/* Parse "KEY=VAL,..." starting from the default for `head_dim` on `arch`
 * (a HEAD_DIM key in the text overrides head_dim). Values: MASK_STORAGE
 * dense|bitmap|window|spans (or 0..3), INDPTR_T int32|int64|int|long long,
 * TILE_SKIP 0|1, WARP_ROWS auto|0 (derived) or rows, numbers otherwise.
 * The default's WARP_ROWS is kept only when the text changes neither
 * BLOCK_M nor WARPS (or names WARP_ROWS). Unknown keys name the valid keys.
 * Does not check validity (use pf_attn_variant_valid). */
int pf_attn_variant_parse(const char *text, int head_dim, const char *arch,
                          pf_attn_variant *out);

/* Canonical text form (all keys; WARP_ROWS only when set); returns
 * snprintf's length. */
int pf_attn_variant_to_string(const pf_attn_variant *v, char *buf, size_t size);

/* Fill the JIT defines (BLOCK_M, BLOCK_N, WARPS, STAGES, MASK_STORAGE,
 * INDPTR_T, TILE_SKIP, HEAD_DIM, and WARP_ROWS when set) into `jv`
 * (appended to its defines). */
int pf_attn_variant_defines(const pf_attn_variant *v, pf_variant *jv);

/* Warp grid of the kernel (see above). */
void pf_attn_variant_warp_grid(const pf_attn_variant *v, int *wsm, int *wsn);
/* Query rows per warp of the derived grid (what WARP_ROWS=auto gives). */
int pf_attn_variant_derived_rows(const pf_attn_variant *v);
/* Dynamic shared memory of the kernel for v, in bytes (exact). */
size_t pf_attn_variant_smem_bytes(const pf_attn_variant *v);
/* Threads per block. */
int pf_attn_variant_threads(const pf_attn_variant *v);

/* The one validity function: 1 when v is a legal variant on arch, else 0
 * with the reason in why (e.g. "shared memory 240 KiB exceeds sm_90 opt-in
 * limit 227 KiB"). arch may be NULL (no arch-specific checks). */
int pf_attn_variant_valid(const pf_attn_variant *v, const char *arch, char *why,
                          size_t why_size);

/* All valid variants of the enumerated space for head_dim on arch (see
 * attn_variant.c for the axes): writes up to max to out (out may be NULL to
 * count) and returns the total count, or -1. */
int pf_attn_variant_enumerate(int head_dim, const char *arch, pf_attn_variant *out, int max);

int pf_attn_variant_equal(const pf_attn_variant *a, const pf_attn_variant *b);

#endif
