/* The verification cases of `pftune check`: a fixed catalogue of hard
 * layouts (tile-edge crossings, images at the very start and end, two images
 * one text token apart, an image longer than the window, one-token requests,
 * cached prefixes, odd lengths, every GQA ratio 1..16) spread over every
 * rule/layer combination, plus one seeded random case. Inputs are fresh
 * normal-ish random numbers derived from (seed, case index) only, so any
 * variant's failure replays with `pftune check --variant ... --seed N`.
 *
 * The first PF_CHECK_RULE_CASES cases together cover every rule/layer
 * combination; a variant that runs them all sees every rule. */
#ifndef PF_CHECK_CASES_H
#define PF_CHECK_CASES_H

#include <stddef.h>
#include <stdint.h>

#include "attention/layout.h"
#include "attention/mask_rule.h"
#include "core/status.h"

struct pf_device;

typedef struct pf_check_case {
    const char *name;
    const char *what;    /* the hard features it holds, for messages */
    const char *layout;  /* layout grammar; NULL: random layout from the seed */
    int hq, hkv;         /* 0: random (random case) */
    const char *rule;    /* NULL: random (random case) */
    const char *layer;
    int window;          /* sliding layers */
} pf_check_case;

#define PF_CHECK_RULE_CASES 6

int pf_check_case_count(void);
const pf_check_case *pf_check_case_get(int i);

/* A case made concrete for one head dim and seed: layout, mask spec, heads,
 * and bf16-rounded random q/k/v in the shapes of `pftune attention`. */
typedef struct pf_check_inputs {
    int index;
    const pf_check_case *spec;
    char *layout_text;     /* canonical layout string (malloc'd) */
    pf_layout *layout;
    pf_mask_spec mask;
    int hq, hkv, head_dim;
    double scale;          /* head_dim^-0.5 */
    uint64_t seed;         /* the seed this case's inputs derive from */
    float *q, *k, *v;      /* [total_q,hq,D], [total_kv,hkv,D] x2 */
} pf_check_inputs;

int pf_check_inputs_make(int case_index, int head_dim, uint64_t seed, pf_check_inputs *out);
void pf_check_inputs_free(pf_check_inputs *in);

/* "gemma3 sliding W=24, heads 4:2, layout t11,i57,t20;t1;i1" (into out). */
void pf_check_inputs_describe(const pf_check_inputs *in, char *out, size_t n);

/* How far a kernel output is from the reference. NaN/Inf in `got` are
 * counted (and make the norms NaN-free by being skipped in them). */
typedef struct pf_check_error {
    double max_abs;      /* max |got - want| over finite entries */
    double rel_frob;     /* ||got - want||_F / ||want||_F (inf if nonfinite seen) */
    size_t nonfinite;    /* NaN or Inf entries in got */
    size_t first_bad;    /* index of the first nonfinite entry */
} pf_check_error;

void pf_check_compare(const float *got, const float *want, size_t n, pf_check_error *out);
/* Pass criterion of `pftune check`: rel_frob < 1e-2 and no NaN/Inf. */
#define PF_CHECK_TOLERANCE 1e-2
int pf_check_error_ok(const pf_check_error *e);

/* A case made concrete with its reference output (computed once per case
 * and head dim, then shared by every variant). */
typedef struct pf_check_prepared {
    pf_check_inputs in;
    float *ref_o;          /* [total_q, hq, D] */
    float *ref_lse;        /* [total_q, hq] */
    char desc[1024];       /* "case NAME (rule layer ..., layout ...)" */
} pf_check_prepared;

typedef struct pf_check_case_cache {
    pf_check_prepared **entries;
    int n;
} pf_check_case_cache;

/* The prepared case (built on first use), or NULL with a message. */
const pf_check_prepared *pf_check_case_cache_get(pf_check_case_cache *cache, int case_index,
                                                 int head_dim, uint64_t seed);
void pf_check_case_cache_free(pf_check_case_cache *cache);

/* One variant on one case: run, compare O (and LSE) with the reference. */
typedef struct pf_check_case_result {
    int ok;
    pf_status status;      /* ok, verify_failed, or runtime_failed (no output) */
    pf_check_error err;    /* O vs reference */
    double lse_err;        /* max |lse - ref| (inf if nonfinite) */
    double kernel_ms;      /* as the device timer reports it */
    char timer[32];
    char message[1600];    /* why it failed ("" when ok) */
} pf_check_case_result;

/* LSE agreement required besides the O criterion (natural log units). */
#define PF_CHECK_LSE_TOLERANCE 1e-2

struct pf_attn_variant;
/* Returns 0 when the run happened (pass or fail is in out->ok), 0 also for
 * a failed compile or launch (ok = 0 with the message): a broken variant is
 * a result, not an error of the checker. */
int pf_check_run_case(struct pf_device *dev, const char *arch, const struct pf_attn_variant *v,
                      const pf_check_prepared *pc, pf_check_case_result *out);

/* Deterministic helpers, also used by `pftune attention --seed`. */
uint64_t pf_check_mix(uint64_t seed, uint64_t salt);
/* n approximately standard-normal floats (sum of uniforms; never all 0). */
void pf_check_fill_normal(uint64_t seed, float *x, size_t n);

#endif
