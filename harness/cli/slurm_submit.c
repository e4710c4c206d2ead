/* `pftune tune --slurm`: find the shards of DIR that are not complete,
 * write the batch scripts, submit the array of those shards and the merge
 * job after it, and record the ids (see slurm.h). */
#include "cli/slurm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/atomic_file.h"
#include "core/iso_time.h"
#include "core/json_doc.h"
#include "core/pf_error.h"
#include "tuner/shard_state.h"

/* Does Slurm still hold this job (queued, running, requeued, suspended)? */
static int is_active(const char *state)
{
    static const char *const over[] = {"COMPLETED", "CANCELLED", "FAILED", "TIMEOUT",
                                       "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE",
                                       "PREEMPTED", NULL};
    for (int i = 0; over[i]; i++)
        if (strcmp(state, over[i]) == 0)
            return 0;
    return 1;
}

/* Is `id` ("123", "123_4") one of the comma-separated jobs, or a task of one? */
static int is_ours(const char *id, const char *ids)
{
    size_t len = strcspn(id, "_");
    for (const char *p = ids; *p;) {
        size_t l = strcspn(p, ",");
        if (l == len && strncmp(p, id, len) == 0)
            return 1;
        p += l + (p[l] == ',');
    }
    return 0;
}

/* Refuse while jobs of an earlier submission are in the queue: two tasks on
 * one shard would write one journal. */
static int check_idle(const json_t *jobs)
{
    char ids[8192], busy[1024] = "";
    pf_slurm_all_jobs(jobs, ids, sizeof ids);
    pf_slurm_states st;
    pf_slurm_states_query(ids, &st);
    size_t len = 0;
    for (int i = 0; i < st.n && len < sizeof busy; i++)
        if (is_ours(st.v[i].id, ids) && is_active(st.v[i].state))
            len += (size_t)snprintf(busy + len, sizeof busy - len, " %s (%s)", st.v[i].id,
                                    st.v[i].state);
    pf_slurm_states_free(&st);
    if (*busy)
        return pf_error_set("jobs of an earlier submission are still in the queue:%s; wait for "
                            "them or scancel them, then rerun",
                            busy);
    return 0;
}

/* The shards that are not complete, into todo[*n]. A shard directory
 * split another way is refused. */
static int unfinished(const char *dir, int tasks, int *todo, int *n)
{
    *n = 0;
    for (int i = 0; i < tasks; i++) {
        char sdir[4200], want[24] = "";
        snprintf(sdir, sizeof sdir, "%s/shard-%d", dir, i);
        pf_shard_state st;
        if (pf_shard_state_read(sdir, &st, NULL, NULL))
            return -1;
        if (tasks > 1)
            snprintf(want, sizeof want, "%d/%d", i, tasks);
        if (st.has_journal && strcmp(st.shard, want) != 0)
            return pf_error_set("%s holds shard %s, not %s: it belongs to another split; use "
                                "another --out",
                                sdir, *st.shard ? st.shard : "(unsharded)", want);
        if (!st.complete)
            todo[(*n)++] = i;
    }
    return 0;
}

/* Ascending indices as an --array list: "0-3", "1,3,5-7". */
static int array_list(const int *idx, int n, char *out, size_t size)
{
    size_t len = 0;
    out[0] = 0;
    for (int k = 0; k < n && len < size; k++) {
        int end = k;
        while (end + 1 < n && idx[end + 1] == idx[end] + 1)
            end++;
        len += (size_t)snprintf(out + len, size - len, "%s%d", len ? "," : "", idx[k]);
        if (end > k && len < size)
            len += (size_t)snprintf(out + len, size - len, "-%d", idx[end]);
        k = end;
    }
    return len < size ? 0 : pf_error_set("too many shards for one --array list");
}

static int write_script(const char *path, const char *text)
{
    return pf_atomic_write(path, text, strlen(text), 0755);
}

/* sbatch --parsable [extra] SCRIPT -> the job id. */
static int sbatch(const char *script, const char *extra, char *id, size_t n)
{
    char out[256], err[1024];
    char *argv[] = {"sbatch", "--parsable", (char *)(extra ? extra : script),
                    extra ? (char *)script : NULL, NULL};
    int rc = pf_slurm_run(argv, out, sizeof out, err, sizeof err);
    if (rc < 0)
        return -1;
    out[strcspn(out, ";\n")] = 0; /* "123" or "123;cluster" */
    if (rc != 0 || !*out) {
        err[strcspn(err, "\n")] = 0;
        return pf_error_set("sbatch %s failed (exit %d): %s", script, rc, *err ? err : "no job id");
    }
    if ((size_t)snprintf(id, n, "%s", out) >= n)
        return pf_error_set("sbatch %s: job id '%s' too long", script, out);
    return 0;
}

static int merged_complete(const char *dir)
{
    pf_shard_state st;
    return pf_shard_state_read(dir, &st, NULL, NULL) == 0 && st.complete;
}

static void print_dry_run(const pf_slurm_opts *o, const char *array, const char *merge,
                          const char *indices)
{
    if (array)
        printf("# %s/slurm-array.sh (tasks %s)\n%s\n", o->out_dir, indices, array);
    printf("# %s/slurm-merge.sh\n%s\n", o->out_dir, merge);
    printf("# --dry-run: nothing submitted; without it pftune would run\n");
    if (array)
        printf("#   sbatch --parsable %s/slurm-array.sh\n"
               "#   sbatch --parsable --dependency=afterany:<array job> %s/slurm-merge.sh\n",
               o->out_dir, o->out_dir);
    else
        printf("#   sbatch --parsable %s/slurm-merge.sh\n", o->out_dir);
}

static int submit(const pf_slurm_opts *o, json_t *jobs, const char *array, const char *merge,
                  int tasks, const int *todo, int n_todo, const char *indices)
{
    char path[4200], array_id[64] = "", merge_id[64] = "", dep[96] = "";
    if (!pf_slurm_on_path("sbatch"))
        return pf_error_set("sbatch is not on PATH: submit from a Slurm login node "
                            "(--dry-run prints the scripts)");
    snprintf(path, sizeof path, "%s/logs", o->out_dir);
    if ((mkdir(o->out_dir, 0755) != 0 && errno != EEXIST) ||
        (mkdir(path, 0755) != 0 && errno != EEXIST))
        return pf_error_set("%s: %s", path, strerror(errno));
    json_t *sub = json_object();
    char now[32];
    pf_iso_time_now(now, sizeof now);
    json_object_set_new(sub, "submitted", json_string(now));
    json_array_append_new(json_object_get(jobs, "submissions"), sub);
    if (array) {
        snprintf(path, sizeof path, "%s/slurm-array.sh", o->out_dir);
        if (write_script(path, array) || sbatch(path, NULL, array_id, sizeof array_id))
            return -1;
        json_object_set_new(sub, "array_job", json_string(array_id));
        json_t *list = json_array();
        for (int k = 0; k < n_todo; k++)
            json_array_append_new(list, json_integer(todo[k]));
        json_object_set_new(sub, "tasks", list);
        if (pf_slurm_jobs_save(o->out_dir, jobs)) /* the array is out: record it first */
            return -1;
        snprintf(dep, sizeof dep, "--dependency=afterany:%s", array_id);
    }
    snprintf(path, sizeof path, "%s/slurm-merge.sh", o->out_dir);
    if (write_script(path, merge) || sbatch(path, *dep ? dep : NULL, merge_id, sizeof merge_id))
        return -1;
    json_object_set_new(sub, "merge_job", json_string(merge_id));
    if (pf_slurm_jobs_save(o->out_dir, jobs))
        return -1;
    if (array)
        printf("slurm: array job %s: tasks %s of %d (task i sweeps shard i into %s/shard-i, "
               "log %s/logs/task-i.log)\n",
               array_id, indices, tasks, o->out_dir, o->out_dir);
    printf("slurm: merge job %s%s: merges the complete shards into %s/results.json and "
           "tuned.json (log %s/logs/merge.log)\n",
           merge_id, array ? " (after the array ends)" : "", o->out_dir, o->out_dir);
    const char *ids = array ? array_id : "";
    printf("follow it:\n"
           "  squeue -j %s%s%s\n"
           "  sacct -X -j %s%s%s --format=JobID,JobName,State,Elapsed,ExitCode\n"
           "  pftune status %s\n"
           "rerun this command to resubmit the shards that do not finish (cancelled, failed, "
           "out of time)\n",
           ids, *ids ? "," : "", merge_id, ids, *ids ? "," : "", merge_id, o->out_dir);
    return 0;
}

int pf_slurm_submit(const pf_slurm_opts *o)
{
    int bad = 0, rc = 0;
    json_t *jobs = pf_slurm_jobs_load(o->out_dir, &bad);
    if (bad)
        return -1;
    int tasks = o->tasks ? o->tasks : PF_SLURM_DEFAULT_TASKS;
    if (jobs) {
        int recorded = (int)json_integer_value(json_object_get(jobs, "tasks"));
        if (o->tasks && o->tasks != recorded)
            rc = pf_error_set("%s was submitted as %d tasks (its shards are split %d ways): "
                              "--tasks %d, or another --out",
                              o->out_dir, recorded, recorded, recorded);
        tasks = recorded;
        if (rc == 0)
            rc = check_idle(jobs);
    } else {
        jobs = pf_json_doc_new("pftune.slurm", 1);
        json_object_set_new(jobs, "profile", json_string(o->profile));
        json_object_set_new(jobs, "tasks", json_integer(tasks));
        json_object_set_new(jobs, "submissions", json_array());
    }
    char indices[8192];
    int n_todo = 0, *todo = calloc((size_t)tasks, sizeof *todo);
    if (rc == 0 && !todo)
        rc = pf_error_set("out of memory");
    if (rc == 0)
        rc = unfinished(o->out_dir, tasks, todo, &n_todo);
    if (rc == 0)
        rc = array_list(todo, n_todo, indices, sizeof indices);
    if (rc == 0 && n_todo == 0 && merged_complete(o->out_dir)) {
        printf("slurm: nothing to submit: all %d shards are complete and merged in "
               "%s/results.json\n",
               tasks, o->out_dir);
        free(todo);
        json_decref(jobs);
        return 0;
    }
    char *array = NULL, *merge = NULL;
    if (rc == 0 && n_todo > 0 && !(array = pf_slurm_array_script(o, tasks, indices)))
        rc = pf_error_set("out of memory");
    if (rc == 0 && !(merge = pf_slurm_merge_script(o, tasks)))
        rc = pf_error_set("out of memory");
    if (rc == 0 && o->dry_run)
        print_dry_run(o, array, merge, indices);
    else if (rc == 0)
        rc = submit(o, jobs, array, merge, tasks, todo, n_todo, indices);
    free(array), free(merge), free(todo);
    json_decref(jobs);
    return rc;
}
