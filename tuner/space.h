/* The search space of one tuning problem: the product of the profile's axis
 * values (or every value the family uses), each point either a candidate
 * with its static facts (no run needed) or pruned with its reason.
 *
 * A problem is one (layer kind, sequence length) of a profile: head dim,
 * heads, mask spec and the workload layout at that length. */
#ifndef PF_TUNE_SPACE_H
#define PF_TUNE_SPACE_H

#include <stdint.h>

#include "attention/attn_variant.h"
#include "attention/layout.h"
#include "attention/mask_rule.h"
#include "core/status.h"
#include "tuner/profile.h"
#include "tuner/strategy.h"

#define PF_TUNE_MAX_POINTS 8192

typedef struct pf_tune_problem {
    int index;               /* in the profile's problem list */
    int layer;               /* PF_LAYER_* */
    int head_dim, hq, hkv;
    pf_mask_spec mask;
    float scale;
    int64_t seq_len;
    pf_layout *layout;       /* the workload at this length (owned) */
    char desc[512];          /* the record's "problem" string */
} pf_tune_problem;

typedef struct pf_tune_point {
    pf_attn_variant v;
    char text[200];          /* canonical variant string */
    pf_status status;        /* PF_STATUS_OK: a candidate; PF_STATUS_INVALID: pruned */
    char why[256];           /* the pruning reason */
    pf_candidate_info info;  /* static facts (candidates) */
} pf_tune_point;

typedef struct pf_tune_space {
    int n_axes;
    char axis_names[PF_SEARCH_MAX_AXES][32];
    int axis_size[PF_SEARCH_MAX_AXES];
    char values[PF_SEARCH_MAX_AXES][PF_PROFILE_MAX_VALUES][24];
    int n_points;
    pf_tune_point *points;   /* the product, in odometer order (last axis fastest) */
    int n_cand;
    int *cand;               /* indices of candidate points */
    pf_candidate_info *cand_info; /* [n_cand], for the strategy */
} pf_tune_space;

/* The family's axis names (NULL-terminated), for profiles and constraints. */
const char *const *pf_tune_axis_names(void);

/* The problems of a profile (layer kinds x sequence lengths), layouts built
 * with `seed`. *out is malloc'd; free with pf_tune_problems_free. */
int pf_tune_problems(const pf_profile *p, uint64_t seed, pf_tune_problem **out, int *n);
void pf_tune_problems_free(pf_tune_problem *pbs, int n);

/* Build the space of problem `pb` on `arch`: product, validity, int32
 * offsets, constraints, then static facts from an NVRTC compile for arch
 * (registers, spills; spilling points pruned unless keep_spills), shared
 * memory, occupancy from the arch table, tile classes and metadata bytes
 * of the workload. `threads`: parallel compiles (0 = cores). */
int pf_tune_space_build(const pf_profile *p, const pf_tune_problem *pb, const char *arch,
                        int threads, pf_tune_space *out);
void pf_tune_space_free(pf_tune_space *s);

#endif
