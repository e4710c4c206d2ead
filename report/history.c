/* Step detection over a series of results (see history.h). */
#include "report/history.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/stats.h"

/* Test split k over [lo, k) vs [k, hi); 0 when testable. */
static int test_split(const pf_hist_value *v, int lo, int k, int hi, pf_hist_step *s)
{
    double la = 0, lb = 0;
    int na = 0, nb = 0, with_samples = 1, ns_a = 0, ns_b = 0;
    for (int i = lo; i < hi; i++) {
        if (isnan(v[i].median) || v[i].median <= 0)
            continue;
        if (i < k) {
            la += log(v[i].median);
            na++;
            ns_a += v[i].n_samples;
        } else {
            lb += log(v[i].median);
            nb++;
            ns_b += v[i].n_samples;
        }
        with_samples &= v[i].samples && v[i].n_samples >= 3;
    }
    if (!na || !nb)
        return -1;
    s->at = k;
    s->change = exp(lb / nb - la / na) - 1;
    if (with_samples) {
        double *a = malloc((size_t)ns_a * sizeof *a), *b = malloc((size_t)ns_b * sizeof *b);
        int ia = 0, ib = 0, rc = -1;
        pf_mwu u;
        if (a && b) {
            for (int i = lo; i < hi; i++) {
                if (isnan(v[i].median) || v[i].median <= 0)
                    continue;
                double *dst = i < k ? a + ia : b + ib;
                memcpy(dst, v[i].samples, (size_t)v[i].n_samples * sizeof *dst);
                *(i < k ? &ia : &ib) += v[i].n_samples;
            }
            rc = pf_mann_whitney(a, ia, b, ib, &u);
        }
        free(a);
        free(b);
        if (rc)
            return -1;
        s->p = u.p;
        s->test = "mann-whitney";
        return 0;
    }
    if (na < 2 || nb < 2)
        return -1;
    double *a = malloc((size_t)na * sizeof *a), *b = malloc((size_t)nb * sizeof *b), t;
    int ia = 0, ib = 0, rc = -1;
    if (a && b) {
        for (int i = lo; i < hi; i++)
            if (!isnan(v[i].median) && v[i].median > 0)
                (i < k ? a : b)[i < k ? ia++ : ib++] = log(v[i].median);
        rc = pf_welch_t(a, na, b, nb, &t, &s->p);
    }
    free(a);
    free(b);
    s->test = "welch-t";
    return rc;
}

int pf_history_steps(const pf_hist_value *v, int n, int window, double threshold, double alpha,
                     pf_hist_step *out, int max_steps)
{
    if (n < 2 || window < 1)
        return 0;
    pf_hist_step *cand = calloc((size_t)n, sizeof *cand);
    int *ok = calloc((size_t)n, sizeof *ok);
    int found = 0;
    if (!cand || !ok)
        goto done;
    for (int k = 1; k < n; k++) {
        int lo = k - window < 0 ? 0 : k - window, hi = k + window > n ? n : k + window;
        ok[k] = test_split(v, lo, k, hi, &cand[k]) == 0 && cand[k].p < alpha &&
                fabs(cand[k].change) > threshold;
    }
    for (int k = 1; k < n && found < max_steps; k++) {
        if (!ok[k])
            continue;
        double mine = fabs(log1p(cand[k].change));
        int best = 1;
        for (int j = k - window + 1; j < k + window && best; j++) {
            if (j < 1 || j >= n || j == k || !ok[j])
                continue;
            double other = fabs(log1p(cand[j].change));
            best = mine > other || (mine == other && (cand[k].p < cand[j].p ||
                                                      (cand[k].p == cand[j].p && k < j)));
        }
        if (best)
            out[found++] = cand[k];
    }
done:
    free(cand);
    free(ok);
    return found;
}
