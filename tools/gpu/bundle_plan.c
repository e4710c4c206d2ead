/* The JIT cache plan of the GPU bundle (tools/gpu-bundle): every kernel
 * variant the bundle's run script launches on a GPU, compiled with NVRTC for
 * each --arch through the JIT cache ($PFTUNE_CACHE_DIR / --cache-dir), so
 * the GPU machine finds them there and spends no time in NVRTC:
 *
 *   attention defaults   every head dim x every mask storage (DIR/run's
 *                        `pftune attention` and compute-sanitizer launches)
 *   check                the covering subset `pftune check` picks per head
 *                        dim (the same enumerate + cover calls as cmd_check)
 *   bench                attention_bench's configurations (its default
 *                        variant per model, storage x TILE_SKIP, int64
 *                        indptrs where int32 overflows) at --bench-seq,
 *                        and the D=128 128-row A/B shape (spans)
 *   tune                 every candidate of --profile's search spaces
 *                        (pf_tune_space_build compiles them itself)
 *   mask_build           the device mask builders (--encode-on-device)
 *
 * Writes --manifest: one line per (variant, arch), tab-separated:
 *   key  target  kind  head_dim  text
 * text is the variant string for attention (replay: pftune compile --arch T
 * --kernel attention --head-dim D --variant TEXT) or the defines of
 * mask_build.cu (NAME=VALUE joined by ','). Prints how many compiled and
 * how many the cache served. --copy-to DIR copies each entry
 * (KEY.entry, mode 0600) from the cache into DIR. Exit 1 if any variant
 * fails to compile. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kernels/attention_params.h"
#include "attention/attn_variant.h"
#include "attention/covering.h"
#include "attention/layout.h"
#include "attention/mask_encode.h"
#include "attention/mask_rule.h"
#include "core/pf_error.h"
#include "jit/jit.h"
#include "tuner/profile.h"
#include "tuner/space.h"

#define MAX_ITEMS 8192

typedef struct plan_item {
    pf_variant jv;
    char kind[16];
    int head_dim;
    char text[256];
} plan_item;

static plan_item *items;
static int n_items;

static int usage(const char *msg)
{
    fprintf(stderr, "bundle_plan: %s\n"
                    "usage: bundle_plan --arch sm_80,sm_90 --manifest FILE [--profile P]...\n"
                    "                   [--bench-seq N]... [--jobs N] [--cache-dir DIR] [--copy-to DIR]\n",
            msg);
    return 2;
}

/* Same target and defines as an item already planned? */
static int planned(const pf_variant *jv)
{
    for (int i = 0; i < n_items; i++) {
        const pf_variant *o = &items[i].jv;
        if (strcmp(o->target, jv->target) || strcmp(o->source, jv->source) ||
            o->n_defines != jv->n_defines)
            continue;
        int same = 1;
        for (int d = 0; d < jv->n_defines && same; d++)
            same = !strcmp(o->defines[d].name, jv->defines[d].name) &&
                   !strcmp(o->defines[d].value, jv->defines[d].value);
        if (same)
            return 1;
    }
    return 0;
}

static int add_item(const pf_variant *jv, const char *kind, int head_dim, const char *text)
{
    if (planned(jv))
        return 0;
    if (n_items == MAX_ITEMS)
        return pf_error_set("more than %d variants", MAX_ITEMS);
    plan_item *it = &items[n_items++];
    it->jv = *jv;
    snprintf(it->kind, sizeof it->kind, "%s", kind);
    it->head_dim = head_dim;
    snprintf(it->text, sizeof it->text, "%s", text);
    return 0;
}

static int add_attention(const pf_attn_variant *v, const char *arch, const char *kind)
{
    pf_variant jv;
    memset(&jv, 0, sizeof jv);
    snprintf(jv.source, sizeof jv.source, "%s/attention.cu", pf_kernel_dir());
    snprintf(jv.target, sizeof jv.target, "%s", arch);
    if (pf_attn_variant_defines(v, &jv))
        return -1;
    char text[256];
    pf_attn_variant_to_string(v, text, sizeof text);
    return add_item(&jv, kind, v->head_dim, text);
}

static const int head_dims[] = {64, 72, 128, 256, 512};
#define N_DIMS (int)(sizeof head_dims / sizeof head_dims[0])

/* `pftune attention --head-dim D --variant MASK_STORAGE=S` for every D, S. */
static int plan_defaults(const char *arch)
{
    for (int di = 0; di < N_DIMS; di++)
        for (int st = PF_MASK_DENSE; st <= PF_MASK_SPANS; st++) {
            pf_attn_variant v;
            if (pf_attn_variant_default(head_dims[di], arch, &v))
                return -1;
            v.mask_storage = st;
            if (pf_attn_variant_valid(&v, arch, NULL, 0) && add_attention(&v, arch, "default"))
                return -1;
        }
    return 0;
}

/* `pftune check` without --all: the covering subset per head dim. */
static int plan_check(const char *arch)
{
    for (int di = 0; di < N_DIMS; di++) {
        int n = pf_attn_variant_enumerate(head_dims[di], arch, NULL, 0);
        if (n < 0)
            return -1;
        pf_attn_variant *all = malloc(sizeof *all * (size_t)(n + 1));
        pf_attn_variant *sel = malloc(sizeof *sel * (size_t)(n + 1));
        int rc = all && sel ? 0 : pf_error_set("out of memory");
        if (!rc)
            pf_attn_variant_enumerate(head_dims[di], arch, all, n);
        int k = rc ? -1 : pf_attn_cover_variants(all, n, sel);
        if (k < 0)
            rc = -1;
        for (int i = 0; i < k && !rc; i++)
            rc = add_attention(&sel[i], arch, "check");
        free(all);
        free(sel);
        if (rc)
            return -1;
    }
    return 0;
}

/* attention_bench's configurations (bench/attention_bench.c, bench_one). */
static int plan_bench(const char *arch, const int64_t *seqs, int n_seqs)
{
    static const int dims[] = {256, 128}; /* gemma3-4b, gemma3-27b */
    for (int mi = 0; mi < 2; mi++)
        for (int si = 0; si < n_seqs; si++) {
            pf_layout *L = NULL;
            if (pf_layout_gen_periodic(1, seqs[si], 256, 4096 - 256, &L))
                return -1;
            int rc = 0;
            for (int layer = 0; layer < 2 && !rc; layer++) {
                pf_mask_spec spec = {PF_RULE_GEMMA3, layer ? PF_LAYER_SLIDING : PF_LAYER_FULL,
                                     layer ? 1024 : 0};
                for (int st = PF_MASK_DENSE; st <= PF_MASK_SPANS + 1 && !rc; st++)
                    for (int ts = 0; ts < 2 && !rc; ts++) {
                        pf_mask_spec s = spec;
                        int storage = st, skip = ts;
                        if (st > PF_MASK_SPANS) { /* the plain causal row */
                            if (!ts)
                                continue;
                            s.rule = PF_RULE_CAUSAL;
                            storage = PF_MASK_SPANS;
                        }
                        pf_attn_variant v;
                        if (pf_attn_variant_parse(NULL, dims[mi], arch, &v)) {
                            rc = -1;
                            break;
                        }
                        v.head_dim = dims[mi];
                        v.mask_storage = storage;
                        v.tile_skip = skip;
                        int64_t off[2];
                        if (pf_mask_offsets(L, storage, &s, off) == 0 &&
                            pf_mask_indptr_check(L, storage, off, 4, "mask") < 0)
                            v.indptr64 = 1;
                        rc = add_attention(&v, arch, "bench");
                    }
            }
            pf_layout_free(L);
            if (rc)
                return -1;
        }
    /* the bench step's D=128 A/B: the 128-row shape the default replaced,
     * spans TILE_SKIP=1 (--spans-only; int32 fits spans at any length) */
    pf_attn_variant v;
    if (pf_attn_variant_parse("BLOCK_M=128,BLOCK_N=32,WARPS=4,MASK_STORAGE=spans,TILE_SKIP=1", 128,
                              arch, &v))
        return -1;
    return add_attention(&v, arch, "bench");
}

/* Every candidate of the profile's spaces on arch. */
static int plan_tune(const char *arch, const char *path, int jobs)
{
    pf_profile p;
    if (pf_profile_load(path, pf_tune_axis_names(), &p))
        return -1;
    pf_tune_problem *pbs = NULL;
    int n = 0;
    if (pf_tune_problems(&p, p.seed, &pbs, &n))
        return -1;
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        pf_tune_space s;
        if (pf_tune_space_build(&p, &pbs[i], arch, jobs, &s)) {
            rc = -1;
            break;
        }
        for (int c = 0; c < s.n_cand && !rc; c++)
            rc = add_attention(&s.points[s.cand[c]].v, arch, "tune");
        pf_tune_space_free(&s);
    }
    pf_tune_problems_free(pbs, n);
    return rc;
}

/* kernels/mask_build.cu as mask_device.c loads it. */
static int plan_mask_build(const char *arch)
{
    for (int ib = 4; ib <= 8; ib += 4)
        for (int st = -1; st <= PF_MASK_WINDOW; st++) {
            pf_variant jv;
            memset(&jv, 0, sizeof jv);
            snprintf(jv.source, sizeof jv.source, "%s/mask_build.cu", pf_kernel_dir());
            snprintf(jv.target, sizeof jv.target, "%s", arch);
            char num[16], text[128];
            snprintf(num, sizeof num, "%d", st);
            const char *name = st < 0 ? "TILE_BUILD" : "MASK_STORAGE";
            const char *val = st < 0 ? "1" : num;
            if (pf_variant_add_define(&jv, "INDPTR_T", ib == 8 ? "long long" : "int") ||
                pf_variant_add_define(&jv, name, val))
                return -1;
            snprintf(text, sizeof text, "INDPTR_T=%s,%s=%s", ib == 8 ? "long long" : "int", name,
                     val);
            if (add_item(&jv, "mask_build", 0, text))
                return -1;
        }
    return 0;
}

/* Copy one cache entry (a GPU entry is one file: KEY.entry). */
static int copy_entry(const char *from_dir, const char *to_dir, const char *key)
{
    char src[1200], dst[1200];
    snprintf(src, sizeof src, "%s/%s.entry", from_dir, key);
    snprintf(dst, sizeof dst, "%s/%s.entry", to_dir, key);
    FILE *in = fopen(src, "rb");
    if (!in)
        return pf_error_set("%s: %s", src, strerror(errno));
    int fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FILE *out = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!out) {
        fclose(in);
        if (fd >= 0)
            close(fd);
        return pf_error_set("%s: %s", dst, strerror(errno));
    }
    char buf[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            rc = -1;
    rc |= ferror(in) ? -1 : 0;
    fclose(in);
    if (fclose(out) || rc)
        return pf_error_set("copying %s to %s failed", src, dst);
    return 0;
}

int main(int argc, char **argv)
{
    const char *archs = NULL, *manifest = NULL, *copy_to = NULL, *profiles[8];
    int n_profiles = 0, n_seqs = 0, jobs = 0;
    int64_t seqs[8];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!next)
            return usage("every option takes a value");
        if (!strcmp(a, "--arch"))
            archs = next;
        else if (!strcmp(a, "--manifest"))
            manifest = next;
        else if (!strcmp(a, "--profile") && n_profiles < 8)
            profiles[n_profiles++] = next;
        else if (!strcmp(a, "--bench-seq") && n_seqs < 8)
            seqs[n_seqs++] = atoll(next);
        else if (!strcmp(a, "--jobs"))
            jobs = atoi(next);
        else if (!strcmp(a, "--copy-to"))
            copy_to = next;
        else if (!strcmp(a, "--cache-dir"))
            pf_jit_set_cache_dir(next);
        else
            return usage("unknown option");
        i++;
    }
    if (!archs || !manifest)
        return usage("--arch and --manifest are required");
    items = calloc(MAX_ITEMS, sizeof *items);
    if (!items)
        return 1;
    char list[256];
    snprintf(list, sizeof list, "%s", archs);
    for (char *save = NULL, *arch = strtok_r(list, ",", &save); arch;
         arch = strtok_r(NULL, ",", &save)) {
        if (pf_target_check(arch) || !strcmp(arch, "emu")) {
            fprintf(stderr, "bundle_plan: --arch %s: a GPU arch is needed\n", arch);
            return 2;
        }
        int rc = plan_defaults(arch) || plan_check(arch) || plan_bench(arch, seqs, n_seqs) ||
                 plan_mask_build(arch);
        for (int p = 0; p < n_profiles && !rc; p++)
            rc = plan_tune(arch, profiles[p], jobs);
        if (rc) {
            fprintf(stderr, "bundle_plan: %s: %s\n", arch, pf_error_get());
            return 1;
        }
    }

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pf_variant *jv = malloc(sizeof *jv * (size_t)(n_items + 1));
    pf_jit_result *jr = calloc((size_t)n_items + 1, sizeof *jr);
    if (!jv || !jr)
        return 1;
    for (int i = 0; i < n_items; i++)
        jv[i] = items[i].jv;
    if (pf_jit_compile_many(jv, n_items, jobs, jr)) {
        fprintf(stderr, "bundle_plan: %s\n", pf_error_get());
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    FILE *f = fopen(manifest, "w");
    if (!f) {
        perror(manifest);
        return 1;
    }
    char cache[1024] = "";
    if (copy_to && pf_jit_cache_dir(cache, sizeof cache)) {
        fprintf(stderr, "bundle_plan: %s\n", pf_error_get());
        return 1;
    }
    int hits = 0, bad = 0;
    for (int i = 0; i < n_items; i++) {
        if (!jr[i].valid) {
            bad++;
            fprintf(stderr, "bundle_plan: %s %s %s does not compile:\n%s\n", items[i].kind,
                    jv[i].target, items[i].text, jr[i].log ? jr[i].log : "(no log)");
        }
        hits += jr[i].from_cache;
        if (jr[i].valid && copy_to && copy_entry(cache, copy_to, jr[i].key)) {
            fprintf(stderr, "bundle_plan: %s\n", pf_error_get());
            bad++;
        }
        fprintf(f, "%s\t%s\t%s\t%d\t%s\n", jr[i].key, jv[i].target, items[i].kind,
                items[i].head_dim, items[i].text);
        pf_jit_result_free(&jr[i]);
    }
    if (fclose(f)) {
        perror(manifest);
        return 1;
    }
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    printf("bundle_plan: %d variants for %s (%d from the cache, %d compiled, %.1f s)\n", n_items,
           archs, hits, n_items - hits, secs);
    free(jv);
    free(jr);
    free(items);
    return bad ? 1 : 0;
}
