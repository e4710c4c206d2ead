/* `pftune analyze`: static analysis of a kernel variant without a GPU.
 * Compile through the JIT (cache), disassemble the cubin (analyze/disasm.h),
 * count the instruction mix of the whole kernel and of its main loop
 * (analyze/sass.h) and compute the theoretical occupancy from registers,
 * shared memory and threads (analyze/occupancy.h). --sass analyzes a saved
 * disassembly instead (no compile, no disassembler needed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "analyze/disasm.h"
#include "analyze/occupancy.h"
#include "analyze/sass.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/kernel_arg.h"
#include "core/json_doc.h"
#include "core/pf_error.h"
#include "device/arch.h"
#include "jit/jit.h"

#define CMD "analyze"

enum { OPT_ARCH, OPT_KERNEL, OPT_VARIANT, OPT_HEAD_DIM, OPT_DEFINE, OPT_ENTRY, OPT_THREADS,
       OPT_DYN_SMEM, OPT_SASS, OPT_SAVE_SASS, OPT_CACHE_DIR, OPT_NO_CACHE, OPT_JSON };

static const pf_cli_opt opts[] = {
    [OPT_ARCH] = {"arch", 'a', "SM", "sm_80, sm_86, sm_89, sm_90, sm_100, sm_120; repeat or "
                                     "comma-separate"},
    [OPT_KERNEL] = {"kernel", 'k', "KERNEL", "kernel source path or name (default attention)"},
    [OPT_VARIANT] = {"variant", 'v', "TEXT", "attention: \"BLOCK_M=64,WARPS=4,...\" over the "
                                             "default variant"},
    [OPT_HEAD_DIM] = {"head-dim", 0, "N", "attention: head dim (default 128)"},
    [OPT_DEFINE] = {"define", 'D', "NAME=VALUE", "preprocessor define (repeatable; overrides)"},
    [OPT_ENTRY] = {"entry", 'e', "NAME", "analyze this kernel entry only (default: every one)"},
    [OPT_THREADS] = {"threads", 't', "N", "threads per block for occupancy (attention: the "
                                          "variant's; else default 128)"},
    [OPT_DYN_SMEM] = {"dynamic-smem", 0, "BYTES", "dynamic shared memory per block (attention: "
                                                  "the variant's; else 0)"},
    [OPT_SASS] = {"sass", 0, "FILE", "analyze this nvdisasm -c / cuobjdump -sass text instead "
                                     "of compiling"},
    [OPT_SAVE_SASS] = {"save-sass", 0, "PREFIX", "also write each target's disassembly to "
                                                 "PREFIX.<arch>.sass"},
    [OPT_CACHE_DIR] = {"cache-dir", 0, "DIR", "JIT cache directory"},
    [OPT_NO_CACHE] = {"no-cache", 0, NULL, "neither read nor write the JIT cache"},
    [OPT_JSON] = {"json", 0, NULL, "print one JSON object (schema pftune.analyze/1)"},
    {0},
};

typedef struct an_args {
    char targets[PF_MAX_TARGETS][16];
    int n_targets, json, no_cache;
    long head_dim, threads, dyn_smem;
    const char *kernel, *variant, *entry, *sass_file, *save_sass, *cache_dir;
    pf_variant base; /* source + --define */
} an_args;

/* One analyzed entry of one target. */
typedef struct an_entry {
    const pf_sass_func *fn;
    int registers;
    long static_smem; /* -1: unknown (from --sass) */
    int threads;
    long dyn_smem;
    pf_sass_mix mix;
    pf_sass_loop loop;
    int has_occ;
    pf_occupancy occ;
} an_entry;

static int parse_args(int argc, char **argv, an_args *a)
{
    memset(a, 0, sizeof *a);
    a->dyn_smem = -1;
    pf_cli c;
    pf_cli_init(&c, CMD, argc, argv, opts, "pftune analyze --arch SM [--kernel K] [options]",
                "Static analysis of a kernel variant, no GPU needed: compile it (JIT cache),\n"
                "disassemble the cubin with NVIDIA's nvdisasm (or cuobjdump) and report the\n"
                "instruction mix of the whole kernel and of its main loop, the innermost loop\n"
                "holding the tensor-core MMAs (found from backward branches in the SASS control\n"
                "flow): HMMA; LDSM by shape (.x1/.x2/.x4, .T); LDGSTS, LDG/STG, LDS/STS by width;\n"
                "BAR, BRA, MUFU, SHFL; local memory (LDL/STL); LDSM .x4-equivalents and shared\n"
                "bytes loaded per HMMA; global loads in the main loop (in the attention kernel\n"
                "Q/K/V move by LDGSTS, so those are the mask and tile-class reads); and the\n"
                "theoretical occupancy (blocks and warps per SM from registers, shared memory\n"
                "and threads against the arch table).\n"
                "\n"
                "The disassembler: $PFTUNE_NVDISASM, else nvdisasm on PATH or in\n"
                "/usr/local/cuda/bin, else the pip package tools/setup.sh installs into\n"
                ".tools-venv (nvidia-cuda-nvdisasm), else cuobjdump in the same places.");
    c.examples = "  pftune analyze --arch sm_80,sm_90 --head-dim 128\n"
                 "  pftune analyze --arch sm_90 --head-dim 256 --variant BLOCK_M=32 --json\n"
                 "  pftune analyze --arch sm_80 --kernel kernels/test/mma_probe.cu --entry "
                 "pf_mma_probe_gemm\n"
                 "  pftune analyze --arch sm_80 --save-sass /tmp/attn  # /tmp/attn.sm_80.sass\n"
                 "  pftune analyze --sass /tmp/attn.sm_80.sass --arch sm_80 --threads 128\n";
    const char *val;
    int o;
    while ((o = pf_cli_next(&c, &val)) != PF_CLI_DONE) {
        pf_define d;
        switch (o) {
        case PF_CLI_HELP: return 0;
        case PF_CLI_ERROR: return 2;
        case PF_CLI_ARG: return pf_cli_usage_error(CMD, "unexpected argument '%s'", val);
        case OPT_ARCH:
            if (pf_targets_add(val, a->targets, &a->n_targets) != 0)
                return pf_cli_usage_error(CMD, "%s", pf_error_get());
            break;
        case OPT_KERNEL: a->kernel = val; break;
        case OPT_VARIANT: a->variant = val; break;
        case OPT_HEAD_DIM:
            if (pf_cli_parse_long(CMD, "--head-dim", val, 1, 1024, &a->head_dim) != 0)
                return 2;
            break;
        case OPT_DEFINE:
            if (pf_define_parse(val, &d) != 0 || pf_variant_add_define(&a->base, d.name, d.value))
                return pf_cli_usage_error(CMD, "%s", pf_error_get());
            break;
        case OPT_ENTRY: a->entry = val; break;
        case OPT_THREADS:
            if (pf_cli_parse_long(CMD, "--threads", val, 1, 1024, &a->threads) != 0)
                return 2;
            break;
        case OPT_DYN_SMEM:
            if (pf_cli_parse_long(CMD, "--dynamic-smem", val, 0, 1L << 30, &a->dyn_smem) != 0)
                return 2;
            break;
        case OPT_SASS: a->sass_file = val; break;
        case OPT_SAVE_SASS: a->save_sass = val; break;
        case OPT_CACHE_DIR: a->cache_dir = val; break;
        case OPT_NO_CACHE: a->no_cache = 1; break;
        case OPT_JSON: a->json = 1; break;
        }
    }
    for (int i = 0; i < a->n_targets; i++)
        if (strcmp(a->targets[i], "emu") == 0)
            return pf_cli_usage_error(CMD, "emu has no SASS: give GPU archs (e.g. --arch sm_90)");
    if (a->sass_file) {
        if (a->n_targets > 1 || a->kernel || a->variant || a->head_dim || a->base.n_defines ||
            a->save_sass)
            return pf_cli_usage_error(CMD, "--sass takes at most one --arch (for occupancy) and "
                                           "no kernel, variant, define or --save-sass");
        return -1;
    }
    if (a->n_targets == 0)
        return pf_cli_usage_error(CMD, "missing --arch (e.g. --arch sm_90)");
    if (pf_kernel_resolve(a->kernel ? a->kernel : "attention", a->base.source,
                          sizeof a->base.source) != 0)
        return pf_cli_usage_error(CMD, "%s", pf_error_get());
    if (!pf_kernel_is_attention(a->base.source) && (a->variant || a->head_dim))
        return pf_cli_usage_error(CMD,
                                  "--variant and --head-dim apply to the attention kernel only");
    if (pf_kernel_is_attention(a->base.source) && (a->threads || a->dyn_smem >= 0))
        return pf_cli_usage_error(CMD, "the attention variant sets threads and shared memory; "
                                       "change them with --variant");
    return -1; /* go on */
}

/* The arch table entry of a target ("sm_90a" -> sm_90). */
static const pf_arch *arch_of(const char *target)
{
    char name[16];
    snprintf(name, sizeof name, "%.15s", target);
    size_t n = strlen(name);
    if (n > 3 && name[n - 1] == 'a')
        name[n - 1] = 0;
    return pf_arch_lookup(name);
}

/* Registers and static shared memory (.nv.shared.<entry>) of an entry from
 * the cubin. */
static void cubin_resources(const pf_jit_result *r, an_entry *e)
{
    char sec[200];
    pf_cubin_section s;
    int regs = pf_cubin_entry_registers(r->bin.image, r->bin.image_size, e->fn->name);
    if (regs > 0)
        e->registers = regs;
    snprintf(sec, sizeof sec, ".nv.shared.%s", e->fn->name);
    e->static_smem = pf_cubin_find_section(r->bin.image, r->bin.image_size, sec, &s) == 0
                         ? (long)s.size : 0;
}

static int analyze_entry(an_entry *e, const pf_arch *arch)
{
    pf_sass_count(e->fn, &e->mix);
    if (pf_sass_main_loop(e->fn, &e->loop) != 0)
        return -1;
    if (!arch || e->registers < 1)
        return 0;
    e->has_occ = 1;
    size_t smem = (size_t)(e->static_smem > 0 ? e->static_smem : 0) + (size_t)e->dyn_smem;
    return pf_occupancy_compute(arch, e->registers, e->threads, smem, &e->occ);
}

/* ---- output ---- */

static json_t *widths_json(const int w[PF_N_WIDTHS])
{
    json_t *o = json_object();
    for (int i = 0; i < PF_N_WIDTHS; i++) {
        char k[8];
        snprintf(k, sizeof k, "%d", pf_sass_width_bits[i]);
        json_object_set_new(o, k, json_integer(w[i]));
    }
    return o;
}

static json_t *mix_json(const pf_sass_mix *m)
{
    json_t *o = json_pack("{s:i, s:i}", "instructions", m->total, "hmma", m->hmma);
    json_object_set_new(o, "ldsm", json_pack("{s:i, s:i, s:i, s:i, s:i, s:i}", "x1", m->ldsm[0][0],
                                             "x2", m->ldsm[1][0], "x4", m->ldsm[2][0], "x1_t",
                                             m->ldsm[0][1], "x2_t", m->ldsm[1][1], "x4_t",
                                             m->ldsm[2][1]));
    json_object_set_new(o, "ldgsts", widths_json(m->ldgsts));
    json_object_set_new(o, "ldg", widths_json(m->ldg));
    json_object_set_new(o, "stg", widths_json(m->stg));
    json_object_set_new(o, "lds", widths_json(m->lds));
    json_object_set_new(o, "sts", widths_json(m->sts));
    json_object_update_new(o, json_pack("{s:i, s:i, s:i, s:i, s:i, s:i}", "ldl", m->ldl, "stl",
                                        m->stl, "bar", m->bar, "bra", m->bra, "mufu", m->mufu,
                                        "shfl", m->shfl));
    if (m->hmma) {
        json_object_set_new(o, "ldsm_x4_per_hmma", json_real(pf_sass_ldsm_x4(m) / m->hmma));
        json_object_set_new(o, "smem_load_bytes_per_hmma",
                            json_real(pf_sass_smem_load_bytes(m) / m->hmma));
    }
    return o;
}

static json_t *entry_json(const an_entry *e)
{
    json_t *o = json_pack("{s:s, s:i, s:I, s:i, s:I}", "entry", e->fn->name, "registers",
                          e->registers, "static_smem", (json_int_t)e->static_smem, "threads",
                          e->threads, "dynamic_smem", (json_int_t)e->dyn_smem);
    json_object_set_new(o, "kernel", mix_json(&e->mix));
    const pf_sass_loop *l = &e->loop;
    json_t *loop = json_pack("{s:b}", "found", l->found);
    if (l->found) {
        json_object_update_new(loop, json_pack("{s:I, s:I, s:i, s:i, s:i, s:i}", "start",
                                               (json_int_t)l->head, "end", (json_int_t)l->end,
                                               "blocks", l->blocks, "inner_loops", l->inner_loops,
                                               "hmma_loops", l->hmma_loops, "global_mask_loads",
                                               pf_sass_mix_sum(l->mix.ldg)));
        json_object_set_new(loop, "mix", mix_json(&l->mix));
    }
    json_object_set_new(o, "main_loop", loop);
    if (e->has_occ) {
        const pf_occupancy *q = &e->occ;
        json_t *occ = json_pack("{s:i, s:i, s:f, s:s, s:i, s:i, s:i, s:i, s:i, s:I}",
                                "blocks_per_sm", q->blocks, "warps_per_sm", q->warps, "fraction", q->fraction,
                                "limiter", q->limiter, "by_registers", q->by_regs, "by_smem",
                                q->by_smem, "by_warps", q->by_warps, "by_blocks", q->by_blocks,
                                "regs_per_warp", q->regs_per_warp, "smem_per_block",
                                (json_int_t)q->smem_per_block);
        if (q->why[0])
            json_object_set_new(occ, "error", json_string(q->why));
        json_object_set_new(o, "occupancy", occ);
    }
    return o;
}

static void row_widths(const char *name, const int a[PF_N_WIDTHS], const int b[PF_N_WIDTHS])
{
    char sa[64] = "", sb[64] = "";
    size_t na = 0, nb = 0;
    for (int w = 0; w < PF_N_WIDTHS; w++) {
        if (a[w])
            na += (size_t)snprintf(sa + na, sizeof sa - na, "%s%d@%d", na ? " " : "", a[w],
                                   pf_sass_width_bits[w]);
        if (b[w])
            nb += (size_t)snprintf(sb + nb, sizeof sb - nb, "%s%d@%d", nb ? " " : "", b[w],
                                   pf_sass_width_bits[w]);
    }
    printf("  %-26s %22s %22s\n", name, na ? sa : "0", nb ? sb : "0");
}

static void row_int(const char *name, int a, int b)
{
    printf("  %-26s %22d %22d\n", name, a, b);
}

static void row_ratio(const char *name, double a, int ha, double b, int hb)
{
    char sa[32] = "-", sb[32] = "-";
    if (ha)
        snprintf(sa, sizeof sa, "%.3f", a / ha);
    if (hb)
        snprintf(sb, sizeof sb, "%.3f", b / hb);
    printf("  %-26s %22s %22s\n", name, sa, sb);
}

static void ldsm_text(const pf_sass_mix *m, int t, char *out, size_t n)
{
    snprintf(out, n, "%d/%d/%d", m->ldsm[0][t], m->ldsm[1][t], m->ldsm[2][t]);
}

static void print_entry(const char *target, const an_entry *e)
{
    char st[32] = "unknown";
    if (e->static_smem >= 0)
        snprintf(st, sizeof st, "%ld", e->static_smem);
    printf("%s %s: %d registers, %d threads, shared memory %s static + %ld dynamic B\n", target,
           e->fn->name, e->registers, e->threads, st, e->dyn_smem);
    if (e->has_occ) {
        const pf_occupancy *q = &e->occ;
        if (q->why[0])
            printf("  occupancy: cannot launch: %s\n", q->why);
        else
            printf("  occupancy: %d blocks/SM, %d warps/SM (%.1f%%), limited by %s "
                   "(registers %d, shared memory %d, warps %d, blocks %d)\n",
                   q->blocks, q->warps, 100.0 * q->fraction, q->limiter, q->by_regs, q->by_smem,
                   q->by_warps, q->by_blocks);
    }
    const pf_sass_loop *l = &e->loop;
    if (l->found)
        printf("  main loop: 0x%04x..0x%04x, %d blocks, %d inner loop%s%s\n", l->head, l->end,
               l->blocks, l->inner_loops, l->inner_loops == 1 ? "" : "s",
               l->hmma_loops > 1 ? " (the largest of several HMMA loops)" : "");
    else
        printf("  main loop: none (no loop holds an HMMA)\n");
    const pf_sass_mix *a = &l->mix, *k = &e->mix;
    printf("  %-26s %22s %22s\n", "", "main loop", "kernel");
    row_int("instructions", a->total, k->total);
    row_int("HMMA", a->hmma, k->hmma);
    char la[32], lk[32];
    ldsm_text(a, 0, la, sizeof la);
    ldsm_text(k, 0, lk, sizeof lk);
    printf("  %-26s %22s %22s\n", "LDSM x1/x2/x4", la, lk);
    ldsm_text(a, 1, la, sizeof la);
    ldsm_text(k, 1, lk, sizeof lk);
    printf("  %-26s %22s %22s\n", "LDSM.T x1/x2/x4", la, lk);
    row_ratio("LDSM x4-equiv per HMMA", pf_sass_ldsm_x4(a), a->hmma, pf_sass_ldsm_x4(k), k->hmma);
    row_ratio("smem load B per HMMA", pf_sass_smem_load_bytes(a), a->hmma,
              pf_sass_smem_load_bytes(k), k->hmma);
    row_widths("LDGSTS (count@bits)", a->ldgsts, k->ldgsts);
    row_widths("LDG", a->ldg, k->ldg);
    row_widths("STG", a->stg, k->stg);
    row_widths("LDS", a->lds, k->lds);
    row_widths("STS", a->sts, k->sts);
    row_int("LDL (local loads)", a->ldl, k->ldl);
    row_int("STL (local stores)", a->stl, k->stl);
    row_int("BAR", a->bar, k->bar);
    row_int("BRA", a->bra, k->bra);
    row_int("MUFU", a->mufu, k->mufu);
    row_int("SHFL", a->shfl, k->shfl);
    if (l->found)
        printf("  global mask loads in the main loop (LDG): %d\n", pf_sass_mix_sum(a->ldg));
}

/* ---- one target ---- */

typedef struct an_target {
    char target[16];
    pf_variant v;
    pf_attn_variant av;
    int attention;
    pf_jit_result r;
    char *sass_text;
    pf_sass sass;
    an_entry *entries;
    int n_entries;
} an_target;

static void target_free(an_target *t)
{
    pf_jit_result_free(&t->r);
    free(t->sass_text);
    pf_sass_free(&t->sass);
    free(t->entries);
}

static int save_sass(const an_args *a, const an_target *t)
{
    char path[1100];
    snprintf(path, sizeof path, "%s.%s.sass", a->save_sass, t->target);
    FILE *f = fopen(path, "w");
    if (!f || fputs(t->sass_text, f) < 0 || fclose(f) != 0)
        return pf_error_set("cannot write %s", path);
    return 0;
}

/* Parse the disassembly and analyze its entries. */
static int analyze_target(const an_args *a, an_target *t, const pf_arch *arch)
{
    if (pf_sass_parse(t->sass_text, &t->sass) != 0)
        return -1;
    t->entries = calloc((size_t)t->sass.n_fn + 1, sizeof *t->entries);
    if (!t->entries)
        return pf_error_set("out of memory");
    for (int i = 0; i < t->sass.n_fn; i++) {
        const pf_sass_func *fn = &t->sass.fn[i];
        if ((a->entry && strcmp(fn->name, a->entry) != 0) || fn->n_insn == 0)
            continue;
        an_entry *e = &t->entries[t->n_entries++];
        e->fn = fn;
        e->registers = fn->registers;
        e->static_smem = -1;
        if (t->r.bin.image)
            cubin_resources(&t->r, e);
        e->threads = t->attention ? pf_attn_variant_threads(&t->av)
                                  : a->threads ? (int)a->threads : 128;
        e->dyn_smem = t->attention ? (long)pf_attn_variant_smem_bytes(&t->av)
                                   : a->dyn_smem > 0 ? a->dyn_smem : 0;
        if (analyze_entry(e, arch) != 0)
            return -1;
    }
    if (t->n_entries == 0)
        return pf_error_set(a->entry ? "no kernel entry named '%s' in the disassembly"
                                     : "no kernel entry in the disassembly%s",
                            a->entry ? a->entry : "");
    return 0;
}

/* Compile every target; disassemble each valid one. */
static int build_targets(an_args *a, an_target *ts)
{
    int attention = pf_kernel_is_attention(a->base.source);
    pf_variant vs[PF_MAX_TARGETS];
    for (int i = 0; i < a->n_targets; i++) {
        an_target *t = &ts[i];
        snprintf(t->target, sizeof t->target, "%s", a->targets[i]);
        t->attention = attention;
        memset(&t->v, 0, sizeof t->v);
        memcpy(t->v.source, a->base.source, sizeof t->v.source);
        memcpy(t->v.target, t->target, sizeof t->v.target);
        if (attention && pf_attention_variant_for(a->variant, a->head_dim ? (int)a->head_dim : 128,
                                                  t->target, &t->av, &t->v) != 0)
            return 2;
        for (int d = 0; d < a->base.n_defines; d++)
            if (pf_variant_add_define(&t->v, a->base.defines[d].name, a->base.defines[d].value))
                return 2;
        vs[i] = t->v;
    }
    pf_disasm_tool tool;
    if (pf_disasm_find(&tool) != 0)
        return 1;
    pf_jit_result rs[PF_MAX_TARGETS];
    if (pf_jit_compile_many(vs, a->n_targets, 0, rs) != 0)
        return 1;
    int rc = 0;
    for (int i = 0; i < a->n_targets; i++) {
        ts[i].r = rs[i];
        if (rc)
            continue;
        if (!rs[i].valid)
            rc = pf_error_set("%s: the variant does not compile: %.300s", ts[i].target,
                              rs[i].log ? rs[i].log : "(no log)");
        else if (pf_disasm_cubin(&tool, rs[i].bin.image, rs[i].bin.image_size,
                                 &ts[i].sass_text) != 0 ||
                 (a->save_sass && save_sass(a, &ts[i]) != 0))
            rc = -1;
    }
    return rc ? 1 : 0;
}

static int report(const an_args *a, an_target *ts, int n)
{
    json_t *root = NULL, *arr = NULL;
    if (a->json) {
        root = pf_json_doc_new("pftune.analyze", 1);
        json_object_set_new(root, "source", json_string(a->sass_file ? a->sass_file
                                                                     : a->base.source));
        arr = json_array();
        json_object_set_new(root, "results", arr);
    } else if (!a->sass_file) {
        printf("kernel %s\n", a->base.source);
    }
    for (int i = 0; i < n; i++) {
        an_target *t = &ts[i];
        char vtext[256] = "";
        if (t->attention)
            pf_attn_variant_to_string(&t->av, vtext, sizeof vtext);
        if (a->json) {
            json_t *o = json_pack("{s:s?}", "target", t->target[0] ? t->target : NULL);
            if (t->attention)
                json_object_set_new(o, "variant", json_string(vtext));
            if (t->r.valid)
                json_object_update_new(o, json_pack("{s:i, s:i, s:i, s:b}", "ptxas_spill_stores",
                                                    t->r.res.spill_stores, "ptxas_spill_loads",
                                                    t->r.res.spill_loads, "stack_frame",
                                                    t->r.res.stack_frame, "from_cache",
                                                    t->r.from_cache));
            json_t *es = json_array();
            for (int k = 0; k < t->n_entries; k++)
                json_array_append_new(es, entry_json(&t->entries[k]));
            json_object_set_new(o, "entries", es);
            json_array_append_new(arr, o);
        } else {
            if (t->attention)
                printf("variant %s\n", vtext);
            if (t->r.valid)
                printf("%s: ptxas spills %d B stores / %d B loads, stack %d B (%s)\n", t->target,
                       t->r.res.spill_stores, t->r.res.spill_loads, t->r.res.stack_frame,
                       t->r.from_cache ? "cache hit" : "compiled");
            for (int k = 0; k < t->n_entries; k++)
                print_entry(t->target[0] ? t->target : "sass", &t->entries[k]);
        }
    }
    if (!a->json)
        return 0;
    int rc = pf_json_doc_print(root);
    json_decref(root);
    return rc ? pf_cli_fail_error(CMD) : 0;
}

int cmd_analyze(int argc, char **argv)
{
    static an_args a; /* pf_variant is large */
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
    if (a.cache_dir)
        pf_jit_set_cache_dir(a.cache_dir);
    pf_jit_set_cache_enabled(!a.no_cache);
    int n = a.sass_file ? 1 : a.n_targets;
    an_target *ts = calloc((size_t)n, sizeof *ts);
    if (!ts)
        return pf_cli_fail(CMD, "out of memory");
    const pf_arch *archs[PF_MAX_TARGETS] = {0};
    for (int i = 0; i < a.n_targets; i++)
        if (!(archs[i] = arch_of(a.targets[i]))) {
            free(ts);
            return pf_cli_usage_error(CMD, "%s", pf_error_get());
        }
    if (a.sass_file) {
        size_t size = 0;
        FILE *f = fopen(a.sass_file, "rb");
        rc = f ? 0 : pf_error_set("cannot open %s", a.sass_file);
        if (!rc && (fseek(f, 0, SEEK_END) != 0 || (long)(size = (size_t)ftell(f)) < 0 ||
                    fseek(f, 0, SEEK_SET) != 0 || !(ts[0].sass_text = malloc(size + 1)) ||
                    fread(ts[0].sass_text, 1, size, f) != size))
            rc = pf_error_set("cannot read %s", a.sass_file);
        if (f)
            fclose(f);
        if (!rc) {
            ts[0].sass_text[size] = 0;
            if (a.n_targets)
                snprintf(ts[0].target, sizeof ts[0].target, "%s", a.targets[0]);
        }
        rc = rc ? 1 : 0;
    } else {
        rc = build_targets(&a, ts);
    }
    for (int i = 0; i < n && !rc; i++)
        if (analyze_target(&a, &ts[i], archs[i]) != 0)
            rc = 1;
    if (rc == 2)
        rc = pf_cli_usage_error(CMD, "%s", pf_error_get());
    else if (rc)
        rc = pf_cli_fail_error(CMD);
    else
        rc = report(&a, ts, n);
    for (int i = 0; i < n; i++)
        target_free(&ts[i]);
    free(ts);
    return rc;
}
