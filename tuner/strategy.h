/* Search strategies behind one small interface (Kernel Tuner's idea): the
 * tuner hands a strategy the candidates that survived pruning, each with
 * what is known without running it, asks for the next candidate to
 * evaluate, and tells it the result. Same seed, same sequence.
 *
 * A strategy may be asked for several candidates before it is told any
 * result (the pipeline compiles ahead); it never returns a candidate twice. */
#ifndef PF_STRATEGY_H
#define PF_STRATEGY_H

#include <stdint.h>

#define PF_SEARCH_MAX_AXES 16

/* Static knowledge of a candidate (no run needed); unknown = -1. */
typedef struct pf_candidate_info {
    int axis[PF_SEARCH_MAX_AXES]; /* value index on each axis (neighbourhoods) */
    int registers, spill_bytes;
    int smem_bytes;
    int threads;                  /* per block */
    double occupancy;             /* resident warps / max warps per SM (0..1) */
    double tiles_empty, tiles_full, tiles_partial; /* tile classes for the workload */
    int skips_empty;              /* 1: the variant skips empty tiles (TILE_SKIP=1);
                                     0: it computes them, or not known */
    double work_units;            /* e.g. query tiles x heads: the grid size */
    double metadata_bytes;        /* mask metadata of the workload */
} pf_candidate_info;

typedef struct pf_search {
    int n_axes;
    int axis_size[PF_SEARCH_MAX_AXES]; /* values per axis */
    int n;                        /* candidates */
    const pf_candidate_info *cand; /* must outlive the strategy's state */
    uint64_t seed;
    int budget_evals;             /* 0: all candidates */
} pf_search;

typedef struct pf_strategy_ops {
    const char *name;             /* "exhaustive", "random", "anneal", "model" */
    const char *help;             /* one line for --help */
    /* 0 / -1 (pf_error set). */
    int (*create)(const pf_search *s, void **state);
    /* The next candidate index to evaluate, or -1 when the strategy is done
     * (budget spent or nothing left worth trying). */
    int (*next)(void *state);
    /* The result of candidate `c`: its time in ms, or INFINITY when it
     * failed (invalid, compile/verify/runtime failure, crash, timeout). */
    void (*tell)(void *state, int c, double ms);
    void (*destroy)(void *state);
} pf_strategy_ops;

/* The strategy named `name`, or NULL with a message listing them. */
const pf_strategy_ops *pf_strategy_find(const char *name);
/* All strategies (NULL-terminated). */
const pf_strategy_ops *const *pf_strategies(void);

#endif
