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

void pf_cmp_judge(const pf_record *a, const pf_record *b, const pf_cmp_opts *o, pf_cmp_point *out)
{
    out->change = b->time.median_ms / a->time.median_ms - 1;
    out->p = NAN;
    int significant;
    if (a->samples_ms && b->samples_ms && a->time.samples >= MIN_SAMPLES &&
        b->time.samples >= MIN_SAMPLES) {
        pf_mwu u;
        if (pf_mann_whitney(a->samples_ms, a->time.samples, b->samples_ms, b->time.samples, &u))
            u.p = 1;
        out->p = u.p;
        out->test = "mann-whitney";
        significant = u.p < o->alpha;
    } else { /* summaries only: the middle halves must not overlap */
        out->test = "quartiles";
        significant = b->time.q1_ms > a->time.q3_ms || b->time.q3_ms < a->time.q1_ms;
    }
    int beyond = fabs(out->change) > o->threshold;
    if (significant && beyond)
        out->verdict = out->change > 0 ? PF_CMP_SLOWER : PF_CMP_FASTER;
    else if (beyond)
        out->verdict = PF_CMP_AMBIGUOUS;
    else
        out->verdict = PF_CMP_SAME;
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
                            .p = NAN, .test = ""};
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
                                      .change = NAN, .p = NAN, .test = ""};
    }
    *out = pts;
    *n = m;
    return 0;
}
