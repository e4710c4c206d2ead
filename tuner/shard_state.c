/* One sweep directory's progress (see shard_state.h). */
#include "tuner/shard_state.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/pf_error.h"
#include "tuner/journal.h"

typedef struct counting {
    pf_shard_state *st;
    void (*on_record)(void *ctx, const pf_record *r);
    void *ctx;
} counting;

static void count_record(void *ctx, const pf_record *r)
{
    counting *c = ctx;
    if (r->status == PF_STATUS_OK)
        c->st->done++;
    else if (r->status == PF_STATUS_INVALID)
        c->st->pruned++;
    else
        c->st->failed++;
    if (c->on_record)
        c->on_record(c->ctx, r);
}

/* a file with something in it (a journal is empty for an instant after its creation) */
static int exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && sb.st_size > 0;
}

int pf_shard_state_read(const char *dir, pf_shard_state *st,
                        void (*on_record)(void *ctx, const pf_record *r), void *ctx)
{
    memset(st, 0, sizeof *st);
    st->planned = -1;
    char path[4200];
    snprintf(path, sizeof path, "%s/journal.jsonl", dir);
    if (exists(path)) {
        st->has_journal = 1;
        pf_journal_header h;
        counting c = {st, on_record, ctx};
        if (pf_journal_read(path, &h, count_record, &c))
            return -1;
        snprintf(st->shard, sizeof st->shard, "%s", h.shard);
        snprintf(st->profile_hash, sizeof st->profile_hash, "%s", h.profile_hash);
    }
    snprintf(path, sizeof path, "%s/results.json", dir);
    if (!exists(path))
        return 0;
    json_error_t err;
    json_t *doc = json_load_file(path, 0, &err);
    if (!doc)
        return pf_error_set("%s: %s (line %d)", path, err.text, err.line);
    json_t *meta = json_object_get(doc, "meta");
    json_t *planned = json_object_get(meta, "planned_points");
    st->has_results = 1;
    st->complete = json_is_true(json_object_get(meta, "complete"));
    st->planned = json_is_integer(planned) ? json_integer_value(planned) : -1;
    json_decref(doc);
    return 0;
}

int64_t pf_shard_state_remaining(const pf_shard_state *st)
{
    if (st->complete)
        return 0;
    if (st->planned < 0)
        return -1;
    int64_t left = st->planned - st->done - st->pruned - st->failed;
    return left > 0 ? left : 0;
}

void pf_shard_state_why(const pf_shard_state *st, char *out, size_t n)
{
    if (st->complete)
        snprintf(out, n, "%s", "");
    else if (!st->has_journal && !st->has_results)
        snprintf(out, n, "not started");
    else if (!st->has_results)
        snprintf(out, n, "no results.json yet");
    else if (st->planned >= 0)
        snprintf(out, n, "%lld of %lld points", (long long)(st->done + st->pruned + st->failed),
                 (long long)st->planned);
    else
        snprintf(out, n, "not complete (written by a tune without a plan count)");
}
