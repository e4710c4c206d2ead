/* Which shard measures which point of a sweep split over N tasks (tune
 * --shard i/N, Slurm array tasks): balanced by estimated cost, not by
 * count, so no task gets every long-sequence point.
 *
 * Every task computes the same plan from the same items: the points are
 * sorted by cost (largest first, ties by their key) and each goes to the
 * least-loaded shard so far (ties: the lowest index), the greedy
 * longest-processing-time rule. Costs are integers so the sums, and hence
 * the plan, are identical on every machine. */
#ifndef PF_SHARD_PLAN_H
#define PF_SHARD_PLAN_H

#include <stdint.h>

typedef struct pf_shard_item {
    uint64_t cost;   /* estimated cost (e.g. useful MFLOPs + 1) */
    uint64_t key;    /* unique per point, e.g. XXH3(problem, variant) */
    int shard;       /* out: 0..n_shards-1 */
} pf_shard_item;

/* Fill items[k].shard for all n items; the input order does not matter.
 * 0, or -1 with pf_error set (out of memory, bad n_shards). */
int pf_shard_assign(pf_shard_item *items, int n, int n_shards);

/* A point's estimated cost from its problem's useful FLOPs: whole MFLOPs,
 * plus one so every point weighs something. */
uint64_t pf_shard_cost(double useful_flops);

#endif
