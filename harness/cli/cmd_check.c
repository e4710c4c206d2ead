/* `pftune check`: verify attention kernel variants on a device against the
 * double-precision reference, over the hard cases of check_cases.c, on
 * fresh seeded inputs. Default: the covering subset of the valid variants
 * (covering.h); --all: every valid variant; --variant: the ones named.
 *
 * With --jobs N > 1 the variants are shared by N forked workers (each opens
 * its own device; CUDA contexts do not survive fork, so the parent never
 * opens one: a probe child reports the device). Results come back as
 * fixed-size records on one pipe (writes under PIPE_BUF are atomic). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "attention/attention_run.h"
#include "attention/attn_variant.h"
#include "attention/check_cases.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "attention/covering.h"
#include "device/arch.h"
#include "device/device.h"
#include "core/json_doc.h"
#include "core/pf_error.h"
#include "attention/reference.h"

#define CMD "check"
#define MAX_DIMS 8
#define MAX_NAMED 64
#define MAX_CASES 32

/* One variant to check, and the list of them. */
typedef struct check_item {
    int head_dim;
    pf_attn_variant variant;
    char text[256];
} check_item;

typedef struct check_work {
    check_item *items;
    int n_items;
    int dims[MAX_DIMS], n_valid[MAX_DIMS], n_chosen[MAX_DIMS], n_dims;
    char arch[16], device[256], backend[16];
    int host_timers; /* the backend's times are not GPU numbers */
    uint64_t seed;
    const char *mode; /* "covering", "all", "named" */
} check_work;

/* One variant's outcome; crosses the worker pipe as one write, so it stays
 * under PIPE_BUF (4096) bytes. */
typedef struct check_result {
    int item;              /* -1: a worker's setup error in message */
    int ok;
    int failed_case;       /* -1: none */
    int worst_case;        /* case with the largest O error */
    int cases_run;
    int case_index[MAX_CASES];
    double case_err[MAX_CASES];
    double case_ms[MAX_CASES];   /* device-timer time of the case's launch */
    double rel_frob, max_abs, lse_err; /* worst over the cases run */
    double seconds, kernel_ms;
    char message[2048];
} check_result;

_Static_assert(sizeof(check_result) < 4096, "check_result must fit one atomic pipe write");

enum {
    OPT_DEVICE, OPT_HEAD_DIM, OPT_ALL, OPT_VARIANT, OPT_SEED, OPT_CASES, OPT_CASE, OPT_JSON,
    OPT_JOBS, OPT_SANITIZE,
};

static const pf_cli_opt opts[] = {
    [OPT_DEVICE] = {"device", 0, "DEV", "auto (default), cuda, cuda:N or emu"},
    [OPT_HEAD_DIM] = {"head-dim", 0, "D", "head dim to check (repeatable; default 64 72 128 256 512)"},
    [OPT_ALL] = {"all", 0, NULL, "every valid variant (default: the covering subset)"},
    [OPT_VARIANT] = {"variant", 0, "KEY=VAL,...", "check this variant only (repeatable)"},
    [OPT_SEED] = {"seed", 0, "N", "input seed (default: from the clock; printed for replay)"},
    [OPT_CASES] = {"cases", 0, "N", "cases per variant (default all; fewer rotate over variants)"},
    [OPT_CASE] = {"case", 0, "NAME", "run only this case (replay a failure)"},
    [OPT_JSON] = {"json", 0, "FILE", "write machine-readable results (atomically)"},
    [OPT_JOBS] = {"jobs", 'j', "N", "worker processes (default 1)"},
    [OPT_SANITIZE] = {"sanitize", 0, "LIST", "emu checks: race (TSan build), init, chaos; comma-separated"},
    {0},
};

typedef struct check_args {
    const char *device, *json, *case_name;
    int dims[MAX_DIMS], n_dims;
    const char *named[MAX_NAMED];
    int n_named, all, has_seed, dims_given;
    long seed, cases, jobs;
} check_args;

static int parse_args(int argc, char **argv, check_args *a)
{
    memset(a, 0, sizeof *a);
    a->device = "auto";
    a->jobs = 1;
    pf_cli c;
    pf_cli_init(&c, CMD, argc, argv, opts, "pftune check [options]",
                "Verify attention kernel variants on a device against the double-precision\n"
                "reference on fresh random inputs over hard layouts (tile edges, images at the\n"
                "start/end, one-token requests, cached prefixes, windows, GQA 1..16) and every\n"
                "rule. Pass: relative Frobenius error < 1e-2 and no NaN. Exit 1 if any fails.");
    c.examples = "  pftune check --device emu --head-dim 64 --all --jobs 2\n"
                 "  pftune check --head-dim 128 --variant BLOCK_M=64,MASK_STORAGE=bitmap "
                 "--seed 7 --case prefix-sliding\n";
    const char *val;
    int o;
    long n;
    while ((o = pf_cli_next(&c, &val)) != PF_CLI_DONE) {
        switch (o) {
        case PF_CLI_HELP: return 0;
        case PF_CLI_ERROR: return 2;
        case PF_CLI_ARG: return pf_cli_usage_error(CMD, "unexpected argument '%s'", val);
        case OPT_DEVICE: a->device = val; break;
        case OPT_HEAD_DIM:
            if (pf_cli_parse_long(CMD, "--head-dim", val, 1, 4096, &n) < 0)
                return 2;
            if (!pf_attn_head_dim_supported((int)n))
                return pf_cli_usage_error(CMD, "--head-dim %ld: supported 64, 72, 128, 256, 512",
                                          n);
            if (a->n_dims == MAX_DIMS)
                return pf_cli_usage_error(CMD, "too many --head-dim");
            a->dims[a->n_dims++] = (int)n;
            break;
        case OPT_ALL: a->all = 1; break;
        case OPT_VARIANT:
            if (a->n_named == MAX_NAMED)
                return pf_cli_usage_error(CMD, "more than %d --variant", MAX_NAMED);
            a->named[a->n_named++] = val;
            break;
        case OPT_SEED:
            if (pf_cli_parse_long(CMD, "--seed", val, 0, LONG_MAX, &a->seed) < 0)
                return 2;
            a->has_seed = 1;
            break;
        case OPT_CASES:
            if (pf_cli_parse_long(CMD, "--cases", val, 1, pf_check_case_count(), &a->cases) < 0)
                return 2;
            break;
        case OPT_CASE: a->case_name = val; break;
        case OPT_JSON: a->json = val; break;
        case OPT_JOBS:
            if (pf_cli_parse_long(CMD, "--jobs", val, 1, 64, &a->jobs) < 0)
                return 2;
            break;
        case OPT_SANITIZE:
            if (pf_cli_parse_sanitize(CMD, val) < 0)
                return 2;
            break;
        }
    }
    if (a->all && a->n_named)
        return pf_cli_usage_error(CMD, "--all and --variant are exclusive");
    if (a->case_name && a->cases)
        return pf_cli_usage_error(CMD, "--case and --cases are exclusive");
    a->dims_given = a->n_dims > 0;
    if (!a->n_dims) {
        static const int dims[] = {64, 72, 128, 256, 512};
        for (int i = 0; i < 5; i++)
            a->dims[a->n_dims++] = dims[i];
    }
    return -1;
}

/* ---- the device, probed in a child when workers will fork ---- */

typedef struct device_info {
    int rc;
    char arch[16], name[256], backend[16], msg[PF_ERROR_MAX];
    int host_timers;
} device_info;

static void probe_device(const char *which, device_info *out)
{
    memset(out, 0, sizeof *out);
    pf_device *dev = NULL;
    pf_device_props props;
    if (pf_device_open(which, &dev) < 0 || pf_dev_props(dev, &props) < 0 ||
        pf_device_arch(dev, out->arch, sizeof out->arch) < 0) {
        out->rc = -1;
        snprintf(out->msg, sizeof out->msg, "%s", pf_error_get());
    } else {
        snprintf(out->name, sizeof out->name, "%s", props.name);
        snprintf(out->backend, sizeof out->backend, "%s", props.backend);
        out->host_timers = props.caps.host_timers;
    }
    if (dev)
        pf_device_close(dev);
}

static int probe_device_in_child(const char *which, device_info *out)
{
    int fds[2];
    if (pipe(fds) < 0)
        return pf_error_set("pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return pf_error_set("fork: %s", strerror(errno));
    if (pid == 0) {
        close(fds[0]);
        device_info info;
        probe_device(which, &info);
        ssize_t w = write(fds[1], &info, sizeof info);
        _exit(w == (ssize_t)sizeof info ? 0 : 3);
    }
    close(fds[1]);
    size_t got = 0;
    while (got < sizeof *out) {
        ssize_t r = read(fds[0], (char *)out + got, sizeof *out - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fds[0]);
    waitpid(pid, NULL, 0);
    if (got != sizeof *out)
        return pf_error_set("device probe process died");
    return 0;
}


/* ---- the work list ---- */

static int check_work_add(check_work *w, int d, const pf_attn_variant *vs, int n)
{
    check_item *grown = realloc(w->items, sizeof *grown * (size_t)(w->n_items + n + 1));
    if (!grown)
        return pf_error_set("out of memory");
    w->items = grown;
    for (int i = 0; i < n; i++) {
        check_item *it = &w->items[w->n_items++];
        it->head_dim = d;
        it->variant = vs[i];
        pf_attn_variant_to_string(&vs[i], it->text, sizeof it->text);
    }
    w->n_chosen[w->n_dims - 1] = n;
    return 0;
}

static void check_work_free(check_work *w)
{
    free(w->items);
    w->items = NULL;
    w->n_items = 0;
}

/* ---- printing ---- */

static void print_header(FILE *f, const check_work *w, long cases, const char *case_name)
{
    fprintf(f, "check: device %s [%s backend, variants for %s], seed %llu\n", w->device,
            w->backend, w->arch, (unsigned long long)w->seed);
    for (int i = 0; i < w->n_dims; i++) {
        if (strcmp(w->mode, "covering") == 0)
            fprintf(f, "check: head dim %d: %d variant%s (covering subset of %d valid)\n",
                    w->dims[i], w->n_chosen[i], w->n_chosen[i] == 1 ? "" : "s", w->n_valid[i]);
        else
            fprintf(f, "check: head dim %d: %d variant%s (%s; %d valid)\n", w->dims[i],
                    w->n_chosen[i], w->n_chosen[i] == 1 ? "" : "s",
                    strcmp(w->mode, "all") == 0 ? "all" : "named", w->n_valid[i]);
    }
    int total = pf_check_case_count();
    if (case_name)
        fprintf(f, "check: case %s only\n", case_name);
    else if (cases && cases < total)
        fprintf(f, "check: %ld of %d cases per variant, rotating over variants\n", cases, total);
    else
        fprintf(f, "check: %d cases per variant:\n", total);
    for (int c = 0; c < total; c++) {
        const pf_check_case *cc = pf_check_case_get(c);
        if (!case_name || strcmp(case_name, cc->name) == 0)
            fprintf(f, "  %-18s %s\n", cc->name, cc->what);
    }
    fflush(f);
}

static void print_progress(FILE *f, const check_work *w, const check_result *r, int done,
                           const char *backend)
{
    const check_item *it = &w->items[r->item];
    int width = w->n_items >= 1000 ? 4 : w->n_items >= 100 ? 3 : w->n_items >= 10 ? 2 : 1;
    fprintf(f, "[%*d/%d] %s %s  err %.1e  (%s %.1f s)\n", width, done, w->n_items, it->text,
            r->ok ? "ok" : "FAIL", r->rel_frob, backend, r->seconds);
    if (!r->ok)
        fprintf(f, "    %s\n", r->message);
    fflush(f);
}

/* Returns the number of failed variants. */
static int print_summary(FILE *f, const check_work *w, const check_result *res, double wall,
                         const char *device_arg)
{
    int failed = 0;
    double worst = 0;
    for (int i = 0; i < w->n_items; i++) {
        failed += !res[i].ok;
        if (res[i].ok && res[i].rel_frob > worst)
            worst = res[i].rel_frob;
    }
    char worst_text[48] = "";
    if (failed < w->n_items)
        snprintf(worst_text, sizeof worst_text, "worst passing error %.1e, ", worst);
    fprintf(f, "check: %d of %d variants passed, %d failed (%stolerance %.0e; seed %llu; "
               "%.1f s wall, %s timing)\n",
            w->n_items - failed, w->n_items, failed, worst_text, PF_CHECK_TOLERANCE,
            (unsigned long long)w->seed, wall, w->backend);
    for (int i = 0; i < w->n_items && failed; i++) {
        if (res[i].ok)
            continue;
        const pf_check_case *c = pf_check_case_get(res[i].failed_case);
        fprintf(f, "FAILED %s\n    %s\n", w->items[i].text, res[i].message);
        fprintf(f, "    replay: pftune check --device %s --seed %llu --variant %s%s%s\n",
                device_arg, (unsigned long long)w->seed, w->items[i].text,
                c ? " --case " : "", c ? c->name : "");
    }
    fflush(f);
    return failed;
}

/* ---- JSON, written to a temp file and renamed ---- */

static json_t *result_json(const check_work *w, const check_result *r)
{
    const check_item *it = &w->items[r->item];
    json_t *cases = json_array();
    for (int j = 0; j < r->cases_run; j++)
        json_array_append_new(cases, json_pack("{s:s, s:f, s:f}", "case",
                                               pf_check_case_get(r->case_index[j])->name,
                                               "rel_frob_error",
                                               isfinite(r->case_err[j]) ? r->case_err[j] : -1.0,
                                               "kernel_ms", r->case_ms[j]));
    const pf_check_case *fc = pf_check_case_get(r->failed_case);
    const pf_check_case *wc = pf_check_case_get(r->worst_case);
    return json_pack("{s:i, s:s, s:b, s:f, s:f, s:f, s:s?, s:s?, s:s, s:f, s:f, s:o}", "head_dim",
                     it->head_dim, "variant", it->text, "ok", r->ok,
                     "rel_frob_error", isfinite(r->rel_frob) ? r->rel_frob : -1.0,
                     "max_abs_error", isfinite(r->max_abs) ? r->max_abs : -1.0, "lse_max_abs_error",
                     isfinite(r->lse_err) ? r->lse_err : -1.0, "worst_case", wc ? wc->name : NULL,
                     "failed_case", fc ? fc->name : NULL, "message", r->message, "seconds",
                     r->seconds, "kernel_ms_total", r->kernel_ms, "cases", cases);
}

static int write_json(const char *path, const check_work *w, const check_result *res,
                      double wall)
{
    json_t *cases = json_array(), *variants = json_array(), *dims = json_array();
    for (int c = 0; c < pf_check_case_count(); c++) {
        const pf_check_case *cc = pf_check_case_get(c);
        json_array_append_new(cases, json_pack("{s:i, s:s, s:s, s:s?}", "index", c, "name",
                                               cc->name, "what", cc->what, "layout", cc->layout));
    }
    int failed = 0;
    for (int i = 0; i < w->n_items; i++) {
        failed += !res[i].ok;
        json_array_append_new(variants, result_json(w, &res[i]));
    }
    for (int i = 0; i < w->n_dims; i++)
        json_array_append_new(dims, json_pack("{s:i, s:i, s:i}", "head_dim", w->dims[i],
                                              "valid_variants", w->n_valid[i], "checked",
                                              w->n_chosen[i]));
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)w->seed);
    json_t *root = pf_json_doc_new("pftune.check", 1);
    if (!root || json_object_update_new(
                     root, json_pack("{s:s, s:s, s:s, s:s, s:s, s:f, s:f, s:i, s:i, s:f, s:s, s:o, "
                                     "s:o, s:o}",
                                     "device", w->device, "backend", w->backend, "arch", w->arch,
                                     "mode", w->mode, "seed", seed, "tolerance_rel_frob",
                                     PF_CHECK_TOLERANCE, "tolerance_lse", PF_CHECK_LSE_TOLERANCE,
                                     "passed", w->n_items - failed, "failed", failed,
                                     "wall_seconds", wall, "timing",
                                     w->host_timers ? "emu-host (not GPU numbers)" : "device",
                                     "head_dims", dims, "cases", cases, "variants", variants)) != 0) {
        json_decref(root);
        return pf_error_set("cannot build the JSON document");
    }
    int rc = pf_json_doc_write(root, path);
    json_decref(root);
    return rc;
}

static int build_work(const check_args *a, const char *arch, check_work *w)
{
    memset(w, 0, sizeof *w);
    for (int di = 0; di < a->n_dims; di++) {
        int d = a->dims[di];
        int n_valid = pf_attn_variant_enumerate(d, arch, NULL, 0);
        if (n_valid < 0)
            return pf_cli_fail_error(CMD);
        pf_attn_variant *valid = malloc(sizeof *valid * (size_t)(n_valid + 1));
        pf_attn_variant *chosen = malloc(sizeof *chosen * (size_t)(n_valid + MAX_NAMED + 1));
        if (!valid || !chosen) {
            free(valid);
            free(chosen);
            return pf_cli_fail(CMD, "out of memory");
        }
        pf_attn_variant_enumerate(d, arch, valid, n_valid);
        int n = 0, rc = 0;
        if (a->n_named) {
            for (int i = 0; i < a->n_named && !rc; i++) {
                char why[256] = "";
                if (pf_attn_variant_default(d, arch, &chosen[n]) < 0 ||
                    pf_attn_variant_parse(a->named[i], d, arch, &chosen[n]) < 0)
                    rc = pf_cli_usage_error(CMD, "--variant %s: %s", a->named[i], pf_error_get());
                else if (chosen[n].head_dim != d)
                    continue; /* names another head dim (HEAD_DIM=...) */
                else if (!pf_attn_variant_valid(&chosen[n], arch, why, sizeof why)) {
                    /* an explicit --head-dim makes it a mistake; across the
                     * default head dims it just does not apply to this one */
                    if (a->dims_given)
                        rc = pf_cli_usage_error(CMD, "--variant %s: invalid variant: %s",
                                                a->named[i], why);
                    else
                        printf("check: note: --variant %s does not apply to head dim %d (%s)\n",
                               a->named[i], d, why);
                }
                else
                    n++;
            }
        } else if (a->all) {
            memcpy(chosen, valid, sizeof *valid * (size_t)n_valid);
            n = n_valid;
        } else if ((n = pf_attn_cover_variants(valid, n_valid, chosen)) < 0) {
            rc = pf_cli_fail_error(CMD);
        }
        w->dims[w->n_dims] = d;
        w->n_valid[w->n_dims] = n_valid;
        w->n_dims++;
        if (!rc && check_work_add(w, d, chosen, n) < 0)
            rc = pf_cli_fail_error(CMD);
        free(valid);
        free(chosen);
        if (rc)
            return rc;
    }
    if (w->n_items == 0)
        return pf_cli_usage_error(CMD, "no variant to check (--variant HEAD_DIM outside --head-dim?)");
    return 0;
}

/* Which cases item i runs (rotation when --cases < all). */
static int item_cases(const check_args *a, int item, int *out)
{
    int total = pf_check_case_count();
    if (a->case_name) {
        for (int c = 0; c < total; c++)
            if (strcmp(pf_check_case_get(c)->name, a->case_name) == 0) {
                out[0] = c;
                return 1;
            }
        return 0;
    }
    int n = a->cases ? (int)a->cases : total;
    for (int j = 0; j < n; j++)
        out[j] = (item + j) % total;
    return n;
}

/* ---- one worker: runs items taken from a shared counter ---- */

typedef struct worker_ctx {
    const check_args *args;
    const check_work *work;
    uint64_t seed;
    pf_device *dev;
    pf_check_case_cache cache;
} worker_ctx;

static void run_item(worker_ctx *wc, int item, check_result *r)
{
    const check_item *it = &wc->work->items[item];
    memset(r, 0, sizeof *r);
    r->item = item;
    r->ok = 1;
    r->failed_case = -1;
    r->worst_case = -1;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int cases[64];
    int n_cases = item_cases(wc->args, item, cases);
    for (int j = 0; j < n_cases && r->ok; j++) {
        int c = cases[j];
        const pf_check_prepared *pc = pf_check_case_cache_get(&wc->cache, c, it->head_dim, wc->seed);
        if (!pc) {
            r->ok = 0;
            r->failed_case = c;
            r->rel_frob = NAN;
            snprintf(r->message, sizeof r->message, "case setup: %s", pf_error_get());
            break;
        }
        pf_check_case_result cr;
        if (pf_check_run_case(wc->dev, wc->work->arch, &it->variant, pc, &cr) < 0)
            snprintf(cr.message, sizeof cr.message, "%.1000s: %.500s", pc->desc, pf_error_get());
        r->case_err[r->cases_run] = cr.err.rel_frob;
        r->case_index[r->cases_run] = c;
        r->case_ms[r->cases_run] = cr.kernel_ms;
        r->cases_run++;
        r->kernel_ms += cr.kernel_ms;
        if (r->worst_case < 0 || cr.err.rel_frob > r->rel_frob ||
            (isnan(r->rel_frob) && !isnan(cr.err.rel_frob))) {
            r->rel_frob = cr.err.rel_frob;
            r->worst_case = c;
        }
        if (cr.err.max_abs > r->max_abs)
            r->max_abs = cr.err.max_abs;
        if (cr.lse_err > r->lse_err)
            r->lse_err = cr.lse_err;
        if (!cr.ok) {
            r->ok = 0;
            r->failed_case = c;
            snprintf(r->message, sizeof r->message, "%s", cr.message);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r->seconds = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
}

/* Take items from the shared counter until none are left. */
static int worker_loop(worker_ctx *wc, int *counter, void (*sink)(const check_result *, void *),
                       void *sink_ctx)
{
    for (;;) {
        int item = __atomic_fetch_add(counter, 1, __ATOMIC_SEQ_CST);
        if (item >= wc->work->n_items)
            return 0;
        check_result r;
        run_item(wc, item, &r);
        sink(&r, sink_ctx);
    }
}

/* ---- the parent: progress lines and the summary ---- */

typedef struct collector {
    const check_work *work;
    check_result *results; /* [n_items] */
    unsigned char *have;
    int done;
    const char *backend;
} collector;

static void collect(const check_result *r, void *p)
{
    collector *col = p;
    if (r->item < 0 || r->item >= col->work->n_items || col->have[r->item])
        return;
    col->results[r->item] = *r;
    col->have[r->item] = 1;
    col->done++;
    print_progress(stdout, col->work, r, col->done, col->backend);
}

static void pipe_sink(const check_result *r, void *p)
{
    int fd = *(int *)p;
    /* one write of < PIPE_BUF bytes: atomic with respect to other workers */
    ssize_t w = write(fd, r, sizeof *r);
    (void)w;
}

static int run_forked(const check_args *a, const check_work *w, uint64_t seed, collector *col)
{
    int *counter = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                        -1, 0);
    if (counter == MAP_FAILED)
        return pf_cli_fail(CMD, "mmap: %s", strerror(errno));
    *counter = 0;
    int fds[2];
    if (pipe(fds) < 0)
        return pf_cli_fail(CMD, "pipe: %s", strerror(errno));
    /* the emu backend runs blocks on one thread per core; share the cores */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    char threads[24];
    snprintf(threads, sizeof threads, "%ld", cores / a->jobs > 1 ? cores / a->jobs : 1);
    pid_t pids[64];
    int n_pids = 0;
    fflush(NULL);
    for (int j = 0; j < a->jobs; j++) {
        pid_t pid = fork();
        if (pid < 0)
            break;
        if (pid == 0) {
            close(fds[0]);
            setenv("PFTUNE_EMU_THREADS", threads, 0);
            worker_ctx wc = {a, w, seed, NULL, {0}};
            if (pf_device_open(a->device, &wc.dev) < 0) {
                check_result r = {.item = -1};
                snprintf(r.message, sizeof r.message, "%s", pf_error_get());
                pipe_sink(&r, &fds[1]);
                _exit(3);
            }
            worker_loop(&wc, counter, pipe_sink, &fds[1]);
            pf_check_case_cache_free(&wc.cache);
            pf_device_close(wc.dev);
            _exit(0);
        }
        pids[n_pids++] = pid;
    }
    close(fds[1]);
    char setup_error[PF_ERROR_MAX] = "";
    check_result r;
    for (;;) {
        size_t got = 0;
        while (got < sizeof r) {
            ssize_t n = read(fds[0], (char *)&r + got, sizeof r - got);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        if (got < sizeof r)
            break;
        if (r.item < 0)
            snprintf(setup_error, sizeof setup_error, "%.1000s", r.message);
        else
            collect(&r, col);
    }
    close(fds[0]);
    char crash[128] = "";
    for (int j = 0; j < n_pids; j++) {
        int status = 0;
        waitpid(pids[j], &status, 0);
        if (WIFSIGNALED(status))
            snprintf(crash, sizeof crash, "a worker died of signal %d (%s)", WTERMSIG(status),
                     strsignal(WTERMSIG(status)));
    }
    munmap(counter, sizeof(int));
    if (col->done == w->n_items)
        return 0;
    if (setup_error[0])
        return pf_cli_fail(CMD, "--device %s: %s", a->device, setup_error);
    /* items a dead worker took: failures, not silence */
    for (int i = 0; i < w->n_items; i++)
        if (!col->have[i]) {
            check_result lost = {.item = i, .ok = 0, .failed_case = -1, .worst_case = -1};
            snprintf(lost.message, sizeof lost.message, "no result: %s",
                     crash[0] ? crash : "its worker exited early");
            lost.rel_frob = NAN;
            collect(&lost, col);
        }
    return 0;
}

static int run_in_process(const check_args *a, const check_work *w, uint64_t seed,
                          collector *col)
{
    worker_ctx wc = {a, w, seed, NULL, {0}};
    if (pf_device_open(a->device, &wc.dev) < 0)
        return pf_cli_fail(CMD, "--device %s: %s", a->device, pf_error_get());
    int counter = 0;
    worker_loop(&wc, &counter, collect, col);
    pf_check_case_cache_free(&wc.cache);
    pf_device_close(wc.dev);
    return 0;
}

int cmd_check(int argc, char **argv)
{
    check_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
    if (a.case_name) {
        int cases[1];
        if (!item_cases(&a, 0, cases)) {
            const char *names[32];
            int n = pf_check_case_count();
            for (int c = 0; c < n && c < 31; c++)
                names[c] = pf_check_case_get(c)->name;
            names[n < 31 ? n : 31] = NULL;
            return pf_cli_parse_choice(CMD, "--case", a.case_name, names) < 0 ? 2 : 2;
        }
    }
    uint64_t seed = a.has_seed ? (uint64_t)a.seed
                               : ((uint64_t)time(NULL) * 1000003u ^ (uint64_t)getpid()) % 1000000007u;
    device_info dev;
    if (a.jobs > 1 ? probe_device_in_child(a.device, &dev) < 0 : (probe_device(a.device, &dev), 0))
        return pf_cli_fail_error(CMD);
    if (dev.rc < 0)
        return pf_cli_fail(CMD, "--device %s: %s", a.device, dev.msg);
    check_work w;
    if ((rc = build_work(&a, dev.arch, &w)))
        return rc;
    snprintf(w.arch, sizeof w.arch, "%s", dev.arch);
    snprintf(w.device, sizeof w.device, "%s", dev.name);
    snprintf(w.backend, sizeof w.backend, "%s", dev.backend);
    w.host_timers = dev.host_timers;
    w.seed = seed;
    w.mode = a.n_named ? "named" : a.all ? "all" : "covering";
    print_header(stdout, &w, a.cases, a.case_name);
    collector col = {&w, calloc((size_t)w.n_items, sizeof(check_result)),
                     calloc((size_t)w.n_items, 1), 0, dev.backend};
    if (!col.results || !col.have) {
        rc = pf_cli_fail(CMD, "out of memory");
        goto done;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = a.jobs > 1 ? run_forked(&a, &w, seed, &col) : run_in_process(&a, &w, seed, &col);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc)
        goto done;
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    int failed = print_summary(stdout, &w, col.results, wall, a.device);
    if (a.json && write_json(a.json, &w, col.results, wall) < 0) {
        rc = pf_cli_fail(CMD, "--json %s: %s", a.json, pf_error_get());
        goto done;
    }
    rc = failed ? 1 : 0;
done:
    free(col.results);
    free(col.have);
    check_work_free(&w);
    return rc;
}
