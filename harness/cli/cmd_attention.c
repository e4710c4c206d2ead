/* `pftune attention`: run one masked prefill attention (a kernel variant on
 * a device, or the double-precision reference) on user .npy inputs or seeded
 * random ones, and write O (and optionally LSE) as float32 .npy.
 *
 * Exit codes: 2 for problems with the command line (unknown option, rule or
 * variant key, invalid variant, bad --heads, missing --out), 1 for problems
 * with data or the run (unreadable .npy, wrong shapes, layout file errors,
 * compile or launch failures). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "attention/attention_run.h"
#include "attention/attn_variant.h"
#include "attention/check_cases.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "device/arch.h"
#include "device/device.h"
#include "attention/layout.h"
#include "attention/mask_encode.h"
#include "attention/mask_rule.h"
#include "core/npy.h"
#include "core/pf_error.h"
#include "attention/reference.h"

#define CMD "attention"

enum {
    OPT_LAYOUT, OPT_HEADS, OPT_HEAD_DIM, OPT_RULE, OPT_LAYER, OPT_WINDOW, OPT_SCALE, OPT_Q, OPT_K,
    OPT_V, OPT_SEED, OPT_VARIANT, OPT_REFERENCE, OPT_COMPARE, OPT_DEVICE, OPT_LSE, OPT_OUT,
    OPT_DUMP, OPT_ENCODE_DEVICE, OPT_SANITIZE,
};

static const pf_cli_opt opts[] = {
    [OPT_LAYOUT] = {"layout", 0, "SPEC|FILE", "requests, e.g. 't20,i256,t30;t100|t40', or .npy/.json"},
    [OPT_HEADS] = {"heads", 0, "HQ:HKV", "query and key/value heads (HQ a multiple of HKV)"},
    [OPT_HEAD_DIM] = {"head-dim", 0, "D", "head dimension"},
    [OPT_RULE] = {"rule", 0, "RULE", "gemma3 (default), gemma4, causal, bidirectional"},
    [OPT_LAYER] = {"layer", 0, "KIND", "full (default) or sliding (needs --window)"},
    [OPT_WINDOW] = {"window", 0, "W", "sliding window: q sees itself and W-1 earlier keys"},
    [OPT_SCALE] = {"scale", 0, "X", "softmax scale (default D^-0.5)"},
    [OPT_Q] = {"q", 0, "FILE", "q.npy float [total_q, HQ, D] (query tokens only)"},
    [OPT_K] = {"k", 0, "FILE", "k.npy float [total_kv, HKV, D] (prefix + new tokens)"},
    [OPT_V] = {"v", 0, "FILE", "v.npy float [total_kv, HKV, D]"},
    [OPT_SEED] = {"seed", 0, "N", "random normal inputs from seed N (instead of --q/--k/--v)"},
    [OPT_VARIANT] = {"variant", 0, "KEY=VAL,...", "kernel variant (default: the head dim's default)"},
    [OPT_REFERENCE] = {"reference", 0, NULL, "compute with the double-precision reference"},
    [OPT_COMPARE] = {"compare-reference", 0, NULL, "also report the error vs the reference"},
    [OPT_DEVICE] = {"device", 0, "DEV", "auto (default), cuda, cuda:N or emu"},
    [OPT_LSE] = {"lse", 0, "FILE", "write LSE (natural log) float [total_q, HQ]"},
    [OPT_OUT] = {"out", 'o', "FILE", "write O float [total_q, HQ, D] (atomically)"},
    [OPT_DUMP] = {"dump-inputs", 0, "DIR", "write the bf16-rounded q/k/v as DIR/{q,k,v}.npy"},
    [OPT_ENCODE_DEVICE] = {"encode-on-device", 0, NULL,
                           "build dense/bitmap/window masks on the device (same bytes)"},
    [OPT_SANITIZE] = {"sanitize", 0, "LIST", "emu checks: race (TSan build), init, chaos; comma-separated"},
    {0},
};

typedef struct attn_args {
    const char *layout, *heads, *rule, *layer, *variant, *device, *lse, *out, *dump;
    const char *qkv[3];
    long head_dim, window, seed;
    double scale;
    int has_window, has_seed, has_scale, reference, compare, encode_on_device;
} attn_args;

/* Everything the run needs, owned here. */
typedef struct attn_job {
    pf_layout *layout;
    pf_attn_problem pb;
    float *qkv[3];
    size_t counts[3];
    float *o, *lse;
} attn_job;

static void job_free(attn_job *j)
{
    if (j->layout)
        pf_layout_free(j->layout);
    for (int i = 0; i < 3; i++)
        free(j->qkv[i]);
    free(j->o);
    free(j->lse);
}

static int parse_args(int argc, char **argv, attn_args *a)
{
    static const char *rules[] = {"gemma3", "gemma4", "causal", "bidirectional", NULL};
    static const char *layers[] = {"full", "sliding", NULL};
    memset(a, 0, sizeof *a);
    a->rule = "gemma3";
    a->layer = "full";
    a->device = "auto";
    pf_cli c;
    pf_cli_init(&c, CMD, argc, argv, opts,
                "pftune attention --layout SPEC|FILE --heads HQ:HKV --head-dim D "
                "[--q F --k F --v F | --seed N] --out o.npy [options]",
                "Run one masked prefill attention (a kernel variant, or the reference) and\n"
                "write O. Inputs are rounded to bf16 first. Exit 2: bad command line;\n"
                "1: bad input data or a failed run.");
    c.examples = "  pftune attention --layout 't20,i64,t9' --heads 8:2 --head-dim 64 --seed 1 \\\n"
                 "      --compare-reference --device emu --out o.npy\n"
                 "  pftune attention --layout 't50|t7' --heads 4:4 --head-dim 72 --q q.npy \\\n"
                 "      --k k.npy --v v.npy --rule gemma4 --layer sliding --window 16 --out o.npy\n";
    const char *val;
    int o;
    while ((o = pf_cli_next(&c, &val)) != PF_CLI_DONE) {
        switch (o) {
        case PF_CLI_HELP: return 0;
        case PF_CLI_ERROR: return 2;
        case PF_CLI_ARG: return pf_cli_usage_error(CMD, "unexpected argument '%s'", val);
        case OPT_LAYOUT: a->layout = val; break;
        case OPT_HEADS: a->heads = val; break;
        case OPT_HEAD_DIM:
            if (pf_cli_parse_long(CMD, "--head-dim", val, 1, 4096, &a->head_dim) < 0)
                return 2;
            break;
        case OPT_RULE:
            if (pf_cli_parse_choice(CMD, "--rule", val, rules) < 0)
                return 2;
            a->rule = val;
            break;
        case OPT_LAYER:
            if (pf_cli_parse_choice(CMD, "--layer", val, layers) < 0)
                return 2;
            a->layer = val;
            break;
        case OPT_WINDOW:
            if (pf_cli_parse_long(CMD, "--window", val, 1, 1L << 30, &a->window) < 0)
                return 2;
            a->has_window = 1;
            break;
        case OPT_SCALE:
            if (pf_cli_parse_double(CMD, "--scale", val, 1e-30, 1e30, &a->scale) < 0)
                return 2;
            a->has_scale = 1;
            break;
        case OPT_Q: case OPT_K: case OPT_V: a->qkv[o - OPT_Q] = val; break;
        case OPT_SEED:
            if (pf_cli_parse_long(CMD, "--seed", val, 0, __LONG_MAX__, &a->seed) < 0)
                return 2;
            a->has_seed = 1;
            break;
        case OPT_VARIANT: a->variant = val; break;
        case OPT_REFERENCE: a->reference = 1; break;
        case OPT_COMPARE: a->compare = 1; break;
        case OPT_DEVICE: a->device = val; break;
        case OPT_LSE: a->lse = val; break;
        case OPT_OUT: a->out = val; break;
        case OPT_DUMP: a->dump = val; break;
        case OPT_ENCODE_DEVICE: a->encode_on_device = 1; break;
        case OPT_SANITIZE:
            if (pf_cli_parse_sanitize(CMD, val) < 0)
                return 2;
            break;
        }
    }
    if (!a->layout)
        return pf_cli_usage_error(CMD, "missing --layout SPEC|FILE");
    if (!a->heads)
        return pf_cli_usage_error(CMD, "missing --heads HQ:HKV");
    if (!a->head_dim)
        return pf_cli_usage_error(CMD, "missing --head-dim D");
    if (!a->out)
        return pf_cli_usage_error(CMD, "missing --out FILE (where to write O)");
    int n_files = !!a->qkv[0] + !!a->qkv[1] + !!a->qkv[2];
    if (n_files != 0 && n_files != 3)
        return pf_cli_usage_error(CMD, "give all of --q, --k and --v (or --seed N instead)");
    if (n_files == 3 && a->has_seed)
        return pf_cli_usage_error(CMD, "--seed and --q/--k/--v are exclusive");
    if (strcmp(a->layer, "sliding") == 0 && !a->has_window)
        return pf_cli_usage_error(CMD, "--layer sliding needs --window W");
    if (strcmp(a->layer, "full") == 0 && a->has_window)
        return pf_cli_usage_error(CMD, "--window applies to --layer sliding only");
    if (strcmp(a->rule, "bidirectional") == 0 && strcmp(a->layer, "sliding") == 0)
        return pf_cli_usage_error(CMD, "--rule bidirectional has no sliding layer");
    if (a->reference && a->compare)
        return pf_cli_usage_error(CMD, "--compare-reference compares a kernel; drop --reference");
    if (a->reference && a->variant)
        return pf_cli_usage_error(CMD, "--variant selects a kernel; drop --reference");
    if (a->reference && a->encode_on_device)
        return pf_cli_usage_error(CMD, "--encode-on-device feeds a kernel; drop --reference");
    return -1; /* go on */
}

/* "HQ:HKV" -> heads; usage errors are printed here. */
static int parse_heads(const char *text, int *hq, int *hkv)
{
    char *colon = strchr(text, ':');
    if (!colon)
        return pf_cli_usage_error(CMD, "--heads '%s': expected HQ:HKV, e.g. 8:4", text);
    char left[32];
    size_t n = (size_t)(colon - text);
    if (n == 0 || n >= sizeof left)
        return pf_cli_usage_error(CMD, "--heads '%s': expected HQ:HKV, e.g. 8:4", text);
    memcpy(left, text, n);
    left[n] = 0;
    long a, b;
    if (pf_cli_parse_long(CMD, "--heads HQ", left, 1, 4096, &a) < 0 ||
        pf_cli_parse_long(CMD, "--heads HKV", colon + 1, 1, 4096, &b) < 0)
        return 2;
    if (a % b != 0)
        return pf_cli_usage_error(CMD, "--heads %ld:%ld: HQ (%ld) is not a multiple of HKV (%ld)",
                                  a, b, a, b);
    *hq = (int)a;
    *hkv = (int)b;
    return 0;
}

/* pf_layout_load picks the format by extension, so that decides. */
static int is_layout_file(const char *text)
{
    size_t n = strlen(text);
    return (n > 4 && strcmp(text + n - 4, ".npy") == 0) ||
           (n > 5 && strcmp(text + n - 5, ".json") == 0);
}

/* Read one float array and check its shape against [rows, heads, D]. */
static int load_array(const char *name, const char *path, const pf_layout *l, int64_t rows,
                      const char *rows_what, int heads, int d, float **out)
{
    pf_npy a;
    if (pf_npy_read(path, &a) < 0)
        return pf_cli_fail(CMD, "--%s %s: %s", name, path, pf_error_get());
    int rc = 0;
    if (a.ndim != 3 || a.shape[1] != heads || a.shape[2] != d) {
        char got[128] = "";
        size_t used = 0;
        for (int i = 0; i < a.ndim && used < sizeof got - 24; i++)
            used += (size_t)snprintf(got + used, sizeof got - used, "%s%lld", i ? ", " : "",
                                     (long long)a.shape[i]);
        rc = pf_cli_fail(CMD, "%s (%s): expected shape [%lld, %d, %d] ([%s, heads, D]), got [%s]",
                         name, path, (long long)rows, heads, d, rows_what, got);
    } else if (a.shape[0] != rows) {
        rc = pf_cli_fail(CMD,
                         "%s (%s) has %lld rows but the layout has %lld %s tokens "
                         "(%d requests): layout and arrays disagree",
                         name, path, (long long)a.shape[0], (long long)rows, rows_what, l->n_req);
    } else if (pf_npy_to_f32(&a, out) < 0) {
        rc = pf_cli_fail(CMD, "%s (%s): %s", name, path, pf_error_get());
    }
    pf_npy_free(&a);
    return rc;
}

static int write_dump(const char *dir, const attn_job *j)
{
    static const char *names[3] = {"q", "k", "v"};
    if (mkdir(dir, 0777) < 0 && errno != EEXIST)
        return pf_cli_fail(CMD, "--dump-inputs %s: %s", dir, strerror(errno));
    for (int i = 0; i < 3; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.npy", dir, names[i]);
        int64_t rows = i == 0 ? j->layout->total_q : j->layout->total_kv;
        int64_t shape[3] = {rows, i == 0 ? j->pb.hq : j->pb.hkv, j->pb.head_dim};
        if (pf_npy_write_f32(path, j->qkv[i], 3, shape) < 0)
            return pf_cli_fail(CMD, "%s: %s", path, pf_error_get());
    }
    printf("inputs written to %s/{q,k,v}.npy\n", dir);
    return 0;
}

/* Layout, problem and inputs (files or seeded), bf16-rounded. */
static int build_job(const attn_args *a, attn_job *j)
{
    int hq = 0, hkv = 0;
    if (parse_heads(a->heads, &hq, &hkv))
        return 2;
    if (is_layout_file(a->layout)) {
        if (pf_layout_load(a->layout, &j->layout) < 0)
            return pf_cli_fail(CMD, "--layout %s: %s", a->layout, pf_error_get());
    } else if (pf_layout_parse(a->layout, &j->layout) < 0) {
        return pf_cli_usage_error(CMD, "--layout: %s", pf_error_get());
    }
    pf_mask_spec mask = {0};
    pf_rule_parse(a->rule, &mask.rule);   /* choices were checked by the parser */
    pf_layer_parse(a->layer, &mask.layer);
    mask.window = mask.layer == PF_LAYER_SLIDING ? (int)a->window : 0;
    if (pf_mask_spec_check(&mask) < 0)
        return pf_cli_usage_error(CMD, "%s", pf_error_get());
    int d = (int)a->head_dim;
    j->pb = (pf_attn_problem){j->layout, mask,
                              (float)(a->has_scale ? a->scale : 1.0 / sqrt((double)d)), hq, hkv,
                              d};
    j->counts[0] = (size_t)j->layout->total_q * (size_t)hq * (size_t)d;
    j->counts[1] = j->counts[2] = (size_t)j->layout->total_kv * (size_t)hkv * (size_t)d;
    if (a->qkv[0]) {
        static const char *names[3] = {"q", "k", "v"};
        for (int i = 0; i < 3; i++) {
            int rc = load_array(names[i], a->qkv[i], j->layout,
                                i ? j->layout->total_kv : j->layout->total_q,
                                i ? "key/value (prefix + new)" : "query (new)", i ? hkv : hq, d,
                                &j->qkv[i]);
            if (rc)
                return rc;
        }
    } else {
        uint64_t seed = a->has_seed ? (uint64_t)a->seed : (uint64_t)time(NULL);
        if (!a->has_seed)
            printf("seed %llu\n", (unsigned long long)seed);
        for (int i = 0; i < 3; i++) {
            if (!(j->qkv[i] = malloc(sizeof(float) * (j->counts[i] ? j->counts[i] : 1))))
                return pf_cli_fail(CMD, "out of memory for inputs");
            pf_check_fill_normal(pf_check_mix(seed, (uint64_t)"qkv"[i]), j->qkv[i], j->counts[i]);
        }
    }
    for (int i = 0; i < 3; i++)
        pf_round_bf16_array(j->qkv[i], j->counts[i]);
    j->o = malloc(sizeof(float) * (j->counts[0] ? j->counts[0] : 1));
    j->lse = malloc(sizeof(float) * (size_t)(j->layout->total_q * hq + 1));
    if (!j->o || !j->lse)
        return pf_cli_fail(CMD, "out of memory for outputs");
    return 0;
}

static int run_reference(const attn_job *j, float *o, float *lse)
{
    const pf_attn_problem *pb = &j->pb;
    if (pf_attention_reference(pb->layout, pb->mask.rule, pb->mask.layer, pb->mask.window,
                               pb->scale, pb->hq, pb->hkv, pb->head_dim, j->qkv[0], j->qkv[1],
                               j->qkv[2], o, lse) < 0)
        return pf_cli_fail(CMD, "reference: %s", pf_error_get());
    return 0;
}

/* Parse and validate the variant for this device; usage error when bad. */
static int pick_variant(const attn_args *a, const char *arch, int d, pf_attn_variant *v)
{
    if (!pf_attn_head_dim_supported(d))
        return pf_cli_usage_error(CMD, "--head-dim %d: the kernels support 64, 72, 128, 256, 512 "
                                  "(--reference takes any)", d);
    if (pf_attn_variant_default(d, arch, v) < 0)
        return pf_cli_fail_error(CMD);
    if (a->variant && pf_attn_variant_parse(a->variant, d, arch, v) < 0)
        return pf_cli_usage_error(CMD, "--variant: %s", pf_error_get());
    if (v->head_dim != d)
        return pf_cli_usage_error(CMD, "--variant HEAD_DIM=%d disagrees with --head-dim %d",
                                  v->head_dim, d);
    char why[256] = "";
    if (!pf_attn_variant_valid(v, arch, why, sizeof why))
        return pf_cli_usage_error(CMD, "--variant: invalid variant: %s", why);
    return 0;
}

static int run_kernel(const attn_args *a, attn_job *j)
{
    pf_device *dev = NULL;
    if (pf_device_open(a->device, &dev) < 0)
        return pf_cli_fail(CMD, "--device %s: %s", a->device, pf_error_get());
    int rc = 0;
    char arch[16];
    pf_device_props props;
    pf_attn_variant v;
    if (pf_device_arch(dev, arch, sizeof arch) < 0 || pf_dev_props(dev, &props) < 0) {
        rc = pf_cli_fail_error(CMD);
        goto done;
    }
    if ((rc = pick_variant(a, arch, j->pb.head_dim, &v)))
        goto done;
    char text[256];
    pf_attn_variant_to_string(&v, text, sizeof text);
    printf("variant %s\n", text);
    printf("device %s [%s backend, checked for %s]\n", props.name, props.backend, arch);
    pf_attn_run_info info;
    memset(&info, 0, sizeof info);
    pf_attn_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.encode_on_device = a->encode_on_device;
    if (pf_attn_run_opts(dev, arch, &j->pb, &v, &ro, j->qkv[0], j->qkv[1], j->qkv[2], j->o,
                         a->lse ? j->lse : NULL, &info) < 0) {
        rc = pf_cli_fail_error(CMD); /* the message names the variant */
        goto done;
    }
    printf("mask metadata %lld bytes (%s, %s indptr%s)", (long long)info.mask_bytes,
           pf_storage_name(v.mask_storage), v.indptr64 ? "int64" : "int32",
           info.mask_on_device ? ", encoded on the device" : "");
    if (info.tile_class_bytes)
        printf(" + tile classes %lld bytes (%lld empty, %lld full, %lld partial tiles)",
               (long long)info.tile_class_bytes, (long long)info.tiles_empty,
               (long long)info.tiles_full, (long long)info.tiles_partial);
    printf("\n");
    printf("time %.3f ms (%s timing%s)\n", info.kernel_ms, info.timer[0] ? info.timer : "host",
           props.caps.host_timers ? ", not a GPU number" : "");
    printf("compile %.0f ms%s, grid %ux%u, block %u, smem %zu bytes\n", info.compile_ms,
           info.from_cache ? " (cached)" : "", info.grid.x, info.grid.y, info.block.x, info.smem);
done:
    pf_device_close(dev);
    return rc;
}

static int compare_with_reference(const attn_job *j)
{
    size_t n = j->counts[0];
    float *ref = malloc(sizeof(float) * (n ? n : 1));
    if (!ref)
        return pf_cli_fail(CMD, "out of memory for the reference");
    int rc = run_reference(j, ref, NULL);
    if (!rc) {
        pf_check_error e;
        pf_check_compare(j->o, ref, n, &e);
        printf("vs reference: max abs error %.3e, relative Frobenius error %.3e%s\n", e.max_abs,
               e.rel_frob, pf_check_error_ok(&e) ? "" : "  (FAILS the 1e-2 check)");
        if (e.nonfinite)
            printf("vs reference: %zu NaN/Inf outputs (first at element %zu)\n", e.nonfinite,
                   e.first_bad);
    }
    free(ref);
    return rc;
}

static int write_outputs(const attn_args *a, const attn_job *j)
{
    int64_t shape[3] = {j->layout->total_q, j->pb.hq, j->pb.head_dim};
    if (pf_npy_write_f32(a->out, j->o, 3, shape) < 0)
        return pf_cli_fail(CMD, "--out %s: %s", a->out, pf_error_get());
    printf("wrote %s [%lld, %d, %d]\n", a->out, (long long)shape[0], j->pb.hq, j->pb.head_dim);
    if (a->lse) {
        if (pf_npy_write_f32(a->lse, j->lse, 2, shape) < 0)
            return pf_cli_fail(CMD, "--lse %s: %s", a->lse, pf_error_get());
        printf("wrote %s [%lld, %d]\n", a->lse, (long long)shape[0], j->pb.hq);
    }
    return 0;
}

int cmd_attention(int argc, char **argv)
{
    attn_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
    attn_job j;
    memset(&j, 0, sizeof j);
    if ((rc = build_job(&a, &j)))
        goto done;
    if (a.dump && (rc = write_dump(a.dump, &j)))
        goto done;
    if (a.reference) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if ((rc = run_reference(&j, j.o, j.lse)))
            goto done;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        printf("variant reference (double precision, host)\n");
        printf("time %.3f ms (host reference timing, not a GPU number)\n",
               (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
    } else {
        if ((rc = run_kernel(&a, &j)))
            goto done;
        if (a.compare && (rc = compare_with_reference(&j)))
            goto done;
    }
    rc = write_outputs(&a, &j);
done:
    job_free(&j);
    return rc;
}
