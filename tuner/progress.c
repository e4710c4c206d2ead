/* Sweep progress (see progress.h). */
#include "tuner/progress.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"

void pf_progress_init(pf_progress *p, int n_problems)
{
    memset(p, 0, sizeof *p);
    p->tty = isatty(STDERR_FILENO);
    p->n_problems = n_problems;
}

void pf_progress_problem(pf_progress *p, int problem, int planned, int pruned)
{
    p->problem = problem;
    p->planned = planned;
    p->pruned = pruned;
    p->done = p->replayed = p->failed = 0;
    p->best_ms = INFINITY;
    p->best[0] = 0;
    p->t0 = pf_clock_seconds();
}

static void bar(const pf_progress *p)
{
    int measured = p->done - p->replayed;
    double el = pf_clock_seconds() - p->t0;
    double eta = measured > 0 && p->planned > p->done ? el / measured * (p->planned - p->done) : 0;
    fprintf(stderr, "\r  problem %d/%d [%d/%d] %d pruned, %d failed", p->problem, p->n_problems,
            p->done, p->planned, p->pruned, p->failed);
    if (isfinite(p->best_ms))
        fprintf(stderr, ", best %.3f ms", p->best_ms);
    fprintf(stderr, ", ETA %d:%02d   ", (int)eta / 60, (int)eta % 60);
    fflush(stderr);
}

void pf_progress_point(pf_progress *p, const pf_record *r, int replayed)
{
    p->done++;
    p->replayed += replayed;
    int ok = r->status == PF_STATUS_OK && r->time.samples > 0;
    p->failed += !ok;
    if (ok && r->time.median_ms < p->best_ms) {
        p->best_ms = r->time.median_ms;
        snprintf(p->best, sizeof p->best, "%s", r->variant);
    }
    if (p->tty) {
        bar(p);
        return;
    }
    fprintf(stderr, "tune:   [%d/%d] %-14s", p->done, p->planned, pf_status_name(r->status));
    if (ok)
        fprintf(stderr, " %9.3f ms %-11s", r->time.median_ms, r->time.timer);
    fprintf(stderr, " %s%s", r->variant, replayed ? " (from the journal)" : "");
    if (!ok && r->message[0])
        fprintf(stderr, ": %.300s", r->message);
    fputc('\n', stderr);
}

void pf_progress_end_problem(pf_progress *p)
{
    if (p->tty)
        fputc('\n', stderr);
    if (p->best[0])
        fprintf(stderr, "tune:   best %.3f ms: %s\n", p->best_ms, p->best);
}
