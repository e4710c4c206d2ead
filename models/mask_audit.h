/* What a wrong attention mask costs: the logits of a prefill with the
 * model's mask (good) against the same prefill with plain causal/sliding
 * masks (the mistake engines and trainers make), per position: the KL
 * divergence KL(good || wrong) and the change of the log-probability of
 * good's argmax token, summarized over vision and text positions. */
#ifndef PF_MASK_AUDIT_H
#define PF_MASK_AUDIT_H

#include <jansson.h>
#include <stdint.h>

typedef struct pf_audit_summary {
    int count;
    double kl_mean, kl_max;
    int kl_max_pos;        /* token index of kl_max (-1: no positions) */
    double dlogp_mean, dlogp_min; /* log q(a) - log p(a); negative: wrong mask hurts */
    int dlogp_min_pos;
} pf_audit_summary;

typedef struct pf_mask_audit {
    int tokens;
    float *kl, *dlogp;     /* [tokens] */
    pf_audit_summary vision, text;
    int first_vision;      /* first vision position, -1 if none */
    double text_before_vision_kl_max; /* text positions before the first image */
} pf_mask_audit;

/* good, wrong: float [tokens, vocab]; vision: [tokens] nonzero at vision
 * positions. */
int pf_mask_audit_run(const float *good, const float *wrong, int tokens, int vocab,
                      const int32_t *vision, pf_mask_audit *out);
json_t *pf_mask_audit_json(const pf_mask_audit *a);
void pf_mask_audit_print(const pf_mask_audit *a);
void pf_mask_audit_free(pf_mask_audit *a);

#endif
