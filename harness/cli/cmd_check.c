/* `pftune check`: verify attention kernel variants on a device against the
 * double-precision reference, over the hard cases of check_cases.c, on
 * fresh seeded inputs. Default: the covering subset of the valid variants
 * (covering.h); --all: every valid variant; --variant: the ones named.
 *
 * With --jobs N > 1 (or --timeout) the variants are shared by N forked
 * workers of harness/runner (each opens its own device; CUDA contexts do
 * not survive fork, so the parent never opens one: a probe child reports
 * the device). A variant whose worker dies or overruns --timeout fails
 * with status crashed / timeout; the others still run. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
#include "device/device_probe.h"
#include "core/json_doc.h"
#include "core/pf_error.h"
#include "core/status.h"
#include "attention/reference.h"
#include "runner/runner.h"

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

/* One variant's outcome: the runner's record. */
typedef struct check_result {
    int item;
    int ok;
    pf_status status;      /* ok, or why not */
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

enum {
    OPT_DEVICE, OPT_HEAD_DIM, OPT_ALL, OPT_VARIANT, OPT_SEED, OPT_CASES, OPT_CASE, OPT_JSON,
    OPT_JOBS, OPT_TIMEOUT, OPT_SANITIZE,
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
    [OPT_TIMEOUT] = {"timeout", 0, "SECONDS",
                     "per-variant limit (default none): its worker is killed, status timeout"},
    [OPT_SANITIZE] = {"sanitize", 0, "LIST", "emu checks: race (TSan build), init, chaos; comma-separated"},
    {0},
};

typedef struct check_args {
    const char *device, *json, *case_name;
    int dims[MAX_DIMS], n_dims;
    const char *named[MAX_NAMED];
    int n_named, all, has_seed, dims_given;
    long seed, cases, jobs, timeout;
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
        case OPT_TIMEOUT:
            if (pf_cli_parse_long(CMD, "--timeout", val, 1, 1000000, &a->timeout) < 0)
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

/* In a child when workers will fork (a CUDA context must not exist in
 * the parent then), else here. */
static void probe_device(const char *which, int forked, device_info *out)
{
    memset(out, 0, sizeof *out);
    pf_device_props props;
    if (forked ? pf_device_probe(which, &props, out->arch, sizeof out->arch) < 0
               : pf_device_probe_here(which, &props, out->arch, sizeof out->arch) < 0) {
        out->rc = -1;
        snprintf(out->msg, sizeof out->msg, "%s", pf_error_get());
        return;
    }
    snprintf(out->name, sizeof out->name, "%s", props.name);
    snprintf(out->backend, sizeof out->backend, "%s", props.backend);
    out->host_timers = props.caps.host_timers;
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
    return json_pack("{s:i, s:s, s:b, s:s, s:f, s:f, s:f, s:s?, s:s?, s:s, s:f, s:f, s:o}",
                     "head_dim", it->head_dim, "variant", it->text, "ok", r->ok, "status",
                     pf_status_name(r->status),
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

/* ---- the runner's callbacks: workers run variants, the parent collects ---- */

typedef struct check_run {
    const check_args *args;
    const check_work *work;
    uint64_t seed;
    /* in each worker */
    pf_device *dev;
    pf_check_case_cache cache;
    /* in the parent */
    check_result *results; /* [n_items] */
    int done;
    const char *backend;
} check_run;

static void run_item(check_run *wc, int item, check_result *r)
{
    const check_item *it = &wc->work->items[item];
    memset(r, 0, sizeof *r);
    r->item = item;
    r->ok = 1;
    r->status = PF_STATUS_OK;
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
            r->status = PF_STATUS_RUNTIME_FAILED;
            r->failed_case = c;
            r->rel_frob = NAN;
            snprintf(r->message, sizeof r->message, "case setup: %s", pf_error_get());
            break;
        }
        pf_check_case_result cr;
        if (pf_check_run_case(wc->dev, wc->work->arch, &it->variant, pc, &cr) < 0) {
            snprintf(cr.message, sizeof cr.message, "%.1000s: %.500s", pc->desc, pf_error_get());
            cr.status = PF_STATUS_RUNTIME_FAILED;
        }
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
            r->status = cr.status;
            r->failed_case = c;
            snprintf(r->message, sizeof r->message, "%s", cr.message);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r->seconds = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
}

static int worker_init(void *p, int worker)
{
    (void)worker;
    check_run *wc = p;
    if (pf_device_open(wc->args->device, &wc->dev) < 0)
        return pf_error_set("--device %s: %s", wc->args->device, pf_error_get());
    return 0;
}

static void worker_fini(void *p)
{
    check_run *wc = p;
    pf_check_case_cache_free(&wc->cache);
    pf_device_close(wc->dev);
}

static pf_status worker_item(void *p, int item, void *record)
{
    check_result *r = record;
    run_item(p, item, r);
    if (r->status != PF_STATUS_OK)
        pf_error_set("%s", r->message);
    return r->status;
}

static void collect(void *p, const pf_runner_result *rr)
{
    check_run *col = p;
    check_result *r = &col->results[rr->index];
    if (rr->status == PF_STATUS_CRASHED || rr->status == PF_STATUS_TIMEOUT) {
        /* the worker is gone: the record is empty, the runner says why */
        memset(r, 0, sizeof *r);
        r->status = rr->status;
        r->failed_case = -1;
        r->worst_case = -1;
        r->rel_frob = NAN;
        snprintf(r->message, sizeof r->message, "%s: %s", pf_status_name(rr->status), rr->message);
    } else {
        memcpy(r, rr->record, sizeof *r);
    }
    r->item = rr->index;
    col->done++;
    print_progress(stdout, col->work, r, col->done, col->backend);
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
    int forked = a.jobs > 1 || a.timeout; /* a timeout needs a worker to kill */
    device_info dev;
    probe_device(a.device, forked, &dev);
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
    check_run col = {&a, &w, seed, NULL, {0}, calloc((size_t)w.n_items, sizeof(check_result)), 0,
                     dev.backend};
    if (!col.results) {
        rc = pf_cli_fail(CMD, "out of memory");
        goto done;
    }
    pf_runner_config run = {.workers = forked ? (int)a.jobs : 0, .timeout_s = (double)a.timeout,
                            .record_size = sizeof(check_result), .ctx = &col, .init = worker_init,
                            .fini = worker_fini, .item = worker_item, .done = collect};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = pf_runner_run(&run, w.n_items) < 0 ? pf_cli_fail_error(CMD) : 0;
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
    check_work_free(&w);
    return rc;
}
