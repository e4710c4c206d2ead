/* A tuning sweep: profile -> problems -> search spaces -> strategy ->
 * runner workers (compile, verify, measure on each device) -> journal ->
 * results.json and tuned.json in the output directory. */
#ifndef PF_TUNE_H
#define PF_TUNE_H

#include <stdint.h>

typedef struct pf_tune_opts {
    const char *profile_path;
    const char *out_dir;
    const char *strategy;   /* NULL: the profile's */
    int budget_evals;       /* -1: the profile's; 0: none */
    double budget_seconds;  /* -1: the profile's; 0: none */
    int has_seed;
    uint64_t seed;          /* with has_seed: overrides the profile's */
    int resume;
    int shard_i, shard_n;   /* shard i of n (n = 1: everything; split by cost: shard_plan.h) */
    const char *device;     /* "auto", "emu", "cuda:0,cuda:1", "all" */
    int jobs;               /* emu: worker processes (GPUs: one per device) */
    double timeout_s;       /* per point; 0: none */
    const char *version;    /* "0.1.0 (rev)" for the journal and meta */
    int argc;
    char **argv;
} pf_tune_opts;

/* Run the sweep; progress on stderr, a summary on stdout. 0, or -1 with
 * pf_error set (bad profile, refused resume, no device, ...). */
int pf_tune_run(const pf_tune_opts *o);

#endif
