/* What the strategies share (not part of the contract in strategy.h): a
 * seeded PRNG that gives the same numbers on every platform, the evaluation
 * cap, a check of the search a strategy is handed, and lookup of candidates
 * by their axis value indices for neighbourhoods. */
#ifndef PF_STRATEGY_INTERNAL_H
#define PF_STRATEGY_INTERNAL_H

#include <stdint.h>

#include "tuner/strategy.h"

/* splitmix64: integer arithmetic only, so the sequence is bit-identical
 * everywhere; a zero seed is as good as any other. */
typedef struct pf_srng {
    uint64_t s;
} pf_srng;

void pf_srng_seed(pf_srng *r, uint64_t seed);
uint64_t pf_srng_next(pf_srng *r);
/* Uniform in [0, n) for n >= 1, without modulo bias. */
uint32_t pf_srng_below(pf_srng *r, uint32_t n);
/* Uniform in [0, 1) with 53 random bits. */
double pf_srng_unit(pf_srng *r);

/* How many candidates a strategy may return: budget_evals capped at n. */
int pf_strategy_cap(const pf_search *s);
/* Refuse a malformed search (negative sizes, missing candidates, and with
 * `axes` set, axis indices outside axis_size). 0 / -1 (pf_error set). */
int pf_strategy_check(const pf_search *s, int axes);

/* Candidates sorted by their axis tuple, for finding a candidate by its
 * value indices (pruning leaves holes in the grid, so no direct indexing). */
typedef struct pf_space {
    const pf_search *s;
    int *order; /* candidate indices, sorted by tuple (ties by index) */
} pf_space;

/* 0 / -1 (pf_error set). */
int pf_space_init(pf_space *sp, const pf_search *s);
void pf_space_free(pf_space *sp);
/* The lowest-index candidate with value indices `axis`, or -1. */
int pf_space_find(const pf_space *sp, const int *axis);
/* The most neighbours any candidate can have: sum of (axis_size - 1). */
int pf_space_max_neighbours(const pf_search *s);
/* Candidates that differ from `c` in exactly one axis, written to `out`
 * (room for pf_space_max_neighbours), in axis then value order. Count. */
int pf_space_neighbours(const pf_space *sp, int c, int *out);

#endif
