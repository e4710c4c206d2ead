/* `anneal`: simulated annealing over the axis neighbourhood (candidates
 * that differ from the current one in one axis value), with restarts.
 *
 * next() proposes a random unvisited neighbour of the current point; when
 * the point has none left, or the walk has stalled, it restarts from a
 * random unvisited candidate. tell() decides moves, whatever order results
 * arrive in (the pipeline asks ahead): a result better than the current
 * point's is always taken (a pending or failed current point counts as
 * worst), a worse one proposed from the current point is taken with
 * probability ~exp(-d/T) where d is how much slower it is relatively, so
 * the temperature means the same on 10 us and 10 ms kernels. Failed
 * candidates (INFINITY) are never moved to.
 *
 * Only +, -, *, / on doubles (correctly rounded everywhere) and the integer
 * PRNG decide anything, so a seed gives the same sequence on every
 * platform. */
#include <math.h>
#include <stdlib.h>

#include "core/pf_error.h"
#include "tuner/strategy_internal.h"

#define T_START 0.10     /* 10% slower is taken with probability ~0.4 */
#define T_COOL 0.93      /* per result told about the current walk */
#define STALL_MIN 12     /* results without a new walk-best before a restart */

typedef struct anneal {
    pf_search search;    /* a copy: the caller's may be a temporary */
    pf_space space;
    pf_srng rng;
    int n, cap, asked;
    int cur;             /* current point, -1 before the first (re)start */
    double cur_ms;       /* NaN while its result is pending */
    double walk_best;    /* best time seen by this walk */
    double temp;
    int stall, stall_limit;
    int *origin;         /* the point a candidate was proposed from (-1: a start) */
    double *ms;          /* NaN until told */
    char *asked_flag;
    int *unvisited, *pos; /* unvisited candidates (swap-remove) and their slots */
    int n_unvisited;
    int *nb;             /* neighbour buffer */
} anneal;

static void an_destroy(void *state)
{
    anneal *a = state;
    if (!a)
        return;
    pf_space_free(&a->space);
    free(a->origin);
    free(a->ms);
    free(a->asked_flag);
    free(a->unvisited);
    free(a->pos);
    free(a->nb);
    free(a);
}

static int an_create(const pf_search *s, void **state)
{
    anneal *a = calloc(1, sizeof *a);
    if (!a)
        return pf_error_set("strategy: out of memory");
    a->search = *s;
    if (pf_space_init(&a->space, &a->search)) {
        free(a);
        return -1;
    }
    size_t n = s->n > 0 ? (size_t)s->n : 1;
    int max_nb = pf_space_max_neighbours(s);
    a->origin = malloc(n * sizeof *a->origin);
    a->ms = malloc(n * sizeof *a->ms);
    a->asked_flag = calloc(n, 1);
    a->unvisited = malloc(n * sizeof *a->unvisited);
    a->pos = malloc(n * sizeof *a->pos);
    a->nb = malloc(((size_t)max_nb + 1) * sizeof *a->nb);
    if (!a->origin || !a->ms || !a->asked_flag || !a->unvisited || !a->pos || !a->nb) {
        an_destroy(a);
        return pf_error_set("strategy: out of memory for %d candidates", s->n);
    }
    a->n = s->n;
    a->cap = pf_strategy_cap(s);
    a->cur = -1;
    a->n_unvisited = s->n;
    for (int c = 0; c < s->n; c++) {
        a->unvisited[c] = a->pos[c] = c;
        a->ms[c] = NAN;
        a->origin[c] = -1;
    }
    /* a walk may try every neighbour of a point before it gives up */
    a->stall_limit = max_nb > STALL_MIN ? max_nb : STALL_MIN;
    pf_srng_seed(&a->rng, s->seed);
    *state = a;
    return 0;
}

static int take(anneal *a, int c, int origin)
{
    int slot = a->pos[c], last = a->unvisited[--a->n_unvisited];
    a->unvisited[slot] = last;
    a->pos[last] = slot;
    a->asked_flag[c] = 1;
    a->origin[c] = origin;
    a->asked++;
    return c;
}

static int restart(anneal *a)
{
    int c = a->unvisited[pf_srng_below(&a->rng, (uint32_t)a->n_unvisited)];
    a->cur = c;
    a->cur_ms = NAN;
    a->walk_best = INFINITY;
    a->temp = T_START;
    a->stall = 0;
    return take(a, c, -1);
}

static int an_next(void *state)
{
    anneal *a = state;
    if (a->asked >= a->cap || a->n_unvisited == 0)
        return -1;
    if (a->cur < 0 || a->stall >= a->stall_limit)
        return restart(a);
    int k = 0, m = pf_space_neighbours(&a->space, a->cur, a->nb);
    for (int i = 0; i < m; i++)
        if (!a->asked_flag[a->nb[i]])
            a->nb[k++] = a->nb[i];
    if (k == 0)
        return restart(a); /* a local minimum, or every neighbour is in flight */
    return take(a, a->nb[pf_srng_below(&a->rng, (uint32_t)k)], a->cur);
}

static void move_to(anneal *a, int c, double ms)
{
    a->cur = c;
    a->cur_ms = ms;
}

static void an_tell(void *state, int c, double ms)
{
    anneal *a = state;
    if (c < 0 || c >= a->n || !a->asked_flag[c] || !isnan(a->ms[c]))
        return; /* not asked, or told twice: nothing to learn */
    if (isnan(ms))
        ms = INFINITY;
    a->ms[c] = ms;
    if (a->cur < 0)
        return;
    if (c == a->cur) {
        a->cur_ms = ms;
    } else if (ms < INFINITY && !(a->cur_ms <= ms)) {
        move_to(a, c, ms); /* better, or the current point is pending/failed */
    } else if (ms < INFINITY && a->origin[c] == a->cur) {
        double x = (ms / a->cur_ms - 1) / a->temp;
        /* 1 / (1 + x + x^2/2): exp(-x)'s shape with exact arithmetic only */
        if (pf_srng_unit(&a->rng) * (1 + x + 0.5 * x * x) < 1)
            move_to(a, c, ms);
    }
    if (ms < a->walk_best) {
        a->walk_best = ms;
        a->stall = 0;
    } else {
        a->stall++;
    }
    a->temp *= T_COOL;
}

const pf_strategy_ops pf_strategy_anneal = {
    .name = "anneal",
    .help = "simulated annealing over one-axis neighbours, seeded, with restarts",
    .create = an_create,
    .next = an_next,
    .tell = an_tell,
    .destroy = an_destroy,
};
