/* Statistics for comparing timings: the Mann-Whitney U test (rank-sum; no
 * normality assumed, which suits skewed kernel timings), a Welch t-test,
 * and quantiles. Two-sided p-values throughout. */
#ifndef PF_STATS_H
#define PF_STATS_H

typedef struct pf_mwu {
    double u1;      /* U of the first sample: pairs (x, y) with x > y, ties 1/2 */
    double u2;      /* nx*ny - u1 */
    double z;       /* normal approximation (continuity and tie corrected); 0 when exact */
    double p;       /* two-sided p-value */
    int exact;      /* 1: p from the exact null distribution (small n, no ties) */
} pf_mwu;

/* Samples up to this size per side without ties get the exact p-value. */
#define PF_MWU_EXACT_MAX 20

/* Mann-Whitney U of x[0..nx) against y[0..ny) (nx, ny >= 1). Ranks are
 * averaged over ties; the normal approximation uses the tie-corrected
 * variance nx*ny/12 * ((n+1) - sum(t^3-t)/(n(n-1))) and a 0.5 continuity
 * correction. All values tied: p = 1. 0 / -1. */
int pf_mann_whitney(const double *x, int nx, const double *y, int ny, pf_mwu *out);

/* Welch's t-test of the means; p from the t distribution (Welch-Satterthwaite
 * degrees of freedom). Needs nx, ny >= 2; zero variance on both sides gives
 * p = 0 if the means differ, else 1. 0 / -1. */
int pf_welch_t(const double *x, int nx, const double *y, int ny, double *t, double *p);

/* Linear-interpolation quantile (numpy default) of n >= 1 values, q in [0,1];
 * the input is not modified. */
double pf_quantile(const double *v, int n, double q);

/* Standard normal upper tail P(Z > z). */
double pf_normal_sf(double z);

#endif
