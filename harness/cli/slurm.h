/* Sweeps on a Slurm cluster. `pftune tune --slurm` writes into DIR a
 * job-array script (array task i: tune --shard i/N --resume --out
 * DIR/shard-i) and a merge job that runs after the whole array (merge
 * --complete-only of the shards into DIR), submits both with sbatch and
 * records the job ids in DIR/slurm-jobs.json; a rerun for the same DIR
 * submits only the shards that are not complete. `pftune status DIR` reads
 * the record back and asks squeue / sacct (when on PATH) how each task is. */
#ifndef PF_CLI_SLURM_H
#define PF_CLI_SLURM_H

#include <jansson.h>
#include <stddef.h>

#define PF_SLURM_JOBS_FILE "slurm-jobs.json"
#define PF_SLURM_MAX_ARGS 32
#define PF_SLURM_DEFAULT_TASKS 4

typedef struct pf_slurm_opts {
    char pftune[4096];          /* this binary, absolute */
    char profile[4096];         /* absolute */
    char out_dir[4096];         /* absolute */
    const char *device;         /* what tasks pass to --device: "all" or "emu" */
    int tasks;                  /* 0: the recorded submission's, else PF_SLURM_DEFAULT_TASKS */
    int gpus_per_task;          /* 0: none asked for (emu) */
    int cpus_per_task;          /* 0: the cluster's default */
    const char *partition, *time_limit, *account; /* NULL: the cluster's default */
    const char *sbatch_args[PF_SLURM_MAX_ARGS];
    int n_sbatch_args;
    const char *tune_args[2 * PF_SLURM_MAX_ARGS]; /* passed to every task's tune */
    int n_tune_args;
    int dry_run;                /* print the scripts and sbatch lines, submit nothing */
} pf_slurm_opts;

/* slurm_submit.c: write the scripts into o->out_dir, submit the unfinished
 * shards and the merge job, record the ids, print how to follow them.
 * 0, or -1 with pf_error set (sbatch missing or refusing, jobs of DIR still
 * queued, DIR split another way, ...). */
int pf_slurm_submit(const pf_slurm_opts *o);

/* slurm_script.c: the batch scripts as malloc'd text (NULL: out of memory).
 * `indices`: the --array list ("0-3", "1,3"). */
char *pf_slurm_array_script(const pf_slurm_opts *o, int tasks, const char *indices);
char *pf_slurm_merge_script(const pf_slurm_opts *o, int tasks);

/* slurm_jobs.c: DIR/slurm-jobs.json, {"schema": "pftune.slurm/1",
 * "profile", "tasks", "submissions": [{"submitted", "array_job",
 * "tasks": [i, ...], "merge_job"}]} (a submission of only the merge job has
 * no "array_job"). Load: the document, or NULL when DIR has none (pf_error
 * set when it exists but is unreadable: *bad = 1). */
json_t *pf_slurm_jobs_load(const char *dir, int *bad);
int pf_slurm_jobs_save(const char *dir, const json_t *jobs);
/* Task i's job id in the latest submission that ran it ("123_4"), 0; or
 * -1 when no submission did. */
int pf_slurm_task_job(const json_t *jobs, int task, char *id, size_t n);
/* Every job id the record names (arrays and merges), comma-separated. */
void pf_slurm_all_jobs(const json_t *jobs, char *ids, size_t n);

/* Slurm's word on jobs: squeue for queued and running ones (array tasks
 * one per line), then sacct for finished ones; each only when on PATH and
 * answering (sacct needs accounting). */
typedef struct pf_slurm_state {
    char id[48];                /* "123_4", "124" */
    char state[32];             /* "PENDING", "RUNNING", "COMPLETED", ... */
} pf_slurm_state;

typedef struct pf_slurm_states {
    int n;
    pf_slurm_state *v;
    int squeue, sacct;          /* which answered */
} pf_slurm_states;

void pf_slurm_states_query(const char *ids, pf_slurm_states *st);
const char *pf_slurm_state_of(const pf_slurm_states *st, const char *id); /* NULL: unknown */
void pf_slurm_states_free(pf_slurm_states *st);

/* Run argv (no shell) with stdout captured into out (NUL-terminated,
 * truncated to n - 1) and stderr into err (may be NULL); the exit status,
 * or -1 when it could not be started (pf_error set). */
int pf_slurm_run(char *const argv[], char *out, size_t n, char *err, size_t n_err);
/* Is `prog` an executable on PATH? */
int pf_slurm_on_path(const char *prog);

#endif
