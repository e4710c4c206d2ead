/* Search strategies on synthetic objectives over a pruned 4-axis grid:
 * a smooth bowl with a unique optimum and a few failed points, a separable
 * (log-additive) one and a random one. Every strategy: same seed, same
 * sequence; no duplicates; budget honoured; asking ahead works; n = 0 and 1.
 * Exhaustive finds the optimum at its rank; anneal and model reach within
 * 2% of it in half / a quarter of the evaluations on the bowl. */
#include <math.h>

#include "core/pf_error.h"
#include "pf_test.h"
#include "tuner/strategy.h"

#define MAX_N 1024
static const int sizes[4] = {6, 5, 4, 4};
static const int opt[4] = {2, 3, 1, 2}; /* the bowl's minimum */

typedef struct problem {
    pf_search s;
    pf_candidate_info cand[MAX_N];
    double ms[MAX_N];
} problem;

static int pruned(const int *t)
{
    return (t[0] + 3 * t[1] + 7 * t[2] + t[3]) % 11 == 5; /* holes, not at the optimum */
}

static void unknown_info(pf_candidate_info *ci)
{
    *ci = (pf_candidate_info){.registers = -1, .spill_bytes = -1, .smem_bytes = -1,
                              .threads = -1, .occupancy = -1, .tiles_empty = -1,
                              .tiles_full = -1, .tiles_partial = -1, .work_units = -1,
                              .metadata_bytes = -1};
}

enum { BOWL, SEPARABLE, RANDOM };

/* The grid in row-major order minus the holes; times by `kind`. */
static void make_problem(problem *p, int kind)
{
    memset(p, 0, sizeof *p);
    p->s.n_axes = 4;
    memcpy(p->s.axis_size, sizes, sizeof sizes);
    double g[4][6];
    *pf_test_rng_state() = 12345;
    for (int a = 0; a < 4; a++)
        for (int v = 0; v < 6; v++)
            g[a][v] = 1 + 0.5 * (pf_test_frand() + 1);
    int t[4], n = 0;
    for (t[0] = 0; t[0] < sizes[0]; t[0]++)
        for (t[1] = 0; t[1] < sizes[1]; t[1]++)
            for (t[2] = 0; t[2] < sizes[2]; t[2]++)
                for (t[3] = 0; t[3] < sizes[3]; t[3]++) {
                    if (pruned(t))
                        continue;
                    pf_candidate_info *ci = &p->cand[n];
                    unknown_info(ci);
                    memcpy(ci->axis, t, sizeof t);
                    double x = t[0] - opt[0], y = t[1] - opt[1], z = t[2] - opt[2],
                           w = t[3] - opt[3];
                    if (kind == BOWL)
                        p->ms[n] = 1 + 0.08 * x * x + 0.05 * y * y + 0.1 * z * z +
                                   0.06 * w * w + 0.03 * x * z;
                    else if (kind == SEPARABLE)
                        p->ms[n] = g[0][t[0]] * g[1][t[1]] * g[2][t[2]] * g[3][t[3]];
                    else
                        p->ms[n] = 1 + (pf_test_frand() + 1);
                    /* failed variants: a corner region and a scattered few */
                    if ((t[0] == 5 && t[1] >= 3) || n % 37 == 17)
                        p->ms[n] = INFINITY;
                    n++;
                }
    p->s.n = n;
    p->s.cand = p->cand;
}

static int argmin(const problem *p)
{
    int b = 0;
    for (int c = 1; c < p->s.n; c++)
        if (p->ms[c] < p->ms[b])
            b = c;
    return b;
}

/* Drive a strategy, asking `ahead` candidates before telling their times.
 * The sequence goes to seq; returns its length, or -1 if create failed. */
static int drive(const pf_strategy_ops *ops, const problem *p, uint64_t seed, int budget,
                 int ahead, int *seq)
{
    pf_search s = p->s;
    s.seed = seed;
    s.budget_evals = budget;
    void *st = NULL;
    if (ops->create(&s, &st))
        return -1;
    int k = 0, done = 0;
    while (!done) {
        int start = k;
        for (int i = 0; i < ahead; i++) {
            int c = ops->next(st);
            if (c < 0) {
                done = 1;
                break;
            }
            if (k < MAX_N)
                seq[k] = c;
            k++;
        }
        for (int i = start; i < k && i < MAX_N; i++)
            if (seq[i] >= 0 && seq[i] < s.n)
                ops->tell(st, seq[i], p->ms[seq[i]]);
        if (k > 2 * MAX_N)
            break; /* a runaway strategy: the checks below catch it */
    }
    ops->destroy(st);
    return k;
}

static int valid_unique(const int *seq, int k, int n)
{
    static char seen[MAX_N];
    memset(seen, 0, sizeof seen);
    if (k > n)
        return 0;
    for (int i = 0; i < k; i++) {
        if (seq[i] < 0 || seq[i] >= n || seen[seq[i]])
            return 0;
        seen[seq[i]] = 1;
    }
    return 1;
}

/* Evaluations until the best so far is within `tol` of the optimum, or -1. */
static int evals_to(const problem *p, const int *seq, int k, double tol)
{
    double best = p->ms[argmin(p)];
    for (int i = 0; i < k; i++)
        if (p->ms[seq[i]] <= best * (1 + tol))
            return i + 1;
    return -1;
}

static int is_guided(const pf_strategy_ops *ops)
{
    return strcmp(ops->name, "anneal") == 0 || strcmp(ops->name, "model") == 0;
}

static void test_contract(const pf_strategy_ops *ops, const problem *p, const char *what)
{
    static int a[MAX_N], b[MAX_N];
    int n = p->s.n;
    for (int ahead = 1; ahead <= 3; ahead += 2) {
        int ka = drive(ops, p, 7, 0, ahead, a), kb = drive(ops, p, 7, 0, ahead, b);
        CHECK_MSG(ka > 0 && ka == kb && memcmp(a, b, sizeof(int) * (size_t)ka) == 0,
                  "%s/%s ahead %d: same seed, different sequences", ops->name, what, ahead);
        CHECK_MSG(valid_unique(a, ka, n), "%s/%s ahead %d: duplicate or bad index", ops->name,
                  what, ahead);
        if (strcmp(ops->name, "model") != 0) /* model may stop early; others cover all */
            CHECK_MSG(ka == n, "%s/%s ahead %d: %d of %d candidates", ops->name, what, ahead,
                      ka, n);
        int kc = drive(ops, p, 8, 0, ahead, b);
        if (strcmp(ops->name, "random") == 0 || strcmp(ops->name, "anneal") == 0)
            CHECK_MSG(ka != kc || memcmp(a, b, sizeof(int) * (size_t)ka) != 0,
                      "%s/%s: seeds 7 and 8 give the same sequence", ops->name, what);
        for (int budget = 1; budget <= 25; budget += 24) {
            int k = drive(ops, p, 3, budget, ahead, a);
            CHECK_MSG(k <= budget && valid_unique(a, k, n), "%s/%s: budget %d gave %d",
                      ops->name, what, budget, k);
            if (!is_guided(ops) || strcmp(ops->name, "anneal") == 0)
                CHECK_MSG(k == budget, "%s/%s: budget %d gave only %d", ops->name, what,
                          budget, k);
        }
    }
}

static void test_tiny(const pf_strategy_ops *ops)
{
    problem *p = calloc(1, sizeof *p);
    p->s.n_axes = 2;
    p->s.axis_size[0] = p->s.axis_size[1] = 1;
    p->s.cand = p->cand;
    unknown_info(&p->cand[0]);
    p->ms[0] = 1;
    int seq[4];
    p->s.n = 0;
    CHECK_MSG(drive(ops, p, 1, 0, 1, seq) == 0, "%s: n = 0 returned something", ops->name);
    p->s.n = 1;
    CHECK_MSG(drive(ops, p, 1, 0, 3, seq) == 1 && seq[0] == 0, "%s: n = 1", ops->name);
    p->ms[0] = INFINITY;
    CHECK_MSG(drive(ops, p, 1, 0, 1, seq) == 1 && seq[0] == 0, "%s: n = 1 failed", ops->name);
    free(p);
}

/* When every candidate fails there is nothing to learn: each strategy
 * still tries them all, once. */
static void test_all_failed(const pf_strategy_ops *ops, const problem *bowl)
{
    problem *p = malloc(sizeof *p);
    *p = *bowl;
    p->s.cand = p->cand;
    for (int c = 0; c < p->s.n; c++)
        p->ms[c] = INFINITY;
    static int seq[MAX_N];
    int k = drive(ops, p, 2, 0, 3, seq);
    CHECK_MSG(k == p->s.n && valid_unique(seq, k, p->s.n), "%s: all failed: %d of %d",
              ops->name, k, p->s.n);
    free(p);
}

/* The guided strategies reach within 2% of the bowl's optimum in at most
 * `limit` evaluations, for every seed, asking one or three at a time. */
static void test_reaches(const pf_strategy_ops *ops, const problem *p, int limit)
{
    static int seq[MAX_N];
    int worst = 0;
    for (uint64_t seed = 1; seed <= 8; seed++)
        for (int ahead = 1; ahead <= 3; ahead += 2) {
            int k = drive(ops, p, seed, 0, ahead, seq);
            int e = evals_to(p, seq, k, 0.02);
            double found = INFINITY;
            for (int i = 0; i < k; i++)
                found = fmin(found, p->ms[seq[i]]);
            CHECK_MSG(e > 0 && e <= limit,
                      "%s: seed %llu ahead %d: within 2%% after %d (limit %d); stopped after "
                      "%d at %.4f (optimum %.4f)",
                      ops->name, (unsigned long long)seed, ahead, e, limit, k, found,
                      p->ms[argmin(p)]);
            if (e > worst || e < 0)
                worst = e < 0 ? 1 << 30 : e;
        }
    printf("%s: within 2%% of the optimum after at most %d of %d evaluations\n", ops->name,
           worst, p->s.n);
}

/* A cost estimate that equals the objective makes model pick the optimum
 * first. */
static void test_model_prior(const problem *bowl)
{
    problem *p = malloc(sizeof *p);
    *p = *bowl;
    p->s.cand = p->cand;
    for (int c = 0; c < p->s.n; c++) {
        p->cand[c].tiles_full = isfinite(p->ms[c]) ? 100 * p->ms[c] : 1e6;
        p->cand[c].tiles_partial = 0;
    }
    int seq[MAX_N];
    int k = drive(pf_strategy_find("model"), p, 5, 0, 1, seq);
    CHECK_MSG(k > 0 && seq[0] == argmin(p), "model: first pick %d, the prior's best is %d",
              k > 0 ? seq[0] : -1, argmin(p));
    free(p);
}

int main(void)
{
    const pf_strategy_ops *const *all = pf_strategies();
    int n_ops = 0;
    while (all[n_ops])
        n_ops++;
    CHECK(n_ops == 4);
    const char *names[] = {"exhaustive", "random", "anneal", "model"};
    for (int i = 0; i < 4; i++)
        CHECK(pf_strategy_find(names[i]) && strcmp(pf_strategy_find(names[i])->name, names[i]) == 0);
    CHECK(pf_strategy_find("genetic") == NULL);
    CHECK(strstr(pf_error_get(), "unknown strategy 'genetic'") &&
          strstr(pf_error_get(), "exhaustive, random, anneal, model"));

    static problem bowl, sep, rnd;
    make_problem(&bowl, BOWL);
    make_problem(&sep, SEPARABLE);
    make_problem(&rnd, RANDOM);
    CHECK(bowl.s.n > 400 && bowl.s.n < 480);
    for (int i = 0; i < n_ops; i++) {
        test_contract(all[i], &bowl, "bowl");
        test_contract(all[i], &sep, "separable");
        test_contract(all[i], &rnd, "random");
        test_tiny(all[i]);
        test_all_failed(all[i], &bowl);
    }

    static int seq[MAX_N];
    int k = drive(pf_strategy_find("exhaustive"), &bowl, 9, 0, 1, seq);
    int in_order = k == bowl.s.n;
    for (int i = 0; in_order && i < k; i++)
        in_order = seq[i] == i;
    CHECK(in_order);
    CHECK(evals_to(&bowl, seq, k, 0) == argmin(&bowl) + 1);

    test_reaches(pf_strategy_find("anneal"), &bowl, bowl.s.n / 2);
    test_reaches(pf_strategy_find("model"), &bowl, bowl.s.n / 4);
    test_reaches(pf_strategy_find("model"), &sep, sep.s.n / 4);
    test_model_prior(&bowl);

    /* a malformed search is refused with a message */
    pf_search bad = bowl.s;
    bad.axis_size[2] = 1;
    void *st = NULL;
    CHECK(pf_strategy_find("anneal")->create(&bad, &st) == -1 && st == NULL);
    CHECK(strstr(pf_error_get(), "axis 2"));
    return PF_TEST_RESULT();
}
