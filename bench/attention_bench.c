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
 *                        [--emu-smoke]
 * Each point is timed by the measure layer: 2 warm-up runs, an L2 flush
 * before every sample, at most --iters samples (default 100), stopping
 * early once the relative noise is under 0.5%; CUPTI times where available.
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
#include "core/pf_error.h"

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
    int emu_smoke;
} bench_opts;

static int usage(const char *msg)
{
    fprintf(stderr, "attention_bench: %s\n", msg);
    fprintf(stderr, "usage: attention_bench [--seq N]... [--model 4b|27b]... [--iters N] "
                    "[--max-mask-gib G] [--variant KEY=VAL,...] [--quick] [--emu-smoke]\n");
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

/* One timed configuration; prints one row. Returns -1 on a failure. */
static int bench_one(pf_device *dev, const char *arch, const bench_opts *o, const bench_model *m,
                     const pf_layout *L, pf_mask_spec spec, int storage, int tile_skip)
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
    pf_attn_prepared *ap = NULL;
    if (pf_attn_prepare(dev, NULL, &pb, &v, NULL, NULL, NULL, 1234, 0, &ap, NULL)) {
        printf("FAILED: %s\n", pf_error_get());
        return -1;
    }
    /* the measure layer: warm-up, L2 flush before each sample, stdrel stop */
    pf_measure_opts mo;
    pf_measure_defaults(&mo);
    mo.warmup = 2;
    mo.min_samples = o->iters < mo.min_samples ? o->iters : mo.min_samples;
    mo.max_samples = o->iters;
    mo.use_cupti = 1;
    pf_measure_summary sum;
    int rc = pf_attn_measure(ap, &mo, &sum, NULL);
    const pf_attn_run_info *info = pf_attn_prepared_info(ap);
    if (rc) {
        printf("FAILED: %s\n", pf_error_get());
    } else {
        double ms = sum.median_ms;
        double tflops = pf_attn_useful_flops(&pb) / (ms * 1e-3) / 1e12;
        printf("%8.2f TFLOP/s %9.3f ms median [q1 %.3f q3 %.3f, %d samples] (%s) mask %10.3f MiB"
               "  regs %d  %s\n",
               tflops, ms, sum.q1_ms, sum.q3_ms, sum.samples, sum.timer,
               (double)(mbytes + info->tile_class_bytes) / 1048576.0, info->res.registers, vs);
    }
    fflush(stdout);
    pf_attn_release(ap);
    return rc;
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
    printf("device: %s [%s] (sm_%d%d, %d SMs, driver %s); timer: %s, mean of %d launches\n",
           pr.name, pr.backend, pr.cc_major, pr.cc_minor, pr.sm_count, pr.driver,
           o.emu_smoke ? "emu-host clock (NOT a GPU number)" : "cuda events", o.iters);
    char arch[16];
    if (pf_device_arch(dev, arch, sizeof arch)) {
        fprintf(stderr, "attention_bench: %s\n", pf_error_get());
        pf_device_close(dev);
        return 1;
    }
    printf("useful TFLOP/s = 4*D*Hq per visible (q,k) pair / time; mask = metadata bytes "
           "(mask + indptr + group ids + tile classes)\n");
    int failures = 0;
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
                for (int st = PF_MASK_DENSE; st <= PF_MASK_SPANS; st++)
                    for (int ts = 0; ts < 2; ts++)
                        failures += bench_one(dev, arch, &o, &models[mi], L, spec, st, ts) != 0;
                pf_mask_spec causal = {PF_RULE_CAUSAL, spec.layer, spec.window};
                failures += bench_one(dev, arch, &o, &models[mi], L, causal, PF_MASK_SPANS, 1) != 0;
            }
            pf_layout_free(L);
        }
    }
    pf_device_close(dev);
    if (failures)
        fprintf(stderr, "attention_bench: %d configurations failed\n", failures);
    return failures ? 1 : 0;
}
