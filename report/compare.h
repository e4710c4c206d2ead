/* Comparing two results files point by point (`pftune compare`): points
 * match on (family, variant, problem, device); a change counts only when
 * the median moved beyond the threshold AND NEW differs significantly from
 * BASE scaled by (1 +- threshold): Mann-Whitney U on the raw samples when
 * both sides have at least 3, else quartile ranges that do not overlap
 * after the scaling. So a change near the threshold buried in noise is
 * `ambiguous`, never `slower`. Over many points the Mann-Whitney p-values
 * are held to a false discovery rate of alpha (Benjamini-Hochberg). */
#ifndef PF_COMPARE_H
#define PF_COMPARE_H

#include "report/rdata.h"

typedef enum pf_cmp_verdict {
    PF_CMP_FASTER,
    PF_CMP_SLOWER,
    PF_CMP_SAME,       /* no significant change, or a significant one within the threshold */
    PF_CMP_AMBIGUOUS,  /* beyond the threshold but not significant: measure more */
    PF_CMP_FAILED,     /* timed ok in BASE, not ok in NEW */
    PF_CMP_FIXED,      /* not ok in BASE, timed ok in NEW */
    PF_CMP_UNTIMED,    /* timed on neither side (pruned, failed) */
    PF_CMP_BASE_ONLY,
    PF_CMP_NEW_ONLY,
    PF_CMP_N
} pf_cmp_verdict;

const char *pf_cmp_verdict_name(pf_cmp_verdict v);

typedef struct pf_cmp_opts {
    double threshold;   /* relative change of the median (0.05) */
    double alpha;       /* significance level (0.01) */
    int ignore_device;  /* match without the device; allow different devices */
} pf_cmp_opts;

typedef struct pf_cmp_point {
    int base, new_;        /* point indices, -1 when absent */
    pf_cmp_verdict verdict;
    double change;         /* new median / base median - 1 (NaN if not both timed) */
    double p;              /* p-value shown: of the test beyond the threshold for
                              faster/slower, else of the plain test (NaN: quartiles) */
    double p_beyond;       /* p of "moved beyond the threshold" (NaN: not tested) */
    const char *test;      /* "mann-whitney", "quartiles", or "" */
} pf_cmp_point;

/* Judge two timed records at level o->alpha (the core of compare;
 * unit-tested); pf_compare then adjusts for the number of points. */
void pf_cmp_judge(const pf_record *base, const pf_record *new_, const pf_cmp_opts *o,
                  pf_cmp_point *out);

/* Match and judge every point: BASE's order, then points only in NEW.
 * Refuses different devices unless o->ignore_device. *out is malloc'd. */
int pf_compare(const pf_rdata *base, const pf_rdata *new_, const pf_cmp_opts *o,
               pf_cmp_point **out, int *n);

#endif
