/* Host launcher of the attention kernel family (kernels/attention.cu):
 * problem checks, bf16 rounding, JIT compile, mask / tile-class / work-list
 * encoding, upload, poisoned output, launch, download.
 *
 * One-shot: pf_attn_run. Repeated launches (benchmarks): pf_attn_prepare
 * once, then pf_attn_launch / pf_attn_measure as often as wanted, then
 * pf_attn_download and pf_attn_release. */
#ifndef PF_ATTENTION_RUN_H
#define PF_ATTENTION_RUN_H

#include <stdint.h>

#include "attention/attn_variant.h"
#include "device/device.h"
#include "jit/jit.h"
#include "measure/measure.h"
#include "attention/layout.h"
#include "attention/mask_rule.h"

typedef struct pf_attn_problem {
    const pf_layout *layout;
    pf_mask_spec mask;
    float scale;       /* softmax scale (e.g. head_dim^-0.5) */
    int hq, hkv, head_dim;
} pf_attn_problem;

/* How to run a problem (the _opts entry points; NULL = all zero). */
typedef struct pf_attn_opts {
    int encode_on_device; /* dense/bitmap/window: build the mask on the device
                             (mask_device.h; same bytes as the host encoder) */
    int external_tensors; /* q/k/v/o are the caller's device tensors, given to
                             pf_attn_bind before each launch (a model forward):
                             prepare builds only the metadata, q/k/v must be NULL */
} pf_attn_opts;

typedef struct pf_attn_run_info {
    /* compile */
    int from_cache;
    double compile_ms;
    pf_resources res;          /* cuda targets; zeros on emu */
    char target[16];           /* "sm_90", "emu", ... */
    char arch[16];             /* arch whose limits the variant was checked against */
    /* metadata */
    int64_t mask_bytes;        /* pf_mask_bytes of the variant's storage + indptr */
    int64_t tile_class_bytes;  /* TILE_SKIP=1: classes + tile indptr; 0 otherwise */
    int64_t tiles_empty, tiles_full, tiles_partial;
    /* launch */
    pf_dim3 grid, block;
    size_t smem;               /* dynamic shared memory bytes */
    int num_work;
    double kernel_ms;          /* median of the last measurement */
    char timer[32];            /* the timer that produced it (measure.h): "cupti",
                                  "cuda-events", "emu-host" or "host" */
    int mask_on_device;        /* the mask was built by kernels/mask_build.cu */
} pf_attn_run_info;

/* Byte size of one tensor element on the device (bf16). */
#define PF_ATTN_ELEM_BYTES 2

/* Check a problem on its own (sizes, GQA ratio, mask spec). */
int pf_attn_problem_check(const pf_attn_problem *pb);

/* Run once: q [total_q, hq, D], k/v [total_kv, hkv, D] floats (rounded to
 * bf16 on upload), o [total_q, hq, D] floats out, lse [total_q, hq] (natural
 * log) out or NULL. arch: limits to check the variant against; NULL means the
 * device's (pf_device_arch: its entry of device/arch.h; emu: the arch it
 * mimics). info may be NULL. */
int pf_attn_run(pf_device *dev, const char *arch, const pf_attn_problem *pb,
                const pf_attn_variant *v, const float *q, const float *k, const float *v_in,
                float *o, float *lse, pf_attn_run_info *info);
/* The same with options (opts may be NULL). */
int pf_attn_run_opts(pf_device *dev, const char *arch, const pf_attn_problem *pb,
                     const pf_attn_variant *v, const pf_attn_opts *opts, const float *q,
                     const float *k, const float *v_in, float *o, float *lse,
                     pf_attn_run_info *info);

typedef struct pf_attn_prepared pf_attn_prepared;

/* Everything up to (not including) the launch. q/k/v may all be NULL: the
 * device tensors are then filled with seeded pseudo-random bf16 values in
 * [-1, 1) (benchmarks at 128K tokens skip the float copies). want_lse
 * allocates the LSE buffer. The output is poisoned (NaN). */
int pf_attn_prepare(pf_device *dev, const char *arch, const pf_attn_problem *pb,
                    const pf_attn_variant *v, const float *q, const float *k, const float *v_in,
                    uint64_t seed, int want_lse, pf_attn_prepared **out, pf_attn_run_info *info);
/* The same with options (opts may be NULL). */
int pf_attn_prepare_opts(pf_device *dev, const char *arch, const pf_attn_problem *pb,
                         const pf_attn_variant *v, const pf_attn_opts *opts, const float *q,
                         const float *k, const float *v_in, uint64_t seed, int want_lse,
                         pf_attn_prepared **out, pf_attn_run_info *info);
/* External tensors (pf_attn_opts.external_tensors): point the prepared
 * launch at the caller's bf16 device tensors, laid out as pf_attn_run's. */
void pf_attn_bind(pf_attn_prepared *ap, pf_dptr q, pf_dptr k, pf_dptr v, pf_dptr o);
/* Fill O (and LSE) with NaN bytes, so a row the kernel forgets shows up. */
int pf_attn_poison(pf_attn_prepared *ap);
/* One launch on stream s (NULL: default). */
int pf_attn_launch(pf_attn_prepared *ap, pf_stream *s);
/* Time launches through the measure layer (measure/measure.h: warm-up, L2
 * flush, stdrel stop; o NULL = defaults). The median goes to
 * info->kernel_ms and the timer that produced it to info->timer.
 * samples_ms: NULL or room for o->max_samples values. */
int pf_attn_measure(pf_attn_prepared *ap, const pf_measure_opts *o, pf_measure_summary *out,
                    double *samples_ms);
/* Copy O (bf16 -> float) and LSE (if allocated and lse != NULL) back. */
int pf_attn_download(pf_attn_prepared *ap, float *o, float *lse);
const pf_attn_run_info *pf_attn_prepared_info(const pf_attn_prepared *ap);
void pf_attn_release(pf_attn_prepared *ap);

/* Useful FLOPs of a problem: 4 * D * Hq per visible (q, k) pair, pairs
 * counted from the rule (pf_mask_row_interval). */
double pf_attn_useful_flops(const pf_attn_problem *pb);

#endif
