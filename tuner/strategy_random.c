/* `random`: candidates in a seeded random order (a Fisher-Yates
 * permutation drawn from splitmix64), until the budget is spent. The
 * baseline the guided strategies must beat. */
#include <stdlib.h>

#include "core/pf_error.h"
#include "tuner/strategy_internal.h"

typedef struct random_order {
    int cap, next;
    int perm[]; /* the first `cap` entries are used */
} random_order;

static int rnd_create(const pf_search *s, void **state)
{
    if (pf_strategy_check(s, 0))
        return -1;
    random_order *r = malloc(sizeof *r + sizeof(int) * (size_t)s->n);
    if (!r)
        return pf_error_set("strategy: out of memory for %d candidates", s->n);
    r->cap = pf_strategy_cap(s);
    r->next = 0;
    for (int i = 0; i < s->n; i++)
        r->perm[i] = i;
    pf_srng g;
    pf_srng_seed(&g, s->seed);
    /* forward Fisher-Yates: only the prefix we will use needs drawing */
    for (int i = 0; i < r->cap; i++) {
        int j = i + (int)pf_srng_below(&g, (uint32_t)(s->n - i));
        int t = r->perm[i];
        r->perm[i] = r->perm[j];
        r->perm[j] = t;
    }
    *state = r;
    return 0;
}

static int rnd_next(void *state)
{
    random_order *r = state;
    return r->next < r->cap ? r->perm[r->next++] : -1;
}

static void rnd_tell(void *state, int c, double ms)
{
    (void)state, (void)c, (void)ms;
}

const pf_strategy_ops pf_strategy_random = {
    .name = "random",
    .help = "candidates in a seeded random order (the baseline)",
    .create = rnd_create,
    .next = rnd_next,
    .tell = rnd_tell,
    .destroy = free,
};
