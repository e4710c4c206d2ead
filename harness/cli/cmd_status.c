/* `pftune status DIR`: how far a sweep has come, shard by shard: points
 * done / pruned / failed / remaining from each shard's journal and planned
 * count, the Slurm state of each array task (from the ids `tune --slurm`
 * recorded, when squeue / sacct answer), the best variant so far per
 * problem and whether the merged results are there. DIR: a `tune --slurm`
 * output, a folder of shard-*, or one tune --out. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/slurm.h"
#include "core/json_doc.h"
#include "core/pf_error.h"
#include "tuner/shard_state.h"

#define CMD "status"

enum { OPT_JSON };

static const pf_cli_opt opts[] = {
    [OPT_JSON] = {"json", 0, NULL, "print one JSON object (pftune.status/1)"},
    {0},
};

/* the fastest ok record per problem over every shard */
typedef struct best {
    int n;
    pf_record *v;
} best;

static void keep_best(void *ctx, const pf_record *r)
{
    best *b = ctx;
    if (r->status != PF_STATUS_OK || r->time.samples <= 0)
        return;
    for (int i = 0; i < b->n; i++)
        if (strcmp(b->v[i].problem, r->problem) == 0) {
            if (r->time.median_ms < b->v[i].time.median_ms)
                b->v[i] = *r, b->v[i].samples_ms = NULL;
            return;
        }
    pf_record *g = realloc(b->v, sizeof *g * (size_t)(b->n + 1));
    if (!g)
        return;
    b->v = g;
    b->v[b->n] = *r;
    b->v[b->n++].samples_ms = NULL; /* the samples stay with the journal reader */
}

static int is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* How many shards: the Slurm record's, else shard-0.. as far as they go;
 * 0 when DIR is one sweep itself; -1 when it holds none. */
static int shard_count(const char *dir, const json_t *jobs)
{
    char path[4200];
    if (jobs)
        return (int)json_integer_value(json_object_get(jobs, "tasks"));
    int n = 0;
    for (;; n++) {
        snprintf(path, sizeof path, "%s/shard-%d", dir, n);
        if (!is_dir(path))
            break;
    }
    if (n > 0)
        return n;
    snprintf(path, sizeof path, "%s/journal.jsonl", dir);
    struct stat sb;
    return stat(path, &sb) == 0 ? 0 : -1;
}

static json_t *count_or_null(int64_t v)
{
    return v >= 0 ? json_integer(v) : json_null();
}

static const char *last_merge_job(const json_t *jobs)
{
    json_t *subs = json_object_get(jobs, "submissions");
    return json_string_value(json_object_get(json_array_get(subs, json_array_size(subs) - 1),
                                             "merge_job"));
}

int cmd_status(int argc, char **argv)
{
    pf_cli c;
    pf_cli_init(&c, CMD, argc, argv, opts, "pftune status DIR [--json]",
                "How far a sweep has come: per shard the points done (ok), pruned, failed\n"
                "and remaining (from its journal and planned count), the Slurm state of its\n"
                "array task when `tune --slurm` submitted it and squeue / sacct answer, the\n"
                "best variant so far per problem, and whether the merged results are in\n"
                "DIR. DIR: the --out of `tune --slurm`, a folder of shard-*/, or one tune\n"
                "--out. Safe while the sweep runs.");
    c.examples = "  pftune status run\n  pftune status run --json\n";
    const char *dir = NULL, *val;
    int k, as_json = 0;
    while ((k = pf_cli_next(&c, &val)) != PF_CLI_DONE) {
        switch (k) {
        case PF_CLI_HELP: return 0;
        case PF_CLI_ERROR: return 2;
        case PF_CLI_ARG:
            if (dir)
                return pf_cli_usage_error(CMD, "one directory at a time ('%s' and '%s')", dir, val);
            dir = val;
            break;
        case OPT_JSON: as_json = 1; break;
        }
    }
    if (!dir)
        return pf_cli_usage_error(CMD, "which sweep? (the --out of pftune tune)");
    int bad;
    json_t *jobs = pf_slurm_jobs_load(dir, &bad);
    if (bad)
        return pf_cli_fail_error(CMD);
    int n = shard_count(dir, jobs);
    if (n < 0) {
        json_decref(jobs);
        return pf_cli_fail(CMD, "%s holds no sweep (no journal.jsonl, shard-*/ or %s)", dir,
                           PF_SLURM_JOBS_FILE);
    }
    char ids[8192] = "";
    pf_slurm_states states;
    pf_slurm_all_jobs(jobs, ids, sizeof ids);
    pf_slurm_states_query(ids, &states);
    best b = {0, NULL};
    json_t *shards = json_array();
    int64_t tot_done = 0, tot_pruned = 0, tot_failed = 0, tot_left = 0;
    int unknown_left = 0, rc = 0;
    if (!as_json) {
        printf("sweep %s: %d shard%s", dir, n ? n : 1, n > 1 ? "s" : "");
        const char *merge = last_merge_job(jobs);
        if (merge) {
            const char *ms = pf_slurm_state_of(&states, merge);
            printf(", merge job %s%s%s%s", merge, ms ? " (" : "", ms ? ms : "", ms ? ")" : "");
        }
        printf("\n%-6s %-12s %-12s %6s %6s %6s %9s  %s\n", "shard", "job", "slurm", "done",
               "pruned", "failed", "remaining", "state");
    }
    for (int i = 0; i < (n ? n : 1) && rc == 0; i++) {
        char sdir[4200], job[64] = "", why[128];
        if (n)
            snprintf(sdir, sizeof sdir, "%s/shard-%d", dir, i);
        else
            snprintf(sdir, sizeof sdir, "%s", dir);
        pf_shard_state st;
        if (pf_shard_state_read(sdir, &st, keep_best, &b)) {
            rc = pf_cli_fail_error(CMD);
            break;
        }
        const char *slurm = jobs && pf_slurm_task_job(jobs, i, job, sizeof job) == 0
                                ? pf_slurm_state_of(&states, job) : NULL;
        int64_t left = pf_shard_state_remaining(&st);
        pf_shard_state_why(&st, why, sizeof why);
        tot_done += st.done, tot_failed += st.failed, tot_left += left > 0 ? left : 0;
        tot_pruned = st.pruned > tot_pruned ? st.pruned : tot_pruned; /* every shard has them */
        unknown_left |= left < 0;
        json_array_append_new(
            shards, json_pack("{s:i, s:s, s:o, s:o, s:I, s:I, s:I, s:o, s:o, s:b, s:s}", "index", i,
                              "dir", sdir, "job", *job ? json_string(job) : json_null(),
                              "slurm_state", slurm ? json_string(slurm) : json_null(), "done",
                              (json_int_t)st.done, "pruned", (json_int_t)st.pruned, "failed",
                              (json_int_t)st.failed, "remaining", count_or_null(left),
                              "planned", count_or_null(st.planned), "complete", st.complete,
                              "state", st.complete ? "complete" : why));
        if (!as_json) {
            char lefts[24];
            snprintf(lefts, sizeof lefts, left >= 0 ? "%lld" : "?", (long long)left);
            printf("%-6d %-12s %-12s %6lld %6lld %6lld %9s  %s\n", i, *job ? job : "-",
                   slurm ? slurm : "-", (long long)st.done, (long long)st.pruned,
                   (long long)st.failed, lefts, st.complete ? "complete" : why);
        }
    }
    pf_shard_state merged;
    memset(&merged, 0, sizeof merged);
    if (rc == 0 && n > 0 && pf_shard_state_read(dir, &merged, NULL, NULL))
        rc = pf_cli_fail_error(CMD);
    if (rc == 0 && as_json) {
        json_t *doc = pf_json_doc_new("pftune.status", 1), *bests = json_array();
        for (int i = 0; i < b.n; i++)
            json_array_append_new(bests, json_pack("{s:s, s:s, s:f, s:s}", "problem",
                                                   b.v[i].problem, "variant", b.v[i].variant,
                                                   "median_ms", b.v[i].time.median_ms, "timer",
                                                   b.v[i].time.timer));
        const char *merge = last_merge_job(jobs), *ms = merge ? pf_slurm_state_of(&states, merge) : NULL;
        json_object_set_new(doc, "dir", json_string(dir));
        json_object_set_new(doc, "shards", json_incref(shards));
        json_object_set_new(doc, "total",
                            json_pack("{s:I, s:I, s:I, s:o}", "done", (json_int_t)tot_done,
                                      "pruned", (json_int_t)tot_pruned, "failed",
                                      (json_int_t)tot_failed, "remaining",
                                      unknown_left ? json_null() : json_integer(tot_left)));
        json_object_set_new(doc, "best", bests);
        json_object_set_new(doc, "merge_job", merge ? json_string(merge) : json_null());
        json_object_set_new(doc, "merge_state", ms ? json_string(ms) : json_null());
        json_object_set_new(doc, "merged", !merged.has_results ? json_null()
                                            : json_pack("{s:b}", "complete", merged.complete));
        if (pf_json_doc_print(doc))
            rc = pf_cli_fail_error(CMD);
        json_decref(doc);
    } else if (rc == 0) {
        char lefts[24] = "?";
        if (!unknown_left)
            snprintf(lefts, sizeof lefts, "%lld", (long long)tot_left);
        printf("%-6s %-12s %-12s %6lld %6lld %6lld %9s\n", "total", "", "", (long long)tot_done,
               (long long)tot_pruned, (long long)tot_failed, lefts);
        if (b.n)
            printf("best so far:\n");
        for (int i = 0; i < b.n; i++)
            printf("  %s: %s  %.3f ms (%s)\n", b.v[i].problem, b.v[i].variant,
                   b.v[i].time.median_ms, b.v[i].time.timer);
        if (n > 0)
            printf("merged: %s\n", !merged.has_results ? "not yet"
                                   : merged.complete ? "results.json and tuned.json (complete)"
                                                     : "results.json and tuned.json (partial: "
                                                       "shards were left out)");
        if (jobs && !states.squeue && !states.sacct)
            printf("(squeue and sacct did not answer: no Slurm states)\n");
    }
    json_decref(shards);
    json_decref(jobs);
    free(b.v);
    pf_slurm_states_free(&states);
    return rc;
}
