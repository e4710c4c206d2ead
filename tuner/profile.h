/* Workload profiles (profiles/NAME.json): what to tune. A profile names the
 * kernel family, the model (a preset or explicit shape), the workload (a
 * layout per sequence length), the axes and constraints of the search, the
 * strategy and budget, and the measurement settings.
 *
 * JSON form (every key but "family" and "seq_lens" optional; unknown keys
 * are refused naming the key):
 * {
 *   "family": "attention",
 *   "model": "gemma3-4b",                 // or "shape": {"heads": 8, "kv_heads": 4,
 *                                         //   "head_dims": [256], "window": 1024, "rule": "gemma3"}
 *   "layers": ["full", "sliding"],        // layer kinds to tune (default both)
 *   "seq_lens": [8192, 32768],
 *   "workload": {"images": {"tokens": 256, "every": 4096}}   // or
 *               {"layout": "t20,i256,t30"} (one per seq? no: scaled) or
 *               {"layouts": {"8192": "t7936,i256"}} or {"layout_file": "x.json"}
 *               or {"random": {"max_requests": 4}} (seeded)
 *   "requests": 1,                        // requests per batch for generated workloads
 *   "axes": {"BLOCK_M": [64, 128], "MASK_STORAGE": ["spans", "bitmap"],
 *            "WARPS": {"pow2": [2, 8]}, "STAGES": {"range": [1, 2]}},
 *   "constraints": ["BLOCK_M * WARPS <= 512"],
 *   "strategy": "model", "seed": 1, "budget": {"evals": 200, "seconds": 3600},
 *   "measure": {"warmup": 3, "min_samples": 10, "max_samples": 200,
 *               "stdrel": 0.005, "max_seconds": 2, "flush_l2": true},
 *   "keep_spills": false, "verify": true
 * }
 * The exact keys are settled by tuner/profile.c and documented in the
 * README; this header is the contract the tuner reads. */
#ifndef PF_PROFILE_H
#define PF_PROFILE_H

#include <stdint.h>

#include "attention/layout.h"
#include "tuner/expr.h"

#define PF_PROFILE_MAX_AXES 16
#define PF_PROFILE_MAX_VALUES 32
#define PF_PROFILE_MAX_SEQS 16
#define PF_PROFILE_MAX_CONSTRAINTS 16
#define PF_PROFILE_MAX_HEAD_DIMS 4

typedef struct pf_profile_axis {
    char name[32];                              /* "BLOCK_M" */
    int n_values;
    char values[PF_PROFILE_MAX_VALUES][24];     /* "64", "spans", "int32" */
} pf_profile_axis;

typedef enum pf_workload_kind {
    PF_WORKLOAD_IMAGES,   /* images of `image_tokens` every `image_every` tokens */
    PF_WORKLOAD_LAYOUT,   /* one layout spec per sequence length (or one for all) */
    PF_WORKLOAD_FILE,     /* a layout file (.json/.npy): its own lengths */
    PF_WORKLOAD_RANDOM,   /* seeded random multimodal layouts */
} pf_workload_kind;

typedef struct pf_profile {
    char family[32];                /* "attention" */
    char model[32];                 /* preset name, or "" for an explicit shape */
    int hq, hkv;
    int n_head_dims;
    int head_dims[PF_PROFILE_MAX_HEAD_DIMS]; /* per layer kind below, same order, or one */
    int n_layers;
    int layers[2];                  /* PF_LAYER_FULL / PF_LAYER_SLIDING */
    int head_dim_of_layer[2];       /* head dim used for layers[i] */
    int window;                     /* sliding window */
    int rule;                       /* PF_RULE_* */
    float scale_of_layer[2];
    int n_seqs;
    int64_t seq_lens[PF_PROFILE_MAX_SEQS];
    int requests;                   /* requests per batch (generated workloads) */
    pf_workload_kind workload;
    int64_t image_tokens, image_every;
    char layouts[PF_PROFILE_MAX_SEQS][256]; /* PF_WORKLOAD_LAYOUT, per seq_lens[i] */
    char layout_file[512];
    int n_axes;                     /* 0: every axis of the family with all its values */
    pf_profile_axis axes[PF_PROFILE_MAX_AXES];
    int n_constraints;
    char constraints[PF_PROFILE_MAX_CONSTRAINTS][256]; /* validated by pf_profile_load */
    char strategy[32];              /* "exhaustive" (default), "random", "anneal", "model" */
    uint64_t seed;
    int budget_evals;               /* 0: no limit */
    double budget_seconds;          /* 0: no limit */
    int warmup, min_samples, max_samples; /* measurement (pf_measure_opts) */
    double stdrel, max_seconds;
    int flush_l2;
    int keep_spills;                /* 0: spilling variants are pruned */
    int verify;                     /* 1 (default): the verification gate is on */
    uint64_t hash;                  /* XXH3-64 of the file bytes (journal header) */
} pf_profile;

/* Parse a profile file; names of axes in "axes" and "constraints" are
 * checked against `axis_names` (the family's, NULL-terminated) plus
 * SEQ_LEN. 0 / -1 with "profile.json: key \"axes.BLOCK_M\": ..." style
 * messages. */
int pf_profile_load(const char *path, const char *const *axis_names, pf_profile *out);
/* The same from a string (tests, fuzzing); `name` is used in messages. */
int pf_profile_parse(const char *text, size_t len, const char *name,
                     const char *const *axis_names, pf_profile *out);

/* The layout of the workload at seq_lens[i] (seed for random ones). */
int pf_profile_layout(const pf_profile *p, int i, uint64_t seed, pf_layout **out);

#endif
