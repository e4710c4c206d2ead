/* pfattn: masked prefill attention for multimodal Gemma models, with the
 * kernel configurations an autotuning run chose for this package's GPUs.
 *
 * Plain C (C99 or later, also valid C++), no dependency beyond libc,
 * pthreads and dlopen: the CUDA driver (libcuda.so.1) is loaded on the
 * first launch, so programs link and build mask metadata without it.
 *
 * Errors: every int function returns PFATTN_OK (0) or a negative
 * PFATTN_ERR_*; pfattn_last_error() then holds a one-line message (per
 * thread).
 *
 * Flow: pfattn_layout_create (token types per request) -> pfattn_select
 * (the tuned kernel for head dim, layer kind, rule and sequence length) ->
 * the metadata builders for that kernel (pfattn_metadata_build does all of
 * them) -> copy the arrays to the GPU -> pfattn_launch with device
 * pointers. README.md describes every array. */
#ifndef PFATTN_H
#define PFATTN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PFATTN_OK 0
#define PFATTN_ERR_INVALID (-1)   /* bad argument, layout or rule */
#define PFATTN_ERR_OVERFLOW (-2)  /* an int32 indptr cannot address the metadata */
#define PFATTN_ERR_NO_KERNEL (-3) /* no exported entry or arch fits */
#define PFATTN_ERR_CUDA (-4)      /* no driver, no context, or a driver call failed */
#define PFATTN_ERR_NOMEM (-5)
#define PFATTN_ERR_IO (-6)        /* a kernel file is missing or unreadable */

/* The message of the last failure on this thread ("" if none). */
const char *pfattn_last_error(void);

/* Mask rules (positions from the request start; k key, q query):
 *   causal(q,k) = k <= q; same(q,k) = q and k in one vision group;
 *   window(q,k) = k > q - W
 *   rule           full layer        sliding layer
 *   causal         causal            causal && window
 *   gemma3         causal || same    (causal || same) && window
 *   gemma4         causal            (causal || same) && window
 *   bidirectional  everything        (refused) */
enum { PFATTN_RULE_CAUSAL = 0, PFATTN_RULE_GEMMA3 = 1, PFATTN_RULE_GEMMA4 = 2,
       PFATTN_RULE_BIDIRECTIONAL = 3 };
enum { PFATTN_LAYER_FULL = 0, PFATTN_LAYER_SLIDING = 1 };
/* Mask storages (the kernel's MASK_STORAGE) */
enum { PFATTN_MASK_DENSE = 0, PFATTN_MASK_BITMAP = 1, PFATTN_MASK_WINDOW = 2,
       PFATTN_MASK_SPANS = 3 };
/* Tile classes (one byte per BLOCK_M x BLOCK_N tile) */
enum { PFATTN_TILE_EMPTY = 0, PFATTN_TILE_FULL = 1, PFATTN_TILE_PARTIAL = 2 };
/* Token types, as HF's mm_token_type_ids (token_type_ids: 0/1 only).
 * Image and video are vision; audio is not. */
enum { PFATTN_TOKEN_TEXT = 0, PFATTN_TOKEN_IMAGE = 1, PFATTN_TOKEN_VIDEO = 2,
       PFATTN_TOKEN_AUDIO = 3 };

/* "causal", "gemma3", "gemma4", "bidirectional" / "full", "sliding" /
 * "dense", "bitmap", "window", "spans". */
int pfattn_rule_parse(const char *name, int *out);
int pfattn_layer_parse(const char *name, int *out);
int pfattn_storage_parse(const char *name, int *out);
const char *pfattn_rule_name(int rule);
const char *pfattn_layer_name(int layer);
const char *pfattn_storage_name(int storage);

/* ---------------------------------------------------------------- layout */

/* A batch of requests. Request r has lens[r] tokens (its cached prefix of
 * prefix[r] tokens, then its new tokens; prefix may be NULL: no cache) whose
 * types are types[off .. off+lens[r]) with off = the sum of earlier lens.
 * Vision tokens form groups: maximal runs of image/video tokens (HF's rule:
 * "i4,i4" adjacent is one group), numbered 0, 1, ... per request. A prefix
 * may not end inside a group; every request needs a new token; at most
 * 2^28 tokens in all. */
typedef struct pfattn_layout pfattn_layout;
int pfattn_layout_create(int batch, const int64_t *lens, const int64_t *prefix,
                         const int64_t *types, pfattn_layout **out);
void pfattn_layout_free(pfattn_layout *layout);

typedef struct pfattn_layout_sizes {
    int64_t batch, total_q, total_kv, max_q_len, max_kv_len, max_group_len;
} pfattn_layout_sizes;
int pfattn_layout_sizes_get(const pfattn_layout *layout, pfattn_layout_sizes *out);

/* ------------------------------------------------------- mask metadata
 * Every builder writes into caller-allocated arrays whose sizes the
 * matching *_size function (or the layout sizes) gives. indptr_bytes is 4
 * (int32) or 8 (int64), the kernel's INDPTR_T; an int32 indptr that cannot
 * address an array is PFATTN_ERR_OVERFLOW, naming the request. */

/* qo_indptr / kv_indptr [batch+1]: query rows and key/value rows of each
 * request in the packed Q and K/V tensors. */
int pfattn_indptr(const pfattn_layout *layout, int indptr_bytes, void *qo_indptr,
                  void *kv_indptr);
/* Spans storage: int32 group id per key/value token [total_kv], -1 for text
 * and audio. */
int pfattn_group_ids(const pfattn_layout *layout, int32_t *out);

/* Window storage band: bits for keys [q-left, q+right] per query row, stride
 * bytes per row; keys left of the band read `past`, keys right of it 0. */
typedef struct pfattn_band {
    int32_t left, right, stride, past;
} pfattn_band;
int pfattn_mask_band(const pfattn_layout *layout, int rule, int layer, int window,
                     pfattn_band *out);

/* Dense (1 byte per (q,k)), bitmap (1 bit, little bit order, each request
 * byte-aligned) and window (band rows) storages: *mask_bytes to allocate
 * (0 for spans, which reads group ids instead). */
int pfattn_mask_size(const pfattn_layout *layout, int storage, int rule, int layer, int window,
                     int64_t *mask_bytes);
/* Write the mask (zero it first is not needed) and mask_indptr [batch+1]
 * (elements for dense, bytes otherwise). Spans: nothing to write. */
int pfattn_mask_encode(const pfattn_layout *layout, int storage, int rule, int layer,
                       int window, int indptr_bytes, unsigned char *mask, void *mask_indptr);

/* Tile classes of the kernel's BLOCK_M x BLOCK_N tiles (TILE_SKIP=1):
 * row-major per request, tile_indptr [batch+1] in bytes. */
int pfattn_tile_size(const pfattn_layout *layout, int block_m, int block_n, int64_t *bytes);
int pfattn_tile_classes(const pfattn_layout *layout, int rule, int layer, int window,
                        int block_m, int block_n, int indptr_bytes, unsigned char *cls,
                        void *tile_indptr);

/* The launch's work list: one (request, query tile) per block, each
 * request's last (longest) tiles first. */
int pfattn_work_size(const pfattn_layout *layout, int block_m, int64_t *num_work);
int pfattn_work_list(const pfattn_layout *layout, int block_m, int32_t *work_request,
                     int32_t *work_qtile);

/* Can a kernel with int32 indptrs run this layout in this storage (qo/kv
 * indptr, mask offsets, the bitmap bit index i*kv_len+k, tile offsets when
 * block_m, block_n > 0)? PFATTN_OK or PFATTN_ERR_OVERFLOW with the reason. */
int pfattn_int32_check(const pfattn_layout *layout, int storage, int rule, int layer,
                       int window, int block_m, int block_n);

/* ---------------------------------------------------- exported kernels */

typedef struct pfattn_kernel {
    const char *name;    /* file stem under kernels/: NAME.cu, NAME.sm_XX.{cubin,ptx} */
    const char *variant; /* the tuner's variant text */
    int32_t head_dim, block_m, block_n, warps, stages, mask_storage, indptr_bytes, tile_skip;
    int32_t threads, smem_bytes; /* block size and dynamic shared memory */
} pfattn_kernel;

int pfattn_kernel_count(void);
const pfattn_kernel *pfattn_kernel_get(int index);

/* The tuned kernel for a head dim, layer kind and rule at seq_len tokens:
 * among the entries tuned for them, the bucket nearest to seq_len (ties go
 * to the larger). *kernel: index for pfattn_kernel_get; bucket may be NULL. */
int pfattn_select(int head_dim, int layer, int rule, int64_t seq_len, int *kernel,
                  int64_t *bucket);

/* ------------------------------------------ all metadata of one launch */

typedef struct pfattn_metadata {
    int32_t kernel;  /* pfattn_select's pick for seq_len */
    int32_t rule, layer, window;
    int64_t seq_len; /* as given, or the longest request (kv tokens) */
    int64_t batch, total_q, total_kv, num_work;
    int32_t indptr_bytes;             /* 4 or 8: every indptr below */
    void *qo_indptr, *kv_indptr;      /* [batch+1] */
    int32_t *work_request, *work_qtile; /* [num_work] */
    unsigned char *mask;              /* [mask_bytes], NULL for spans */
    int64_t mask_bytes;
    void *mask_indptr;                /* [batch+1], NULL for spans */
    int32_t *group_ids;               /* [total_kv], spans only */
    unsigned char *tile_class;        /* [tile_bytes], TILE_SKIP only */
    int64_t tile_bytes;
    void *tile_indptr;                /* [batch+1], TILE_SKIP only */
    pfattn_band band;                 /* window storage */
} pfattn_metadata;

/* Select the kernel (seq_len 0: the longest request) and build every array
 * it reads, in host memory (free with pfattn_metadata_free). */
int pfattn_metadata_build(const pfattn_layout *layout, int head_dim, int rule, int layer,
                          int window, int64_t seq_len, pfattn_metadata *out);
void pfattn_metadata_free(pfattn_metadata *md);

/* ---------------------------------------------------------------- launch */

typedef struct pfattn_launch_args {
    /* device pointers (CUdeviceptr values) */
    const void *q;  /* bf16 [total_q, num_qo_heads, head_dim] */
    const void *k;  /* bf16 [total_kv, num_kv_heads, head_dim] */
    const void *v;  /* bf16 [total_kv, num_kv_heads, head_dim] */
    void *o;        /* bf16 [total_q, num_qo_heads, head_dim] */
    float *lse;     /* [total_q, num_qo_heads] natural-log LSE, or NULL */
    const void *qo_indptr, *kv_indptr;
    const int32_t *work_request, *work_qtile;
    const unsigned char *mask;
    const void *mask_indptr;
    const int32_t *group_ids;
    const unsigned char *tile_class;
    const void *tile_indptr;
    void *stream;   /* CUstream / cudaStream_t; NULL: the legacy default stream */
    /* sizes and mask */
    int64_t seq_len; /* picks the bucket; must pick `kernel` */
    int32_t kernel;  /* the kernel the metadata was built for (pfattn_metadata.kernel) */
    int32_t batch, num_work, num_qo_heads, num_kv_heads, head_dim;
    int32_t rule, layer, window;
    pfattn_band band;
    float scale;     /* softmax scale, e.g. head_dim^-0.5 */
} pfattn_launch_args;

/* Zero `a`, then copy the metadata's scalars (kernel, seq_len, batch,
 * num_work, rule, layer, window, band) into it; md may be NULL. */
void pfattn_launch_args_init(pfattn_launch_args *a, const pfattn_metadata *md);
/* sizeof(pfattn_launch_args), for bindings to check their mirror. */
size_t pfattn_launch_args_size(void);

/* Launch the tuned kernel asynchronously on a->stream, in the calling
 * thread's current CUDA context (the one cudaSetDevice / PyTorch made
 * current). The module for the device's arch is loaded once per context:
 * its cubin, else the PTX of the newest exported arch not above the device
 * (JIT-compiled by the driver). */
int pfattn_launch(const pfattn_launch_args *a);

/* Where NAME.sm_XX.{cubin,ptx} are read from: this directory (NULL: back to
 * the default), else $PFATTN_KERNEL_DIR, else the installed kernels, else
 * the package's kernels/ directory. */
void pfattn_set_kernel_dir(const char *dir);

#ifdef __cplusplus
}
#endif

#endif
