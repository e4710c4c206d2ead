/* Progress of a sweep on stderr: a live bar when stderr is a terminal
 * (done / planned, failed, best so far, ETA), else one plain line per
 * finished point that a log or CI job can read. */
#ifndef PF_PROGRESS_H
#define PF_PROGRESS_H

#include "measure/record.h"

typedef struct pf_progress {
    int tty;
    int problem, n_problems;
    int planned, pruned, done, replayed, failed;
    double t0, best_ms;
    char best[256];
} pf_progress;

void pf_progress_init(pf_progress *p, int n_problems);
/* A new problem: `planned` points to evaluate, `pruned` refused before any run. */
void pf_progress_problem(pf_progress *p, int problem, int planned, int pruned);
/* A finished point; replayed: it came from the journal, not measured now. */
void pf_progress_point(pf_progress *p, const pf_record *r, int replayed);
void pf_progress_end_problem(pf_progress *p);

#endif
