/* Rank and t statistics for compare and history (see stats.h). */
#include "report/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"

double pf_normal_sf(double z)
{
    return 0.5 * erfc(z / sqrt(2.0));
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double pf_quantile(const double *v, int n, double q)
{
    double *s = malloc((size_t)n * sizeof *s);
    if (!s)
        return NAN;
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    double pos = q * (n - 1);
    int lo = (int)floor(pos);
    int hi = lo + 1 < n ? lo + 1 : lo;
    double r = s[lo] + (pos - lo) * (s[hi] - s[lo]);
    free(s);
    return r;
}

/* P(U <= u) under the null for sizes m, n without ties: the number of
 * arrangements with U = k follows c(m,n,k) = c(m-1,n,k-n) + c(m,n-1,k)
 * (the largest value is an x, beating all n y's, or a y). */
static double exact_cdf(int m, int n, int u)
{
    int kmax = m * n;
    /* c[j][k] for the current i (rows j = 0..n) */
    double *prev = calloc((size_t)(n + 1) * (size_t)(kmax + 1), sizeof *prev);
    double *cur = calloc((size_t)(n + 1) * (size_t)(kmax + 1), sizeof *cur);
    if (!prev || !cur) {
        free(prev);
        free(cur);
        return NAN;
    }
#define C(a, j, k) (a)[(size_t)(j) * (size_t)(kmax + 1) + (size_t)(k)]
    for (int j = 0; j <= n; j++)
        C(prev, j, 0) = 1; /* i = 0: one arrangement, U = 0 */
    for (int i = 1; i <= m; i++) {
        memset(cur, 0, (size_t)(n + 1) * (size_t)(kmax + 1) * sizeof *cur);
        C(cur, 0, 0) = 1;
        for (int j = 1; j <= n; j++)
            for (int k = 0; k <= i * j; k++)
                C(cur, j, k) = (k >= j ? C(prev, j, k - j) : 0) + C(cur, j - 1, k);
        double *t = prev;
        prev = cur;
        cur = t;
    }
    double below = 0, total = 0;
    for (int k = 0; k <= kmax; k++) {
        total += C(prev, n, k);
        if (k <= u)
            below += C(prev, n, k);
    }
#undef C
    free(prev);
    free(cur);
    return below / total;
}

typedef struct ranked {
    double v;
    int from_x;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    return cmp_double(&((const ranked *)a)->v, &((const ranked *)b)->v);
}

int pf_mann_whitney(const double *x, int nx, const double *y, int ny, pf_mwu *out)
{
    memset(out, 0, sizeof *out);
    if (nx < 1 || ny < 1)
        return pf_error_set("Mann-Whitney U needs at least one sample on each side");
    int n = nx + ny;
    ranked *a = malloc((size_t)n * sizeof *a);
    if (!a)
        return pf_error_set("out of memory");
    for (int i = 0; i < nx; i++)
        a[i] = (ranked){x[i], 1};
    for (int i = 0; i < ny; i++)
        a[nx + i] = (ranked){y[i], 0};
    qsort(a, (size_t)n, sizeof *a, cmp_ranked);
    double rank_x = 0, ties = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && a[j + 1].v == a[i].v)
            j++;
        double avg = (i + j) / 2.0 + 1; /* ranks from 1 */
        double t = j - i + 1;
        ties += t * t * t - t;
        for (int k = i; k <= j; k++)
            if (a[k].from_x)
                rank_x += avg;
        i = j + 1;
    }
    free(a);
    double prod = (double)nx * ny;
    out->u1 = rank_x - nx * (nx + 1) / 2.0;
    out->u2 = prod - out->u1;
    double umin = out->u1 < out->u2 ? out->u1 : out->u2;
    if (ties == 0 && nx <= PF_MWU_EXACT_MAX && ny <= PF_MWU_EXACT_MAX) {
        double p = 2 * exact_cdf(nx, ny, (int)umin);
        if (isnan(p))
            return pf_error_set("out of memory");
        out->p = p > 1 ? 1 : p;
        out->exact = 1;
        return 0;
    }
    double var = prod / 12.0 * ((n + 1) - ties / ((double)n * (n - 1)));
    if (var <= 0) { /* every value tied */
        out->p = 1;
        return 0;
    }
    double d = fabs(out->u1 - prod / 2) - 0.5;
    out->z = (d > 0 ? d : 0) / sqrt(var);
    double p = 2 * pf_normal_sf(out->z);
    out->p = p > 1 ? 1 : p;
    return 0;
}

/* Regularized incomplete beta I_x(a, b) by its continued fraction
 * (Numerical Recipes' betacf), for the t distribution's tail. */
static double betacf(double a, double b, double x)
{
    const double tiny = 1e-300;
    double c = 1, d = 1 - (a + b) * x / (a + 1);
    d = 1 / (fabs(d) < tiny ? tiny : d);
    double h = d;
    for (int m = 1; m <= 300; m++) {
        int m2 = 2 * m;
        double aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
        d = 1 + aa * d;
        d = 1 / (fabs(d) < tiny ? tiny : d);
        c = 1 + aa / c;
        c = fabs(c) < tiny ? tiny : c;
        h *= d * c;
        aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
        d = 1 + aa * d;
        d = 1 / (fabs(d) < tiny ? tiny : d);
        c = 1 + aa / c;
        c = fabs(c) < tiny ? tiny : c;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < 1e-15)
            break;
    }
    return h;
}

static double ibeta(double a, double b, double x)
{
    if (x <= 0)
        return 0;
    if (x >= 1)
        return 1;
    double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log(1 - x);
    if (x < (a + 1) / (a + b + 2))
        return exp(lbt) * betacf(a, b, x) / a;
    return 1 - exp(lbt) * betacf(b, a, 1 - x) / b;
}

int pf_welch_t(const double *x, int nx, const double *y, int ny, double *t, double *p)
{
    if (nx < 2 || ny < 2)
        return pf_error_set("Welch's t-test needs at least two samples on each side");
    double mx = 0, my = 0, vx = 0, vy = 0;
    for (int i = 0; i < nx; i++)
        mx += x[i] / nx;
    for (int i = 0; i < ny; i++)
        my += y[i] / ny;
    for (int i = 0; i < nx; i++)
        vx += (x[i] - mx) * (x[i] - mx) / (nx - 1);
    for (int i = 0; i < ny; i++)
        vy += (y[i] - my) * (y[i] - my) / (ny - 1);
    double se2 = vx / nx + vy / ny;
    if (se2 <= 0) {
        *t = mx == my ? 0 : (my > mx ? INFINITY : -INFINITY);
        *p = mx == my ? 1 : 0;
        return 0;
    }
    *t = (my - mx) / sqrt(se2);
    double df = se2 * se2 / ((vx / nx) * (vx / nx) / (nx - 1) + (vy / ny) * (vy / ny) / (ny - 1));
    *p = ibeta(df / 2, 0.5, df / (df + *t * *t));
    return 0;
}
