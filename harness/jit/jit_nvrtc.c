/* GPU archs: NVRTC -> cubin + PTX, with ptxas -v for the resource record.
 * NVRTC is thread-safe per program, so pf_jit_compile_many runs these in
 * parallel. */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvrtc.h>

#include "jit/jit_internal.h"
#include "core/pf_error.h"

#define MAX_OPTS (16 + PF_JIT_MAX_DEFINES)

static char *program_log(nvrtcProgram p)
{
    size_t n = 0;
    if (nvrtcGetProgramLogSize(p, &n) != NVRTC_SUCCESS)
        return NULL;
    char *log = calloc(n + 1, 1);
    if (log && nvrtcGetProgramLog(p, log) != NVRTC_SUCCESS)
        log[0] = '\0';
    return log;
}

static int get_outputs(nvrtcProgram p, pf_jit_artifact *out)
{
    size_t n = 0;
    if (nvrtcGetCUBINSize(p, &n) != NVRTC_SUCCESS || n == 0)
        return pf_error_set("NVRTC produced no cubin");
    out->cubin = malloc(n);
    if (!out->cubin || nvrtcGetCUBIN(p, out->cubin) != NVRTC_SUCCESS)
        return pf_error_set("cannot fetch the cubin from NVRTC");
    out->cubin_size = n;
    if (nvrtcGetPTXSize(p, &n) == NVRTC_SUCCESS && n > 0) {
        out->ptx = malloc(n + 1);
        if (out->ptx && nvrtcGetPTX(p, out->ptx) == NVRTC_SUCCESS) {
            out->ptx[n] = '\0';
            out->ptx_size = strlen(out->ptx);
        } else {
            free(out->ptx);
            out->ptx = NULL;
        }
    }
    return 0;
}

int pf_jit_nvrtc_build(const pf_variant *v, const char *src, const char *kernel_dir,
                       pf_jit_artifact *out)
{
    memset(out, 0, sizeof *out);
    /* Option strings live in one buffer for the duration of the compile. */
    char opt_buf[MAX_OPTS][1100];
    const char *opts[MAX_OPTS];
    int n = 0;
    snprintf(opt_buf[n], sizeof opt_buf[n], "--gpu-architecture=%s", v->target);
    opts[n] = opt_buf[n], n++;
    opts[n++] = "-std=c++17";
    opts[n++] = "-Xptxas=-v";
    /* Quoted includes: the source's own directory first, then the kernel dir
     * (the order gcc uses for emu, and the order the cache key assumes). */
    char src_dir[1024];
    snprintf(src_dir, sizeof src_dir, "%s", v->source);
    snprintf(opt_buf[n], sizeof opt_buf[n], "-I%s", dirname(src_dir));
    opts[n] = opt_buf[n], n++;
    snprintf(opt_buf[n], sizeof opt_buf[n], "-I%s", kernel_dir);
    opts[n] = opt_buf[n], n++;
    /* PF_CUDA_INCLUDE_DIR may be a CMake list ("a;b"). */
    char cuda_inc[1024];
    snprintf(cuda_inc, sizeof cuda_inc, "%s", PF_CUDA_INCLUDE_DIR);
    char *save = NULL;
    for (char *d = strtok_r(cuda_inc, ";", &save); d && n < 8; d = strtok_r(NULL, ";", &save)) {
        snprintf(opt_buf[n], sizeof opt_buf[n], "--include-path=%s", d);
        opts[n] = opt_buf[n], n++;
    }
    for (int i = 0; i < v->n_defines && i < PF_JIT_MAX_DEFINES && n < MAX_OPTS; i++) {
        if (v->defines[i].value[0])
            snprintf(opt_buf[n], sizeof opt_buf[n], "-D%s=%s", v->defines[i].name,
                     v->defines[i].value);
        else
            snprintf(opt_buf[n], sizeof opt_buf[n], "-D%s", v->defines[i].name);
        opts[n] = opt_buf[n], n++;
    }

    nvrtcProgram prog;
    char *base = strrchr(v->source, '/');
    nvrtcResult r = nvrtcCreateProgram(&prog, src, base ? base + 1 : v->source, 0, NULL, NULL);
    if (r != NVRTC_SUCCESS)
        return pf_error_set("nvrtcCreateProgram: %s", nvrtcGetErrorString(r));
    r = nvrtcCompileProgram(prog, n, opts);
    out->log = program_log(prog);
    int rc = 0;
    if (r == NVRTC_ERROR_COMPILATION || r == NVRTC_ERROR_INVALID_OPTION) {
        out->valid = 0; /* the variant is bad, not pftune */
        if (r == NVRTC_ERROR_INVALID_OPTION && out->log && !out->log[0]) {
            free(out->log);
            out->log = strdup("nvrtc: invalid option");
        }
    } else if (r != NVRTC_SUCCESS) {
        rc = pf_error_set("nvrtcCompileProgram: %s", nvrtcGetErrorString(r));
    } else if ((rc = get_outputs(prog, out)) == 0) {
        out->valid = 1;
        char entry[256] = "";
        if (pf_jit_parse_ptxas_log(out->log, src, &out->res, entry, sizeof entry) > 0 &&
            out->res.const_mem == 0) {
            long cmem = pf_jit_cubin_cmem(out->cubin, out->cubin_size, entry);
            if (cmem > 0)
                out->res.const_mem = (int)cmem;
        }
    }
    nvrtcDestroyProgram(&prog);
    return rc;
}
