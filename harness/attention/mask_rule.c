/* The mask rule of DESIGN.md: names, validation, kernel flags, the literal
 * table, and the per-row key interval. */
#include "attention/mask_rule.h"

#include <string.h>

#include "core/pf_error.h"

static const char *const rule_names[] = {"causal", "gemma3", "gemma4", "bidirectional"};
static const char *const layer_names[] = {"full", "sliding"};

int pf_rule_parse(const char *s, pf_rule *out)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, rule_names[i]) == 0) {
            *out = (pf_rule)i;
            return 0;
        }
    return pf_error_set("unknown rule '%s' (expected causal, gemma3, gemma4, bidirectional)", s);
}

const char *pf_rule_name(pf_rule rule)
{
    return (unsigned)rule < 4 ? rule_names[rule] : "?";
}

int pf_layer_parse(const char *s, pf_layer *out)
{
    for (int i = 0; i < 2; i++)
        if (strcmp(s, layer_names[i]) == 0) {
            *out = (pf_layer)i;
            return 0;
        }
    return pf_error_set("unknown layer kind '%s' (expected full, sliding)", s);
}

const char *pf_layer_name(pf_layer layer)
{
    return (unsigned)layer < 2 ? layer_names[layer] : "?";
}

int pf_mask_spec_check(const pf_mask_spec *spec)
{
    if ((unsigned)spec->rule > PF_RULE_BIDIRECTIONAL)
        return pf_error_set("unknown rule %d", (int)spec->rule);
    if ((unsigned)spec->layer > PF_LAYER_SLIDING)
        return pf_error_set("unknown layer kind %d", (int)spec->layer);
    if (spec->layer == PF_LAYER_SLIDING && spec->rule == PF_RULE_BIDIRECTIONAL)
        return pf_error_set("rule bidirectional has no sliding-window layer (vision towers "
                            "attend fully)");
    if (spec->layer == PF_LAYER_SLIDING && spec->window <= 0)
        return pf_error_set("sliding-window layer needs a window > 0 (got %d)", spec->window);
    return 0;
}

void pf_mask_flags(const pf_mask_spec *spec, int *use_causal, int *use_same, int *window)
{
    int sliding = spec->layer == PF_LAYER_SLIDING;
    *use_causal = spec->rule != PF_RULE_BIDIRECTIONAL;
    *use_same = spec->rule == PF_RULE_GEMMA3 || (spec->rule == PF_RULE_GEMMA4 && sliding);
    *window = sliding ? spec->window : 0;
}

/* The DESIGN.md table, one cell per case, deliberately not sharing code with
 * the flag formula so the two can be tested against each other. */
int pf_mask_allowed(const pf_layout *layout, int req, int64_t qpos, int64_t kpos,
                    pf_rule rule, pf_layer layer, int window)
{
    const pf_request *rq = &layout->req[req];
    int causal = kpos <= qpos;
    int same = rq->group[qpos] >= 0 && rq->group[qpos] == rq->group[kpos];
    int in_window = kpos > qpos - window;
    int sliding = layer == PF_LAYER_SLIDING;
    switch (rule) {
    case PF_RULE_CAUSAL:
        return sliding ? causal && in_window : causal;
    case PF_RULE_GEMMA3:
        return sliding ? (causal || same) && in_window : causal || same;
    case PF_RULE_GEMMA4:
        return sliding ? (causal || same) && in_window : causal;
    case PF_RULE_BIDIRECTIONAL:
        return 1;
    }
    return 0;
}

void pf_mask_row_interval(const pf_layout *layout, int req, int64_t qpos, const pf_mask_spec *spec,
                          int64_t *lo, int64_t *hi)
{
    const pf_request *rq = &layout->req[req];
    int use_causal, use_same, window;
    pf_mask_flags(spec, &use_causal, &use_same, &window);
    *hi = qpos;
    if (!use_causal)
        *hi = rq->kv_len - 1;
    else if (use_same && rq->group[qpos] >= 0)
        *hi = rq->group_end[rq->group[qpos]] - 1; /* the group contains qpos */
    *lo = 0;
    if (window > 0 && qpos - window + 1 > 0)
        *lo = qpos - window + 1;
}
