/* Running a strategy on recorded times (see replay.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"
#include "tuner/replay.h"

/* Take the next candidate, refusing what a strategy must never return. */
static int ask(const pf_strategy_ops *ops, void *st, const pf_replay_problem *p, char *asked,
               int *c)
{
    *c = ops->next(st);
    if (*c < -1 || *c >= p->n)
        return pf_error_set("strategy %s returned candidate %d of %d", ops->name, *c, p->n);
    if (*c >= 0 && asked[*c]++)
        return pf_error_set("strategy %s returned candidate %d twice", ops->name, *c);
    return 0;
}

static void note(const pf_replay_problem *p, int c, int evals, pf_replay_result *out)
{
    if (p->ms[c] < INFINITY && (out->found < 0 || p->ms[c] < p->ms[out->found]))
        out->found = c;
    for (int t = 0; t < PF_REPLAY_N_TOLS; t++)
        if (out->within[t] < 0 && p->best >= 0 &&
            p->ms[c] <= p->ms[p->best] * (1 + pf_replay_tols[t]))
            out->within[t] = evals;
}

int pf_replay_run(const pf_replay_problem *p, const pf_strategy_ops *ops, uint64_t seed,
                  int budget, int ahead, pf_replay_result *out)
{
    memset(out, 0, sizeof *out);
    out->found = -1;
    for (int t = 0; t < PF_REPLAY_N_TOLS; t++)
        out->within[t] = -1;
    pf_search s = {.n_axes = p->n_axes, .n = p->n, .cand = p->cand, .seed = seed,
                   .budget_evals = budget};
    for (int a = 0; a < p->n_axes; a++)
        s.axis_size[a] = p->axes[a].n_values;
    void *st = NULL;
    if (ops->create(&s, &st))
        return pf_error_prefix("problem '%s'", p->problem);
    char *asked = calloc((size_t)p->n + 1, 1);
    int *batch = malloc(sizeof *batch * (size_t)(ahead > 0 ? ahead : 1));
    int rc = asked && batch ? 0 : pf_error_set("out of memory");
    for (int done = 0; rc == 0 && !done;) {
        int k = 0;
        while (k < ahead && rc == 0) {
            int c;
            rc = ask(ops, st, p, asked, &c);
            if (rc || c < 0) {
                done = 1;
                break;
            }
            batch[k++] = c;
        }
        for (int i = 0; i < k; i++) {
            ops->tell(st, batch[i], p->ms[batch[i]]);
            note(p, batch[i], ++out->evals, out);
        }
    }
    ops->destroy(st);
    free(asked);
    free(batch);
    return rc ? pf_error_prefix("problem '%s'", p->problem) : 0;
}
