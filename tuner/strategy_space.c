/* Checks and neighbourhood lookup shared by the strategies (see
 * strategy_internal.h). */
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"
#include "tuner/strategy_internal.h"

int pf_strategy_cap(const pf_search *s)
{
    return s->budget_evals > 0 && s->budget_evals < s->n ? s->budget_evals : s->n;
}

int pf_strategy_check(const pf_search *s, int axes)
{
    if (s->n < 0 || s->budget_evals < 0)
        return pf_error_set("strategy: negative candidate count or budget");
    if (s->n > 0 && !s->cand)
        return pf_error_set("strategy: %d candidates but no candidate table", s->n);
    if (!axes)
        return 0;
    if (s->n_axes < 0 || s->n_axes > PF_SEARCH_MAX_AXES)
        return pf_error_set("strategy: %d axes (at most %d)", s->n_axes, PF_SEARCH_MAX_AXES);
    for (int a = 0; a < s->n_axes; a++)
        if (s->axis_size[a] < 1)
            return pf_error_set("strategy: axis %d has %d values", a, s->axis_size[a]);
    for (int c = 0; c < s->n; c++)
        for (int a = 0; a < s->n_axes; a++)
            if (s->cand[c].axis[a] < 0 || s->cand[c].axis[a] >= s->axis_size[a])
                return pf_error_set("strategy: candidate %d: value index %d on axis %d "
                                    "(axis has %d values)",
                                    c, s->cand[c].axis[a], a, s->axis_size[a]);
    return 0;
}

static int tuple_cmp(const int *x, const int *y, int n_axes)
{
    for (int a = 0; a < n_axes; a++)
        if (x[a] != y[a])
            return x[a] < y[a] ? -1 : 1;
    return 0;
}

/* qsort has no context argument: sort entries that carry it. */
typedef struct space_entry {
    const pf_candidate_info *info;
    int n_axes, index;
} space_entry;

static int entry_cmp(const void *pa, const void *pb)
{
    const space_entry *a = pa, *b = pb;
    int t = tuple_cmp(a->info->axis, b->info->axis, a->n_axes);
    return t ? t : (a->index > b->index) - (a->index < b->index);
}

int pf_space_init(pf_space *sp, const pf_search *s)
{
    sp->s = s;
    sp->order = NULL;
    if (pf_strategy_check(s, 1))
        return -1;
    size_t n = s->n > 0 ? (size_t)s->n : 1;
    space_entry *e = malloc(n * sizeof *e);
    sp->order = malloc(n * sizeof *sp->order);
    if (!e || !sp->order) {
        free(e);
        pf_space_free(sp);
        return pf_error_set("strategy: out of memory for %d candidates", s->n);
    }
    for (int c = 0; c < s->n; c++)
        e[c] = (space_entry){&s->cand[c], s->n_axes, c};
    qsort(e, (size_t)s->n, sizeof *e, entry_cmp);
    for (int c = 0; c < s->n; c++)
        sp->order[c] = e[c].index;
    free(e);
    return 0;
}

void pf_space_free(pf_space *sp)
{
    free(sp->order);
    sp->order = NULL;
}

int pf_space_find(const pf_space *sp, const int *axis)
{
    const pf_search *s = sp->s;
    int lo = 0, hi = s->n; /* first entry whose tuple is >= axis */
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (tuple_cmp(s->cand[sp->order[mid]].axis, axis, s->n_axes) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < s->n && tuple_cmp(s->cand[sp->order[lo]].axis, axis, s->n_axes) == 0)
        return sp->order[lo];
    return -1;
}

int pf_space_max_neighbours(const pf_search *s)
{
    int m = 0;
    for (int a = 0; a < s->n_axes; a++)
        m += s->axis_size[a] - 1;
    return m;
}

int pf_space_neighbours(const pf_space *sp, int c, int *out)
{
    const pf_search *s = sp->s;
    int t[PF_SEARCH_MAX_AXES], k = 0;
    memcpy(t, s->cand[c].axis, sizeof t);
    for (int a = 0; a < s->n_axes; a++) {
        for (int v = 0; v < s->axis_size[a]; v++) {
            if (v == s->cand[c].axis[a])
                continue;
            t[a] = v;
            int d = pf_space_find(sp, t);
            if (d >= 0 && d != c)
                out[k++] = d;
        }
        t[a] = s->cand[c].axis[a];
    }
    return k;
}
