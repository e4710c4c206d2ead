/* Workload profiles (profiles/NAME.json): what to tune. A profile names the
 * kernel family, the model (a preset or explicit shape), the workload (a
 * layout per sequence length), the axes and constraints of the search, the
 * strategy and budget, and the measurement settings. README.md "Profiles"
 * documents every key; the summary:
 * {
 *   "family": "attention",                // required
 *   "description": "free text",
 *   "model": "gemma3-4b",                 // a preset (models/presets.h), or
 *   "shape": {"heads": 8, "kv_heads": 4, "head_dims": 256, "window": 1024,
 *             "rule": "gemma3", "scale": 0.0625, "image_tokens": 256},
 *                                         // kv_heads, head_dims, scale: one value
 *                                         // or one per entry of "layers"
 *   "layers": ["full", "sliding"],        // default both (only "full" without a window)
 *   "seq_lens": [8192, 32768],            // required: the workloads (tokens per request)
 *   "workload": one of                    // default {"images": {}}
 *       {"images": {"tokens": 256, "every": 4096}}  // text, an image after every
 *                                         //   `every` text tokens (tokens: the model's)
 *       {"layout": "t20,i256,t30"}        // one request's pattern, repeated to fill
 *                                         //   each seq len (the last copy cut short)
 *       {"layouts": {"8192": "t7936,i256;t8192"}}  // one layout per seq len; every
 *                                         //   request has seq len tokens (prefix included)
 *       {"layout_file": "x.json"}         // .json/.npy, relative to the profile; one seq
 *                                         //   len, equal to its longest request
 *       {"random": {"max_requests": 4}}   // seeded random layouts of <= seq len tokens
 *   "requests": 1,                        // requests per batch ("images", "layout")
 *   "axes": {"BLOCK_M": [64, 128], "MASK_STORAGE": ["spans", "bitmap"],
 *            "WARPS": {"pow2": [2, 8]}, "STAGES": {"range": [1, 2], "step": 1}},
 *   "constraints": ["BLOCK_M * WARPS <= 512"],   // tuner/expr.h, over axes + SEQ_LEN
 *   "strategy": "model", "seed": 1, "budget": {"evals": 200, "seconds": 3600},
 *   "measure": {"warmup": 3, "min_samples": 10, "max_samples": 200,
 *               "stdrel": 0.005, "max_seconds": 2, "flush_l2": true},
 *   "keep_spills": false, "verify": true
 * }
 * Unknown keys, wrong types, empty lists, duplicate or too many values are
 * refused naming the key path. This header is the contract the tuner reads. */
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
    int is_string;                              /* 1: strings, 0: integers (decimal) */
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
    char description[160];
    int hq, hkv;                    /* hkv: the model's kv heads on sliding layers; use
                                       hkv_of_layer (Gemma-4 full layers have fewer) */
    int n_head_dims;
    int head_dims[PF_PROFILE_MAX_HEAD_DIMS]; /* per layer kind below, same order, or one */
    int n_layers;
    int layers[2];                  /* PF_LAYER_FULL / PF_LAYER_SLIDING */
    int head_dim_of_layer[2];       /* head dim used for layers[i] */
    int hkv_of_layer[2];            /* key-value heads of layers[i] */
    int window;                     /* sliding window */
    int rule;                       /* PF_RULE_* */
    float scale_of_layer[2];
    int n_seqs;
    int64_t seq_lens[PF_PROFILE_MAX_SEQS];
    int requests;                   /* requests per batch (images, layout pattern);
                                       the maximum for random workloads */
    pf_workload_kind workload;
    int64_t image_tokens, image_every;
    char layouts[PF_PROFILE_MAX_SEQS][256]; /* PF_WORKLOAD_LAYOUT, per seq_lens[i] */
    int layout_repeat;              /* 1: layouts[i] is one request's pattern, repeated */
    char layout_file[512];          /* resolved against the profile's directory */
    int n_axes;                     /* 0: every axis of the family with all its values;
                                       axes keep the file's order */
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
 * checked against `axis_names` (the family's, NULL-terminated; NULL: any
 * identifier) plus SEQ_LEN in constraints; HEAD_DIM comes from the model,
 * never from "axes". 0 / -1 with one-line messages
 * 'profile x.json: "axes.BLOCK_M"[2]: must be an integer >= 0 or a string'. */
int pf_profile_load(const char *path, const char *const *axis_names, pf_profile *out);
/* The same from a string (tests, fuzzing); `name` is used in messages. */
int pf_profile_parse(const char *text, size_t len, const char *name,
                     const char *const *axis_names, pf_profile *out);

/* The layout of the workload at seq_lens[i] (seed for random ones; mixed
 * with i so the lengths differ). Images and patterns give `requests`
 * requests of exactly seq_lens[i] tokens. Caller frees with pf_layout_free. */
int pf_profile_layout(const pf_profile *p, int i, uint64_t seed, pf_layout **out);

#endif
