/* emu backend end to end: the block-reduction and tiled-GEMM test kernels,
 * written in the dialect and compiled by the JIT (target emu), give the
 * results of plain C references on fresh random inputs of odd sizes; and the
 * same sources compile with NVRTC for sm_80 and sm_90 (registers > 0). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "device/device.h"
#include "jit/jit.h"
#include "core/pf_error.h"
#include "pf_test.h"
#include "pf_test_kernel.h"

static pf_device *dev;

static void variant_for(pf_variant *v, const char *file, const char *target)
{
    memset(v, 0, sizeof *v);
    snprintf(v->source, sizeof v->source, "%s/test/%s", pf_kernel_dir(), file);
    snprintf(v->target, sizeof v->target, "%s", target);
}

static pf_module *load(const char *file)
{
    return pf_test_load_kernel(dev, "emu", file);
}

static float frand(void)
{
    return (float)rand() / (float)RAND_MAX * 2.0f - 1.0f;
}

typedef struct reduce_params {
    const float *in;
    float *partial;
    float *total;
    int n;
} reduce_params;

static void test_reduce(pf_module *m, int n, unsigned grid, unsigned threads)
{
    float *in = malloc(sizeof(float) * (size_t)n), *partial = malloc(sizeof(float) * grid);
    for (int i = 0; i < n; i++)
        in[i] = frand();
    pf_dptr d_in, d_part, d_total;
    CHECK(pf_dev_alloc(dev, sizeof(float) * (size_t)n, "reduce.in", &d_in) == 0);
    CHECK(pf_dev_alloc(dev, sizeof(float) * grid, "reduce.partial", &d_part) == 0);
    CHECK(pf_dev_alloc(dev, sizeof(float), "reduce.total", &d_total) == 0);
    CHECK(pf_dev_copy_htod(dev, d_in, in, sizeof(float) * (size_t)n, NULL) == 0);
    CHECK(pf_dev_memset8(dev, d_total, 0, sizeof(float), NULL) == 0);
    reduce_params p = {(const float *)(uintptr_t)d_in, (float *)(uintptr_t)d_part,
                       (float *)(uintptr_t)d_total, n};
    pf_dim3 g = {grid, 1, 1}, b = {threads, 1, 1};
    int rc = pf_dev_launch(dev, m, "reduce_sum", g, b, 0, NULL, &p, sizeof p);
    CHECK_MSG(rc == 0, "launch: %s", pf_error_get());
    float total = 0;
    CHECK(pf_dev_copy_dtoh(dev, partial, d_part, sizeof(float) * grid, NULL) == 0);
    CHECK(pf_dev_copy_dtoh(dev, &total, d_total, sizeof(float), NULL) == 0);
    /* reference: double-precision sums of each block's grid-stride share */
    double all = 0, abs_all = 0;
    int bad = 0;
    for (unsigned blk = 0; blk < grid; blk++) {
        double s = 0, sa = 0;
        for (int i = (int)(blk * threads); i < n; i += (int)(grid * threads))
            for (int j = i; j < i + (int)threads && j < n; j++)
                s += in[j], sa += fabs(in[j]);
        all += s;
        abs_all += sa;
        if (fabs(partial[blk] - s) > 1e-5 * sa + 1e-6)
            bad++;
    }
    CHECK_MSG(bad == 0, "n=%d grid=%u threads=%u: %d block sums differ", n, grid, threads, bad);
    CHECK_MSG(fabs(total - all) <= 1e-5 * abs_all + 1e-5, "total %f vs %f", total, all);
    pf_dev_free(dev, d_in);
    pf_dev_free(dev, d_part);
    pf_dev_free(dev, d_total);
    free(in);
    free(partial);
}

typedef struct gemm_params {
    const float *a;
    const float *b;
    float *c;
    int m, n, k;
} gemm_params;

static void test_gemm(pf_module *m, int M, int N, int K)
{
    size_t sa = (size_t)M * K, sb = (size_t)K * N, sc = (size_t)M * N;
    float *a = malloc(sa * 4), *b = malloc(sb * 4), *c = malloc(sc * 4);
    for (size_t i = 0; i < sa; i++)
        a[i] = frand();
    for (size_t i = 0; i < sb; i++)
        b[i] = frand();
    pf_dptr da, db, dc;
    CHECK(pf_dev_alloc(dev, sa * 4, "gemm.a", &da) == 0);
    CHECK(pf_dev_alloc(dev, sb * 4, "gemm.b", &db) == 0);
    CHECK(pf_dev_alloc(dev, sc * 4, "gemm.c", &dc) == 0);
    CHECK(pf_dev_copy_htod(dev, da, a, sa * 4, NULL) == 0);
    CHECK(pf_dev_copy_htod(dev, db, b, sb * 4, NULL) == 0);
    gemm_params p = {(const float *)(uintptr_t)da, (const float *)(uintptr_t)db, (float *)(uintptr_t)dc,
                     M, N, K};
    pf_dim3 g = {(unsigned)(N + 31) / 32, (unsigned)(M + 31) / 32, 1}, blk = {128, 1, 1};
    int rc = pf_dev_launch(dev, m, "gemm_tiled", g, blk, 16 * 32 * sizeof(float), NULL, &p, sizeof p);
    CHECK_MSG(rc == 0, "launch: %s", pf_error_get());
    CHECK(pf_dev_copy_dtoh(dev, c, dc, sc * 4, NULL) == 0);
    int bad = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0, sabs = 0;
            for (int kk = 0; kk < K; kk++) {
                s += (double)a[(size_t)i * K + kk] * b[(size_t)kk * N + j];
                sabs += fabs((double)a[(size_t)i * K + kk] * b[(size_t)kk * N + j]);
            }
            if (fabs(c[(size_t)i * N + j] - s) > 1e-5 * sabs + 1e-6)
                bad++;
        }
    CHECK_MSG(bad == 0, "gemm %dx%dx%d: %d of %zu elements differ", M, N, K, bad, sc);
    pf_dev_free(dev, da);
    pf_dev_free(dev, db);
    pf_dev_free(dev, dc);
    free(a);
    free(b);
    free(c);
}

/* Both sources must also be valid CUDA for NVRTC. */
static void test_nvrtc(const char *file, const char *target)
{
    pf_variant v;
    pf_jit_result r;
    variant_for(&v, file, target);
    if (pf_jit_compile(&v, &r) != 0) {
        CHECK_MSG(0, "%s %s: %s", file, target, pf_error_get());
        return;
    }
    CHECK_MSG(r.valid, "%s for %s: %s", file, target, r.log ? r.log : "");
    CHECK_MSG(!r.valid || r.res.registers > 0, "%s for %s: %d registers", file, target, r.res.registers);
    pf_jit_result_free(&r);
}

int main(void)
{
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    CHECK_MSG(pf_emu_open("sm_90", &dev) == 0, "%s", pf_error_get());
    if (!dev)
        return PF_TEST_RESULT();

    pf_module *red = load("reduce.cu");
    if (red) {
        test_reduce(red, 77 * 53 + rand() % 1000, 7, 128);
        test_reduce(red, 1 + rand() % 31, 1, 32);
        test_reduce(red, 100000 + rand() % 5000, 13, 1024);
        test_reduce(red, 4096 + rand() % 4096, 5, 96);
        pf_dev_module_unload(dev, red);
    }
    pf_module *gm = load("gemm_tiled.cu");
    if (gm) {
        test_gemm(gm, 77, 53, 91);
        test_gemm(gm, 1 + rand() % 70, 1 + rand() % 70, 1 + rand() % 70);
        test_gemm(gm, 64, 96, 33);
        pf_dev_module_unload(dev, gm);
    }
    const char *files[] = {"reduce.cu", "gemm_tiled.cu", "collectives.cu", "atomics.cu"};
    for (int i = 0; i < 4; i++) {
        test_nvrtc(files[i], "sm_80");
        test_nvrtc(files[i], "sm_90");
    }
    pf_device_close(dev);
    return PF_TEST_RESULT();
}
