/* `exhaustive`: every candidate once, in index order (the tuner's
 * enumeration order), until the budget is spent. */
#include <stdlib.h>

#include "core/pf_error.h"
#include "tuner/strategy_internal.h"

typedef struct exhaustive {
    int cap, next;
} exhaustive;

static int ex_create(const pf_search *s, void **state)
{
    if (pf_strategy_check(s, 0))
        return -1;
    exhaustive *e = calloc(1, sizeof *e);
    if (!e)
        return pf_error_set("strategy: out of memory");
    e->cap = pf_strategy_cap(s);
    *state = e;
    return 0;
}

static int ex_next(void *state)
{
    exhaustive *e = state;
    return e->next < e->cap ? e->next++ : -1;
}

/* The order does not depend on results. */
static void ex_tell(void *state, int c, double ms)
{
    (void)state, (void)c, (void)ms;
}

const pf_strategy_ops pf_strategy_exhaustive = {
    .name = "exhaustive",
    .help = "every candidate once, in enumeration order (the reference)",
    .create = ex_create,
    .next = ex_next,
    .tell = ex_tell,
    .destroy = free,
};
