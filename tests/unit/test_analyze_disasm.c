/* The real chain where NVIDIA's disassembler is installed (tools/setup.sh
 * puts nvdisasm and cuobjdump into .tools-venv): compile
 * kernels/test/mma_probe.cu for sm_80 with NVRTC, disassemble, and find the
 * tiled GEMM's known mix: 16 HMMA, one LDSM.x4 and four LDSM.x4.T in its
 * main loop. cuobjdump, when beside nvdisasm, must give the same counts.
 * Without a disassembler it checks the one-line error and passes. */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze/disasm.h"
#include "analyze/sass.h"
#include "core/pf_error.h"
#include "jit/jit.h"
#include "pf_test.h"

static void gemm_counts(const pf_disasm_tool *tool, const pf_jit_result *r, pf_sass_mix *kernel,
                        pf_sass_loop *loop)
{
    memset(kernel, 0, sizeof *kernel);
    memset(loop, 0, sizeof *loop);
    char *text = NULL;
    if (pf_disasm_cubin(tool, r->bin.image, r->bin.image_size, &text) != 0) {
        CHECK_MSG(0, "%s: %s", tool->path, pf_error_get());
        return;
    }
    pf_sass s;
    CHECK_MSG(pf_sass_parse(text, &s) == 0, "%s", pf_error_get());
    free(text);
    const pf_sass_func *g = pf_sass_find(&s, "pf_mma_probe_gemm");
    CHECK_MSG(g != NULL, "%s: no pf_mma_probe_gemm", tool->path);
    if (g) {
        pf_sass_count(g, kernel);
        CHECK(pf_sass_main_loop(g, loop) == 0);
    }
    pf_sass_free(&s);
}

int main(void)
{
    pf_disasm_tool tool;
    if (pf_disasm_find(&tool) != 0) {
        CHECK(strstr(pf_error_get(), "nvidia-cuda-nvdisasm") != NULL);
        printf("skip: %s\n", pf_error_get());
        return PF_TEST_RESULT();
    }
    printf("disassembler: %s\n", tool.path);
    pf_variant v;
    memset(&v, 0, sizeof v);
    snprintf(v.source, sizeof v.source, "%s/test/mma_probe.cu", pf_kernel_dir());
    snprintf(v.target, sizeof v.target, "sm_80");
    pf_jit_result r;
    if (pf_jit_compile(&v, &r) != 0 || !r.valid) {
        CHECK_MSG(0, "compile: %s", pf_error_get());
        return PF_TEST_RESULT();
    }
    pf_sass_mix k;
    pf_sass_loop l;
    gemm_counts(&tool, &r, &k, &l);
    CHECK_MSG(k.hmma == 16 && k.ldsm[2][0] == 1 && k.ldsm[2][1] == 4, "%d HMMA, %d/%d LDSM.x4",
              k.hmma, k.ldsm[2][0], k.ldsm[2][1]);
    CHECK(k.ldsm[0][0] + k.ldsm[1][0] + k.ldsm[0][1] + k.ldsm[1][1] == 0);
    CHECK(pf_sass_mix_sum(k.ldgsts) == k.ldgsts[PF_W128] && k.ldgsts[PF_W128] > 0);
    CHECK(k.ldl == 0 && k.stl == 0);
    CHECK(l.found && l.hmma_loops == 1 && l.mix.hmma == 16 && l.mix.ldsm[2][0] == 1 &&
          l.mix.ldsm[2][1] == 4 && l.mix.bar == 2);

    /* the same counts from cuobjdump -sass (addresses instead of labels) */
    if (tool.kind == PF_DISASM_NVDISASM) {
        pf_disasm_tool cu = tool;
        cu.kind = PF_DISASM_CUOBJDUMP;
        char dir[1024];
        snprintf(dir, sizeof dir, "%s", tool.path);
        snprintf(cu.path, sizeof cu.path, "%.1000s/cuobjdump", dirname(dir));
        if (access(cu.path, X_OK) == 0) {
            pf_sass_mix k2;
            pf_sass_loop l2;
            gemm_counts(&cu, &r, &k2, &l2);
            CHECK(memcmp(&k, &k2, sizeof k) == 0);
            CHECK(l2.found && l2.head == l.head && l2.end == l.end && l2.blocks == l.blocks &&
                  memcmp(&l.mix, &l2.mix, sizeof l.mix) == 0);
        } else {
            printf("no cuobjdump beside %s\n", tool.path);
        }
    }
    pf_jit_result_free(&r);

    setenv("PFTUNE_NVDISASM", "/nonexistent/nvdisasm", 1);
    CHECK(pf_disasm_find(&tool) == -1 && strstr(pf_error_get(), "PFTUNE_NVDISASM"));
    return PF_TEST_RESULT();
}
