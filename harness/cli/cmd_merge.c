/* `pftune merge DIR... --out DIR`: the shards of one sweep (tune --shard
 * i/N, on several GPUs or machines) joined into one results.json and
 * tuned.json. Shards of another profile or another kind of device are
 * refused; with --complete-only, shards whose sweep has not finished are
 * left out and named (the Slurm merge job). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "core/json_doc.h"
#include "core/pf_error.h"
#include "tuner/record_set.h"
#include "tuner/results.h"
#include "tuner/shard_state.h"

#define CMD "merge"
#define MAX_SHARDS 1024

enum { OPT_OUT, OPT_COMPLETE_ONLY };

static const pf_cli_opt opts[] = {
    [OPT_OUT] = {"out", 'o', "DIR", "where the merged results.json and tuned.json go"},
    [OPT_COMPLETE_ONLY] = {"complete-only", 0, NULL,
                           "merge only shards whose sweep finished; name the others and exit 1"},
    {0},
};

static const char *meta_str(const json_t *meta, const char *key)
{
    const char *s = json_string_value(json_object_get(meta, key));
    return s ? s : "";
}

static const char *device_name(const json_t *meta)
{
    const char *s = json_string_value(json_object_get(json_object_get(meta, "device"), "name"));
    return s ? s : "";
}

/* --complete-only: is `dir` unfinished? Then append " DIR (why)" to the list. */
static int shard_left_out(const char *dir, char *list, size_t n)
{
    pf_shard_state st;
    char why[300];
    int rc = pf_shard_state_read(dir, &st, NULL, NULL);
    if (rc == 0 && st.complete)
        return 0;
    if (rc)
        snprintf(why, sizeof why, "%s", pf_error_get());
    else
        pf_shard_state_why(&st, why, sizeof why);
    size_t len = strlen(list);
    snprintf(list + len, n - len, " %s (%s)", dir, why);
    return 1;
}

int cmd_merge(int argc, char **argv)
{
    pf_cli c;
    pf_cli_init(&c, CMD, argc, argv, opts, "pftune merge DIR... --out DIR",
                "Join the shards of one sweep (each DIR the --out of a `pftune tune --shard\n"
                "I/N`) into one results.json and tuned.json. The shards must come from the\n"
                "same profile (its hash) and the same kind of device; every point measured\n"
                "in any shard appears once.");
    c.examples = "  pftune merge shard0 shard1 shard2 shard3 --out merged\n"
                 "  pftune merge --complete-only run/shard-* --out run\n";
    const char *dirs[MAX_SHARDS], *out = NULL, *val;
    int n = 0, k, complete_only = 0;
    while ((k = pf_cli_next(&c, &val)) != PF_CLI_DONE) {
        switch (k) {
        case PF_CLI_HELP: return 0;
        case PF_CLI_ERROR: return 2;
        case PF_CLI_ARG:
            if (n == MAX_SHARDS)
                return pf_cli_usage_error(CMD, "at most %d shards", MAX_SHARDS);
            dirs[n++] = val;
            break;
        case OPT_OUT: out = val; break;
        case OPT_COMPLETE_ONLY: complete_only = 1; break;
        }
    }
    if (n == 0 || !out)
        return pf_cli_usage_error(CMD, "give the shard directories and --out DIR");
    /* every shard records the pruned points: one record per point, an ok
     * copy wins */
    pf_record_set all;
    memset(&all, 0, sizeof all);
    json_t *meta = NULL;
    int rc = 0, merged = 0, all_complete = 1;
    const char *from[MAX_SHARDS];
    char left_out[4096] = "";
    for (int i = 0; i < n && rc == 0; i++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/results.json", dirs[i]);
        pf_results r;
        if (complete_only && shard_left_out(dirs[i], left_out, sizeof left_out))
            continue;
        if (pf_results_read(path, &r)) {
            rc = pf_cli_fail(CMD, "shard %s: %s", dirs[i], pf_error_get());
            break;
        }
        all_complete &= json_is_true(json_object_get(r.meta, "complete"));
        from[merged++] = dirs[i];
        if (merged == 1) {
            meta = json_deep_copy(r.meta);
        } else if (strcmp(meta_str(meta, "profile_hash"), meta_str(r.meta, "profile_hash")) ||
                   strcmp(device_name(meta), device_name(r.meta)) ||
                   strcmp(meta_str(meta, "arch"), meta_str(r.meta, "arch"))) {
            rc = pf_cli_fail(CMD, "shard %s is not a shard of the sweep in %s (profile %s on %s %s "
                             "vs profile %s on %s %s)",
                             dirs[i], from[0], meta_str(r.meta, "profile_hash"),
                             device_name(r.meta), meta_str(r.meta, "arch"),
                             meta_str(meta, "profile_hash"), device_name(meta),
                             meta_str(meta, "arch"));
        }
        for (int k = 0; k < r.n && rc == 0; k++)
            if (pf_record_set_put(&all, &r.recs[k], PF_RECORD_KEEP_OK))
                rc = pf_cli_fail_error(CMD);
        pf_results_free(&r);
    }
    if (rc == 0 && merged == 0)
        rc = pf_cli_fail(CMD, "no complete shard to merge:%s", left_out);
    if (rc == 0) {
        json_t *jfrom = json_array();
        for (int i = 0; i < merged; i++)
            json_array_append_new(jfrom, json_string(from[i]));
        json_object_set_new(meta, "merged_from", jfrom);
        json_object_set_new(meta, "shard", json_string(""));
        /* the whole sweep is complete only if every shard of it was merged complete */
        json_object_set_new(meta, "complete", json_boolean(all_complete && !*left_out));
        json_object_del(meta, "planned_points");
        pf_results view = {meta, all.n, all.recs};
        char rpath[2048], tpath[2048];
        snprintf(rpath, sizeof rpath, "%s/results.json", out);
        snprintf(tpath, sizeof tpath, "%s/tuned.json", out);
        json_t *tuned = NULL;
        if (mkdir(out, 0755) != 0 && errno != EEXIST)
            rc = pf_cli_fail(CMD, "--out %s: %s", out, strerror(errno));
        else if (pf_results_write(rpath, meta, all.recs, all.n) ||
                 !(tuned = pf_tuned_from_results(&view)) || pf_json_doc_write(tuned, tpath))
            rc = pf_cli_fail_error(CMD);
        else
            printf("merge: %d points from %d shard%s\nresults: %s\ntuned:   %s\n", all.n, merged,
                   merged == 1 ? "" : "s", rpath, tpath);
        json_decref(tuned);
        if (rc == 0 && *left_out)
            rc = pf_cli_fail(CMD, "incomplete shards left out:%s", left_out);
    }
    pf_record_set_free(&all);
    json_decref(meta);
    return rc;
}
