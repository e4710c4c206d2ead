/* `model`: model-guided search. Each candidate's log time is predicted as
 *
 *   b0 + bp * prior(c) + sum over axes of effect[axis][value of c]
 *
 * where prior(c) is the log of a cost estimate from the static info (tiles
 * weighted by class, over occupancy, spills and mask metadata; 0 for all
 * when nothing is known) and the effects are per-axis-value mean effects.
 * After each result the model is refitted by ridge backfitting over the
 * successful measurements (a few Gauss-Seidel sweeps, warm-started), which
 * shrinks effects of rarely seen values toward zero and bp toward 1.
 *
 * next() returns the candidate with the lowest optimistic prediction
 * (prediction - uncertainty, where values tried less often, counting those
 * in flight, are more uncertain: that spreads the first picks over the axis
 * values and keeps asked-ahead picks apart) plus a penalty for values whose
 * candidates have failed. It stops early once no remaining candidate's own
 * time, two sigmas optimistic (the prediction's uncertainty plus the
 * residual spread), would beat the best measured time by MARGIN; not
 * before it has twice as many times as fitted parameters (plus 4). Ties go
 * to a seeded random key, so the sequence is deterministic per seed. */
#include <math.h>
#include <stdlib.h>

#include "core/pf_error.h"
#include "tuner/strategy_internal.h"

#define LAMBDA 0.3        /* ridge: pseudo-observations of effect 0 per axis value */
#define LAMBDA_PRIOR 4.0  /* pseudo-observations holding bp at 1 */
#define SIGMA_START 0.3   /* log-time residual assumed until the fit can tell */
#define SIGMA_MIN 0.01    /* models are never believed closer than 1% */
#define SIGMA_EXPLORE 0.05 /* ... nor, when choosing, than 5% (keeps exploring) */
#define BETA_RANK 1.0     /* exploration weight when choosing */
#define BETA_STOP 2.0     /* width of the bound when deciding to stop */
#define MARGIN 0.01       /* stop when nothing left can beat the best by 1% */
#define FAIL_PENALTY 0.1  /* log-time added per failure rate of a value */
#define SWEEPS 6

enum { UNASKED, IN_FLIGHT, TOLD };

typedef struct model {
    pf_search search;
    int n, cap, asked, n_axes, n_values;
    int voff[PF_SEARCH_MAX_AXES]; /* each axis' slice of the per-value arrays */
    double *eff, *vsum;           /* per value: fitted effect, fit scratch */
    int *seen, *told, *fails, *finite; /* per value: asked, told, failed, timed */
    double *prior, *y, *r;        /* per candidate: log cost, log time, residual */
    uint64_t *tie;
    char *state;
    int *timed;                   /* candidates with a finite time, in tell order */
    int m;                        /* how many */
    double b0, bp, sigma, best_y;
    double tau2;                  /* variance of the fitted effects, at least
                                     SIGMA_START^2: rare values are not trusted early */
    int distinct[PF_SEARCH_MAX_AXES]; /* values of each axis with a time */
    int has_prior;                /* the priors differ somewhere */
    int stopped;
} model;

static void md_destroy(void *state)
{
    model *md = state;
    if (!md)
        return;
    free(md->eff);
    free(md->vsum);
    free(md->seen);
    free(md->told);
    free(md->fails);
    free(md->finite);
    free(md->prior);
    free(md->y);
    free(md->r);
    free(md->tie);
    free(md->state);
    free(md->timed);
    free(md);
}

/* log of the static cost estimate, or NaN when nothing useful is known.
 * A partial tile does the full tile's work plus masking; an empty one costs
 * a full tile unless the variant skips it; a byte of mask metadata is
 * weighed against a K/V tile's ~16 KiB of loads. */
static double static_cost(const pf_candidate_info *ci)
{
    double cost = 1;
    int known = 0;
    double tiles = -1;
    if (ci->tiles_full >= 0 && ci->tiles_partial >= 0) {
        tiles = ci->tiles_full + 1.5 * ci->tiles_partial;
        if (ci->tiles_empty > 0)
            tiles += ci->tiles_empty * (ci->skips_empty == 1 ? 0.05 : 1.0);
    } else if (ci->work_units > 0) {
        tiles = ci->work_units;
    }
    if (tiles > 0) {
        cost = tiles;
        if (ci->metadata_bytes > 0)
            cost += ci->metadata_bytes / 16384.0;
        known = 1;
    }
    if (ci->occupancy > 0) {
        cost /= ci->occupancy > 0.05 ? ci->occupancy : 0.05;
        known = 1;
    }
    if (ci->spill_bytes >= 0) {
        cost *= 1 + ci->spill_bytes / 256.0;
        known = 1;
    }
    return known ? log(cost) : NAN;
}

/* Centre the priors; candidates without one get the mean (no opinion). */
static void set_priors(model *md)
{
    double sum = 0;
    int k = 0;
    for (int c = 0; c < md->n; c++) {
        md->prior[c] = static_cost(&md->search.cand[c]);
        if (!isnan(md->prior[c])) {
            sum += md->prior[c];
            k++;
        }
    }
    double mean = k ? sum / k : 0;
    for (int c = 0; c < md->n; c++) {
        md->prior[c] = isnan(md->prior[c]) ? 0 : md->prior[c] - mean;
        md->has_prior |= md->prior[c] != 0;
    }
}

static int md_create(const pf_search *s, void **state)
{
    if (pf_strategy_check(s, 1))
        return -1;
    model *md = calloc(1, sizeof *md);
    if (!md)
        return pf_error_set("strategy: out of memory");
    md->search = *s;
    md->n = s->n;
    md->n_axes = s->n_axes;
    md->cap = pf_strategy_cap(s);
    for (int a = 0; a < s->n_axes; a++) {
        md->voff[a] = md->n_values;
        md->n_values += s->axis_size[a];
    }
    size_t nv = (size_t)md->n_values + 1, n = (size_t)s->n + 1;
    md->eff = calloc(nv, sizeof *md->eff);
    md->vsum = calloc(nv, sizeof *md->vsum);
    md->seen = calloc(nv, sizeof *md->seen);
    md->told = calloc(nv, sizeof *md->told);
    md->fails = calloc(nv, sizeof *md->fails);
    md->finite = calloc(nv, sizeof *md->finite);
    md->prior = malloc(n * sizeof *md->prior);
    md->y = malloc(n * sizeof *md->y);
    md->r = malloc(n * sizeof *md->r);
    md->tie = malloc(n * sizeof *md->tie);
    md->state = calloc(n, 1);
    md->timed = malloc(n * sizeof *md->timed);
    if (!md->eff || !md->vsum || !md->seen || !md->told || !md->fails || !md->finite || !md->prior ||
        !md->y || !md->r || !md->tie || !md->state || !md->timed) {
        md_destroy(md);
        return pf_error_set("strategy: out of memory for %d candidates", s->n);
    }
    pf_srng g;
    pf_srng_seed(&g, s->seed);
    for (int c = 0; c < s->n; c++)
        md->tie[c] = pf_srng_next(&g);
    set_priors(md);
    md->bp = 1;
    md->sigma = SIGMA_START;
    md->tau2 = SIGMA_START * SIGMA_START;
    md->best_y = INFINITY;
    *state = md;
    return 0;
}

static int value_of(const model *md, int c, int a)
{
    return md->voff[a] + md->search.cand[c].axis[a];
}

static double predict(const model *md, int c)
{
    double p = md->b0 + md->bp * md->prior[c];
    for (int a = 0; a < md->n_axes; a++)
        p += md->eff[value_of(md, c, a)];
    return p;
}

/* How far the truth may plausibly sit below the prediction (one standard
 * deviation): the noise `sigma` averaged over a value's times, plus the
 * effects' own spread `tau` for values seen in few candidates, where a bad
 * time may belong to another rare value of the same candidate. Failures pin
 * nothing; candidates in flight count, so picks asked ahead spread out. */
static double spread(const model *md, int c, double sigma)
{
    double s2 = sigma * sigma, var = s2 / (md->m + 1);
    for (int a = 0; a < md->n_axes; a++) {
        int x = value_of(md, c, a);
        double k = md->seen[x] - md->fails[x];
        var += s2 / (k + 1) + md->tau2 / ((k + 1) * (k + 1));
    }
    return sqrt(var);
}

static double fail_penalty(const model *md, int c)
{
    double p = 0;
    for (int a = 0; a < md->n_axes; a++) {
        int v = value_of(md, c, a);
        p += (double)md->fails[v] / (md->told[v] + 1);
    }
    return FAIL_PENALTY * p;
}

/* Parameters the timed data pins down: intercept, prior slope, and per
 * axis one less than the values seen (the intercept absorbs one). */
static int degrees(const model *md)
{
    int d = 1 + md->has_prior;
    for (int a = 0; a < md->n_axes; a++)
        d += md->distinct[a] > 1 ? md->distinct[a] - 1 : 0;
    return d;
}

/* Ridge backfitting over the timed candidates, warm-started. */
static void refit(model *md)
{
    int m = md->m;
    if (m == 0)
        return;
    for (int i = 0; i < m; i++) {
        int c = md->timed[i];
        md->r[c] = md->y[c] - predict(md, c);
    }
    double *sum = md->vsum;
    for (int sweep = 0; sweep < SWEEPS; sweep++) {
        double mean = 0, spp = 0, sup = 0;
        for (int i = 0; i < m; i++)
            mean += md->r[md->timed[i]];
        mean /= m;
        md->b0 += mean;
        for (int i = 0; i < m; i++) {
            int c = md->timed[i];
            md->r[c] -= mean;
            double p = md->prior[c], u = md->r[c] + md->bp * p;
            spp += p * p;
            sup += u * p;
        }
        double bp = (sup + LAMBDA_PRIOR) / (spp + LAMBDA_PRIOR);
        for (int i = 0; i < m; i++)
            md->r[md->timed[i]] -= (bp - md->bp) * md->prior[md->timed[i]];
        md->bp = bp;
        for (int a = 0; a < md->n_axes; a++) {
            int lo = md->voff[a], hi = lo + md->search.axis_size[a];
            for (int v = lo; v < hi; v++)
                sum[v] = 0;
            for (int i = 0; i < m; i++)
                sum[value_of(md, md->timed[i], a)] += md->r[md->timed[i]];
            for (int v = lo; v < hi; v++) {
                double e = (sum[v] + md->finite[v] * md->eff[v]) / (md->finite[v] + LAMBDA);
                sum[v] = e - md->eff[v]; /* now the change */
                md->eff[v] = e;
            }
            for (int i = 0; i < m; i++)
                md->r[md->timed[i]] -= sum[value_of(md, md->timed[i], a)];
        }
    }
    double e2 = 0;
    int ne = 0;
    for (int v = 0; v < md->n_values; v++)
        if (md->finite[v] > 0) {
            e2 += md->eff[v] * md->eff[v];
            ne++;
        }
    md->tau2 = fmax(ne ? e2 / ne : 0, SIGMA_START * SIGMA_START);
    double rss = 0;
    for (int i = 0; i < m; i++)
        rss += md->r[md->timed[i]] * md->r[md->timed[i]];
    int dof = degrees(md);
    md->sigma = m > dof + 1 ? sqrt(rss / (m - dof)) : SIGMA_START;
    if (md->sigma < SIGMA_MIN)
        md->sigma = SIGMA_MIN;
}

static int md_next(void *state)
{
    model *md = state;
    if (md->stopped || md->asked >= md->cap)
        return -1;
    int pick = -1, can_stop = md->m >= 2 * degrees(md) + 4 && md->best_y < INFINITY;
    double best_score = INFINITY, lowest_bound = INFINITY;
    for (int c = 0; c < md->n; c++) {
        if (md->state[c] != UNASKED)
            continue;
        double pred = predict(md, c);
        double score = pred + fail_penalty(md, c) -
                       BETA_RANK * spread(md, c, fmax(md->sigma, SIGMA_EXPLORE));
        /* stopping asks about this candidate's own time, not the mean's */
        double sp = spread(md, c, md->sigma);
        double bound = pred - BETA_STOP * sqrt(sp * sp + md->sigma * md->sigma);
        if (pick < 0 || score < best_score ||
            (score == best_score && md->tie[c] < md->tie[pick])) {
            pick = c;
            best_score = score;
        }
        if (bound < lowest_bound)
            lowest_bound = bound;
    }
    if (pick < 0 || (can_stop && lowest_bound >= md->best_y + log1p(-MARGIN))) {
        md->stopped = 1;
        return -1;
    }
    md->state[pick] = IN_FLIGHT;
    md->asked++;
    for (int a = 0; a < md->n_axes; a++)
        md->seen[value_of(md, pick, a)]++;
    return pick;
}

static void md_tell(void *state, int c, double ms)
{
    model *md = state;
    if (c < 0 || c >= md->n || md->state[c] != IN_FLIGHT)
        return; /* not asked, or told twice */
    md->state[c] = TOLD;
    int timed = ms > 0 && ms < INFINITY; /* NaN, 0 and negatives are failures too */
    for (int a = 0; a < md->n_axes; a++) {
        int v = value_of(md, c, a);
        md->told[v]++;
        if (!timed)
            md->fails[v]++;
        else if (md->finite[v]++ == 0)
            md->distinct[a]++;
    }
    if (!timed)
        return;
    md->y[c] = log(ms);
    md->timed[md->m++] = c;
    if (md->y[c] < md->best_y)
        md->best_y = md->y[c];
    refit(md);
}

const pf_strategy_ops pf_strategy_model = {
    .name = "model",
    .help = "model-guided: ranks by static cost, refits per-axis effects after each result",
    .create = md_create,
    .next = md_next,
    .tell = md_tell,
    .destroy = md_destroy,
};
