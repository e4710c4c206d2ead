/* `pftune merge DIR... --out DIR`: the shards of one sweep (tune --shard
 * i/N, on several GPUs or machines) joined into one results.json and
 * tuned.json. Shards of another profile or another kind of device are
 * refused. */
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

#define CMD "merge"
#define MAX_SHARDS 1024

enum { OPT_OUT };

static const pf_cli_opt opts[] = {
    [OPT_OUT] = {"out", 'o', "DIR", "where the merged results.json and tuned.json go"},
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

int cmd_merge(int argc, char **argv)
{
    pf_cli c;
    pf_cli_init(&c, CMD, argc, argv, opts, "pftune merge DIR... --out DIR",
                "Join the shards of one sweep (each DIR the --out of a `pftune tune --shard\n"
                "I/N`) into one results.json and tuned.json. The shards must come from the\n"
                "same profile (its hash) and the same kind of device; every point measured\n"
                "in any shard appears once.");
    c.examples = "  pftune merge shard0 shard1 shard2 shard3 --out merged\n";
    const char *dirs[MAX_SHARDS], *out = NULL, *val;
    int n = 0, k;
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
        }
    }
    if (n == 0 || !out)
        return pf_cli_usage_error(CMD, "give the shard directories and --out DIR");
    /* every shard records the pruned points: one record per point, an ok
     * copy wins */
    pf_record_set all;
    memset(&all, 0, sizeof all);
    json_t *meta = NULL;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/results.json", dirs[i]);
        pf_results r;
        if (pf_results_read(path, &r)) {
            rc = pf_cli_fail(CMD, "shard %s: %s", dirs[i], pf_error_get());
            break;
        }
        if (i == 0) {
            meta = json_deep_copy(r.meta);
        } else if (strcmp(meta_str(meta, "profile_hash"), meta_str(r.meta, "profile_hash")) ||
                   strcmp(device_name(meta), device_name(r.meta)) ||
                   strcmp(meta_str(meta, "arch"), meta_str(r.meta, "arch"))) {
            rc = pf_cli_fail(CMD, "shard %s is not a shard of the sweep in %s (profile %s on %s %s "
                             "vs profile %s on %s %s)",
                             dirs[i], dirs[0], meta_str(r.meta, "profile_hash"),
                             device_name(r.meta), meta_str(r.meta, "arch"),
                             meta_str(meta, "profile_hash"), device_name(meta),
                             meta_str(meta, "arch"));
        }
        for (int k = 0; k < r.n && rc == 0; k++)
            if (pf_record_set_put(&all, &r.recs[k], PF_RECORD_KEEP_OK))
                rc = pf_cli_fail_error(CMD);
        pf_results_free(&r);
    }
    if (rc == 0) {
        json_t *from = json_array();
        for (int i = 0; i < n; i++)
            json_array_append_new(from, json_string(dirs[i]));
        json_object_set_new(meta, "merged_from", from);
        json_object_set_new(meta, "shard", json_string(""));
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
            printf("merge: %d points from %d shard%s\nresults: %s\ntuned:   %s\n", all.n, n,
                   n == 1 ? "" : "s", rpath, tpath);
        json_decref(tuned);
    }
    pf_record_set_free(&all);
    json_decref(meta);
    return rc;
}
