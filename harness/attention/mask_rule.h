/* The mask rule: which keys a query may attend to (DESIGN.md, "Mask
 * semantics"). pf_mask_allowed is the literal table and the truth every
 * encoder, the reference and the tests compare against; the flag formula of
 * kernels/attention_params.h and the per-row interval form are derived from
 * it and tested against it.
 *
 *   causal(q,k) = k <= q
 *   same(q,k)   = group(q) >= 0 && group(q) == group(k)
 *   window(q,k) = k > q - W
 *   rule           full layer        sliding layer
 *   causal         causal            causal && window
 *   gemma3         causal || same    (causal || same) && window
 *   gemma4         causal            (causal || same) && window
 *   bidirectional  true              (refused)
 * Positions are from the request start (q in [prefix, kv_len), k in
 * [0, kv_len)). */
#ifndef PF_MASK_RULE_H
#define PF_MASK_RULE_H

#include <stdint.h>

#include "attention/layout.h"

typedef enum { PF_RULE_CAUSAL, PF_RULE_GEMMA3, PF_RULE_GEMMA4, PF_RULE_BIDIRECTIONAL } pf_rule;
typedef enum { PF_LAYER_FULL, PF_LAYER_SLIDING } pf_layer;

typedef struct pf_mask_spec {
    pf_rule rule;
    pf_layer layer;
    int window; /* W, used on sliding layers only (must be > 0 there) */
} pf_mask_spec;

/* "causal", "gemma3", "gemma4", "bidirectional". */
int pf_rule_parse(const char *s, pf_rule *out);
const char *pf_rule_name(pf_rule rule);
/* "full", "sliding". */
int pf_layer_parse(const char *s, pf_layer *out);
const char *pf_layer_name(pf_layer layer);

/* 0 if the combination is meaningful; -1 with a message for a sliding layer
 * with window <= 0, bidirectional on a sliding layer, or unknown enums. */
int pf_mask_spec_check(const pf_mask_spec *spec);

/* Kernel flags (attention_params.h): use_causal, use_same, and window (W on
 * sliding layers, 0 on full layers). Assumes a checked spec. */
void pf_mask_flags(const pf_mask_spec *spec, int *use_causal, int *use_same, int *window);

/* The table, literally. req indexes layout->req; qpos and kpos are
 * positions in that request. Returns 1 (allowed) or 0. Assumes a checked
 * spec and in-range positions. */
int pf_mask_allowed(const pf_layout *layout, int req, int64_t qpos, int64_t kpos,
                    pf_rule rule, pf_layer layer, int window);

/* The kernel's flag formula (attention_params.h) for one pair, given the
 * group ids of q and k. Tested to agree with pf_mask_allowed. */
static inline int pf_mask_allowed_flags(int use_causal, int use_same, int window, int64_t qpos,
                                        int64_t kpos, int32_t gq, int32_t gk)
{
    int same = gq >= 0 && gq == gk;
    return (!use_causal || kpos <= qpos || (use_same && same)) &&
           (window == 0 || kpos > qpos - window);
}

/* The keys a query sees always form one interval [*lo, *hi] (clipped to the
 * request): causal rows end at q, or at the end of q's group when same
 * applies; windows start at q-W+1; bidirectional rows span everything.
 * lo and hi are nondecreasing in q, which tile classification relies on. */
void pf_mask_row_interval(const pf_layout *layout, int req, int64_t qpos, const pf_mask_spec *spec,
                          int64_t *lo, int64_t *hi);

#endif
