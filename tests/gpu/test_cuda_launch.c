/* Module load and launch on a real GPU: an NVRTC-compiled dialect kernel
 * that needs more than 48 KiB of dynamic shared memory (so the backend must
 * opt in), checked against a host computation; launch errors are clean. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cuda_test_util.h"
#include "jit/jit.h"
#include "measure/measure.h"
#include "pf_test.h"

static const char *kernel_source =
    "#include \"pf_dialect.h\"\n"
    "typedef struct rev_params { const float *in; float *out; float scale; int n_per_block; }"
    " rev_params;\n"
    "PF_KERNEL(pf_test_reverse, rev_params, p)\n"
    "{\n"
    "    PF_DYNAMIC_SHARED(float, buf);\n"
    "    const float *in = p.in + (long long)blockIdx.x * p.n_per_block;\n"
    "    float *out = p.out + (long long)blockIdx.x * p.n_per_block;\n"
    "    for (int i = (int)threadIdx.x; i < p.n_per_block; i += (int)blockDim.x)\n"
    "        buf[i] = in[i];\n"
    "    __syncthreads();\n"
    "    for (int i = (int)threadIdx.x; i < p.n_per_block; i += (int)blockDim.x)\n"
    "        out[i] = p.scale * buf[p.n_per_block - 1 - i];\n"
    "}\n";

/* Host mirror of rev_params: pointers are 64-bit device addresses. */
typedef struct rev_params {
    pf_dptr in, out;
    float scale;
    int n_per_block;
} rev_params;

typedef struct launch_work {
    pf_device *d;
    pf_module *m;
    unsigned blocks;
    size_t smem;
    size_t scratch_bytes;
    rev_params params;
} launch_work;

static int enqueue_launch(void *ctx, pf_stream *s)
{
    launch_work *w = ctx;
    if (w->scratch_bytes) { /* an allocation for CUPTI's memory tracking to see */
        pf_dptr scratch;
        if (pf_dev_alloc(w->d, w->scratch_bytes, "scratch", &scratch) ||
            pf_dev_free(w->d, scratch))
            return -1;
    }
    pf_dim3 grid = {w->blocks, 1, 1}, block = {256, 1, 1};
    return pf_dev_launch(w->d, w->m, "pf_test_reverse", grid, block, w->smem, s,
                         &w->params, sizeof w->params);
}

int main(void)
{
    pf_test_srand(); /* fresh inputs each run; PF_TEST_SEED=N replays one */
    pf_device *d = cuda_test_open();
    pf_device_props props;
    CHECK(pf_dev_props(d, &props) == 0);

    char path[] = "/tmp/pf_test_launch_XXXXXX.cu";
    int fd = mkstemps(path, 3);
    CHECK(fd >= 0 && write(fd, kernel_source, strlen(kernel_source)) == (ssize_t)strlen(kernel_source));
    close(fd);
    pf_variant v;
    memset(&v, 0, sizeof v);
    snprintf(v.source, sizeof v.source, "%s", path);
    snprintf(v.target, sizeof v.target, "sm_%d%d", props.cc_major, props.cc_minor);
    pf_jit_result r;
    memset(&r, 0, sizeof r);
    int rc = pf_jit_compile(&v, &r);
    unlink(path);
    CHECK_MSG(rc == 0 && r.valid, "compile for %s: %s %s", v.target, pf_error_get(),
              r.log ? r.log : "");
    if (rc != 0 || !r.valid)
        return PF_TEST_RESULT();

    pf_module *m = NULL;
    CHECK_MSG(pf_dev_module_load(d, &r.bin, &m) == 0, "%s", pf_error_get());

    /* Over 48 KiB of floats per block, an odd count, within the opt-in limit. */
    int per_block = (int)(props.smem_per_block / 4) + 1 + rand() % 2001;
    if ((size_t)per_block * 4 > props.smem_per_block_optin)
        per_block = (int)(props.smem_per_block_optin / 4) - 3;
    unsigned blocks = 1 + (unsigned)(rand() % (2 * props.sm_count));
    size_t n = (size_t)per_block * blocks;
    float *in = malloc(n * 4), *out = malloc(n * 4);
    for (size_t i = 0; i < n; i++)
        in[i] = cuda_test_uniform(-10, 10);
    launch_work w = {d, m, blocks, (size_t)per_block * 4, 0,
                     {0, 0, cuda_test_uniform(0.5f, 2), per_block}};
    CHECK(pf_dev_alloc(d, n * 4, "in", &w.params.in) == 0 && pf_dev_alloc(d, n * 4, "out", &w.params.out) == 0);
    CHECK(pf_dev_copy_htod(d, w.params.in, in, n * 4, NULL) == 0);
    CHECK_MSG(enqueue_launch(&w, NULL) == 0, "%s", pf_error_get());
    CHECK(pf_dev_copy_dtoh(d, out, w.params.out, n * 4, NULL) == 0);
    int ok = 1;
    for (unsigned b = 0; b < blocks; b++)
        for (int i = 0; i < per_block; i++)
            ok &= out[(size_t)b * per_block + i] ==
                  w.params.scale * in[(size_t)b * per_block + per_block - 1 - i];
    CHECK(ok);

    /* timing a launch */
    pf_measure_opts o;
    pf_measure_defaults(&o);
    o.max_seconds = 1;
    pf_measure_summary sum;
    CHECK(pf_measure_run(d, NULL, enqueue_launch, &w, &o, &sum, NULL) == 0);
    CHECK(sum.min_ms > 0 && sum.median_ms < 100 && strcmp(sum.timer, "cuda-events") == 0);
    printf("reverse kernel: %u blocks x %d floats: median %.4f ms\n", blocks, per_block, sum.median_ms);

    /* the same with CUPTI kernel timestamps, plus allocation tracking */
    o.use_cupti = 1;
    w.scratch_bytes = ((size_t)1 << 20) + (size_t)(rand() % 100000);
    pf_measure_summary cs;
    CHECK_MSG(pf_measure_run(d, NULL, enqueue_launch, &w, &o, &cs, NULL) == 0, "%s", pf_error_get());
    CHECK(strcmp(cs.timer, "cupti") == 0 && cs.samples >= o.min_samples);
    /* kernel-only span vs events around the launch: same order of magnitude */
    CHECK(cs.median_ms > 0 && cs.median_ms <= sum.median_ms * 1.5 + 0.05);
    CHECK(cs.mem_peak_bytes >= w.scratch_bytes);
    printf("cupti: median %.4f ms, peak allocation %zu bytes (scratch %zu)\n", cs.median_ms,
           cs.mem_peak_bytes, w.scratch_bytes);
    w.scratch_bytes = 0;

    /* errors: too much shared memory, an unknown kernel, no image */
    w.smem = props.smem_per_block_optin + 16;
    CHECK(enqueue_launch(&w, NULL) == -1 && strstr(pf_error_get(), "opt-in limit"));
    pf_dim3 g = {1, 1, 1};
    CHECK(pf_dev_launch(d, m, "no_such_kernel", g, g, 0, NULL, &w.params, sizeof w.params) == -1 &&
          strstr(pf_error_get(), "cuModuleGetFunction(no_such_kernel)"));
    /* a parameter struct of the wrong size is caught where the driver can
     * report the kernel's (12.4+) */
    int drv_major = 0, drv_minor = 0;
    sscanf(props.driver, "CUDA %d.%d", &drv_major, &drv_minor);
    if (drv_major * 100 + drv_minor >= 1204) /* older drivers would really launch it */
        CHECK(pf_dev_launch(d, m, "pf_test_reverse", g, g, 0, NULL, &w.params,
                            sizeof w.params - 4) == -1 &&
              strstr(pf_error_get(), "struct layouts differ"));
    pf_binary empty = {0};
    pf_module *m2 = NULL;
    CHECK(pf_dev_module_load(d, &empty, &m2) == -1);
    unsigned char junk[64];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)rand();
    pf_binary bad = {junk, sizeof junk, NULL};
    CHECK(pf_dev_module_load(d, &bad, &m2) == -1 && strstr(pf_error_get(), "cuModuleLoadData"));

    CHECK(pf_dev_stream_sync(d, NULL) == 0);
    CHECK(pf_dev_free(d, w.params.in) == 0 && pf_dev_free(d, w.params.out) == 0);
    CHECK(pf_dev_module_unload(d, m) == 0);
    pf_jit_result_free(&r);
    free(in);
    free(out);
    pf_device_close(d);
    return PF_TEST_RESULT();
}
