/* GPU benchmark of the attention kernel family on Gemma shapes:
 * Gemma-3-4B (Hq 8, Hkv 4, D 256) and Gemma-3-27B (Hq 32, Hkv 16, D 128) at
 * 8K, 32K, 128K tokens with a 256-token image every 4K tokens, full and
 * sliding (W=1024) layers, every mask storage with TILE_SKIP 0 and 1, and
 * the same kernel with a plain causal mask for comparison.
 *
 * Prints the device, then per row: useful TFLOP/s (4*D*Hq per visible
 * (q,k) pair, pairs counted from the rule), kernel time (labelled with its
 * timer) and mask metadata bytes. Needs a GPU: without one it exits 1 with
 * the reason.
 *
 * Usage: attention_bench [--seq N]... [--model 4b|27b]... [--iters N]
 *                        [--max-mask-gib G] [--variant KEY=VAL,...] [--quick]
 *                        [--spans-only] [--json FILE] [--emu-smoke]
 * --spans-only keeps the spans TILE_SKIP=1 rows and the causal ones (a
 * quick A/B of two shapes on the multimodal mask).
 * Each point is timed by the measure layer: 2 warm-up runs, an L2 flush
 * before every sample, at most --iters samples (default 100), stopping
 * early once the relative noise is under 0.5%; CUPTI times where available.
 * --noise N measures one point N times and prints the spread of its medians.
 * --emu-smoke runs the same flow on the emu backend at toy sizes (to test the
 * benchmark itself on a CPU-only machine; its times are host times). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/attention_params.h"
#include "attention/attention_run.h"
#include "attention/attn_variant.h"
#include "device/arch.h"
#include "device/device.h"
#include "attention/layout.h"
#include "attention/mask_encode.h"
#include "attention/mask_rule.h"
#include "core/json_doc.h"
#include "core/pf_error.h"
#include "measure/record.h"

typedef struct bench_model {
    const char *name;
    int hq, hkv, head_dim;
} bench_model;

static const bench_model models[] = {{"gemma3-4b", 8, 4, 256}, {"gemma3-27b", 32, 16, 128}};

typedef struct bench_opts {
    int64_t seqs[8];
    int n_seqs;
    int model_mask; /* bit per models[] entry */
    int iters;
    double max_mask_gib;
    const char *variant;
    const char *json; /* --json FILE: every record, schema pftune.bench.attention/1 */
    int noise;        /* --noise N: measure one point N times, report the spread */
    int spans_only;   /* --spans-only: spans TILE_SKIP=1 and causal rows only */
    int emu_smoke;
} bench_opts;

static int usage(const char *msg)
{
    fprintf(stderr, "attention_bench: %s\n", msg);
    fprintf(stderr, "usage: attention_bench [--seq N]... [--model 4b|27b]... [--iters N] "
                    "[--max-mask-gib G] [--variant KEY=VAL,...] [--json FILE] [--noise N] [--quick] "
                    "[--spans-only] [--emu-smoke]\n");
    return 2;
}

static int parse_args(int argc, char **argv, bench_opts *o)
{
    memset(o, 0, sizeof *o);
    o->iters = 100;
    o->max_mask_gib = 8.0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--emu-smoke")) {
            o->emu_smoke = 1;
        } else if (!strcmp(a, "--spans-only")) {
            o->spans_only = 1;
        } else if (!strcmp(a, "--quick")) {
            o->seqs[0] = 8192;
            o->n_seqs = 1;
        } else if (!strcmp(a, "--seq") && next) {
            if (o->n_seqs == 8)
                return usage("at most 8 --seq values");
            o->seqs[o->n_seqs++] = atoll(next);
            if (o->seqs[o->n_seqs - 1] < 1)
                return usage("--seq needs a positive token count");
            i++;
        } else if (!strcmp(a, "--model") && next) {
            if (!strcmp(next, "4b"))
                o->model_mask |= 1;
            else if (!strcmp(next, "27b"))
                o->model_mask |= 2;
            else
                return usage("--model must be 4b or 27b");
            i++;
        } else if (!strcmp(a, "--iters") && next) {
            o->iters = atoi(next);
            if (o->iters < 1)
                return usage("--iters needs a positive count");
            i++;
        } else if (!strcmp(a, "--max-mask-gib") && next) {
            o->max_mask_gib = atof(next);
            i++;
        } else if (!strcmp(a, "--noise") && next) {
            o->noise = atoi(next);
            if (o->noise < 2 || o->noise > 1000)
                return usage("--noise needs a count in 2..1000");
            i++;
        } else if (!strcmp(a, "--json") && next) {
            o->json = next;
            i++;
        } else if (!strcmp(a, "--variant") && next) {
            o->variant = next;
            i++;
        } else {
            return usage("unknown or incomplete option");
        }
    }
    if (!o->n_seqs) {
        o->seqs[0] = 8192;
        o->seqs[1] = 32768;
        o->seqs[2] = 131072;
        o->n_seqs = 3;
    }
    if (!o->model_mask)
        o->model_mask = 3;
    return 0;
}

/* How every point is timed: 2 warm-up runs, an L2 flush before each sample,
 * at most --iters samples, stopping early once the noise is low; CUPTI
 * where the backend has it. */
static void measure_opts(const bench_opts *o, pf_measure_opts *mo)
{
    pf_measure_defaults(mo);
    mo->warmup = 2;
    mo->max_samples = o->iters;
    mo->min_samples = o->iters < mo->min_samples ? o->iters : mo->min_samples;
    mo->use_cupti = 1;
}

/* One timed configuration; prints one row. Returns -1 on a failure. */
static int bench_one(pf_device *dev, const char *arch, const bench_opts *o, const bench_model *m,
                     const pf_layout *L, pf_mask_spec spec, int storage, int tile_skip,
                     json_t *out)
{
    pf_attn_problem pb = {L, spec, 1.0f, m->hq, m->hkv, m->head_dim};
    pb.scale = 1.0f / sqrtf((float)m->head_dim);
    pf_attn_variant v;
    if (pf_attn_variant_parse(o->variant, m->head_dim, arch, &v)) {
        fprintf(stderr, "attention_bench: %s\n", pf_error_get());
        return -1;
    }
    v.head_dim = m->head_dim;
    v.mask_storage = storage;
    v.tile_skip = tile_skip;
    char vs[256];
    pf_attn_variant_to_string(&v, vs, sizeof vs);
    const char *label = spec.layer == PF_LAYER_FULL ? "full" : "sliding";
    /* dense/bitmap at 128K need int64 indptr; pick the one that fits */
    int64_t bytes32 = pf_mask_bytes(L, storage, spec.rule, spec.layer, spec.window, 4);
    if (bytes32 < 0)
        return -1;
    int64_t off[2];
    if (pf_mask_offsets(L, storage, &spec, off) == 0 &&
        pf_mask_indptr_check(L, storage, off, 4, "mask") < 0)
        v.indptr64 = 1;
    int64_t mbytes = pf_mask_bytes(L, storage, spec.rule, spec.layer, spec.window,
                                   v.indptr64 ? 8 : 4);
    printf("%-11s %7lld %-7s %-6s %-6s skip=%d ", m->name, (long long)L->total_q, label,
           pf_rule_name(spec.rule), pf_storage_name(storage), tile_skip);
    if ((double)mbytes > o->max_mask_gib * 1073741824.0) {
        printf("skipped: mask %.1f GiB over --max-mask-gib %.1f\n", mbytes / 1073741824.0,
               o->max_mask_gib);
        return 0;
    }
    pf_record rec;
    pf_record_init(&rec);
    snprintf(rec.family, sizeof rec.family, "attention");
    snprintf(rec.variant, sizeof rec.variant, "%s", vs);
    snprintf(rec.problem, sizeof rec.problem, "%s %lld tokens, %s layer, rule %s, heads %d:%d",
             m->name, (long long)L->total_q, label, pf_rule_name(spec.rule), m->hq, m->hkv);
    snprintf(rec.arch, sizeof rec.arch, "%s", arch);
    pf_device_props pr;
    if (pf_dev_props(dev, &pr) == 0) {
        snprintf(rec.device, sizeof rec.device, "%.127s", pr.name);
        snprintf(rec.backend, sizeof rec.backend, "%s", pr.backend);
    }
    rec.useful_flops = pf_attn_useful_flops(&pb);
    pf_attn_prepared *ap = NULL;
    int rc = pf_attn_prepare(dev, NULL, &pb, &v, NULL, NULL, NULL, 1234, 0, &ap, NULL);
    if (rc == 0) {
        pf_measure_opts mo;
        measure_opts(o, &mo);
        double samples[PF_RECORD_MAX_SAMPLES];
        rc = pf_attn_measure(ap, &mo, &rec.time, samples);
        const pf_attn_run_info *info = pf_attn_prepared_info(ap);
        rec.metadata_bytes = mbytes + info->tile_class_bytes;
        rec.registers = info->res.registers > 0 ? info->res.registers : -1; /* 0: emu */
        if (rc == 0)
            rc = pf_record_set_samples(&rec, samples, rec.time.samples);
    }
    if (rc) {
        rec.status = PF_STATUS_RUNTIME_FAILED;
        snprintf(rec.message, sizeof rec.message, "%s", pf_error_get());
    }
    pf_record_print_text(stdout, &rec);
    fflush(stdout);
    if (out)
        json_array_append_new(out, pf_record_to_json(&rec));
    pf_record_free(&rec);
    pf_attn_release(ap);
    return rc;
}

/* --noise N: the timing noise of the measure layer itself. One point (the
 * first model and length, full layer, gemma3 rule, spans, tile skip) is
 * measured N times; the spread of the N medians is what a regression check
 * between two runs has to beat (target on a GPU: under 1%). */
static int bench_noise(pf_device *dev, const char *arch, const bench_opts *o, const bench_model *m,
                       const pf_layout *L)
{
    pf_mask_spec spec = {PF_RULE_GEMMA3, PF_LAYER_FULL, 0};
    pf_attn_problem pb = {L, spec, 1.0f / sqrtf((float)m->head_dim), m->hq, m->hkv, m->head_dim};
    pf_attn_variant v;
    if (pf_attn_variant_parse(o->variant, m->head_dim, arch, &v))
        return -1;
    v.mask_storage = PF_MASK_SPANS;
    v.tile_skip = 1;
    char vs[256];
    pf_attn_variant_to_string(&v, vs, sizeof vs);
    pf_attn_prepared *ap = NULL;
    if (pf_attn_prepare(dev, arch, &pb, &v, NULL, NULL, NULL, 1234, 0, &ap, NULL))
        return -1;
    pf_measure_opts mo;
    measure_opts(o, &mo);
    double sum = 0, sq = 0, med[1000];
    pf_measure_summary s;
    int rc = 0;
    for (int i = 0; i < o->noise && rc == 0; i++) {
        rc = pf_attn_measure(ap, &mo, &s, NULL);
        med[i] = s.median_ms;
        sum += med[i];
    }
    pf_attn_release(ap);
    if (rc)
        return -1;
    double mean = sum / o->noise;
    for (int i = 0; i < o->noise; i++)
        sq += (med[i] - mean) * (med[i] - mean);
    double rel = sqrt(sq / (o->noise - 1)) / mean;
    printf("noise: %d measurements of %s at %lld tokens (%s): mean of medians %.4f ms, relative "
           "stdev %.3f%% (target < 1%%) [%s]\n",
           o->noise, m->name, (long long)L->total_q, vs, mean, rel * 100, s.timer);
    return 0;
}

int main(int argc, char **argv)
{
    bench_opts o;
    int urc = parse_args(argc, argv, &o);
    if (urc)
        return urc;
    char why[512] = "";
    pf_device *dev = NULL;
    int64_t image_every = 4096 - 256; /* text tokens between 256-token images */
    if (o.emu_smoke) {
        /* toy sizes: an image every 128 tokens so the rule still matters */
        image_every = 64;
        o.iters = 1;
        if (o.n_seqs == 3 && o.seqs[0] == 8192)
            o.seqs[0] = 200, o.n_seqs = 1;
        if (o.model_mask == 3)
            o.model_mask = 1;
        if (pf_emu_open("sm_90", &dev)) {
            fprintf(stderr, "attention_bench: %s\n", pf_error_get());
            return 1;
        }
    } else {
        if (pf_cuda_device_count(why, sizeof why) <= 0) {
            fprintf(stderr, "attention_bench: needs a CUDA GPU: %s\n", why[0] ? why : "no device");
            return 1;
        }
        if (pf_cuda_open(0, &dev)) {
            fprintf(stderr, "attention_bench: %s\n", pf_error_get());
            return 1;
        }
    }
    pf_device_props pr;
    memset(&pr, 0, sizeof pr);
    pf_dev_props(dev, &pr);
    printf("device: %s [%s] (sm_%d%d, %d SMs, driver %s); each row: median [q1, q3] of at most "
           "%d samples and the timer that produced it%s\n",
           pr.name, pr.backend, pr.cc_major, pr.cc_minor, pr.sm_count, pr.driver, o.iters,
           pr.caps.host_timers ? " (emu-host: NOT a GPU number)" : "");
    char arch[16];
    if (pf_device_arch(dev, arch, sizeof arch)) {
        fprintf(stderr, "attention_bench: %s\n", pf_error_get());
        pf_device_close(dev);
        return 1;
    }
    printf("useful TFLOP/s = 4*D*Hq per visible (q,k) pair / time; mask = metadata bytes "
           "(mask + indptr + group ids + tile classes)\n");
    int failures = 0;
    if (o.noise) {
        pf_layout *L = NULL;
        int m0 = o.model_mask & 1 ? 0 : 1;
        int nrc = pf_layout_gen_periodic(1, o.seqs[0], o.emu_smoke ? 64 : 256, image_every, &L) ||
                  bench_noise(dev, arch, &o, &models[m0], L);
        if (nrc)
            fprintf(stderr, "attention_bench: --noise: %s\n", pf_error_get());
        pf_layout_free(L);
        pf_device_close(dev);
        return nrc ? 1 : 0;
    }
    json_t *records = o.json ? json_array() : NULL;
    for (size_t mi = 0; mi < sizeof models / sizeof models[0]; mi++) {
        if (!(o.model_mask & (1 << mi)))
            continue;
        for (int si = 0; si < o.n_seqs; si++) {
            pf_layout *L = NULL;
            /* a 256-token image every 4K tokens: 3840 text, 256 image, ...
             * (emu smoke: 64-token images after every 64 text tokens) */
            if (pf_layout_gen_periodic(1, o.seqs[si], o.emu_smoke ? 64 : 256, image_every, &L)) {
                fprintf(stderr, "attention_bench: %s\n", pf_error_get());
                return 1;
            }
            for (int layer = 0; layer < 2; layer++) {
                pf_mask_spec spec = {PF_RULE_GEMMA3, layer ? PF_LAYER_SLIDING : PF_LAYER_FULL,
                                     layer ? (o.emu_smoke ? 50 : 1024) : 0};
                for (int st = o.spans_only ? PF_MASK_SPANS : PF_MASK_DENSE; st <= PF_MASK_SPANS; st++)
                    for (int ts = o.spans_only; ts < 2; ts++)
                        failures += bench_one(dev, arch, &o, &models[mi], L, spec, st, ts, records) != 0;
                pf_mask_spec causal = {PF_RULE_CAUSAL, spec.layer, spec.window};
                failures += bench_one(dev, arch, &o, &models[mi], L, causal, PF_MASK_SPANS, 1, records) != 0;
            }
            pf_layout_free(L);
        }
    }
    if (records) {
        json_t *doc = pf_json_doc_new("pftune.bench.attention", 1);
        json_object_set_new(doc, "device", json_string(pr.name));
        json_object_set_new(doc, "backend", json_string(pr.backend));
        json_object_set_new(doc, "arch", json_string(arch));
        json_object_set_new(doc, "records", records);
        if (!doc || pf_json_doc_write(doc, o.json)) {
            fprintf(stderr, "attention_bench: --json %s: %s\n", o.json, pf_error_get());
            failures++;
        }
        json_decref(doc);
    }
    pf_device_close(dev);
    if (failures)
        fprintf(stderr, "attention_bench: %d configurations failed\n", failures);
    return failures ? 1 : 0;
}
