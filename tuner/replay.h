/* Replaying a search strategy against recorded results, with no device:
 * a results file ({"schema": "pftune.results/1", "meta": {...}, "records":
 * [record, ...]}, records as measure/record.h writes them) is split into
 * problems (records with the same "problem" string); in each, every
 * distinct variant is a candidate whose time is looked up instead of
 * measured. Comparing how soon a strategy gets near the exhaustive best is
 * how strategies are judged on real data.
 *
 * Candidates: indexed in the order their variant first appears; a variant
 * recorded again replaces the earlier result (a re-measurement). Axes: the
 * KEY of every KEY=VALUE in the problem's variant strings, in order of first
 * appearance; an axis' values are ordered numerically when all are numbers,
 * else by name (a record without the key has the value ""). Static info:
 * registers, spill_bytes, smem_bytes, metadata_bytes from the record, threads
 * from WARPS, skips_empty from TILE_SKIP; the rest unknown. Objective: the
 * median time of an "ok" record, INFINITY for any other status. */
#ifndef PF_REPLAY_H
#define PF_REPLAY_H

#include <stdint.h>

#include "tuner/strategy.h"

#define PF_REPLAY_SCHEMA "pftune.results"
#define PF_REPLAY_VERSION 1
#define PF_REPLAY_N_TOLS 3
extern const double pf_replay_tols[PF_REPLAY_N_TOLS]; /* 0.01, 0.02, 0.05 */

typedef struct pf_replay_axis {
    char name[32];
    int n_values;
    char **values; /* in value-index order */
} pf_replay_axis;

typedef struct pf_replay_problem {
    char problem[512];
    int n_axes;
    pf_replay_axis axes[PF_SEARCH_MAX_AXES];
    int n, failed;            /* candidates; how many have no time */
    pf_candidate_info *cand;
    double *ms;               /* objective per candidate */
    char (*variant)[256];     /* as recorded (its latest record) */
    int best;                 /* exhaustive best candidate, -1 if all failed */
} pf_replay_problem;

typedef struct pf_replay_set {
    int n_problems, n_records;
    pf_replay_problem *problems;
} pf_replay_set;

/* Read and group a results file. 0 / -1 with "FILE: ..." messages (a wrong
 * schema names what was found and what is read). */
int pf_replay_load(const char *path, pf_replay_set *out);
void pf_replay_free(pf_replay_set *set);

typedef struct pf_replay_result {
    int evals;                       /* candidates asked before the strategy stopped */
    int within[PF_REPLAY_N_TOLS];    /* evaluations to reach best x (1 + tol); -1 never */
    int found;                       /* best candidate it evaluated, -1 if none timed */
} pf_replay_result;

/* Run `ops` on one problem with `seed` and `budget` (0: none), asking
 * `ahead` candidates before telling their times. A strategy that returns an
 * index out of range or twice is an error. 0 / -1. */
int pf_replay_run(const pf_replay_problem *p, const pf_strategy_ops *ops, uint64_t seed,
                  int budget, int ahead, pf_replay_result *out);

#endif
