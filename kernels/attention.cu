/* Masked prefill attention (FlashAttention-2 style online softmax) on
 * tensor cores: Q, K, V, O bf16; scores, softmax and accumulation fp32.
 *
 * Variant defines (harness/attention/attn_variant.h documents and validates them):
 *   HEAD_DIM      64, 72, 128, 256, 512 (72 is padded to 80 with zeros)
 *   BLOCK_M       query rows per block (multiple of 16)
 *   BLOCK_N       keys per k tile
 *   WARPS         warps per block
 *   STAGES        1: one K/V buffer; V is copied during QK^T and the next
 *                 K during PV (two barriers per tile); 2: prefetch the next
 *                 K/V tile with cp.async while computing this one
 *   MASK_STORAGE  PF_MASK_DENSE / BITMAP / WINDOW / SPANS (attention_mask.h)
 *   INDPTR_T      int or long long
 *   TILE_SKIP     0: visit every k tile, mask every element;
 *                 1: skip EMPTY tiles, no mask reads on FULL tiles
 *   WARP_ROWS     optional: query rows per warp (WSM = BLOCK_M / WARP_ROWS);
 *                 unset, the grid is derived (WSM = min(BLOCK_M/16, WARPS))
 *   QK_DSPLIT     optional, derived from the above when unset (WSN > 1 and
 *                 D_PAD >= 512): QK^T split over the head dim (below); -D
 *                 QK_DSPLIT=0 works anywhere (the host's SPART bytes go
 *                 unused), =1 only where the host sizes SPART
 *
 * Grid (num_work, num_qo_heads): block = one (request, q tile) of one head.
 *
 * Work split: the warps form a WSM x WSN grid. Warp (wm, wn) owns the
 * MT_W*16 query rows starting at wm*MT_W*16; it computes S for WARP_KEYS
 * keys of those rows (its key slice) and O for WARP_COLS output columns
 * (its column slice). With WSN > 1, row statistics (max, sum) are reduced
 * across the WSN warps of a row group through shared memory, and P goes
 * through shared memory as bf16 so each warp multiplies full P rows by its V
 * column slice.
 * This keeps the per-thread O accumulator at BLOCK_M*D/(32*WARPS) floats,
 * which is what lets HEAD_DIM 256/512 run without spilling.
 *
 * QK_DSPLIT: with a key slice of few keys and a long head dim, a Q
 * fragment (reloaded every tile: all of Q does not fit registers) would
 * feed only NT_S MMAs. Instead warp (wm, wn) computes partial S over all
 * BLOCK_N keys but only its D slice (its O columns), with that slice of Q
 * kept in registers, so QK^T loads only K; the WSN partials meet in SPART
 * and each warp sums its key slice's into the usual S fragments.
 *
 * Dynamic shared memory (bf16 rows of ROW_STRIDE elements; the 16-byte pad
 * staggers rows across banks for ldmatrix), in this order — keep
 * pf_attn_variant_smem_bytes in harness/attention/attn_variant.c in sync:
 *   Q  [BLOCK_M][ROW_STRIDE]        with QK_DSPLIT, overlaid by (the region
 *                                   is the larger of the two)
 *     SPART[WSN][BLOCK_M][SPART_STRIDE] float  partial S per D slice: all
 *                                   of Q is in registers (each warp keeps
 *                                   its D slice) before the key loop's
 *                                   first barrier, SPART is written after
 *                                   it, and the epilogue's O staging in Q
 *                                   follows a block barrier
 *   K  [STAGES][BLOCK_N][ROW_STRIDE]
 *   V  [STAGES][BLOCK_N][ROW_STRIDE]
 *   P  [BLOCK_M][P_STRIDE]          bf16 probabilities  } only when WSN > 1;
 *   RED[WSN][BLOCK_M] float         row max / sum parts } with WSN == 1 a
 *                                   warp owns whole rows and P stays in
 *                                   registers (the S accumulator layout is
 *                                   the A operand layout of the next mma)
 *   ROWS[2][BLOCK_M] int            spans only: each query row's allowed
 *                                   key interval [lo, hi]
 *   BITS[ATTN_NB][BLOCK_M][ATTN_MW] uint32  dense / bitmap / window: the
 *                                   mask of the current tile, one bit per
 *                                   key (two buffers at STAGES 2, which has
 *                                   one barrier per tile: the next tile's
 *                                   words are built while slower warps may
 *                                   still read this tile's)
 *   MROW[2][BLOCK_M*ATTN_MW] INDPTR_T  and, where each thread builds one
 *                                   word, that row's mask offsets */
#include "pf_dialect.h"
#include "attention_params.h"

#if !defined(HEAD_DIM) || !defined(BLOCK_M) || !defined(BLOCK_N) || !defined(WARPS) || \
    !defined(STAGES) || !defined(MASK_STORAGE) || !defined(INDPTR_T) || !defined(TILE_SKIP)
#error "attention.cu needs HEAD_DIM, BLOCK_M, BLOCK_N, WARPS, STAGES, MASK_STORAGE, INDPTR_T, TILE_SKIP"
#endif

#include "attention_mask.h"

#define D_PAD ((HEAD_DIM + 15) / 16 * 16)
#define ROW_STRIDE (D_PAD + 8)
#define P_STRIDE (BLOCK_N + 8)
#define THREADS (WARPS * 32)
#define M_TILES (BLOCK_M / 16)
#ifdef WARP_ROWS /* query rows per warp, set: WSM = BLOCK_M / WARP_ROWS */
#define WSM (BLOCK_M / WARP_ROWS)
#else            /* auto: as many row groups as warps allow */
#define WSM (M_TILES < WARPS ? M_TILES : WARPS)
#endif
#define WSN (WARPS / WSM)
#define MT_W (M_TILES / WSM)       /* 16-row tiles per warp */
#define WARP_KEYS (BLOCK_N / WSN)
#define NT_S (WARP_KEYS / 8)       /* n8 tiles of S per warp */
#define WARP_COLS (D_PAD / WSN)
#define NT_O (WARP_COLS / 8)       /* n8 tiles of O per warp */
#define K_STEPS (D_PAD / 16)
#define PV_STEPS (BLOCK_N / 16)
/* P fragments of its own key slice stay in this warp's registers for PV;
 * only the other warps' slices are read back from shared memory */
#define OWN_STEPS (NT_S % 2 == 0 ? WARP_KEYS / 16 : 0)
/* k steps of the Q fragments held in registers across the key loop (the
 * rest is reloaded from shared memory every tile): set by Q_KEEP, else all
 * of them where accumulators plus Q fit 160 registers, else none */
#ifndef Q_KEEP
#define Q_KEEP (MT_W * (NT_S + NT_O + K_STEPS) * 4 <= 160 ? K_STEPS : 0)
#endif
#ifndef QK_DSPLIT
#define QK_DSPLIT (WSN > 1 && D_PAD >= 512)
#endif
#if QK_DSPLIT
#if WSN == 1
#error "QK_DSPLIT needs WSN > 1"
#endif
/* the k steps of a warp's D slice, all kept in registers (K_STEPS/WSN) */
#undef Q_KEEP
#define Q_KEEP (WARP_COLS / 16)
#define QK_STEPS Q_KEEP
#define QK_TILES (BLOCK_N / 8) /* n8 tiles of partial S: every key */
/* stride = 8 (mod 32) words: the 4 g rows of a half warp's float2 accesses
 * (2*tig + e within the row) land on 32 distinct banks */
#define SPART_STRIDE (BLOCK_N + 8)
#define SPART_BYTES (WSN * BLOCK_M * SPART_STRIDE * 4)
#else
#define QK_STEPS K_STEPS
#define QK_TILES NT_S
#define SPART_BYTES 0
#endif
/* the first region holds Q and, with QK_DSPLIT, SPART */
#define QREG_BYTES (SPART_BYTES > BLOCK_M * ROW_STRIDE * 2 ? SPART_BYTES : BLOCK_M * ROW_STRIDE * 2)
#define ROW_CHUNKS (D_PAD / 8)     /* 16-byte chunks per smem row */
#define DATA_CHUNKS (HEAD_DIM / 8) /* chunks that hold data (HEAD_DIM % 8 == 0) */
#define LN2 0.69314718055994530942f
/* mask-bit buffers: at STAGES 2 the tile's one barrier comes after the next
 * tile's words are built; at STAGES 1 the words are read before the tile's
 * second barrier and rebuilt after it, so one buffer does */
#define ATTN_NB (STAGES == 2 ? 2 : 1)

#if BLOCK_M % 16 != 0 || BLOCK_N % 16 != 0 || WARP_KEYS % 8 != 0 || WARP_COLS % 8 != 0 || \
    HEAD_DIM % 8 != 0
#error "invalid attention variant (see pf_attn_variant_valid)"
#endif

PF_DEVICE INDPTR_T attn_indptr(const void *base, int i)
{
    return ((const INDPTR_T *)base)[i];
}

/* Copy rows [0, ROWS) of a tile into shared memory with cp.async: row r
 * lives at gmem + r * gstride (elements); rows >= valid_rows and the pad
 * columns of HEAD_DIM 72 are zero-filled without touching global memory. */
PF_DEVICE void attn_load_tile(pf_bf16 *smem, const pf_bf16 *gmem, long long gstride, int rows,
                              int valid_rows, const void *any_gmem, int tid)
{
    for (int c = tid; c < rows * ROW_CHUNKS; c += THREADS) {
        int r = c / ROW_CHUNKS, ch = c % ROW_CHUNKS;
        pf_bf16 *dst = smem + r * ROW_STRIDE + ch * 8;
        if (r < valid_rows && ch < DATA_CHUNKS)
            pf_cp_async_16(dst, gmem + r * gstride + ch * 8);
        else
            pf_cp_async_16_zfill(dst, any_gmem, 0);
    }
}

/* One K or V tile of BLOCK_N keys into sd: the keys start at element off
 * of K and of V alike (same layout), so the key loop holds one 64-bit
 * offset instead of two tile pointers. */
PF_DEVICE void attn_load_k_or_v(pf_bf16 *sd, const void *g, long long off, int gstride, int valid_rows,
                                int tid)
{
    const pf_bf16 *gp = (const pf_bf16 *)g;
    attn_load_tile(sd, gp + off, gstride, BLOCK_N, valid_rows, gp, tid);
}

PF_DEVICE void attn_load_kv(pf_bf16 *sKd, pf_bf16 *sVd, const pf_attn_params *p, long long off,
                            int gstride, int valid_rows, int tid)
{
    attn_load_k_or_v(sKd, p->k, off, gstride, valid_rows, tid);
    attn_load_k_or_v(sVd, p->v, off, gstride, valid_rows, tid);
}

#if TILE_SKIP
/* The non-EMPTY k tiles of a query tile, [*first, *end). They form one
 * range: every row allows its own position and a row's allowed keys are one
 * interval (DESIGN.md's rules), so the rows' intervals chain into one. The
 * tile of the first row's own position (kt_d) is in it; two binary searches
 * from there find its ends (O(log n_kt) class reads, once per block). */
PF_DEVICE void attn_tile_range(const unsigned char *classes, int kt_d, int n_kt, int *first,
                               int *end)
{
    int a = -1, b = kt_d; /* classes[b] != EMPTY; first non-EMPTY in (a, b] */
    while (b - a > 1) {
        const int mid = a + (b - a) / 2;
        if (classes[mid] != PF_TILE_EMPTY)
            b = mid;
        else
            a = mid;
    }
    *first = b;
    a = kt_d;
    b = n_kt; /* last non-EMPTY in [a, b) */
    while (b - a > 1) {
        const int mid = a + (b - a) / 2;
        if (classes[mid] != PF_TILE_EMPTY)
            a = mid;
        else
            b = mid;
    }
    *end = a + 1;
}
#endif

#if WSN > 1
/* The WSN warps of row group wm (warps wm*WSN ..) meet at named barrier
 * 1 + wm: row parts and P rows are shared only inside a row group, so the
 * other groups need not wait (0 is __syncthreads's) */
#define ATTN_ROW_GROUP_SYNC(wm) pf_bar_sync(1 + (wm), WSN * 32)

/* The WSN warps that share a set of rows each hold a partial per-row value
 * (running max, or softmax denominator); combine them through shared memory
 * (max when take_max, else sum) so every warp holds the whole-row value. */
PF_DEVICE void combine_across_warps(float v[MT_W][2], float *sRed, int wm, int wn, int g, int tig,
                                    int take_max)
{
    if (tig == 0) {
        PF_UNROLL
        for (int mt = 0; mt < MT_W; mt++) {
            PF_UNROLL
            for (int h = 0; h < 2; h++)
                sRed[wn * BLOCK_M + (wm * MT_W + mt) * 16 + g + h * 8] = v[mt][h];
        }
    }
    ATTN_ROW_GROUP_SYNC(wm);
    PF_UNROLL
    for (int mt = 0; mt < MT_W; mt++) {
        PF_UNROLL
        for (int h = 0; h < 2; h++) {
            const int row = (wm * MT_W + mt) * 16 + g + h * 8;
            float acc = take_max ? -INFINITY : 0.0f;
            PF_UNROLL
            for (int w = 0; w < WSN; w++) {
                const float x = sRed[w * BLOCK_M + row];
                acc = take_max ? fmaxf(acc, x) : acc + x;
            }
            v[mt][h] = acc;
        }
    }
}
#endif

/* O += P V for one k step of 16 keys: a holds the A fragments (P) of this
 * warp's MT_W row tiles, v_k this lane's ldmatrix row address in V at the
 * step's first key and this warp's first column. */
PF_DEVICE void attn_pv_step(float o_acc[MT_W][NT_O][4], uint32_t a[MT_W][4], pf_sptr v_k)
{
    PF_UNROLL
    for (int np = 0; np < NT_O / 2; np++) {
        uint32_t b[4];
        pf_ldmatrix_x4_trans_at(b, v_k + np * 16 * 2);
        PF_UNROLL
        for (int mt = 0; mt < MT_W; mt++) {
            pf_mma_m16n8k16_bf16(o_acc[mt][2 * np], a[mt], b, o_acc[mt][2 * np]);
            pf_mma_m16n8k16_bf16(o_acc[mt][2 * np + 1], a[mt], b + 2, o_acc[mt][2 * np + 1]);
        }
    }
#if NT_O % 2
    {
        uint32_t b[2]; /* x2: only lanes 0-15 give addresses */
        pf_ldmatrix_x2_trans_at(b, v_k + (NT_O - 1) * 8 * 2);
        PF_UNROLL
        for (int mt = 0; mt < MT_W; mt++)
            pf_mma_m16n8k16_bf16(o_acc[mt][NT_O - 1], a[mt], b, o_acc[mt][NT_O - 1]);
    }
#endif
}

/* Launch bounds. Measured with CUDA 13 ptxas: for head dims up to 128,
 * without a minimum of resident blocks ptxas caps registers at 96-128 and
 * spills in the int64 / window variants, while minBlocks = 1 makes them
 * spill-free at 120-180 registers; for 256/512 the reverse holds (minBlocks
 * = 1 schedules up to 255 registers and spills, plain bounds stay below). */
#ifdef __CUDACC_RTC__
#if D_PAD <= 128
#define ATTN_MIN_BLOCKS , 1
#else
#define ATTN_MIN_BLOCKS
#endif
extern "C" __global__ void __launch_bounds__(THREADS ATTN_MIN_BLOCKS) attention(pf_attn_params p)
#else
PF_KERNEL(attention, pf_attn_params, p)
#endif
{
    PF_DYNAMIC_SHARED(unsigned char, smem);
    pf_bf16 *sQ = (pf_bf16 *)smem;
    pf_bf16 *sK = (pf_bf16 *)(smem + QREG_BYTES);
#if QK_DSPLIT
    float *sSpart = (float *)smem; /* over Q, see the layout */
#endif
    pf_bf16 *sV = sK + STAGES * BLOCK_N * ROW_STRIDE;
#if WSN > 1
    pf_bf16 *sP = sV + STAGES * BLOCK_N * ROW_STRIDE;
    float *sRed = (float *)(sP + BLOCK_M * P_STRIDE);
#if MASK_STORAGE == PF_MASK_SPANS
    int *sRows = (int *)(sRed + WSN * BLOCK_M);
#endif
#elif MASK_STORAGE == PF_MASK_SPANS
    int *sRows = (int *)(sV + STAGES * BLOCK_N * ROW_STRIDE);
#endif
#if MASK_STORAGE != PF_MASK_SPANS
#if WSN > 1
    uint32_t *sBits = (uint32_t *)(sRed + WSN * BLOCK_M);
#else
    uint32_t *sBits = (uint32_t *)(sV + STAGES * BLOCK_N * ROW_STRIDE);
#endif
#endif

    const int tid = (int)threadIdx.x;
    const int lane = tid & 31, warp = tid >> 5;
    const int wm = warp / WSN, wn = warp % WSN;
    const int g = lane >> 2, tig = lane & 3; /* mma groupID, thread in group */
    /* this lane's ldmatrix row addresses, taken once: every LDSM below adds
     * a compile-time byte offset, which ptxas folds into the instruction
     * instead of holding one hoisted address register per LDSM (the row in
     * a 16x16 tile: lanes 0-7, 8-15 rows 0-15 at column 0, lanes 16-31 the
     * same rows at column 8; K: keys 0-7 / 8-15 by lane bit 4, column by
     * lane bit 3) */
    const int lrow = (lane & 7) + ((lane >> 3) & 1) * 8, lcol = (lane >> 4) * 8;
#if QK_DSPLIT /* Q and K at this warp's D slice, K from the tile's first key */
    const pf_sptr q_at = pf_sptr_of(sQ + (wm * MT_W * 16 + lrow) * ROW_STRIDE + wn * WARP_COLS + lcol);
    const pf_sptr k_at =
        pf_sptr_of(sK + ((lane & 7) + lcol) * ROW_STRIDE + wn * WARP_COLS + ((lane >> 3) & 1) * 8);
#else
    const pf_sptr q_at = pf_sptr_of(sQ + (wm * MT_W * 16 + lrow) * ROW_STRIDE + lcol);
    const pf_sptr k_at =
        pf_sptr_of(sK + (wn * WARP_KEYS + (lane & 7) + lcol) * ROW_STRIDE + ((lane >> 3) & 1) * 8);
#endif
    const pf_sptr v_at = pf_sptr_of(sV + lrow * ROW_STRIDE + wn * WARP_COLS + lcol);
#if WSN > 1
    const pf_sptr p_at = pf_sptr_of(sP + (wm * MT_W * 16 + lrow) * P_STRIDE + lcol);
#endif

    const int work = (int)blockIdx.x, head = (int)blockIdx.y;
    const int req = p.work_request[work], qt = p.work_qtile[work];
    const int kv_head = head / (p.num_qo_heads / p.num_kv_heads);
    const long long qo_start = (long long)attn_indptr(p.qo_indptr, req);
    const int q_len = (int)((long long)attn_indptr(p.qo_indptr, req + 1) - qo_start);
    const long long kv_start = (long long)attn_indptr(p.kv_indptr, req);
    const int kv_len = (int)((long long)attn_indptr(p.kv_indptr, req + 1) - kv_start);
    const int q0 = qt * BLOCK_M;
    const int q_rows = pf_min_i(BLOCK_M, q_len - q0);
    const int n_kt = (kv_len + BLOCK_N - 1) / BLOCK_N;

    attn_mask_view mv;
    mv.mask = p.mask;
    mv.group_ids = p.group_ids;
    mv.mask_base = MASK_STORAGE == PF_MASK_SPANS ? (INDPTR_T)0 : attn_indptr(p.mask_indptr, req);
    mv.kv_start = kv_start;
    mv.kv_len = kv_len;
    mv.prefix = kv_len - q_len;
    mv.band_left = p.band_left;
    mv.band_right = p.band_right;
    mv.band_stride = p.band_stride;
    mv.band_past = p.band_past;
    mv.use_causal = p.use_causal;
    mv.use_same = p.use_same;
    mv.window = p.window;

#if TILE_SKIP
    /* the offset of this q tile's classes, in INDPTR_T (one register at
     * int32; every class index fits it, as the request offsets do) */
    const INDPTR_T cls_off = attn_indptr(p.tile_indptr, req) + (INDPTR_T)qt * n_kt;
    const unsigned char *classes = p.tile_class + cls_off;
    int kt = 0, kt_end = 0;
    if (n_kt > 0)
        attn_tile_range(classes, pf_min_i((mv.prefix + q0) / BLOCK_N, n_kt - 1), n_kt, &kt, &kt_end);
    /* the class of the tile being computed; the next one's is read an
     * iteration ahead */
    int cls = kt < kt_end ? classes[kt] : PF_TILE_EMPTY;
#else
    int kt = 0;
    const int kt_end = n_kt;
#endif

    const pf_bf16 *gQ = (const pf_bf16 *)p.q;
    const long long q_stride = (long long)p.num_qo_heads * HEAD_DIM;
    /* int: one register in the key loop (the products below widen) */
    const int kv_stride = p.num_kv_heads * HEAD_DIM;
    const pf_bf16 *gQ_tile = gQ + (qo_start + q0) * q_stride + (long long)head * HEAD_DIM;
    const long long kv_head_off = kv_start * kv_stride + (long long)kv_head * HEAD_DIM;

    attn_load_tile(sQ, gQ_tile, q_stride, BLOCK_M, q_rows, gQ, tid);
#if Q_KEEP
    pf_cp_async_commit(); /* Q alone first: its kept fragments load before the loop */
#endif
    if (kt < kt_end) {
        int k0 = kt * BLOCK_N;
#if STAGES == 2
        attn_load_kv(sK, sV, &p, kv_head_off + (long long)k0 * kv_stride, kv_stride, kv_len - k0, tid);
#else /* V follows inside the loop */
        attn_load_k_or_v(sK, p.k, kv_head_off + (long long)k0 * kv_stride, kv_stride, kv_len - k0, tid);
#endif
    }
    pf_cp_async_commit();

    float o_acc[MT_W][NT_O][4];
    float m_row[MT_W][2], l_row[MT_W][2];
    PF_UNROLL
    for (int mt = 0; mt < MT_W; mt++) {
        PF_UNROLL
        for (int nt = 0; nt < NT_O; nt++) {
            PF_UNROLL
            for (int e = 0; e < 4; e++)
                o_acc[mt][nt][e] = 0.0f;
        }
        m_row[mt][0] = m_row[mt][1] = -INFINITY;
        l_row[mt][0] = l_row[mt][1] = 0.0f;
    }

#if MASK_STORAGE == PF_MASK_SPANS
    /* each row's allowed-key interval, once per block (read after the key
     * loop's first barrier) */
    for (int r = tid; r < BLOCK_M; r += THREADS)
        attn_row_interval(&mv, q0 + r, q_len, &sRows[r], &sRows[BLOCK_M + r]);
#endif
#if Q_KEEP
    uint32_t q_frag[Q_KEEP][MT_W][4];
    pf_cp_async_wait(1);
    __syncthreads();
    PF_UNROLL
    for (int ks = 0; ks < Q_KEEP; ks++) {
        PF_UNROLL
        for (int mt = 0; mt < MT_W; mt++)
            pf_ldmatrix_x4_at(q_frag[ks][mt], q_at + (mt * 16 * ROW_STRIDE + ks * 16) * 2);
    }
#endif

#if MASK_STORAGE != PF_MASK_SPANS && BLOCK_M * ATTN_MW <= THREADS
    /* the row whose mask words this thread builds on every tile: its
     * offsets wait in shared memory (only this thread reads its slot), the
     * key loop has no registers to spare for them */
    INDPTR_T *sMrow = (INDPTR_T *)(sBits + ATTN_NB * BLOCK_M * ATTN_MW);
    if (tid < BLOCK_M * ATTN_MW) {
        const attn_mask_row m = attn_mask_row_init(&mv, q0 + tid / ATTN_MW, q_len);
        sMrow[tid] = m.off;
        sMrow[BLOCK_M * ATTN_MW + tid] = MASK_STORAGE == PF_MASK_WINDOW ? (INDPTR_T)m.d_k0 : m.e_row;
    }
#endif
    const float scale_log2 = p.sm_scale_log2;
    int stage = 0;
    while (kt < kt_end) {
        const int kt_next = kt + 1;
#if TILE_SKIP
        const int full_tile = cls == PF_TILE_FULL;
        cls = kt_next < kt_end ? p.tile_class[cls_off + kt_next] : PF_TILE_EMPTY;
#else
        const int full_tile = 0;
#endif
        const int k0 = kt * BLOCK_N;
        /* interior FULL tiles do no mask or bounds work */
        const int interior = full_tile && k0 + BLOCK_N <= kv_len && q0 + BLOCK_M <= q_len;
#if MASK_STORAGE != PF_MASK_SPANS
        /* this tile's mask bits (bounds only on FULL tiles), read after the
         * barrier below; at STAGES 2 into the buffer of this K/V stage, whose
         * last reader was two tiles ago (every warp has passed the previous
         * tile's barrier since) */
        uint32_t *const tBits = sBits + stage * (BLOCK_M * ATTN_MW);
        if (!interior) {
#if BLOCK_M * ATTN_MW <= THREADS /* one word per thread (every default) */
            if (tid < BLOCK_M * ATTN_MW) {
                attn_mask_row m;
                m.off = sMrow[tid];
                m.e_row = sMrow[BLOCK_M * ATTN_MW + tid];
                m.d_k0 = (int)m.e_row;
                m.kv_len = q0 + tid / ATTN_MW < q_len ? kv_len : 0;
                tBits[tid] = attn_mask_word(p.mask, p.band_left + p.band_right + 1, p.band_past, &m,
                                            k0 + (tid % ATTN_MW) * ATTN_MW_BITS, full_tile);
            }
#else
            for (int u = tid; u < BLOCK_M * ATTN_MW; u += THREADS) {
                const attn_mask_row m = attn_mask_row_init(&mv, q0 + u / ATTN_MW, q_len);
                tBits[u] = attn_mask_word(p.mask, p.band_left + p.band_right + 1, p.band_past, &m,
                                          k0 + (u % ATTN_MW) * ATTN_MW_BITS, full_tile);
            }
#endif
        }
#endif
        /* this tile's K/V (STAGES 1: its K), issued one tile ago, landed for
         * this thread; the barrier makes every thread's copies visible and,
         * at STAGES 2, is also the only one per tile: past it every warp is
         * done with the previous tile, so its K/V stage, P and row parts are
         * free and the next tile's copy goes into that stage right away (it
         * overlaps this tile's MMAs). At STAGES 1 every warp is past the
         * previous PV here, so this tile's V copy starts and overlaps QK^T */
        pf_cp_async_wait(0);
        __syncthreads();
#if STAGES == 2
        if (kt_next < kt_end) {
            int k1 = kt_next * BLOCK_N;
            attn_load_kv(sK + (stage ^ 1) * BLOCK_N * ROW_STRIDE, sV + (stage ^ 1) * BLOCK_N * ROW_STRIDE,
                         &p, kv_head_off + (long long)k1 * kv_stride, kv_stride, kv_len - k1, tid);
            pf_cp_async_commit();
        }
#else
        attn_load_k_or_v(sV, p.v, kv_head_off + (long long)k0 * kv_stride, kv_stride, kv_len - k0, tid);
        pf_cp_async_commit();
#endif

        const pf_sptr k_s = k_at + stage * BLOCK_N * ROW_STRIDE * 2;
        const pf_sptr v_s = v_at + stage * BLOCK_N * ROW_STRIDE * 2;

        /* ---- S = Q K^T for this warp's rows and key slice (QK_DSPLIT:
         * partial S for all keys over this warp's D slice; after the sum
         * below, tiles [0, NT_S) hold the key slice's S as without it) */
        float s_acc[MT_W][QK_TILES][4];
        PF_UNROLL
        for (int mt = 0; mt < MT_W; mt++) {
            PF_UNROLL
            for (int nt = 0; nt < QK_TILES; nt++) {
                PF_UNROLL
                for (int e = 0; e < 4; e++)
                    s_acc[mt][nt][e] = 0.0f;
            }
        }
        PF_UNROLL
        for (int ks = 0; ks < QK_STEPS; ks++) {
            uint32_t a[MT_W][4];
            PF_UNROLL
            for (int mt = 0; mt < MT_W; mt++) {
#if Q_KEEP
                if (ks < Q_KEEP) {
                    PF_UNROLL
                    for (int r = 0; r < 4; r++)
                        a[mt][r] = q_frag[ks < Q_KEEP ? ks : 0][mt][r];
                    continue;
                }
#endif
                pf_ldmatrix_x4_at(a[mt], q_at + (mt * 16 * ROW_STRIDE + ks * 16) * 2);
            }
            PF_UNROLL
            for (int np = 0; np < QK_TILES / 2; np++) {
                uint32_t b[4];
                pf_ldmatrix_x4_at(b, k_s + (np * 16 * ROW_STRIDE + ks * 16) * 2);
                PF_UNROLL
                for (int mt = 0; mt < MT_W; mt++) {
                    pf_mma_m16n8k16_bf16(s_acc[mt][2 * np], a[mt], b, s_acc[mt][2 * np]);
                    pf_mma_m16n8k16_bf16(s_acc[mt][2 * np + 1], a[mt], b + 2, s_acc[mt][2 * np + 1]);
                }
            }
#if QK_TILES % 2
            {
                uint32_t b[2]; /* x2: lanes 0-15, keys (NT_S-1)*8 + 0..7 */
                pf_ldmatrix_x2_at(b, k_s + ((NT_S - 1) * 8 * ROW_STRIDE + ks * 16) * 2);
                PF_UNROLL
                for (int mt = 0; mt < MT_W; mt++)
                    pf_mma_m16n8k16_bf16(s_acc[mt][NT_S - 1], a[mt], b, s_acc[mt][NT_S - 1]);
            }
#endif
        }
#if QK_DSPLIT
        /* the partials into SPART, then this warp's key slice summed over
         * the WSN D slices (fixed order) into the usual S fragments. SPART
         * is rewritten next tile only after every group member passed this
         * tile's combine_across_warps barrier, which follows its reads */
        PF_UNROLL
        for (int mt = 0; mt < MT_W; mt++) {
            PF_UNROLL
            for (int h = 0; h < 2; h++) {
                float *srow = sSpart + (wn * BLOCK_M + (wm * MT_W + mt) * 16 + g + h * 8) * SPART_STRIDE;
                PF_UNROLL
                for (int nt = 0; nt < QK_TILES; nt++) {
                    srow[nt * 8 + tig * 2] = s_acc[mt][nt][h * 2];
                    srow[nt * 8 + tig * 2 + 1] = s_acc[mt][nt][h * 2 + 1];
                }
            }
        }
        ATTN_ROW_GROUP_SYNC(wm);
        PF_UNROLL
        for (int mt = 0; mt < MT_W; mt++) {
            PF_UNROLL
            for (int h = 0; h < 2; h++) {
                const float *srow = sSpart + ((wm * MT_W + mt) * 16 + g + h * 8) * SPART_STRIDE +
                                    wn * WARP_KEYS + tig * 2;
                PF_UNROLL
                for (int nt = 0; nt < NT_S; nt++) {
                    PF_UNROLL
                    for (int e = 0; e < 2; e++) {
                        float acc = 0.0f;
                        PF_UNROLL
                        for (int w = 0; w < WSN; w++)
                            acc += srow[w * BLOCK_M * SPART_STRIDE + nt * 8 + e];
                        s_acc[mt][nt][h * 2 + e] = acc;
                    }
                }
            }
        }
#endif

        /* ---- mask (not on interior FULL tiles), row max of this warp's
         * slice, in raw score units (the scale is folded into exp2's FMA) */
        if (!interior) {
            PF_UNROLL
            for (int mt = 0; mt < MT_W; mt++) {
                PF_UNROLL
                for (int h = 0; h < 2; h++) {
#if MASK_STORAGE == PF_MASK_SPANS
                    const int lo = sRows[(wm * MT_W + mt) * 16 + g + h * 8];
                    const int hi = sRows[BLOCK_M + (wm * MT_W + mt) * 16 + g + h * 8];
#else
                    /* this warp's key slice of the row's bits, shifted so
                     * that bit nt*8+e (mod 32) is this thread's key */
                    const uint32_t *brow =
                        tBits + ((wm * MT_W + mt) * 16 + g + h * 8) * ATTN_MW + (wn * WARP_KEYS) / 32;
                    uint32_t bw[(WARP_KEYS + 31) / 32];
                    PF_UNROLL
                    for (int w = 0; w < (WARP_KEYS + 31) / 32; w++)
                        bw[w] = brow[w] >> ((wn * WARP_KEYS) % 32 + tig * 2);
#endif
                    PF_UNROLL
                    for (int nt = 0; nt < NT_S; nt++) {
                        PF_UNROLL
                        for (int e = 0; e < 2; e++) {
#if MASK_STORAGE == PF_MASK_SPANS
                            const int k = k0 + wn * WARP_KEYS + nt * 8 + tig * 2 + e;
                            const int ok = k >= lo && k <= hi;
#else
                            const int ok = (bw[nt * 8 / 32] >> (nt * 8 % 32 + e)) & 1;
#endif
                            s_acc[mt][nt][h * 2 + e] = ok ? s_acc[mt][nt][h * 2 + e] : -INFINITY;
                        }
                    }
                }
            }
        }
        float row_max[MT_W][2];
        PF_UNROLL
        for (int mt = 0; mt < MT_W; mt++) {
            PF_UNROLL
            for (int h = 0; h < 2; h++) {
                float mx = -INFINITY;
                PF_UNROLL
                for (int nt = 0; nt < NT_S; nt++)
                    mx = fmaxf(mx, fmaxf(s_acc[mt][nt][h * 2], s_acc[mt][nt][h * 2 + 1]));
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
                row_max[mt][h] = mx;
            }
        }
#if WSN > 1
        combine_across_warps(row_max, sRed, wm, wn, g, tig, 1);
#endif

        /* ---- online softmax: P = exp2(S - m), rescale O and l by alpha */
        uint32_t p_own[MT_W][NT_S][2]; /* bf16x2 P: [row tile][n8 tile][row half] */
        PF_UNROLL
        for (int mt = 0; mt < MT_W; mt++) {
            PF_UNROLL
            for (int h = 0; h < 2; h++) {
                /* m in log2 units (scale > 0, so max and scale commute) */
                const float m_new = fmaxf(m_row[mt][h], row_max[mt][h] * scale_log2);
                /* a row with no allowed key so far keeps m = -inf: subtract 0
                 * instead so exp2 gives 0, not NaN */
                const float m_use = m_new == -INFINITY ? 0.0f : m_new;
                const float alpha = pf_exp2_approx(m_row[mt][h] - m_use);
                m_row[mt][h] = m_new;
#if WSN > 1
                const int row = (wm * MT_W + mt) * 16 + g + h * 8;
#endif
                float sum = 0.0f;
                PF_UNROLL
                for (int nt = 0; nt < NT_S; nt++) {
                    const float p0 = pf_exp2_approx(fmaf(s_acc[mt][nt][h * 2], scale_log2, -m_use));
                    const float p1 = pf_exp2_approx(fmaf(s_acc[mt][nt][h * 2 + 1], scale_log2, -m_use));
                    sum += p0 + p1;
                    /* this warp's P stays in registers, packed right away:
                     * half the registers of the floats while O is rescaled */
                    p_own[mt][nt][h] = pf_pack_bf16x2(p0, p1);
#if WSN > 1
                    const int col = wn * WARP_KEYS + nt * 8 + tig * 2;
                    *(uint32_t *)(sP + row * P_STRIDE + col) = p_own[mt][nt][h];
#endif
                }
                l_row[mt][h] = l_row[mt][h] * alpha + sum;
                PF_UNROLL
                for (int nt = 0; nt < NT_O; nt++) {
                    o_acc[mt][nt][h * 2] *= alpha;
                    o_acc[mt][nt][h * 2 + 1] *= alpha;
                }
            }
        }
#if STAGES == 1
        /* V landed for this thread; past the barrier every thread's V is
         * visible, the P rows are assembled, and every warp is done with K,
         * so the next tile's K copy overlaps PV */
        pf_cp_async_wait(0);
        __syncthreads();
        if (kt_next < kt_end) {
            int k1 = kt_next * BLOCK_N;
            attn_load_k_or_v(sK, p.k, kv_head_off + (long long)k1 * kv_stride, kv_stride, kv_len - k1, tid);
            pf_cp_async_commit();
        }
#elif WSN > 1
        ATTN_ROW_GROUP_SYNC(wm); /* this group's P rows are assembled from its WSN warps */
#endif

        /* ---- O += P V for this warp's rows and column slice: first the k
         * steps of its own key slice (P from registers: the S accumulator of
         * n8 tiles 2j, 2j+1 is the A fragment of k step j, PTX m16n8k16
         * layouts), then, with WSN > 1, the other warps' slices from sP */
        PF_UNROLL
        for (int j = 0; j < (WSN > 1 ? OWN_STEPS : PV_STEPS); j++) {
            uint32_t a[MT_W][4];
            PF_UNROLL
            for (int mt = 0; mt < MT_W; mt++) {
                a[mt][0] = p_own[mt][2 * j][0];
                a[mt][1] = p_own[mt][2 * j][1];
                a[mt][2] = p_own[mt][2 * j + 1][0];
                a[mt][3] = p_own[mt][2 * j + 1][1];
            }
            attn_pv_step(o_acc, a, v_s + (wn * WARP_KEYS + j * 16) * ROW_STRIDE * 2);
        }
#if WSN > 1
        /* then the other warps' key slices, in order after this warp's
         * (wrapping around); without an own slice (OWN_STEPS 0) all of P */
        PF_UNROLL
        for (int w = 1; w < (OWN_STEPS ? WSN : 2); w++) {
            const int ks0 = OWN_STEPS ? (wn + w) % WSN * OWN_STEPS : 0;
            PF_UNROLL
            for (int j = 0; j < (OWN_STEPS ? OWN_STEPS : PV_STEPS); j++) {
                uint32_t a[MT_W][4];
                PF_UNROLL
                for (int mt = 0; mt < MT_W; mt++)
                    pf_ldmatrix_x4_at(a[mt], p_at + (mt * 16 * P_STRIDE + (ks0 + j) * 16) * 2);
                attn_pv_step(o_acc, a, v_s + (ks0 + j) * 16 * ROW_STRIDE * 2);
            }
        }
#endif
        kt = kt_next;
#if STAGES == 2
        stage ^= 1;
#endif
    }
    pf_cp_async_wait(0); /* no copy may still target shared memory at exit */

    /* ---- epilogue: full row sums, O / l, LSE */
    PF_UNROLL
    for (int mt = 0; mt < MT_W; mt++) {
        PF_UNROLL
        for (int h = 0; h < 2; h++) {
            l_row[mt][h] += __shfl_xor_sync(0xffffffffu, l_row[mt][h], 1);
            l_row[mt][h] += __shfl_xor_sync(0xffffffffu, l_row[mt][h], 2);
        }
    }
#if WSN > 1
    combine_across_warps(l_row, sRed, wm, wn, g, tig, 0);
#endif

    /* O / l as bf16 into the Q tile's shared memory (free after the loop:
     * the barrier also covers Q copies and kept-Q reads when no tile was
     * visited), then 16-byte stores, consecutive threads on consecutive
     * chunks of a row: coalesced */
    __syncthreads();
    /* the request's offsets, re-read after the barrier rather than held in
     * registers across the key loop */
    const int req_e = p.work_request[(int)blockIdx.x];
    const long long q_first = (long long)attn_indptr(p.qo_indptr, req_e) + q0;
    const int q_rows_e = pf_min_i(BLOCK_M, (int)((long long)attn_indptr(p.qo_indptr, req_e + 1) - q_first));
    pf_bf16 *sO = sQ;
    PF_UNROLL
    for (int mt = 0; mt < MT_W; mt++) {
        PF_UNROLL
        for (int h = 0; h < 2; h++) {
            const int r = (wm * MT_W + mt) * 16 + g + h * 8;
            const float l = l_row[mt][h];
            const float inv = l > 0.0f ? 1.0f / l : 0.0f;
            PF_UNROLL
            for (int nt = 0; nt < NT_O; nt++) {
                const int col = wn * WARP_COLS + nt * 8 + tig * 2;
                *(uint32_t *)(sO + r * ROW_STRIDE + col) =
                    pf_pack_bf16x2(o_acc[mt][nt][h * 2] * inv, o_acc[mt][nt][h * 2 + 1] * inv);
            }
            if (p.lse && wn == 0 && tig == 0 && r < q_rows_e)
                p.lse[(q_first + r) * p.num_qo_heads + head] =
                    l > 0.0f ? (m_row[mt][h] + log2f(l)) * LN2 : -INFINITY;
        }
    }
    __syncthreads();
    pf_bf16 *gO_tile = (pf_bf16 *)p.o + q_first * q_stride + (long long)head * HEAD_DIM;
    const int o_chunks = q_rows_e * DATA_CHUNKS;
#ifdef __CUDACC_RTC__
#pragma unroll 1
#endif
    for (int c = tid; c < o_chunks; c += THREADS) {
        const int r = c / DATA_CHUNKS, ch = c % DATA_CHUNKS;
        *(attn_u32x4 *)(gO_tile + r * q_stride + ch * 8) =
            *(const attn_u32x4 *)(sO + r * ROW_STRIDE + ch * 8);
    }
}
