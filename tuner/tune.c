/* The sweep (see tune.h): build every problem's space (pruning with
 * reasons, static facts from NVRTC) and split its candidates over the
 * shards by cost; then for each problem let the strategy pick points of
 * this shard, evaluate them in runner workers (one per GPU, or --jobs on
 * emu), and journal every finished point; results.json and tuned.json
 * (with the planned count and whether the sweep is complete) are written
 * before the first problem and after each. A resumed sweep replays
 * journalled points to the strategy instead of measuring them again. */
#include "tuner/tune.h"

#include "core/version.h"

#include <errno.h>
#include <math.h>
#include <nvrtc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attention/attention_run.h"
#include "core/iso_time.h"
#include "core/json_doc.h"
#include "core/pf_error.h"
#include "device/device.h"
#include "device/device_probe.h"
#include "jit/jit.h"
#include "runner/runner.h"
#include "tuner/evaluate.h"
#include "tuner/journal.h"
#include "tuner/progress.h"
#include "tuner/record_set.h"
#include "tuner/results.h"
#include "tuner/shard_plan.h"
#include "tuner/space.h"
#include "tuner/strategy.h"
#include "core/clock.h"

#define MAX_DEVICES 16

typedef struct sweep {
    const pf_tune_opts *o;
    pf_profile prof;
    char devices[MAX_DEVICES][32];
    int n_devices, workers;
    pf_device_props props;
    char arch[16];
    uint64_t seed;
    const pf_strategy_ops *strat;
    int budget_evals;
    double budget_seconds, deadline;
    pf_record_set set;         /* every record of the sweep (journal replay + new) */
    pf_journal *journal;
    /* the plan: every problem's space, and which candidates this shard measures */
    pf_tune_space *spaces;
    unsigned char **mine;      /* [problem][candidate]: 1 when in this shard */
    int64_t planned;           /* points this shard records (pruned + its candidates) */
    int complete;              /* every problem swept to its end, within the time budget */
    int out_of_time;           /* the time budget stopped the strategy */
    int stop_signal;           /* a worker was stopped from outside: hand out no more */
    /* the problem being swept */
    const pf_tune_problem *pb;
    const pf_tune_space *space;
    int *local;                /* shard candidate -> space point */
    int n_local;
    void *st;                  /* strategy state */
    int append_failed;
    char append_error[PF_ERROR_MAX];
    /* worker side */
    pf_device *dev;
    pf_progress progress;
} sweep;

/* ---- records ---- */

static const pf_record *find(const sweep *S, const char *problem, const char *variant)
{
    return pf_record_set_find(&S->set, problem, variant);
}

/* Take ownership of *r; the journal's last word on a point wins. */
static int add_record(sweep *S, pf_record *r)
{
    return pf_record_set_put(&S->set, r, PF_RECORD_REPLACE);
}

static void on_journal_record(void *ctx, const pf_record *r)
{
    sweep *S = ctx;
    pf_record copy = *r;
    copy.samples_ms = NULL;
    if (pf_record_set_samples(&copy, r->samples_ms, r->samples_ms ? r->time.samples : 0) ||
        add_record(S, &copy))
        S->append_failed = 1;
}

/* Journal first, then keep: a point is finished once it is on disk. */
static void finish_point(sweep *S, pf_record *r)
{
    if (pf_journal_append(S->journal, r) && !S->append_failed) {
        S->append_failed = 1;
        snprintf(S->append_error, sizeof S->append_error, "%s", pf_error_get());
    }
    if (add_record(S, r))
        pf_record_free(r);
}

/* ---- strategy <-> runner ---- */

static double value_of(const pf_record *r)
{
    return r->status == PF_STATUS_OK && r->time.samples > 0 ? r->time.median_ms : INFINITY;
}

/* The runner's item source: the strategy's next point; points the journal
 * already holds are told to the strategy at once, not measured again. */
static int next_item(void *ctx)
{
    sweep *S = ctx;
    for (;;) {
        if (S->stop_signal)
            return -1;
        if (S->deadline > 0 && pf_clock_seconds() > S->deadline) {
            S->out_of_time = 1;
            return -1;
        }
        int c = S->strat->next(S->st);
        if (c < 0 || c >= S->n_local)
            return -1;
        const pf_tune_point *pt = &S->space->points[S->local[c]];
        const pf_record *done = find(S, S->pb->desc, pt->text);
        if (!done)
            return c;
        S->strat->tell(S->st, c, value_of(done));
        pf_progress_point(&S->progress, done, 1);
    }
}

static int worker_init(void *ctx, int worker)
{
    sweep *S = ctx;
    const char *which = S->devices[worker % S->n_devices];
    if (pf_device_open(which, &S->dev))
        return pf_error_prefix("device %s", which);
    return 0;
}

static void worker_fini(void *ctx)
{
    sweep *S = ctx;
    pf_device_close(S->dev);
    S->dev = NULL;
}

static pf_status worker_item(void *ctx, int c, void *record)
{
    sweep *S = ctx;
    const pf_tune_point *pt = &S->space->points[S->local[c]];
    uint64_t seed = S->seed ^ pf_record_key(S->pb->desc, pt->text);
    return pf_tune_evaluate(S->dev, S->arch, &S->prof, S->pb, pt, S->prof.verify, seed,
                            (pf_tune_result *)record);
}

/* A worker killed by SIGTERM (scancel, preemption, kill), SIGINT (Ctrl-C)
 * or SIGHUP was stopped from outside, usually with this whole process
 * group: its point did not crash, and must not be journalled as if it
 * had, or --resume would never measure it. The runner names the signal
 * ("its worker died of signal 15 (Terminated)", runner.h). */
static int outside_signal(const pf_runner_result *res)
{
    const char *p = res->status == PF_STATUS_CRASHED && res->message
                        ? strstr(res->message, "died of signal ") : NULL;
    int sig = p ? atoi(p + strlen("died of signal ")) : 0;
    return sig == SIGTERM || sig == SIGINT || sig == SIGHUP ? sig : 0;
}

static void point_done(void *ctx, const pf_runner_result *res)
{
    sweep *S = ctx;
    int sig = outside_signal(res);
    if (sig) {
        S->stop_signal = sig;
        return;
    }
    const pf_tune_point *pt = &S->space->points[S->local[res->index]];
    const pf_tune_result *tr = res->record;
    pf_record r;
    if (res->status == PF_STATUS_CRASHED || res->status == PF_STATUS_TIMEOUT) {
        pf_tune_pruned_record(S->pb, pt, S->arch, &r);
        snprintf(r.device, sizeof r.device, "%.127s", S->props.name);
        snprintf(r.backend, sizeof r.backend, "%s", S->props.backend);
    } else {
        r = tr->rec;
        r.samples_ms = NULL;
        if (pf_record_set_samples(&r, tr->samples, r.time.samples))
            r.time.samples = 0;
    }
    r.status = res->status;
    if (res->status != PF_STATUS_OK)
        snprintf(r.message, sizeof r.message, "%s", res->message);
    S->strat->tell(S->st, res->index, value_of(&r));
    pf_progress_point(&S->progress, &r, 0);
    finish_point(S, &r);
}

/* ---- the plan ---- */

static int planned_of(const sweep *S, int n_local)
{
    return S->budget_evals > 0 && S->budget_evals < n_local ? S->budget_evals : n_local;
}

/* Build every problem's space, then split the candidates of all problems
 * over the shards by estimated cost (shard_plan.h): the same items in every
 * task give the same plan. Pruned points belong to every shard. */
static int plan_sweep(sweep *S, const pf_tune_problem *pbs, int n_pb)
{
    S->spaces = calloc((size_t)(n_pb ? n_pb : 1), sizeof *S->spaces);
    S->mine = calloc((size_t)(n_pb ? n_pb : 1), sizeof *S->mine);
    if (!S->spaces || !S->mine)
        return pf_error_set("out of memory");
    int n_items = 0;
    for (int p = 0; p < n_pb; p++) {
        fprintf(stderr, "tune: problem %d: %s\n", p + 1, pbs[p].desc);
        if (pf_tune_space_build(&S->prof, &pbs[p], S->arch, 0, &S->spaces[p]))
            return pf_error_prefix("problem %d", p + 1);
        n_items += S->spaces[p].n_cand;
        if (!(S->mine[p] = malloc((size_t)(S->spaces[p].n_cand ? S->spaces[p].n_cand : 1))))
            return pf_error_set("out of memory");
    }
    pf_shard_item *items = malloc(sizeof *items * (size_t)(n_items ? n_items : 1));
    if (!items)
        return pf_error_set("out of memory");
    for (int p = 0, k = 0; p < n_pb; p++) {
        pf_attn_problem ap = {pbs[p].layout, pbs[p].mask, pbs[p].scale, pbs[p].hq, pbs[p].hkv,
                              pbs[p].head_dim};
        uint64_t cost = pf_shard_cost(pf_attn_useful_flops(&ap));
        for (int c = 0; c < S->spaces[p].n_cand; c++, k++) {
            const pf_tune_point *pt = &S->spaces[p].points[S->spaces[p].cand[c]];
            items[k] = (pf_shard_item){cost, pf_record_key(pbs[p].desc, pt->text), 0};
        }
    }
    int rc = pf_shard_assign(items, n_items, S->o->shard_n > 1 ? S->o->shard_n : 1);
    S->planned = 0;
    for (int p = 0, k = 0; rc == 0 && p < n_pb; p++) {
        int n_local = 0;
        for (int c = 0; c < S->spaces[p].n_cand; c++, k++) {
            S->mine[p][c] = items[k].shard == (S->o->shard_n > 1 ? S->o->shard_i : 0);
            n_local += S->mine[p][c];
        }
        S->planned += S->spaces[p].n_points - S->spaces[p].n_cand + planned_of(S, n_local);
    }
    free(items);
    return rc;
}

static void free_plan(sweep *S, int n_pb)
{
    for (int p = 0; S->spaces && p < n_pb; p++)
        pf_tune_space_free(&S->spaces[p]);
    for (int p = 0; S->mine && p < n_pb; p++)
        free(S->mine[p]);
    free(S->spaces), free(S->mine);
    S->spaces = NULL, S->mine = NULL;
}

/* ---- one problem ---- */

static int sweep_problem(sweep *S, const pf_tune_problem *pb)
{
    S->pb = pb;
    fprintf(stderr, "tune: sweeping problem %d: %s\n", pb->index + 1, pb->desc);
    S->space = &S->spaces[pb->index];
    /* pruned points are recorded (once) with their reasons */
    int pruned = 0;
    for (int i = 0; i < S->space->n_points; i++) {
        const pf_tune_point *pt = &S->space->points[i];
        if (pt->status == PF_STATUS_OK)
            continue;
        pruned++;
        if (find(S, pb->desc, pt->text))
            continue;
        pf_record r;
        pf_tune_pruned_record(pb, pt, S->arch, &r);
        snprintf(r.device, sizeof r.device, "%.127s", S->props.name);
        snprintf(r.backend, sizeof r.backend, "%s", S->props.backend);
        finish_point(S, &r);
    }
    S->local = calloc((size_t)(S->space->n_cand ? S->space->n_cand : 1), sizeof *S->local);
    pf_candidate_info *info = calloc((size_t)(S->space->n_cand ? S->space->n_cand : 1), sizeof *info);
    if (!S->local || !info) {
        free(info);
        return pf_error_set("out of memory");
    }
    S->n_local = 0;
    for (int c = 0; c < S->space->n_cand; c++) {
        if (!S->mine[pb->index][c])
            continue;
        info[S->n_local] = S->space->cand_info[c];
        S->local[S->n_local++] = S->space->cand[c];
    }
    pf_search search;
    memset(&search, 0, sizeof search);
    search.n_axes = S->space->n_axes;
    for (int a = 0; a < S->space->n_axes; a++)
        search.axis_size[a] = S->space->axis_size[a];
    search.n = S->n_local;
    search.cand = info;
    search.seed = S->seed + (uint64_t)pb->index;
    search.budget_evals = S->budget_evals;
    int planned = planned_of(S, S->n_local);
    fprintf(stderr, "tune:   %d points: %d pruned, %d candidates (%d in this shard), strategy %s\n",
            S->space->n_points, pruned, S->space->n_cand, S->n_local, S->strat->name);
    pf_progress_problem(&S->progress, pb->index + 1, planned, pruned);
    int rc = S->strat->create(&search, &S->st);
    if (rc == 0) {
        pf_runner_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.workers = S->workers;
        cfg.timeout_s = S->o->timeout_s;
        cfg.record_size = sizeof(pf_tune_result);
        cfg.ctx = S;
        cfg.init = worker_init;
        cfg.fini = worker_fini;
        cfg.item = worker_item;
        cfg.done = point_done;
        cfg.next = next_item;
        rc = pf_runner_run(&cfg, S->n_local);
        S->strat->destroy(S->st);
        S->st = NULL;
    }
    pf_progress_end_problem(&S->progress);
    free(info);
    free(S->local);
    S->local = NULL;
    if (rc == 0 && S->append_failed)
        rc = pf_error_set("journal: %s", S->append_error);
    if (rc == 0 && S->stop_signal)
        rc = pf_error_set("stopped: a worker got signal %d (%s) from outside; --resume continues",
                          S->stop_signal, strsignal(S->stop_signal));
    return rc;
}

/* ---- setup and outputs ---- */

static int parse_devices(sweep *S, const char *which)
{
    if (!which || !*which)
        which = "auto";
    if (strcmp(which, "all") == 0) {
        char why[256];
        int n = pf_cuda_device_count(why, sizeof why);
        if (n <= 0)
            return pf_error_set("--device all: no GPU (%s)", why);
        for (int i = 0; i < n && i < MAX_DEVICES; i++)
            snprintf(S->devices[S->n_devices++], sizeof S->devices[0], "cuda:%d", i);
        return 0;
    }
    const char *p = which;
    while (*p) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof S->devices[0] || S->n_devices == MAX_DEVICES)
            return pf_error_set("--device '%s': a comma-separated list of at most %d devices",
                                which, MAX_DEVICES);
        snprintf(S->devices[S->n_devices++], sizeof S->devices[0], "%.*s", (int)len, p);
        p += len + (p[len] == ',');
    }
    return 0;
}

static json_t *meta_json(const sweep *S, const pf_tune_problem *pbs, int n_pb,
                         const char *started)
{
    const pf_device_props *p = &S->props;
    char finished[32], host[256] = "", seed[32], shard[32] = "";
    pf_iso_time_now(finished, sizeof finished);
    gethostname(host, sizeof host - 1);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)S->seed);
    if (S->o->shard_n > 1)
        snprintf(shard, sizeof shard, "%d/%d", S->o->shard_i, S->o->shard_n);
    int nv_major = 0, nv_minor = 0;
    nvrtcVersion(&nv_major, &nv_minor);
    char nvrtc[32];
    snprintf(nvrtc, sizeof nvrtc, "%d.%d", nv_major, nv_minor);
    json_t *argv = json_array(), *devs = json_array(), *problems = json_array();
    for (int i = 0; i < S->o->argc; i++)
        json_array_append_new(argv, json_string(S->o->argv[i]));
    for (int i = 0; i < S->n_devices; i++)
        json_array_append_new(devs, json_string(S->devices[i]));
    for (int i = 0; i < n_pb; i++)
        json_array_append_new(
            problems,
            json_pack("{s:s, s:s, s:s, s:i, s:s, s:i, s:i, s:i, s:I}", "desc", pbs[i].desc,
                      "model", S->prof.model, "layer", pf_layer_name(pbs[i].mask.layer),
                      "head_dim", pbs[i].head_dim, "rule", pf_rule_name(pbs[i].mask.rule),
                      "window", pbs[i].mask.window, "hq", pbs[i].hq, "hkv", pbs[i].hkv, "seq_len",
                      (json_int_t)pbs[i].seq_len));
    json_error_t err;
    json_t *profile = json_load_file(S->o->profile_path, 0, &err);
    char phash[17];
    snprintf(phash, sizeof phash, "%016llx", (unsigned long long)S->prof.hash);
    json_t *m = json_pack(
        "{s:o, s:s, s:{s:s, s:s, s:i, s:i, s:i, s:s, s:I, s:I, s:b}, s:o, s:s, s:s, s:s, s:s, "
        "s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:o}",
        "argv", argv, "pftune", pf_version_full(), "device", "name", p->name,
        "backend", p->backend, "cc_major", p->cc_major, "cc_minor", p->cc_minor, "sm_count",
        p->sm_count, "driver", p->driver, "l2_bytes", (json_int_t)p->l2_bytes, "mem_bytes",
        (json_int_t)p->mem_bytes, "host_timers", p->caps.host_timers, "devices", devs, "arch",
        S->arch, "backend", p->backend, "nvrtc", nvrtc, "host", host, "started", started,
        "finished", finished, "profile_path", S->o->profile_path, "profile_hash", phash,
        "profile", profile ? profile : json_null(), "strategy", S->strat->name, "seed", seed,
        "shard", shard, "problems", problems);
    if (m) {
        /* for status and merge: how far this shard is */
        json_object_set_new(m, "planned_points", json_integer(S->planned));
        json_object_set_new(m, "complete", json_boolean(S->complete));
    }
    if (m && p->caps.host_timers)
        json_object_set_new(m, "timing_note",
                            json_string("emu-host: host timings of the CPU emulator, not GPU "
                                        "numbers"));
    return m;
}

static int write_outputs(const sweep *S, const pf_tune_problem *pbs, int n_pb, const char *started,
                         char *results_path, char *tuned_path, size_t n)
{
    snprintf(results_path, n, "%s/results.json", S->o->out_dir);
    snprintf(tuned_path, n, "%s/tuned.json", S->o->out_dir);
    json_t *meta = meta_json(S, pbs, n_pb, started);
    if (!meta)
        return pf_error_set("cannot build the results meta");
    int rc = pf_results_write(results_path, meta, S->set.recs, S->set.n);
    if (rc == 0) {
        pf_results view = {meta, S->set.n, S->set.recs};
        json_t *tuned = pf_tuned_from_results(&view);
        rc = tuned ? pf_json_doc_write(tuned, tuned_path) : pf_error_set("cannot build tuned.json");
        json_decref(tuned);
    }
    json_decref(meta);
    return rc;
}

static void print_summary(const sweep *S, const pf_tune_problem *pbs, int n_pb,
                          const char *results_path, const char *tuned_path)
{
    int counts[PF_STATUS_COUNT] = {0};
    for (int i = 0; i < S->set.n; i++)
        counts[S->set.recs[i].status]++;
    printf("tune: %d points recorded:", S->set.n);
    for (int s = 0; s < PF_STATUS_COUNT; s++)
        if (counts[s])
            printf(" %d %s", counts[s], pf_status_name((pf_status)s));
    printf("\n");
    for (int i = 0; i < n_pb; i++) {
        const pf_record *best = NULL;
        for (int k = 0; k < S->set.n; k++) {
            const pf_record *r = &S->set.recs[k];
            if (strcmp(r->problem, pbs[i].desc) == 0 && value_of(r) < INFINITY &&
                (!best || value_of(r) < value_of(best)))
                best = r;
        }
        printf("best for %s D=%d seq %lld: ", pf_layer_name(pbs[i].mask.layer), pbs[i].head_dim,
               (long long)pbs[i].seq_len);
        if (best)
            printf("%s  %.3f ms (%s%s)\n", best->variant, best->time.median_ms, best->time.timer,
                   S->props.caps.host_timers ? ", host timing: not a GPU number" : "");
        else
            printf("none (no point passed)\n");
    }
    printf("results: %s\ntuned:   %s\n", results_path, tuned_path);
}

int pf_tune_run(const pf_tune_opts *o)
{
    static sweep S; /* large; one sweep per process */
    memset(&S, 0, sizeof S);
    S.o = o;
    if (pf_profile_load(o->profile_path, pf_tune_axis_names(), &S.prof))
        return -1;
    S.seed = o->has_seed ? o->seed : S.prof.seed;
    S.budget_evals = o->budget_evals >= 0 ? o->budget_evals : S.prof.budget_evals;
    S.budget_seconds = o->budget_seconds >= 0 ? o->budget_seconds : S.prof.budget_seconds;
    if (!(S.strat = pf_strategy_find(o->strategy ? o->strategy : S.prof.strategy)))
        return -1;
    if (parse_devices(&S, o->device))
        return -1;
    for (int i = 0; i < S.n_devices; i++) {
        pf_device_props pr;
        char arch[16];
        if (pf_device_probe(S.devices[i], &pr, arch, sizeof arch))
            return pf_error_prefix("--device %s", S.devices[i]);
        if (i == 0) {
            S.props = pr;
            snprintf(S.arch, sizeof S.arch, "%s", arch);
        } else if (strcmp(arch, S.arch) != 0 || strcmp(pr.name, S.props.name) != 0) {
            return pf_error_set("--device: %s is %s (%s) but %s is %s (%s): one sweep measures "
                                "one kind of GPU",
                                S.devices[i], pr.name, arch, S.devices[0], S.props.name, S.arch);
        }
    }
    S.workers = S.props.kind == PF_BACKEND_EMU ? (o->jobs > 0 ? o->jobs : 1) : S.n_devices;
    if (mkdir(o->out_dir, 0755) != 0 && errno != EEXIST)
        return pf_error_set("--out %s: %s", o->out_dir, strerror(errno));

    pf_journal_header h;
    memset(&h, 0, sizeof h);
    snprintf(h.pftune, sizeof h.pftune, "%s", o->version ? o->version : "");
    snprintf(h.device, sizeof h.device, "%.127s", S.props.name);
    snprintf(h.arch, sizeof h.arch, "%s", S.arch);
    char src[600];
    snprintf(src, sizeof src, "%s/attention.cu", pf_kernel_dir());
    if (pf_jit_source_hash(src, h.kernel_hash))
        return -1;
    snprintf(h.profile_hash, sizeof h.profile_hash, "%016llx", (unsigned long long)S.prof.hash);
    if (o->shard_n > 1)
        snprintf(h.shard, sizeof h.shard, "%d/%d", o->shard_i, o->shard_n);
    snprintf(h.strategy, sizeof h.strategy, "%s", S.strat->name);
    h.seed = S.seed;
    char jpath[1100];
    snprintf(jpath, sizeof jpath, "%s/journal.jsonl", o->out_dir);
    if (pf_journal_open(jpath, &h, o->resume, on_journal_record, &S, &S.journal))
        return -1;
    if (S.set.n)
        fprintf(stderr, "tune: resuming: %d points already in %s\n", S.set.n, jpath);

    char started[32];
    pf_iso_time_now(started, sizeof started);
    pf_tune_problem *pbs = NULL;
    int n_pb = 0, rc = pf_tune_problems(&S.prof, S.seed, &pbs, &n_pb);
    fprintf(stderr, "tune: %s on %s [%s, %s], %d problem%s, strategy %s, seed %llu%s\n",
            o->profile_path, S.props.name, S.arch, S.props.backend, n_pb, n_pb == 1 ? "" : "s",
            S.strat->name, (unsigned long long)S.seed,
            S.props.caps.host_timers ? " (emu: host timings, not GPU numbers)" : "");
    pf_progress_init(&S.progress, n_pb);
    if (S.budget_seconds > 0)
        S.deadline = pf_clock_seconds() + S.budget_seconds;
    char results_path[1200], tuned_path[1200];
    if (rc == 0)
        rc = plan_sweep(&S, pbs, n_pb);
    /* results before the first problem (the planned count, for status) and
     * after every one: a long sweep can be looked at early */
    for (int i = 0; i <= n_pb && rc == 0; i++) {
        if (i > 0)
            rc = sweep_problem(&S, &pbs[i - 1]);
        S.complete = i == n_pb && !S.out_of_time;
        if (rc == 0)
            rc = write_outputs(&S, pbs, n_pb, started, results_path, tuned_path,
                               sizeof results_path);
    }
    if (rc == 0 && S.out_of_time)
        fprintf(stderr, "tune: the time budget ended the sweep early: --resume continues it\n");
    if (rc == 0)
        print_summary(&S, pbs, n_pb, results_path, tuned_path);
    free_plan(&S, n_pb);
    pf_journal_close(S.journal);
    pf_tune_problems_free(pbs, n_pb);
    pf_record_set_free(&S.set);
    return rc;
}
