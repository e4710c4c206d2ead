/* A metric over a series of results files (`pftune history`): for each
 * problem, the median time of its best variant in each result, and step
 * changes found in that series. */
#ifndef PF_HISTORY_H
#define PF_HISTORY_H

/* One value of the series: the median and, when recorded, the raw samples
 * behind it (borrowed). */
typedef struct pf_hist_value {
    double median;             /* NaN: the key was not timed in this result */
    const double *samples;
    int n_samples;
} pf_hist_value;

typedef struct pf_hist_step {
    int at;            /* index of the first result after the step */
    double change;     /* relative change of the level (after / before - 1) */
    double p;          /* two-sided p-value */
    const char *test;  /* "mann-whitney" (pooled samples) or "welch-t" (log medians) */
} pf_hist_step;

#define PF_HIST_WINDOW 5

/* Steps in v[0..n): for each split k, the results in the `window` before
 * and from k on are compared: Mann-Whitney U on their pooled raw samples
 * when every one has >= 3, else Welch's t on the log medians (>= 2 a side).
 * The level change is the ratio of the geometric means of the medians. A
 * split is a step when p < alpha and |change| > threshold and its |log
 * change| is the largest among such splits within `window` of it (the
 * neighbours of a real step see a diluted change). Up to max_steps, in
 * order. Returns the count. */
int pf_history_steps(const pf_hist_value *v, int n, int window, double threshold, double alpha,
                     pf_hist_step *out, int max_steps);

#endif
