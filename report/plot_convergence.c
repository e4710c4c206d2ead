/* Plot 6: the tuner's convergence. Each strategy of tuner/strategy.h is
 * replayed over the recorded times (as `pftune replay` does, seed 1) and,
 * when DIR/journal.jsonl exists, the sweep's own order is read from it;
 * for each evaluation count: how far above the problem's best the best so
 * far is, as a geometric mean over problems (a problem not yet timed counts
 * as its slowest candidate; one whose search stopped keeps its last value). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"
#include "report/gnuplot.h"
#include "report/rctx.h"
#include "tuner/replay.h"
#include "tuner/strategy.h"

#define MAX_SERIES 8

/* trace[p][e]: best-so-far ratio after e+1 evaluations of problem p; len[p]. */
typedef struct trace {
    double **r;
    int *len;
} trace;

static double worst_ratio(const pf_replay_problem *p)
{
    double w = 1;
    for (int i = 0; i < p->n; i++)
        if (isfinite(p->ms[i]) && p->best >= 0)
            w = fmax(w, p->ms[i] / p->ms[p->best]);
    return w;
}

static void push(const pf_replay_problem *p, double *row, int *len, double ms)
{
    double prev = *len ? row[*len - 1] : worst_ratio(p);
    double r = isfinite(ms) && p->best >= 0 ? ms / p->ms[p->best] : INFINITY;
    row[*len] = fmin(prev, r);
    (*len)++;
}

static int replay_one(const pf_replay_problem *p, const pf_strategy_ops *ops, double *row, int *len)
{
    pf_search s = {.n_axes = p->n_axes, .n = p->n, .cand = p->cand, .seed = 1};
    for (int a = 0; a < p->n_axes; a++)
        s.axis_size[a] = p->axes[a].n_values;
    void *st = NULL;
    if (ops->create(&s, &st))
        return -1;
    *len = 0;
    for (int c; *len < p->n && (c = ops->next(st)) >= 0 && c < p->n;) {
        ops->tell(st, c, p->ms[c]);
        push(p, row, len, p->ms[c]);
    }
    ops->destroy(st);
    return 0;
}

/* The sweep's order from its journal: records in the order they finished. */
static int journal_trace(const pf_rctx *c, const pf_replay_set *set, trace *t)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/journal.jsonl", c->src);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char *line = NULL;
    size_t cap = 0;
    int any = 0;
    while (getline(&line, &cap, f) > 0) {
        json_t *j = json_loads(line, 0, NULL);
        const char *prob = json_string_value(json_object_get(j, "problem"));
        const char *status = json_string_value(json_object_get(j, "status"));
        if (prob && status && strcmp(status, "invalid") != 0) { /* pruned points never ran */
            for (int k = 0; k < set->n_problems; k++)
                if (!strcmp(set->problems[k].problem, prob) && t->len[k] < set->problems[k].n) {
                    const json_t *ms = json_object_get(json_object_get(j, "time"), "median_ms");
                    double v = !strcmp(status, "ok") && json_is_number(ms) ? json_number_value(ms)
                                                                           : INFINITY;
                    push(&set->problems[k], t->r[k], &t->len[k], v);
                    any = 1;
                }
        }
        json_decref(j);
    }
    free(line);
    fclose(f);
    return any;
}

static void write_series(FILE *f, FILE *md, const char *label, const pf_replay_set *set,
                         const trace *t, int first)
{
    int maxlen = 0;
    for (int k = 0; k < set->n_problems; k++)
        maxlen = t->len[k] > maxlen ? t->len[k] : maxlen;
    fprintf(f, "%s# series %s\n", first ? "" : "\n\n", label);
    int within1 = -1, within5 = -1;
    for (int e = 0; e < maxlen; e++) {
        double lg = 0;
        int searching = 0, n = 0;
        for (int k = 0; k < set->n_problems; k++) {
            if (set->problems[k].best < 0 || t->len[k] == 0)
                continue;
            int i = e < t->len[k] ? e : t->len[k] - 1;
            searching += e < t->len[k];
            lg += log(isfinite(t->r[k][i]) ? t->r[k][i] : worst_ratio(&set->problems[k]));
            n++;
        }
        double pct = n ? (exp(lg / n) - 1) * 100 : 0;
        fprintf(f, "%d %.6g %d\n", e + 1, pct, searching);
        if (within5 < 0 && pct <= 5)
            within5 = e + 1;
        if (within1 < 0 && pct <= 1)
            within1 = e + 1;
    }
    fprintf(md, "| %s | %d | %d | %d |\n", label, maxlen, within1, within5);
}

int pf_plot_convergence(pf_rctx *c)
{
    fprintf(c->md, "## Tuner convergence\n\n");
    pf_replay_set set;
    if (pf_replay_load(c->d->path, &set)) {
        fprintf(c->md, "Skipped: the results cannot be replayed (%s).\n\n", pf_error_get());
        pf_error_clear();
        return 0;
    }
    trace t = {calloc((size_t)set.n_problems + 1, sizeof *t.r),
               calloc((size_t)set.n_problems + 1, sizeof *t.len)};
    int rc = t.r && t.len ? 0 : pf_error_set("out of memory");
    for (int k = 0; k < set.n_problems && !rc; k++)
        if (!(t.r[k] = calloc((size_t)set.problems[k].n + 1, sizeof **t.r)))
            rc = pf_error_set("out of memory");
    char *dat = NULL, *vars = NULL, names[256] = "";
    size_t dlen = 0, vlen = 0;
    FILE *f = rc ? NULL : open_memstream(&dat, &dlen);
    if (!rc && !f)
        rc = pf_error_set("out of memory");
    int ns = 0;
    if (!rc) {
        fprintf(f, "# convergence: %d problems; columns: evaluations percent_above_best "
                   "problems_still_searching\n", set.n_problems);
        fprintf(c->md, "Geometric mean over %d problems of the best so far relative to each "
                       "problem's best; strategies replayed with seed 1 over the recorded "
                       "times.\n\n| series | evaluations (longest) | to within 1%% | "
                       "to within 5%% |\n|---|---|---|---|\n", set.n_problems);
        if (journal_trace(c, &set, &t)) {
            write_series(f, c->md, "sweep(journal)", &set, &t, 1);
            snprintf(names, sizeof names, "sweep(journal)");
            ns++;
        }
        for (int s = 0; pf_strategies()[s] && !rc && ns < MAX_SERIES; s++) {
            const pf_strategy_ops *ops = pf_strategies()[s];
            for (int k = 0; k < set.n_problems && !rc; k++)
                rc = replay_one(&set.problems[k], ops, t.r[k], &t.len[k]);
            if (rc)
                break;
            write_series(f, c->md, ops->name, &set, &t, ns == 0);
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", ns ? " " : "",
                     ops->name);
            ns++;
        }
        fclose(f);
    }
    if (!rc) {
        fprintf(c->md, "\n![convergence](convergence.png)\n\n");
        FILE *v = open_memstream(&vars, &vlen);
        rc = v ? 0 : pf_error_set("out of memory");
        if (!rc) {
            pf_rctx_vars(c, v, "Tuner convergence: best so far vs evaluations, per search strategy");
            pf_gp_var_str(v, "datafile", "convergence.dat");
            pf_gp_var_num(v, "nseries", ns);
            pf_gp_var_str(v, "series", names);
            fclose(v);
            rc = pf_rctx_write(c, "convergence.dat", dat, dlen) ||
                         pf_rctx_script(c, "convergence", "convergence", vars) ? -1 : 0;
        }
    }
    for (int k = 0; t.r && k < set.n_problems; k++)
        free(t.r[k]);
    free(t.r);
    free(t.len);
    free(dat);
    free(vars);
    pf_replay_free(&set);
    return rc;
}
