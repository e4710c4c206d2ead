/* The statistics behind compare and history: Mann-Whitney U against values
 * worked out by hand, Welch's t, quantiles, compare's verdicts on drawn
 * samples, and history's step finder on a planted step. */
#include <math.h>
#include <stdlib.h>

#include "pf_test.h"
#include "report/compare.h"
#include "report/history.h"
#include "report/stats.h"

#define NEAR(a, b, tol) (fabs((a) - (b)) <= (tol))

static void test_mwu_exact(void)
{
    /* x all below y: U1 = 0; P(U = 0) = 1 / C(6,3) = 1/20, two-sided 0.1 */
    double x[] = {1, 2, 3}, y[] = {4, 5, 6};
    pf_mwu u;
    CHECK(pf_mann_whitney(x, 3, y, 3, &u) == 0);
    CHECK(u.exact && u.u1 == 0 && u.u2 == 9);
    CHECK_MSG(NEAR(u.p, 0.1, 1e-12), "p %g", u.p);
    /* x = {1,4}, y = {2,3,5}: pairs x>y: 4>2, 4>3 -> U1 = 2 of 6. The 10
     * arrangements of 2 x among 5 have U = 0,1,2,2,3,3,4,4,5,6: P(U <= 2) =
     * 4/10, two-sided 0.8 */
    double x2[] = {1, 4}, y2[] = {2, 3, 5};
    CHECK(pf_mann_whitney(x2, 2, y2, 3, &u) == 0);
    CHECK(u.u1 == 2 && u.u2 == 4);
    CHECK_MSG(NEAR(u.p, 0.8, 1e-12), "p %g", u.p);
    /* 10 vs 10 separated: 2 / C(20,10) = 2 / 184756 */
    double a[10], b[10];
    for (int i = 0; i < 10; i++) {
        a[i] = i;
        b[i] = 100 + i;
    }
    CHECK(pf_mann_whitney(b, 10, a, 10, &u) == 0);
    CHECK(u.u1 == 100 && u.u2 == 0);
    CHECK_MSG(NEAR(u.p, 2.0 / 184756, 1e-15), "p %g", u.p);
}

static void test_mwu_ties_normal(void)
{
    /* x = {1,2,2,3}, y = {2,3,4,5}: ranks of the pooled 1,2,2,2,3,3,4,5 are
     * 1, 3,3,3, 5.5,5.5, 7, 8; R(x) = 1+3+3+5.5 = 12.5, U1 = 12.5 - 10 = 2.5.
     * Ties: one of 3 (t^3-t = 24) and one of 2 (6): sum 30.
     * var = 16/12 * (9 - 30/56) = 11.2857...; z = (|2.5 - 8| - 0.5)/sqrt(var)
     * = 5 / 3.35942 = 1.48834; p = 2 * (1 - Phi(1.48834)) = 0.136654 */
    double x[] = {1, 2, 2, 3}, y[] = {2, 3, 4, 5};
    pf_mwu u;
    CHECK(pf_mann_whitney(x, 4, y, 4, &u) == 0);
    CHECK(!u.exact);
    CHECK(u.u1 == 2.5 && u.u2 == 13.5);
    CHECK_MSG(NEAR(u.z, 1.48834, 1e-4), "z %g", u.z);
    CHECK_MSG(NEAR(u.p, 0.136654, 1e-4), "p %g", u.p);
    /* all tied: p = 1 */
    double c[] = {2, 2, 2}, d[] = {2, 2};
    CHECK(pf_mann_whitney(c, 3, d, 2, &u) == 0 && u.p == 1);
    /* large samples (normal path, no ties): 25 vs 25 separated */
    double e[25], f[25];
    for (int i = 0; i < 25; i++) {
        e[i] = i;
        f[i] = 50 + i;
    }
    CHECK(pf_mann_whitney(e, 25, f, 25, &u) == 0 && !u.exact);
    /* U1 = 0, mean 312.5, var 625*51/12 = 2656.25: z = 312/51.539 = 6.0537 */
    CHECK_MSG(NEAR(u.z, 6.0537, 1e-3), "z %g", u.z);
    CHECK(u.p < 1e-8);
    CHECK(pf_mann_whitney(e, 0, f, 25, &u) == -1);
}

static void test_welch_quantile(void)
{
    double x[] = {1, 2, 3, 4}, y[] = {1, 2, 3, 4}, t, p;
    CHECK(pf_welch_t(x, 4, y, 4, &t, &p) == 0 && t == 0 && NEAR(p, 1, 1e-12));
    /* means 2.5 and 12.5, variances 5/3 each: t = 10 / sqrt(5/6) = 10.954,
     * df = 6: p = 3.44e-5 (t distribution, two-sided) */
    double z[] = {11, 12, 13, 14};
    CHECK(pf_welch_t(x, 4, z, 4, &t, &p) == 0);
    CHECK_MSG(NEAR(t, 10.9545, 1e-3), "t %g", t);
    CHECK_MSG(NEAR(p, 3.44e-5, 0.05e-5), "p %g", p);
    double q[] = {4, 1, 3, 2};
    CHECK(NEAR(pf_quantile(q, 4, 0.5), 2.5, 1e-12));
    CHECK(NEAR(pf_quantile(q, 4, 0.25), 1.75, 1e-12));
}

/* A record of n samples around `median` with relative noise `rel`. */
static void drawn(pf_record *r, double median, double rel, int n)
{
    double v[64];
    pf_record_init(r);
    for (int i = 0; i < n; i++) {
        double g = 0; /* sum of uniforms: roughly normal */
        for (int k = 0; k < 6; k++)
            g += (double)(pf_test_rng() >> 11) / 9007199254740992.0 - 0.5;
        v[i] = median * (1 + rel * g * sqrt(2.0));
    }
    pf_record_set_samples(r, v, n);
    pf_measure_summarize(v, n, &r->time);
}

static void test_compare_verdicts(void)
{
    pf_cmp_opts o = {.threshold = 0.05, .alpha = 0.01};
    int slower_overlap = 0, same_same = 0;
    for (int trial = 0; trial < 50; trial++) {
        pf_record a, b;
        pf_cmp_point p;
        drawn(&a, 1.0, 0.01, 30); /* the same distribution twice */
        drawn(&b, 1.0, 0.01, 30);
        pf_cmp_judge(&a, &b, &o, &p);
        same_same += p.verdict == PF_CMP_SAME;
        pf_record_free(&b);
        drawn(&b, 1.10, 0.01, 30); /* 10% slower, 1% noise */
        pf_cmp_judge(&a, &b, &o, &p);
        CHECK_MSG(p.verdict == PF_CMP_SLOWER, "trial %d: %s", trial, pf_cmp_verdict_name(p.verdict));
        pf_record_free(&b);
        drawn(&b, 0.90, 0.01, 30);
        pf_cmp_judge(&a, &b, &o, &p);
        CHECK(p.verdict == PF_CMP_FASTER);
        pf_record_free(&a);
        pf_record_free(&b);
        drawn(&a, 1.0, 0.20, 20); /* heavy noise, a 3% shift: never slower */
        drawn(&b, 1.03, 0.20, 20);
        pf_cmp_judge(&a, &b, &o, &p);
        slower_overlap += p.verdict == PF_CMP_SLOWER;
        pf_record_free(&a);
        pf_record_free(&b);
    }
    CHECK_MSG(same_same == 50, "same distribution judged same %d of 50 times", same_same);
    CHECK_MSG(slower_overlap == 0, "overlapping noise judged slower %d times", slower_overlap);
    /* summaries only: quartile ranges decide */
    pf_record a, b;
    pf_cmp_point p;
    pf_record_init(&a);
    pf_record_init(&b);
    a.time = (pf_measure_summary){.median_ms = 1.0, .q1_ms = 0.99, .q3_ms = 1.01, .samples = 10};
    b.time = (pf_measure_summary){.median_ms = 1.1, .q1_ms = 1.09, .q3_ms = 1.11, .samples = 10};
    pf_cmp_judge(&a, &b, &o, &p);
    CHECK(p.verdict == PF_CMP_SLOWER && isnan(p.p));
    b.time.q1_ms = 0.95; /* overlapping quartiles, beyond the threshold */
    pf_cmp_judge(&a, &b, &o, &p);
    CHECK(p.verdict == PF_CMP_AMBIGUOUS);
}

static void test_history_steps(void)
{
    enum { N = 12, S = 20 };
    static double samples[N][S];
    pf_hist_value v[N];
    for (int i = 0; i < N; i++) {
        double level = i >= 7 ? 1.15 : 1.0; /* planted: result 7 is the first slower */
        for (int k = 0; k < S; k++)
            samples[i][k] = level * (1 + 0.01 * ((double)(pf_test_rng() >> 11) / 9007199254740992.0 - 0.5));
        v[i] = (pf_hist_value){pf_quantile(samples[i], S, 0.5), samples[i], S};
    }
    pf_hist_step st[4];
    int n = pf_history_steps(v, N, PF_HIST_WINDOW, 0.05, 0.01, st, 4);
    CHECK_MSG(n == 1, "%d steps", n);
    CHECK_MSG(n >= 1 && st[0].at == 7, "step at %d", n ? st[0].at : -1);
    CHECK(n >= 1 && NEAR(st[0].change, 0.15, 0.01) && st[0].p < 1e-6);
    /* medians only: Welch's t on the log medians */
    for (int i = 0; i < N; i++)
        v[i].samples = NULL, v[i].n_samples = 0;
    n = pf_history_steps(v, N, PF_HIST_WINDOW, 0.05, 0.01, st, 4);
    CHECK_MSG(n == 1 && st[0].at == 7, "medians only: %d steps, at %d", n, n ? st[0].at : -1);
    /* a flat series: nothing */
    for (int i = 0; i < N; i++)
        v[i].median = 1 + 0.001 * (i % 3);
    CHECK(pf_history_steps(v, N, PF_HIST_WINDOW, 0.05, 0.01, st, 4) == 0);
}

int main(void)
{
    test_mwu_exact();
    test_mwu_ties_normal();
    test_welch_quantile();
    test_compare_verdicts();
    test_history_steps();
    return PF_TEST_RESULT();
}
