/* Covering subsets: pick few items out of many so that every value of every
 * factor, and every value combination of chosen factor pairs, that occurs in
 * some item also occurs in the selection (greedy pairwise construction).
 *
 * Generic: an item is a row of small non-negative value ids, one per factor
 * (-1: the factor does not apply to this item). `pftune check` builds the
 * rows from variant key=value strings (pf_cover_table_from_keyvals), tests
 * build them from synthetic axes and a validity predicate
 * (pf_cover_enumerate). */
#ifndef PF_COVERING_H
#define PF_COVERING_H

#include <stddef.h>

typedef struct pf_cover_problem {
    int n_items;
    int n_factors;
    const int *values;      /* [n_items * n_factors], row-major */
    int n_pairs;
    const int (*pairs)[2];  /* factor index pairs whose combinations must all appear */
} pf_cover_problem;

/* Greedy selection: repeatedly take the item that covers the most
 * still-uncovered requirements (ties: lowest index). Writes item indices in
 * selection order to out (room for max_out; n_items always suffices).
 * Returns the count, or -1 (bad input / out too small / no memory). */
int pf_cover_select(const pf_cover_problem *p, int *out, int max_out);

/* Verify the covering property of `sel` against all items of p.
 * Returns 1 when covered, 0 when not (why names the first missing
 * requirement), -1 on bad input. */
int pf_cover_check(const pf_cover_problem *p, const int *sel, int n_sel, char *why,
                   size_t why_size);

/* Enumerate the cartesian product of axes (axis i has sizes[i] values,
 * first axis slowest) and keep the combinations `valid` accepts. Returns the
 * number kept and a malloc'd [count * n_axes] table in *rows (free it), or
 * -1. */
typedef int (*pf_cover_valid_fn)(const int *value_idx, void *ctx);
int pf_cover_enumerate(const int *sizes, int n_axes, pf_cover_valid_fn valid, void *ctx,
                       int **rows);

/* Factor table built from "KEY=VAL,KEY=VAL" strings. Every key seen becomes
 * a factor (value ids in order of first appearance); each compound spec
 * "A+B" adds one factor whose value is the pair (A value, B value). Factor
 * names are kept for messages. */
#define PF_COVER_MAX_FACTORS 32
typedef struct pf_cover_table {
    int n_items;
    int n_factors;
    char names[PF_COVER_MAX_FACTORS][64];
    int *values;            /* [n_items * n_factors], malloc'd */
    /* value id -> text, per factor (malloc'd arrays of malloc'd strings) */
    int n_value_names[PF_COVER_MAX_FACTORS];
    char **value_names[PF_COVER_MAX_FACTORS];
} pf_cover_table;

int pf_cover_table_from_keyvals(const char *const *items, int n_items,
                                const char *const *compounds, int n_compounds,
                                pf_cover_table *out);
/* Index of factor `name`, or -1. */
int pf_cover_table_factor(const pf_cover_table *t, const char *name);
void pf_cover_table_free(pf_cover_table *t);

/* The default subset `pftune check` verifies: from n valid attention
 * variants (pf_attn_variant_enumerate), a greedy selection in which every
 * value of every axis appears and every (MASK_STORAGE, BLOCK_M x BLOCK_N)
 * pair that occurs among them appears. Writes to out (room for n) and
 * returns the count, or -1. */
struct pf_attn_variant;
int pf_attn_cover_variants(const struct pf_attn_variant *all, int n,
                           struct pf_attn_variant *out);

#endif
