/* What `pftune export` ships, read from a tuned.json (pftune.tuned/1, see
 * tuner/results.h): the device it was tuned on, its entries (shape +
 * sequence-length buckets) and the distinct kernels the buckets chose, each
 * a parsed, valid attention variant. */
#ifndef PF_EXPORT_PLAN_H
#define PF_EXPORT_PLAN_H

#include <stdint.h>

#include "attention/attn_variant.h"

typedef struct pf_export_kernel {
    char name[96];        /* file stem: attn_d64_m64_n64_w4_s2_bitmap_i32_skip1 */
    char variant[256];    /* canonical variant text */
    pf_attn_variant v;
} pf_export_kernel;

typedef struct pf_export_bucket {
    int64_t seq_len;
    int kernel;           /* index into kernels */
    double median_ms;     /* < 0: unknown */
    double useful_tflops; /* < 0: unknown */
    char timer[32];
} pf_export_bucket;

typedef struct pf_export_entry {
    char model[64];
    int layer, rule;      /* PF_LAYER_*, PF_RULE_* */
    int head_dim, window, hq, hkv;
    int n_buckets;
    pf_export_bucket *buckets;
} pf_export_entry;

typedef struct pf_export_plan {
    char device[128];     /* tuned.json "device" */
    char arch[16];        /* the arch it was tuned for ("" if absent) */
    char backend[16];     /* "cuda", "emu" ("" if absent) */
    int host_timed;       /* some bucket was chosen from host timings */
    int n_entries, n_kernels;
    pf_export_entry *entries;
    pf_export_kernel *kernels;
} pf_export_plan;

/* Read and check `path`; every variant must be valid on each of the n_archs
 * archs. Refusals name the file and the JSON path ("entries[1].buckets[0]
 * .variant: ..."). */
int pf_export_plan_read(const char *path, const char (*archs)[16], int n_archs,
                        pf_export_plan *out);
void pf_export_plan_free(pf_export_plan *plan);

#endif
