/* The measurement loop against a fake backend whose events read a virtual
 * clock, and its statistics against an independent rank-counting reference. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "device/device.h"
#include "measure/measure.h"
#include "core/pf_error.h"
#include "pf_test.h"

/* ---- fake backend ---- */

struct pf_event {
    double t;
};

struct pf_device {
    struct pf_device_base base;
    double clock_ms;       /* virtual time */
    size_t l2;
    int allocs, frees, flushes, syncs;
    size_t flush_bytes;
    pf_dptr flush_buf;
    int events_live;
};

static int fake_props(pf_device *d, pf_device_props *p)
{
    memset(p, 0, sizeof *p);
    snprintf(p->backend, sizeof p->backend, "cuda");
    p->l2_bytes = d->l2;
    return 0;
}
static int fake_alloc(pf_device *d, size_t n, const char *label, pf_dptr *out)
{
    (void)label;
    d->allocs++;
    d->flush_buf = (pf_dptr)(uintptr_t)malloc(1);
    d->flush_bytes = n;
    *out = d->flush_buf;
    return 0;
}
static int fake_free(pf_device *d, pf_dptr p)
{
    d->frees++;
    free((void *)(uintptr_t)p);
    return 0;
}
static int fake_memset8(pf_device *d, pf_dptr p, int v, size_t n, pf_stream *s)
{
    (void)v, (void)s;
    if (p == d->flush_buf && n == d->flush_bytes)
        d->flushes++;
    d->clock_ms += 1000.0; /* a flush is slow, and must not be timed */
    return 0;
}
static int fake_sync(pf_device *d, pf_stream *s)
{
    (void)s;
    d->syncs++;
    return 0;
}
static int fake_event_create(pf_device *d, pf_event **out)
{
    d->events_live++;
    *out = calloc(1, sizeof **out);
    return 0;
}
static int fake_event_destroy(pf_device *d, pf_event *e)
{
    d->events_live--;
    free(e);
    return 0;
}
static int fake_event_record(pf_device *d, pf_event *e, pf_stream *s)
{
    (void)s;
    e->t = d->clock_ms;
    return 0;
}
static int fake_elapsed(pf_device *d, pf_event *a, pf_event *b, float *ms)
{
    (void)d;
    *ms = (float)(b->t - a->t);
    return 0;
}

static const pf_backend_ops fake_ops = {
    .name = "cuda",
    .props = fake_props,
    .alloc = fake_alloc,
    .free = fake_free,
    .memset8 = fake_memset8,
    .stream_sync = fake_sync,
    .event_create = fake_event_create,
    .event_destroy = fake_event_destroy,
    .event_record = fake_event_record,
    .event_elapsed_ms = fake_elapsed,
};

/* The work: advances the clock by the next duration in a list (cycling). */
typedef struct work {
    pf_device *dev;
    const double *durations;
    int n, calls, fail_at;
} work;

static int run_work(void *ctx, pf_stream *s)
{
    (void)s;
    work *w = ctx;
    if (w->fail_at && w->calls + 1 == w->fail_at)
        return pf_error_set("kernel exploded");
    w->dev->clock_ms += w->durations[w->calls % w->n];
    w->calls++;
    return 0;
}

/* ---- independent statistics reference ---- */

/* k-th smallest (0-based) by counting ranks: no sorting involved. */
static double kth_smallest(const double *v, int n, int k)
{
    for (int i = 0; i < n; i++) {
        int less = 0, equal = 0;
        for (int j = 0; j < n; j++) {
            less += v[j] < v[i];
            equal += v[j] == v[i];
        }
        if (less <= k && k < less + equal)
            return v[i];
    }
    return NAN;
}

static double ref_quantile(const double *v, int n, double q)
{
    double h = (n - 1) * q;
    int lo = (int)h;
    double lo_v = kth_smallest(v, n, lo);
    double hi_v = lo + 1 < n ? kth_smallest(v, n, lo + 1) : lo_v;
    return lo_v + (h - lo) * (hi_v - lo_v);
}

static int close_to(double a, double b) { return fabs(a - b) <= 1e-9 * (1 + fabs(b)); }

static void test_summarize_known(void)
{
    /* numpy: percentile([4,1,3,2], [25,50,75]) = 1.75, 2.5, 3.25 */
    double v[4] = {4, 1, 3, 2};
    pf_measure_summary s;
    CHECK(pf_measure_summarize(v, 4, &s) == 0);
    CHECK(close_to(s.q1_ms, 1.75) && close_to(s.median_ms, 2.5) && close_to(s.q3_ms, 3.25));
    CHECK(close_to(s.mean_ms, 2.5) && close_to(s.stdev_ms, sqrt(5.0 / 3.0)));
    CHECK(s.min_ms == 1 && s.max_ms == 4 && s.samples == 4);
    double one = 7.25;
    CHECK(pf_measure_summarize(&one, 1, &s) == 0);
    CHECK(s.median_ms == 7.25 && s.q1_ms == 7.25 && s.stdev_ms == 0 && s.stdrel == 0);
    CHECK(pf_measure_summarize(v, 0, &s) == -1);
}

static void test_summarize_random(void)
{
    for (int trial = 0; trial < 200; trial++) {
        int n = 1 + rand() % 61;
        double v[61];
        for (int i = 0; i < n; i++) /* some ties on purpose */
            v[i] = (rand() % 4 == 0) ? 5.0 : (double)rand() / RAND_MAX * 10.0;
        pf_measure_summary s;
        CHECK(pf_measure_summarize(v, n, &s) == 0);
        double sum = 0, ss = 0;
        for (int i = 0; i < n; i++)
            sum += v[i];
        for (int i = 0; i < n; i++)
            ss += (v[i] - sum / n) * (v[i] - sum / n);
        CHECK(close_to(s.median_ms, ref_quantile(v, n, 0.5)));
        CHECK(close_to(s.q1_ms, ref_quantile(v, n, 0.25)));
        CHECK(close_to(s.q3_ms, ref_quantile(v, n, 0.75)));
        CHECK(close_to(s.min_ms, kth_smallest(v, n, 0)) && close_to(s.max_ms, kth_smallest(v, n, n - 1)));
        CHECK(close_to(s.mean_ms, sum / n));
        CHECK(n < 2 || close_to(s.stdev_ms, sqrt(ss / (n - 1))));
        CHECK(s.q1_ms <= s.median_ms && s.median_ms <= s.q3_ms);
    }
}

static void test_loop_converges(void)
{
    pf_device dev = {.base = {&fake_ops}, .l2 = 1000 + (size_t)(rand() % 100000)};
    double base = 0.5 + (double)rand() / RAND_MAX;
    double d[3] = {base, base * 1.001, base * 0.999}; /* stdrel ~0.1% */
    work w = {&dev, d, 3, 0, 0};
    pf_measure_opts o;
    pf_measure_defaults(&o);
    o.warmup = 2 + rand() % 4;
    pf_measure_summary s;
    double samples[1000];
    CHECK_MSG(pf_measure_run(&dev, NULL, run_work, &w, &o, &s, samples) == 0, "%s", pf_error_get());
    CHECK(s.converged && s.samples == o.min_samples);
    CHECK(w.calls == o.warmup + s.samples);
    CHECK(dev.flushes == s.samples && dev.flush_bytes == 2 * dev.l2);
    CHECK(dev.allocs == 1 && dev.frees == 1 && dev.events_live == 0 && dev.syncs >= 1);
    CHECK(strcmp(s.timer, "cuda-events") == 0);
    /* the flush time never leaks into samples; samples follow the durations
     * after the warm-up runs */
    for (int i = 0; i < s.samples; i++)
        CHECK(fabs(samples[i] - d[(o.warmup + i) % 3]) < 1e-3);
    CHECK(s.min_ms < base * 1.01 && s.max_ms > base * 0.99);
}

static void test_loop_noisy_hits_cap(void)
{
    pf_device dev = {.base = {&fake_ops}, .l2 = 0};
    double d[2] = {1.0, 3.0}; /* stdrel ~50%: never converges */
    work w = {&dev, d, 2, 0, 0};
    pf_measure_opts o;
    pf_measure_defaults(&o);
    o.max_samples = 17 + rand() % 20;
    pf_measure_summary s;
    CHECK(pf_measure_run(&dev, NULL, run_work, &w, &o, &s, NULL) == 0);
    CHECK(!s.converged && s.samples == o.max_samples);
    CHECK(dev.flush_bytes == ((size_t)32 << 20)); /* unknown L2: fallback size */
    CHECK(s.stdrel > 0.3);

    /* no flush requested: no buffer */
    pf_device dev2 = {.base = {&fake_ops}, .l2 = 4096};
    work w2 = {&dev2, d, 2, 0, 0};
    o.flush_l2 = 0;
    CHECK(pf_measure_run(&dev2, NULL, run_work, &w2, &o, &s, NULL) == 0);
    CHECK(dev2.allocs == 0 && dev2.flushes == 0);
}

static void test_loop_errors(void)
{
    pf_device dev = {.base = {&fake_ops}, .l2 = 64};
    double d[1] = {1.0};
    pf_measure_opts o;
    pf_measure_defaults(&o);
    work w = {&dev, d, 1, 0, o.warmup + 4}; /* fails in the 4th sample */
    pf_measure_summary s;
    CHECK(pf_measure_run(&dev, NULL, run_work, &w, &o, &s, NULL) == -1);
    CHECK(strstr(pf_error_get(), "sample 4") && strstr(pf_error_get(), "kernel exploded"));
    CHECK(dev.frees == dev.allocs && dev.events_live == 0);
    o.min_samples = o.max_samples + 1;
    CHECK(pf_measure_run(&dev, NULL, run_work, &w, &o, &s, NULL) == -1);
    CHECK(strcmp(pf_measure_timer_label(PF_BACKEND_EMU), "emu-host") == 0);
}

/* ---- timer choice and fallbacks: the label names what produced the number ---- */

static int failing_event_create(pf_device *d, pf_event **out)
{
    (void)d, (void)out;
    return pf_error_set("no events on this device");
}

/* A profiler-like observer: times each sample as 7 ms, or cannot start. */
typedef struct fake_obs {
    int fail_start, begins, ends, finished;
} fake_obs;
static int obs_start(void *self)
{
    fake_obs *f = self;
    return f->fail_start ? pf_error_set("profiler busy") : 0;
}
static int obs_begin(void *self)
{
    ((fake_obs *)self)->begins++;
    return 0;
}
static int obs_end(void *self, double *ms)
{
    ((fake_obs *)self)->ends++;
    *ms = 7.0;
    return 0;
}
static int obs_finish(void *self, size_t *peak)
{
    ((fake_obs *)self)->finished++;
    *peak = 4096;
    return 0;
}

static void test_timer_fallbacks(void)
{
    double d[1] = {2.0};
    pf_measure_opts o;
    pf_measure_defaults(&o);
    o.min_samples = o.max_samples = 5;
    o.flush_l2 = 0;
    pf_measure_summary s;

    /* events cannot be created: host clock, labelled "host", with the reason */
    pf_backend_ops no_events = fake_ops;
    no_events.event_create = failing_event_create;
    pf_device dev = {.base = {&no_events}};
    work w = {&dev, d, 1, 0, 0};
    CHECK_MSG(pf_measure_run(&dev, NULL, run_work, &w, &o, &s, NULL) == 0, "%s", pf_error_get());
    CHECK_MSG(strcmp(s.timer, "host") == 0, "timer %s", s.timer);
    CHECK(strstr(s.timer_note, "device events unavailable") && strstr(s.timer_note, "no events"));
    /* the virtual clock advanced 2 ms per run; the host clock did not */
    CHECK(s.samples == 5 && s.median_ms < 1.0);
    CHECK(dev.events_live == 0);

    /* a timing observer: its name is the label, its times are the samples */
    pf_device dev2 = {.base = {&fake_ops}};
    work w2 = {&dev2, d, 1, 0, 0};
    fake_obs f = {0};
    pf_measure_observer obs = {"fakeprof", 1, &f, obs_start, obs_begin, obs_end, obs_finish};
    o.observer = &obs;
    CHECK(pf_measure_run(&dev2, NULL, run_work, &w2, &o, &s, NULL) == 0);
    CHECK(strcmp(s.timer, "fakeprof") == 0 && s.timer_note[0] == 0);
    CHECK(s.min_ms == 7.0 && s.max_ms == 7.0 && s.mem_peak_bytes == 4096);
    CHECK(f.begins == 5 && f.ends == 5 && f.finished == 1);

    /* the observer cannot start: device events time it, and say so */
    fake_obs g = {.fail_start = 1};
    obs.self = &g;
    pf_device dev3 = {.base = {&fake_ops}};
    work w3 = {&dev3, d, 1, 0, 0};
    CHECK(pf_measure_run(&dev3, NULL, run_work, &w3, &o, &s, NULL) == 0);
    CHECK(strcmp(s.timer, "cuda-events") == 0 && strstr(s.timer_note, "profiler busy"));
    CHECK(fabs(s.median_ms - 2.0) < 1e-6 && g.begins == 0 && s.mem_peak_bytes == 0);
}

int main(void)
{
    pf_test_srand(); /* fresh inputs each run; PF_TEST_SEED=N replays one */
    test_summarize_known();
    test_summarize_random();
    test_loop_converges();
    test_loop_noisy_hits_cap();
    test_loop_errors();
    test_timer_fallbacks();
    return PF_TEST_RESULT();
}
