/* Point matching and noise-aware verdicts (see compare.h). */
#include "report/compare.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"
#include "report/stats.h"

static const char *const names[PF_CMP_N] = {"faster", "slower", "same", "ambiguous", "failed",
                                            "fixed", "untimed", "base-only", "new-only"};

const char *pf_cmp_verdict_name(pf_cmp_verdict v)
{
    return v >= 0 && v < PF_CMP_N ? names[v] : "?";
}

/* Fewer samples than this and the rank test cannot reach p < 0.01. */
#define MIN_SAMPLES 3

/* Is NEW significantly beyond BASE scaled by `scale` (1 + threshold for
 * slower, 1 - threshold for faster), in the direction of `sign`? Testing
 * against the scaled BASE asks "did it move MORE than the threshold", so
 * noise around a smaller change is not called a regression. */
static int beyond_scaled(const pf_record *a, const pf_record *b, double scale, int sign,
                         int with_samples, double alpha, double *p)
{
    if (!with_samples) { /* the middle halves must not overlap */
        *p = NAN;
        return sign > 0 ? b->time.q1_ms > a->time.q3_ms * scale
                        : b->time.q3_ms < a->time.q1_ms * scale;
    }
    int n = a->time.samples;
    double *x = malloc((size_t)n * sizeof *x);
    pf_mwu u = {.p = 1};
    if (x) {
        for (int i = 0; i < n; i++)
            x[i] = a->samples_ms[i] * scale;
        if (pf_mann_whitney(x, n, b->samples_ms, b->time.samples, &u))
            u.p = 1;
    }
    free(x);
    *p = u.p;
    return u.p < alpha && (sign > 0 ? u.u2 > u.u1 : u.u1 > u.u2);
}

void pf_cmp_judge(const pf_record *a, const pf_record *b, const pf_cmp_opts *o, pf_cmp_point *out)
{
    out->change = b->time.median_ms / a->time.median_ms - 1;
    out->p = NAN;
    int with_samples = a->samples_ms && b->samples_ms && a->time.samples >= MIN_SAMPLES &&
                       b->time.samples >= MIN_SAMPLES;
    out->test = with_samples ? "mann-whitney" : "quartiles";
    int sign = out->change > 0 ? 1 : -1;
    out->p_beyond = NAN;
    if (fabs(out->change) > o->threshold &&
        beyond_scaled(a, b, 1 + sign * o->threshold, sign, with_samples, o->alpha,
                      &out->p_beyond)) {
        out->p = out->p_beyond;
        out->verdict = sign > 0 ? PF_CMP_SLOWER : PF_CMP_FASTER;
        return;
    }
    /* the plain test, for the p-value shown and for `ambiguous` vs `same` */
    int significant = beyond_scaled(a, b, 1, sign, with_samples, o->alpha, &out->p);
    (void)significant;
    out->verdict = fabs(out->change) > o->threshold ? PF_CMP_AMBIGUOUS : PF_CMP_SAME;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Benjamini-Hochberg over the points' "beyond the threshold" tests: a sweep
 * compares hundreds of points, and at p < 0.01 each a few would be flagged
 * by chance; the false discovery rate is held at alpha instead. */
static void adjust_for_many(pf_cmp_point *pts, int n, double alpha)
{
    double *p = malloc((size_t)(n ? n : 1) * sizeof *p);
    int m = 0;
    if (!p)
        return;
    for (int i = 0; i < n; i++)
        if (pts[i].verdict == PF_CMP_SAME || pts[i].verdict == PF_CMP_AMBIGUOUS ||
            pts[i].verdict == PF_CMP_SLOWER || pts[i].verdict == PF_CMP_FASTER)
            p[m++] = isnan(pts[i].p_beyond) ? 1 : pts[i].p_beyond;
    qsort(p, (size_t)m, sizeof *p, cmp_double);
    double cut = 0;
    for (int k = m; k >= 1; k--)
        if (p[k - 1] <= alpha * k / m) {
            cut = p[k - 1];
            break;
        }
    for (int i = 0; i < n; i++)
        if ((pts[i].verdict == PF_CMP_SLOWER || pts[i].verdict == PF_CMP_FASTER) &&
            !isnan(pts[i].p_beyond) && pts[i].p_beyond > cut)
            pts[i].verdict = PF_CMP_AMBIGUOUS;
    free(p);
}

static int same_key(const pf_record *a, const pf_record *b, int ignore_device)
{
    return !strcmp(a->family, b->family) && !strcmp(a->variant, b->variant) &&
           !strcmp(a->problem, b->problem) && (ignore_device || !strcmp(a->device, b->device));
}

/* The last record of `d` with r's key (a re-measured point counts once). */
static int find(const pf_rdata *d, const pf_record *r, int ignore_device)
{
    for (int i = d->n - 1; i >= 0; i--)
        if (same_key(&d->pts[i].rec, r, ignore_device))
            return i;
    return -1;
}

int pf_compare(const pf_rdata *base, const pf_rdata *new_, const pf_cmp_opts *o,
               pf_cmp_point **out, int *n)
{
    *out = NULL;
    *n = 0;
    if (!o->ignore_device && strcmp(base->device, new_->device) != 0)
        return pf_error_set("the devices differ: BASE %s ran on '%s', NEW %s on '%s' "
                            "(--ignore-device compares them anyway)",
                            base->path, base->device, new_->path, new_->device);
    pf_cmp_point *pts = calloc((size_t)(base->n + new_->n + 1), sizeof *pts);
    if (!pts)
        return pf_error_set("out of memory");
    int m = 0;
    for (int i = 0; i < base->n; i++) {
        const pf_record *a = &base->pts[i].rec;
        if (find(base, a, o->ignore_device) != i)
            continue; /* an earlier copy of a re-measured point */
        pf_cmp_point *p = &pts[m++];
        *p = (pf_cmp_point){.base = i, .new_ = find(new_, a, o->ignore_device), .change = NAN,
                            .p = NAN, .p_beyond = NAN, .test = ""};
        if (p->new_ < 0) {
            p->verdict = PF_CMP_BASE_ONLY;
            continue;
        }
        int ta = pf_rpoint_timed(&base->pts[i]), tb = pf_rpoint_timed(&new_->pts[p->new_]);
        if (ta && tb)
            pf_cmp_judge(a, &new_->pts[p->new_].rec, o, p);
        else
            p->verdict = ta ? PF_CMP_FAILED : tb ? PF_CMP_FIXED : PF_CMP_UNTIMED;
    }
    for (int j = 0; j < new_->n; j++) {
        const pf_record *b = &new_->pts[j].rec;
        if (find(new_, b, o->ignore_device) == j && find(base, b, o->ignore_device) < 0)
            pts[m++] = (pf_cmp_point){.base = -1, .new_ = j, .verdict = PF_CMP_NEW_ONLY,
                                      .change = NAN, .p = NAN, .p_beyond = NAN, .test = ""};
    }
    adjust_for_many(pts, m, o->alpha);
    *out = pts;
    *n = m;
    return 0;
}
