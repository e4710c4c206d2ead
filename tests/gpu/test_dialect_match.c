/* On a real GPU: the dialect test kernels give the same results on the cuda
 * backend (NVRTC) as on emu (host compiler + fiber runtime), on identical
 * random inputs. This pins the emulated warp collectives to the hardware:
 * every shuffle variant with per-lane arguments 0..63 and a random width,
 * ballot/any/all, a half-warp mask (all bit-exact); the block reduction
 * (same tree, so bit-exact partials); the tiled GEMM (the GPU contracts to
 * FMA, so within accumulation tolerance); atomics (exact integer results).
 * A missing GPU fails (the GPU suite's convention). PF_TEST_SEED fixes the
 * inputs. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device/device.h"
#include "jit/jit_load.h"
#include "core/pf_error.h"
#include "pf_test.h"
#include "kernels/test/collectives_params.h"
#include "kernels/test/atomics_params.h"
#include "pf_test_kernel.h"

typedef struct backend {
    const char *name;
    pf_device *dev;
    char target[16];
} backend;

static uint64_t rng_state;
static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

static pf_module *load(backend *be, const char *file)
{
    return pf_test_load_kernel(be->dev, be->target, file);
}

/* Device buffers described once, filled and read back per backend. */
typedef struct buf {
    const char *label;
    size_t bytes;
    const void *init; /* NULL: zero-filled */
    void *out;        /* NULL: not read back */
    pf_dptr d;
} buf;

static int run(backend *be, pf_module *m, const char *kernel, pf_dim3 grid, pf_dim3 block, size_t dyn, buf *bufs,
               int nbufs, void *params, size_t params_size, const int *ptr_slots)
{
    int rc = 0;
    for (int i = 0; i < nbufs; i++) {
        rc |= pf_dev_alloc(be->dev, bufs[i].bytes, bufs[i].label, &bufs[i].d);
        rc |= bufs[i].init ? pf_dev_copy_htod(be->dev, bufs[i].d, bufs[i].init, bufs[i].bytes, NULL)
                           : pf_dev_memset8(be->dev, bufs[i].d, 0, bufs[i].bytes, NULL);
        /* the kernel's pointer fields, in order, are the buffers */
        memcpy((char *)params + ptr_slots[i], &bufs[i].d, sizeof(pf_dptr));
    }
    if (rc == 0)
        rc = pf_dev_launch(be->dev, m, kernel, grid, block, dyn, NULL, params, params_size);
    CHECK_MSG(rc == 0, "%s %s: %s", be->name, kernel, pf_error_get());
    pf_dev_stream_sync(be->dev, NULL);
    for (int i = 0; i < nbufs; i++) {
        if (bufs[i].out)
            pf_dev_copy_dtoh(be->dev, bufs[i].out, bufs[i].d, bufs[i].bytes, NULL);
        pf_dev_free(be->dev, bufs[i].d);
    }
    return rc;
}

static void match_collectives(backend *be[2], pf_module *mods[2])
{
    pf_dim3 block = {8 + 8 * (rng() % 4), 2, 2};
    int threads = (int)(block.x * block.y * block.z), grid = 3, total = threads * grid;
    int *in_i = malloc(sizeof(int) * total), *arg = malloc(sizeof(int) * total), *pred = malloc(sizeof(int) * total);
    float *in_f = malloc(sizeof(float) * total);
    for (int i = 0; i < total; i++) {
        in_i[i] = (int)rng();
        in_f[i] = (float)(int)(rng() % 20001 - 10000) / 64.0f;
        arg[i] = (int)(rng() % 64);
        pred[i] = rng() % 3 == 0;
    }
    size_t sizes[5] = {sizeof(int) * total * 8, sizeof(unsigned) * total * 4, sizeof(float) * total * 4,
                       sizeof(double) * total, sizeof(unsigned) * total * 3};
    void *outs[2][5];
    for (int b = 0; b < 2; b++)
        for (int j = 0; j < 5; j++)
            outs[b][j] = calloc(1, sizes[j]);
    int width = 1 << (rng() % 6);
    for (int b = 0; b < 2; b++) {
        buf bufs[9] = {{"in_i", sizeof(int) * total, in_i, NULL, 0},
                       {"in_f", sizeof(float) * total, in_f, NULL, 0},
                       {"arg", sizeof(int) * total, arg, NULL, 0},
                       {"pred", sizeof(int) * total, pred, NULL, 0},
                       {"out_i", sizes[0], NULL, outs[b][0], 0},
                       {"out_u", sizes[1], NULL, outs[b][1], 0},
                       {"out_f", sizes[2], NULL, outs[b][2], 0},
                       {"out_d", sizes[3], NULL, outs[b][3], 0},
                       {"out_vote", sizes[4], NULL, outs[b][4], 0}};
        const int slots[9] = {0, 8, 16, 24, 32, 40, 48, 56, 64};
        collectives_params p;
        memset(&p, 0, sizeof p);
        p.width = width;
        p.threads = threads;
        pf_dim3 g = {(unsigned)grid, 1, 1};
        run(be[b], mods[b], "collectives", g, block, 0, bufs, 9, &p, sizeof p, slots);
    }
    const char *names[5] = {"int shuffles", "unsigned shuffles", "float shuffles", "double xor", "votes"};
    for (int j = 0; j < 5; j++)
        CHECK_MSG(memcmp(outs[0][j], outs[1][j], sizes[j]) == 0, "%s differ (width %d, block %ux%ux%u)",
                  names[j], width, block.x, block.y, block.z);
    for (int b = 0; b < 2; b++)
        for (int j = 0; j < 5; j++)
            free(outs[b][j]);
    free(in_i), free(arg), free(pred), free(in_f);
}

typedef struct half_params {
    const int *in;
    int *out;
} half_params;

static void match_half_warp(backend *be[2], pf_module *mods[2])
{
    int in[96], out[2][96];
    for (int i = 0; i < 96; i++)
        in[i] = (int)rng();
    for (int b = 0; b < 2; b++) {
        buf bufs[2] = {{"in", sizeof in, in, NULL, 0}, {"out", sizeof out[b], NULL, out[b], 0}};
        const int slots[2] = {0, 8};
        half_params p;
        pf_dim3 g = {1, 1, 1}, blk = {96, 1, 1};
        run(be[b], mods[b], "half_warp_xor", g, blk, 0, bufs, 2, &p, sizeof p, slots);
    }
    CHECK(memcmp(out[0], out[1], sizeof out[0]) == 0);
}

typedef struct reduce_params {
    const float *in;
    float *partial;
    float *total;
    int n;
} reduce_params;

static void match_reduce(backend *be[2], pf_module *mods[2])
{
    int n = 50000 + (int)(rng() % 50000), grid = 1 + (int)(rng() % 40);
    float *in = malloc(sizeof(float) * n), part[2][40], total[2];
    for (int i = 0; i < n; i++)
        in[i] = (float)(int)(rng() % 2001 - 1000) / 256.0f + 1e-3f * (float)(rng() % 100);
    for (int b = 0; b < 2; b++) {
        buf bufs[3] = {{"in", sizeof(float) * n, in, NULL, 0},
                       {"partial", sizeof(float) * grid, NULL, part[b], 0},
                       {"total", sizeof(float), NULL, &total[b], 0}};
        const int slots[3] = {0, 8, 16};
        reduce_params p;
        p.n = n;
        pf_dim3 g = {(unsigned)grid, 1, 1}, blk = {256, 1, 1};
        run(be[b], mods[b], "reduce_sum", g, blk, 0, bufs, 3, &p, sizeof p, slots);
    }
    CHECK_MSG(memcmp(part[0], part[1], sizeof(float) * grid) == 0, "block partial sums differ");
    CHECK_MSG(fabsf(total[0] - total[1]) <= 1e-5f * (fabsf(total[0]) + 1.0f) * (float)grid, "totals %g vs %g",
              total[0], total[1]);
    free(in);
}

typedef struct gemm_params {
    const float *a;
    const float *b;
    float *c;
    int m, n, k;
} gemm_params;

static void match_gemm(backend *be[2], pf_module *mods[2])
{
    int M = 77, N = 53, K = 91 + (int)(rng() % 50);
    float *a = malloc(sizeof(float) * M * K), *bm = malloc(sizeof(float) * K * N);
    float *c[2] = {malloc(sizeof(float) * M * N), malloc(sizeof(float) * M * N)};
    for (int i = 0; i < M * K; i++)
        a[i] = (float)(int)(rng() % 2001 - 1000) / 1000.0f;
    for (int i = 0; i < K * N; i++)
        bm[i] = (float)(int)(rng() % 2001 - 1000) / 1000.0f;
    for (int b = 0; b < 2; b++) {
        buf bufs[3] = {{"a", sizeof(float) * M * K, a, NULL, 0},
                       {"b", sizeof(float) * K * N, bm, NULL, 0},
                       {"c", sizeof(float) * M * N, NULL, c[b], 0}};
        const int slots[3] = {0, 8, 16};
        gemm_params p;
        p.m = M, p.n = N, p.k = K;
        pf_dim3 g = {(unsigned)(N + 31) / 32, (unsigned)(M + 31) / 32, 1}, blk = {128, 1, 1};
        run(be[b], mods[b], "gemm_tiled", g, blk, 16 * 32 * sizeof(float), bufs, 3, &p, sizeof p, slots);
    }
    int bad = 0;
    for (int i = 0; i < M * N; i++)
        bad += fabsf(c[0][i] - c[1][i]) > 1e-5f * (float)K;
    CHECK_MSG(bad == 0, "gemm_tiled %dx%dx%d: %d elements differ", M, N, K, bad);
    free(a), free(bm), free(c[0]), free(c[1]);
}

static void match_atomics(backend *be[2], pf_module *mods[2])
{
    int n = 30000 + (int)(rng() % 10000), bins = 37;
    int *in = malloc(sizeof(int) * n), hist[2][37], mx[2], mn[2], cas_i[2];
    unsigned hist_u[2][37], cas[2];
    for (int i = 0; i < n; i++)
        in[i] = (int)(rng() % 20001) - 10000;
    int lo = 1 << 30, hi = -(1 << 30);
    for (int b = 0; b < 2; b++) {
        buf bufs[8] = {{"in", sizeof(int) * n, in, NULL, 0},        {"hist", sizeof hist[b], NULL, hist[b], 0},
                       {"hist_u", sizeof hist_u[b], NULL, hist_u[b], 0}, {"sum", 4, NULL, NULL, 0},
                       {"max", 4, &hi, &mx[b], 0},                   {"min", 4, &lo, &mn[b], 0},
                       {"cas", 4, NULL, &cas[b], 0},                 {"cas_i", 4, NULL, &cas_i[b], 0}};
        const int slots[8] = {0, 16, 24, 32, 40, 48, 56, 64};
        atomics_params p;
        memset(&p, 0, sizeof p);
        p.n = n;
        p.bins = bins;
        pf_dim3 g = {(unsigned)(n + 127) / 128, 1, 1}, blk = {128, 1, 1};
        run(be[b], mods[b], "atomics_mix", g, blk, 0, bufs, 8, &p, sizeof p, slots);
    }
    CHECK(memcmp(hist[0], hist[1], sizeof hist[0]) == 0);
    CHECK(memcmp(hist_u[0], hist_u[1], sizeof hist_u[0]) == 0);
    CHECK(mx[0] == mx[1] && mn[0] == mn[1]);
    CHECK(cas[0] == cas[1] && cas[0] == (unsigned)n);
    CHECK(cas_i[0] == cas_i[1] && cas_i[0] == 2 * n);
    free(in);
}

int main(void)
{
    char why[PF_ERROR_MAX];
    if (pf_cuda_device_count(why, sizeof why) <= 0) {
        fprintf(stderr, "FAIL: GPU test run without a usable GPU: %s\n", why);
        return 1;
    }
    const char *seed = getenv("PF_TEST_SEED");
    rng_state = seed ? strtoull(seed, NULL, 0) : (uint64_t)time(NULL) * 2654435761u + 1;
    printf("seed %llu\n", (unsigned long long)rng_state);

    backend gpu = {"cuda", NULL, ""}, emu = {"emu", NULL, "emu"};
    if (pf_device_open("cuda:0", &gpu.dev) != 0 || pf_emu_open("sm_90", &emu.dev) != 0) {
        fprintf(stderr, "FAIL: %s\n", pf_error_get());
        return 1;
    }
    pf_device_props props;
    if (pf_dev_props(gpu.dev, &props) ||
        pf_jit_device_target(gpu.dev, gpu.target, sizeof gpu.target)) {
        fprintf(stderr, "FAIL: %s\n", pf_error_get());
        return 1;
    }
    printf("comparing %s (%s) with emu\n", props.name, gpu.target);

    backend *be[2] = {&gpu, &emu};
    const char *files[4] = {"collectives.cu", "reduce.cu", "gemm_tiled.cu", "atomics.cu"};
    pf_module *mods[4][2];
    for (int f = 0; f < 4; f++)
        for (int b = 0; b < 2; b++)
            mods[f][b] = load(be[b], files[f]);
    for (int f = 0; f < 4; f++)
        if (!mods[f][0] || !mods[f][1])
            return PF_TEST_RESULT();
    for (int rep = 0; rep < 4; rep++)
        match_collectives(be, mods[0]);
    match_half_warp(be, mods[0]);
    match_reduce(be, mods[1]);
    match_gemm(be, mods[2]);
    match_atomics(be, mods[3]);
    for (int f = 0; f < 4; f++)
        for (int b = 0; b < 2; b++)
            pf_dev_module_unload(be[b]->dev, mods[f][b]);
    pf_device_close(gpu.dev);
    pf_device_close(emu.dev);
    return PF_TEST_RESULT();
}
