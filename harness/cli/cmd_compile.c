/* `pftune compile`: compile one kernel variant for one or more targets
 * (in parallel, through the JIT cache) and print each resource record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "attention/attn_variant.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/kernel_arg.h"
#include "jit/jit.h"
#include "core/json_doc.h"
#include "core/pf_error.h"

#define CMD "compile"

enum { OPT_ARCH, OPT_KERNEL, OPT_DEFINE, OPT_VARIANT, OPT_HEAD_DIM, OPT_JOBS, OPT_CACHE_DIR,
       OPT_CACHE_SHARED, OPT_NO_CACHE, OPT_JSON };

static const pf_cli_opt opts[] = {
    [OPT_ARCH] = {"arch", 'a', "TARGET",
                  "sm_80|sm_86|sm_89|sm_90|sm_90a|sm_100|sm_120|emu; repeat or comma-separate"},
    [OPT_KERNEL] = {"kernel", 'k', "KERNEL", "kernel source path, or a name in the kernel dir"},
    [OPT_DEFINE] = {"define", 'D', "NAME=VALUE", "preprocessor define (repeatable; overrides)"},
    [OPT_VARIANT] = {"variant", 'v', "TEXT",
                     "attention only: \"BLOCK_M=64,WARPS=4,...\" over the default variant"},
    [OPT_HEAD_DIM] = {"head-dim", 0, "N", "attention only: head dim (default 128)"},
    [OPT_JOBS] = {"jobs", 'j', "N", "parallel compiles (default: number of cores)"},
    [OPT_CACHE_DIR] = {"cache-dir", 0, "DIR", "JIT cache directory (default $PFTUNE_CACHE_DIR, "
                                              "$XDG_CACHE_HOME/pftune, ~/.cache/pftune)"},
    [OPT_CACHE_SHARED] = {"cache-shared", 0, NULL,
                          "accept a group-writable cache dir of any owner, for GPU binaries "
                          "(risk: the group can run code on your GPU; emu stays private)"},
    [OPT_NO_CACHE] = {"no-cache", 0, NULL, "neither read nor write the cache"},
    [OPT_JSON] = {"json", 0, NULL, "print one JSON object instead of text"},
    {0},
};

static json_t *result_json(const pf_variant *v, const pf_jit_result *r)
{
    json_t *defs = json_object();
    for (int i = 0; i < v->n_defines; i++)
        json_object_set_new(defs, v->defines[i].name, json_string(v->defines[i].value));
    json_t *o = json_pack("{s:s, s:o, s:b, s:b, s:f, s:s}", "target", v->target, "defines", defs,
                          "valid", r->valid, "from_cache", r->from_cache, "compile_ms",
                          r->compile_ms, "key", r->key);
    if (r->valid && strcmp(v->target, "emu") != 0) {
        json_object_set_new(o, "registers", json_integer(r->res.registers));
        json_object_set_new(o, "spill_stores", json_integer(r->res.spill_stores));
        json_object_set_new(o, "spill_loads", json_integer(r->res.spill_loads));
        json_object_set_new(o, "static_smem", json_integer(r->res.static_smem));
        json_object_set_new(o, "stack_frame", json_integer(r->res.stack_frame));
        json_object_set_new(o, "const_mem", json_integer(r->res.const_mem));
        json_object_set_new(o, "cubin_bytes", json_integer((json_int_t)r->bin.image_size));
    }
    if (r->bin.so_path)
        json_object_set_new(o, "shared_object", json_string(r->bin.so_path));
    if (!r->valid || (r->log && r->log[0]))
        json_object_set_new(o, "log", json_string(r->log ? r->log : ""));
    return o;
}

static void print_text(const pf_variant *v, const pf_jit_result *r)
{
    const char *how = r->from_cache ? "cache hit" : "cache miss";
    if (!r->valid)
        printf("%s: invalid variant (%.1f ms, %s)\n", v->target, r->compile_ms, how);
    else
        printf("%s: ok\n", v->target);
    if (v->n_defines) {
        printf("  defines       ");
        for (int i = 0; i < v->n_defines; i++)
            printf(" %s=%s", v->defines[i].name, v->defines[i].value);
        printf("\n");
    }
    if (!r->valid) {
        printf("%s", r->log && r->log[0] ? r->log : "(no compiler log)\n");
        return;
    }
    if (strcmp(v->target, "emu") == 0) {
        printf("  shared object  %s\n", r->bin.so_path);
    } else {
        printf("  registers      %d\n", r->res.registers);
        printf("  spill stores   %d B\n", r->res.spill_stores);
        printf("  spill loads    %d B\n", r->res.spill_loads);
        printf("  static smem    %d B\n", r->res.static_smem);
        printf("  stack frame    %d B\n", r->res.stack_frame);
        printf("  cmem[0]        %d B\n", r->res.const_mem);
        printf("  cubin          %zu B\n", r->bin.image_size);
    }
    printf("  compile        %.1f ms (%s)\n", r->compile_ms, how);
    printf("  key            %s\n", r->key);
}

int cmd_compile(int argc, char **argv)
{
    pf_cli c;
    pf_cli_init(&c, CMD, argc, argv, opts, "pftune compile --arch TARGET --kernel KERNEL [options]",
                "Compile one kernel variant (through the JIT cache) and print its resource\n"
                "record: registers, spills, static shared memory, stack, constant memory,\n"
                "compile time and whether the cache served it. GPU targets use NVRTC and need\n"
                "no GPU; `emu` builds the shared object the CPU backend runs. A variant that\n"
                "fails to compile prints its compiler log and exits 1.\n"
                "\n"
                "For the attention kernel the defines come from its variant space: the default\n"
                "variant for --head-dim (and the target's shared memory limit), changed by\n"
                "--variant; --define then overrides single defines unchecked.");
    c.examples = "  pftune compile --arch sm_90 --kernel attention\n"
                 "  pftune compile --arch sm_80,sm_90 --kernel attention --head-dim 256 --json\n"
                 "  pftune compile --arch sm_90 --kernel attention --variant BLOCK_M=128,WARPS=8\n"
                 "  pftune compile --arch emu --kernel kernels/test/syntax_error.cu\n";
    char targets[PF_MAX_TARGETS][16];
    int n_targets = 0, json = 0, no_cache = 0;
    long jobs = 0, head_dim = 0;
    const char *kernel = NULL, *cache_dir = NULL, *variant = NULL, *val;
    pf_variant base;
    memset(&base, 0, sizeof base);
    int o;
    while ((o = pf_cli_next(&c, &val)) != PF_CLI_DONE) {
        pf_define d;
        switch (o) {
        case PF_CLI_HELP:
            return 0;
        case PF_CLI_ERROR:
            return 2;
        case PF_CLI_ARG:
            return pf_cli_usage_error(CMD, "unexpected argument '%s' (use --kernel)", val);
        case OPT_ARCH:
            if (pf_targets_add(val, targets, &n_targets) != 0)
                return pf_cli_usage_error(CMD, "%s", pf_error_get());
            break;
        case OPT_KERNEL:
            kernel = val;
            break;
        case OPT_DEFINE:
            if (pf_define_parse(val, &d) != 0 || pf_variant_add_define(&base, d.name, d.value) != 0)
                return pf_cli_usage_error(CMD, "%s", pf_error_get());
            break;
        case OPT_VARIANT:
            variant = val;
            break;
        case OPT_HEAD_DIM:
            if (pf_cli_parse_long(CMD, "--head-dim", val, 1, 1024, &head_dim) != 0)
                return 2;
            break;
        case OPT_JOBS:
            if (pf_cli_parse_long(CMD, "--jobs", val, 1, 256, &jobs) != 0)
                return 2;
            break;
        case OPT_CACHE_DIR:
            cache_dir = val;
            break;
        case OPT_CACHE_SHARED:
            pf_jit_set_cache_shared(1);
            break;
        case OPT_NO_CACHE:
            no_cache = 1;
            break;
        case OPT_JSON:
            json = 1;
            break;
        }
    }
    if (n_targets == 0)
        return pf_cli_usage_error(CMD, "missing --arch (e.g. --arch sm_90)");
    if (!kernel)
        return pf_cli_usage_error(CMD, "missing --kernel (a path or a name such as 'attention')");
    if (pf_kernel_resolve(kernel, base.source, sizeof base.source) != 0)
        return pf_cli_fail_error(CMD);
    int attention = pf_kernel_is_attention(base.source);
    if (!attention && (variant || head_dim))
        return pf_cli_usage_error(CMD, "--variant and --head-dim apply to the attention kernel only");
    if (cache_dir)
        pf_jit_set_cache_dir(cache_dir);
    pf_jit_set_cache_enabled(!no_cache);
    char dir[1024];
    if (!no_cache && pf_jit_cache_dir(dir, sizeof dir) != 0)
        return pf_cli_fail_error(CMD);

    pf_variant vs[PF_MAX_TARGETS];
    pf_jit_result rs[PF_MAX_TARGETS];
    for (int i = 0; i < n_targets; i++) {
        memset(&vs[i], 0, sizeof vs[i]);
        memcpy(vs[i].source, base.source, sizeof vs[i].source);
        memcpy(vs[i].target, targets[i], sizeof vs[i].target);
        /* attention: the variant's defines first, so --define overrides them */
        if (attention && pf_attention_variant_for(variant, head_dim ? (int)head_dim : 128,
                                                  targets[i], NULL, &vs[i]) != 0)
            return pf_cli_usage_error(CMD, "%s", pf_error_get());
        for (int d = 0; d < base.n_defines; d++)
            if (pf_variant_add_define(&vs[i], base.defines[d].name, base.defines[d].value) != 0)
                return pf_cli_usage_error(CMD, "%s", pf_error_get());
    }
    if (pf_jit_compile_many(vs, n_targets, (int)jobs, rs) != 0) {
        int rc = pf_cli_fail_error(CMD);
        for (int i = 0; i < n_targets; i++)
            pf_jit_result_free(&rs[i]);
        return rc;
    }

    int all_valid = 1;
    json_t *root = NULL, *arr = NULL;
    if (json) {
        root = pf_json_doc_new("pftune.compile", 1);
        json_object_update_new(root, json_pack("{s:s, s:s?}", "source", base.source, "cache_dir",
                                               no_cache ? NULL : dir));
        arr = json_array();
        json_object_set_new(root, "results", arr);
    } else {
        printf("kernel  %s\n", base.source);
    }
    for (int i = 0; i < n_targets; i++) {
        all_valid &= rs[i].valid != 0;
        if (json)
            json_array_append_new(arr, result_json(&vs[i], &rs[i]));
        else
            print_text(&vs[i], &rs[i]);
        pf_jit_result_free(&rs[i]);
    }
    if (json) {
        json_object_set_new(root, "valid", json_boolean(all_valid));
        int failed = pf_json_doc_print(root);
        json_decref(root);
        if (failed)
            return pf_cli_fail_error("compile");
    }
    if (!all_valid) {
        fprintf(stderr, "pftune: compile: invalid variant (see the compiler log%s)\n",
                json ? " in the JSON" : " above");
        return 1;
    }
    return 0;
}
