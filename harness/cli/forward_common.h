/* What both bodies of `pftune forward` (Gemma-3 cmd_forward.c, Gemma-4
 * cmd_forward_g4.c) share: the model kind, the output folder, the measure
 * loop from the command line, the head and memory parts of forward.json,
 * writing the outputs, the --attn kind prefix and the dry-run line. */
#ifndef PF_CLI_FORWARD_COMMON_H
#define PF_CLI_FORWARD_COMMON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/forward_args.h"
#include "attention/attn_variant.h"
#include "device/device.h"
#include "measure/measure.h"

int pf_forward_is_dir(const char *path);
/* Make --out (a folder) before a run; one-line error otherwise. */
int pf_forward_prepare_out(const char *out);
/* --samples / --warmup (defaults: 10 samples on cuda, 3 on emu), no L2
 * flush: phases run back to back in a real prefill. */
void pf_forward_measure_opts(const fwd_args *a, const pf_device_props *pr, pf_measure_opts *m);
/* Keep each request's last row of all-position logits [T, V] as [B, V]. */
void pf_forward_keep_last_rows(float *logits, size_t vocab, const int *req_len, int batch);
/* forward.json's first keys (schema pftune.forward/1), through the
 * attention variant of each site (vision NULL: none) and, when timed, the
 * timer's label. */
json_t *pf_forward_json_head(const fwd_args *a, const char *family, const pf_device_props *pr,
                             int tokens, int requests, int images, int token_types,
                             const char *full, const char *sliding, const char *vision,
                             int timed, const char *timer);
/* One decoder layer's times (the caller adds model-specific keys). */
json_t *pf_forward_json_layer(int layer, int full, double attention_ms, double gemm_ms,
                              double other_ms);
/* "memory": the peak of pftune's device buffers and its shares. */
void pf_forward_json_memory(json_t *doc, size_t peak, size_t weights, size_t activations,
                            size_t mask);
/* OUT/logits.npy ([rows, vocab] float32) and OUT/forward.json, atomically. */
int pf_forward_write(const char *out, const float *logits, size_t rows, size_t vocab,
                     const json_t *doc);
/* A model's attention sites for --attn / --tuned: full layers, sliding
 * layers, the vision tower (head dim 0: none), each variant parsed for its
 * own head dim (the one the family runs). */
typedef struct pf_forward_kinds {
    int head_dim[3];
    pf_attn_variant *dst[3];
    const char *rule; /* the tuned.json rule of the text layers */
} pf_forward_kinds;
/* --attn [full:|sliding:|vision:]SPEC over the defaults (no prefix: both
 * text kinds). Usage errors exit 2. */
int pf_forward_apply_attn(const fwd_args *a, pf_device *dev, const pf_forward_kinds *k);
/* --tuned: each text kind's variant at sequence length seq (nearest
 * bucket). */
int pf_forward_apply_tuned(const fwd_args *a, pf_device *dev, const pf_forward_kinds *k,
                           int64_t seq);

#endif
