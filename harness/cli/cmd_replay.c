/* `pftune replay`: run a search strategy against recorded results instead
 * of a device, and report how many evaluations it needed to get within 1%,
 * 2% and 5% of the exhaustive best of each problem (tuner/replay.h). */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "core/json_doc.h"
#include "core/pf_error.h"
#include "tuner/replay.h"
#include "tuner/strategy.h"

#define CMD "replay"

enum { OPT_STRATEGY, OPT_SEED, OPT_BUDGET, OPT_AHEAD, OPT_JSON };

static const pf_cli_opt opts[] = {
    [OPT_STRATEGY] = {"strategy", 's', "S", "exhaustive, random, anneal or model (required)"},
    [OPT_SEED] = {"seed", 0, "N", "the strategy's seed (default 1)"},
    [OPT_BUDGET] = {"budget", 'b', "N", "at most N evaluations per problem (default: no limit)"},
    [OPT_AHEAD] = {"ahead", 0, "K", "ask K candidates before telling their times (default 1)"},
    [OPT_JSON] = {"json", 0, NULL, "print a pftune.replay/1 JSON document"},
    {0},
};

static const char description[] =
    "Judge a search strategy on real data without a device: replay it against the\n"
    "times recorded in RESULTS ({\"schema\": \"pftune.results/1\", \"meta\": {...},\n"
    "\"records\": [...]}, ideally from an exhaustive run) and print, per problem\n"
    "(records with the same \"problem\"), the candidates, the exhaustive best, and\n"
    "how many evaluations the strategy needed to come within 1%, 2% and 5% of it\n"
    "(\"never\" if it stopped first), then the totals: \"within 1%: 13\" means\n"
    "its 13th evaluation was the first within 1% of the best.\n"
    "\n"
    "Each distinct variant of a problem is a candidate, indexed in the order it\n"
    "first appears (exhaustive's order; a repeated variant keeps its latest time).\n"
    "Its axes are the KEYs of its KEY=VALUE,... variant string, values ordered\n"
    "numerically when all are numbers, else by name; anneal's neighbours differ in\n"
    "one value. The objective is time.median_ms of an \"ok\" record; any other\n"
    "status is a failed candidate. model also reads registers, spill_bytes,\n"
    "smem_bytes, metadata_bytes, WARPS and TILE_SKIP from the records.";

typedef struct replay_args {
    const char *path;
    const pf_strategy_ops *ops;
    long seed, budget, ahead;
    int json;
} replay_args;

static int parse_args(int argc, char **argv, replay_args *a)
{
    *a = (replay_args){.seed = 1, .ahead = 1};
    /* the description ends with each strategy's own line */
    char desc[2048];
    int len = snprintf(desc, sizeof desc, "%s\n\nstrategies:", description);
    for (int i = 0; pf_strategies()[i] && len > 0 && (size_t)len < sizeof desc; i++)
        len += snprintf(desc + len, sizeof desc - (size_t)len, "\n  %-11s %s",
                        pf_strategies()[i]->name, pf_strategies()[i]->help);
    pf_cli c;
    pf_cli_init(&c, CMD, argc, argv, opts, "pftune replay RESULTS --strategy S [options]", desc);
    c.examples = "  pftune replay results.json --strategy exhaustive\n"
                 "  pftune replay results.json --strategy model --seed 3 --budget 50\n"
                 "  for s in random anneal model; do pftune replay r.json -s $s --json; done\n";
    const char *names[8] = {0};
    for (int i = 0; pf_strategies()[i] && i < 7; i++)
        names[i] = pf_strategies()[i]->name;
    const char *val;
    int o;
    while ((o = pf_cli_next(&c, &val)) != PF_CLI_DONE) {
        switch (o) {
        case PF_CLI_HELP: return 0;
        case PF_CLI_ERROR: return 2;
        case PF_CLI_ARG:
            if (a->path)
                return pf_cli_usage_error(CMD, "unexpected argument '%s' (one RESULTS file)", val);
            a->path = val;
            break;
        case OPT_STRATEGY:
            if (pf_cli_parse_choice(CMD, "--strategy", val, names) < 0)
                return 2;
            a->ops = pf_strategy_find(val);
            break;
        case OPT_SEED:
            if (pf_cli_parse_long(CMD, "--seed", val, 0, LONG_MAX, &a->seed) < 0)
                return 2;
            break;
        case OPT_BUDGET:
            if (pf_cli_parse_long(CMD, "--budget", val, 0, INT_MAX, &a->budget) < 0)
                return 2;
            break;
        case OPT_AHEAD:
            if (pf_cli_parse_long(CMD, "--ahead", val, 1, 1024, &a->ahead) < 0)
                return 2;
            break;
        case OPT_JSON: a->json = 1; break;
        }
    }
    if (!a->path)
        return pf_cli_usage_error(CMD, "give a RESULTS file (pftune replay RESULTS --strategy S)");
    if (!a->ops)
        return pf_cli_usage_error(CMD, "give --strategy (exhaustive, random, anneal, model)");
    return -1; /* go on */
}

/* "7" or "never" (or "-" when there is no best to reach). */
static const char *evals_text(int has_best, int n, char buf[16])
{
    if (!has_best)
        return "-";
    if (n < 0)
        return "never";
    snprintf(buf, 16, "%d", n);
    return buf;
}

/* Sums over the problems that have a best; `reached` counts per tolerance. */
typedef struct totals {
    int candidates, failed, evals, with_best;
    int within[PF_REPLAY_N_TOLS], reached[PF_REPLAY_N_TOLS];
} totals;

static void add_totals(totals *t, const pf_replay_problem *p, const pf_replay_result *r)
{
    t->candidates += p->n;
    t->failed += p->failed;
    t->evals += r->evals;
    if (p->best < 0)
        return;
    t->with_best++;
    for (int k = 0; k < PF_REPLAY_N_TOLS; k++)
        if (r->within[k] >= 0) {
            t->within[k] += r->within[k];
            t->reached[k]++;
        }
}

static void print_problem(const pf_replay_problem *p, const pf_replay_result *r,
                          const char *strategy)
{
    printf("\nproblem %s\n  %d candidate%s (%d failed), axes", p->problem, p->n,
           p->n == 1 ? "" : "s", p->failed);
    for (int a = 0; a < p->n_axes; a++)
        printf(" %s(%d)", p->axes[a].name, p->axes[a].n_values);
    if (p->best >= 0)
        printf("\n  best %.4f ms  %s\n", p->ms[p->best], p->variant[p->best]);
    else
        printf("\n  best: none (every candidate failed)\n");
    printf("  %s: %d evaluation%s", strategy, r->evals, r->evals == 1 ? "" : "s");
    if (r->found >= 0)
        printf(", found %.4f ms", p->ms[r->found]);
    char buf[16];
    for (int k = 0; k < PF_REPLAY_N_TOLS; k++)
        printf("%s%g%%: %s", k ? ", " : "; within ", 100 * pf_replay_tols[k],
               evals_text(p->best >= 0, r->within[k], buf));
    printf("\n");
}

static void print_totals(const totals *t, int n_problems)
{
    printf("\ntotal: %d problem%s, %d candidates (%d failed), %d evaluations", n_problems,
           n_problems == 1 ? "" : "s", t->candidates, t->failed, t->evals);
    for (int k = 0; k < PF_REPLAY_N_TOLS; k++) {
        printf("%s%g%%: ", k ? ", " : "; within ", 100 * pf_replay_tols[k]);
        if (t->reached[k] == t->with_best)
            printf("%d", t->within[k]);
        else
            printf("never in %d of %d problems (%d for the rest)", t->with_best - t->reached[k],
                   t->with_best, t->within[k]);
    }
    printf("\n");
}

static json_t *within_json(const int *within, int has_best)
{
    json_t *o = json_object();
    for (int k = 0; k < PF_REPLAY_N_TOLS; k++) {
        char key[16];
        snprintf(key, sizeof key, "%g%%", 100 * pf_replay_tols[k]);
        json_object_set_new(o, key, has_best && within[k] >= 0 ? json_integer(within[k])
                                                               : json_null());
    }
    return o;
}

static json_t *problem_json(const pf_replay_problem *p, const pf_replay_result *r)
{
    json_t *axes = json_array();
    for (int a = 0; a < p->n_axes; a++) {
        json_t *vals = json_array();
        for (int v = 0; v < p->axes[a].n_values; v++)
            json_array_append_new(vals, json_string(p->axes[a].values[v]));
        json_array_append_new(axes, json_pack("{s:s, s:o}", "name", p->axes[a].name, "values",
                                              vals));
    }
    json_t *best = p->best < 0 ? json_null()
                               : json_pack("{s:i, s:s, s:f}", "index", p->best, "variant",
                                           p->variant[p->best], "ms", p->ms[p->best]);
    json_t *found = r->found < 0 ? json_null()
                                 : json_pack("{s:i, s:s, s:f}", "index", r->found, "variant",
                                             p->variant[r->found], "ms", p->ms[r->found]);
    return json_pack("{s:s, s:i, s:i, s:o, s:o, s:i, s:o, s:o}", "problem", p->problem,
                     "candidates", p->n, "failed", p->failed, "axes", axes, "best", best,
                     "evaluations", r->evals, "found", found, "evals_within",
                     within_json(r->within, p->best >= 0));
}

static json_t *totals_json(const totals *t, int n_problems)
{
    json_t *reached = json_object();
    for (int k = 0; k < PF_REPLAY_N_TOLS; k++) {
        char key[16];
        snprintf(key, sizeof key, "%g%%", 100 * pf_replay_tols[k]);
        json_object_set_new(reached, key, json_integer(t->reached[k]));
    }
    int all[PF_REPLAY_N_TOLS];
    for (int k = 0; k < PF_REPLAY_N_TOLS; k++)
        all[k] = t->reached[k] == t->with_best ? t->within[k] : -1;
    return json_pack("{s:i, s:i, s:i, s:i, s:i, s:o, s:o}", "problems", n_problems,
                     "problems_with_best", t->with_best, "candidates", t->candidates, "failed",
                     t->failed, "evaluations", t->evals, "evals_within", within_json(all, 1),
                     "problems_reached", reached);
}

int cmd_replay(int argc, char **argv)
{
    replay_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
    pf_replay_set set;
    if (pf_replay_load(a.path, &set))
        return pf_cli_fail_error(CMD);
    json_t *doc = NULL, *problems = NULL;
    if (a.json) {
        doc = pf_json_doc_new("pftune.replay", 1);
        problems = json_array();
        if (!doc || !problems || json_object_update_new(doc, json_pack(
                "{s:s, s:s, s:I, s:i, s:i, s:i}", "results", a.path, "strategy", a.ops->name,
                "seed", (json_int_t)a.seed, "budget", (int)a.budget, "ahead", (int)a.ahead,
                "records", set.n_records)) != 0) {
            rc = pf_cli_fail(CMD, "cannot build JSON output");
            goto done;
        }
    } else {
        char budget[32] = "no budget";
        if (a.budget)
            snprintf(budget, sizeof budget, "budget %ld", a.budget);
        printf("replay %s: strategy %s, seed %ld, %s, asking %ld ahead; %d record%s, "
               "%d problem%s\n",
               a.path, a.ops->name, a.seed, budget, a.ahead, set.n_records,
               set.n_records == 1 ? "" : "s", set.n_problems, set.n_problems == 1 ? "" : "s");
    }
    totals t = {0};
    for (int i = 0; i < set.n_problems; i++) {
        const pf_replay_problem *p = &set.problems[i];
        pf_replay_result r;
        if (pf_replay_run(p, a.ops, (uint64_t)a.seed, (int)a.budget, (int)a.ahead, &r)) {
            rc = pf_cli_fail_error(CMD);
            goto done;
        }
        add_totals(&t, p, &r);
        if (a.json)
            json_array_append_new(problems, problem_json(p, &r));
        else
            print_problem(p, &r, a.ops->name);
    }
    if (a.json) {
        json_object_set_new(doc, "problems", problems);
        problems = NULL;
        json_object_set_new(doc, "total", totals_json(&t, set.n_problems));
        rc = pf_json_doc_print(doc) ? pf_cli_fail_error(CMD) : 0;
    } else {
        print_totals(&t, set.n_problems);
        rc = 0;
    }
done:
    json_decref(problems);
    json_decref(doc);
    pf_replay_free(&set);
    return rc;
}
