/* emu backend benchmark (host timings, labelled as such):
 *  1. raw fiber switches per second (two fibers ping-ponging);
 *  2. switches per second inside a shuffle-bound kernel (32 per shuffle);
 *  3. a 128-thread tiled shared-memory GEMM (256x256x256 by default). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device/device.h"
#include "device/emu/emu_fiber.h"
#include "device/emu/emu_launch.h"
#include "jit/jit.h"
#include "core/pf_error.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static pf_emu_ctx main_ctx, fiber_ctx;
static long pingpongs;

static void pingpong(void *arg)
{
    (void)arg;
    for (;;) {
        pingpongs++;
        pf_emu_ctx_switch(&fiber_ctx, &main_ctx);
    }
}

static int bench_raw_switches(void)
{
    pf_emu_stack s;
    if (pf_emu_stack_alloc(&s, 64 * 1024) != 0)
        return -1;
    pf_emu_ctx_init(&fiber_ctx, &s, pingpong, NULL);
    const long n = 20 * 1000 * 1000;
    double t0 = now_s();
    for (long i = 0; i < n; i++)
        pf_emu_ctx_switch(&main_ctx, &fiber_ctx);
    double dt = now_s() - t0;
    printf("emu (host timing): raw fiber switches: %.1f M/s (%.2f ns each, %ld round trips)\n",
           2.0 * (double)n / dt / 1e6, dt / (2.0 * (double)n) * 1e9, pingpongs);
    pf_emu_stack_free(&s);
    return 0;
}

static pf_module *load(pf_device *dev, const char *file)
{
    pf_variant v;
    pf_jit_result r;
    memset(&v, 0, sizeof v);
    snprintf(v.source, sizeof v.source, "%s/test/%s", pf_kernel_dir(), file);
    snprintf(v.target, sizeof v.target, "emu");
    if (pf_jit_compile(&v, &r) != 0)
        return NULL;
    pf_module *m = NULL;
    if (!r.valid)
        pf_error_set("%s does not compile: %s", file, r.log ? r.log : "");
    else
        pf_dev_module_load(dev, &r.bin, &m);
    pf_jit_result_free(&r);
    return m;
}

static double timed_launch(pf_device *dev, pf_module *m, const char *name, pf_dim3 g, pf_dim3 b, size_t dyn,
                           const void *p, size_t size)
{
    pf_event *e0, *e1;
    float ms = -1;
    pf_dev_event_create(dev, &e0);
    pf_dev_event_create(dev, &e1);
    pf_dev_event_record(dev, e0, NULL);
    int rc = pf_dev_launch(dev, m, name, g, b, dyn, NULL, p, size);
    pf_dev_event_record(dev, e1, NULL);
    pf_dev_event_elapsed_ms(dev, e0, e1, &ms);
    pf_dev_event_destroy(dev, e0);
    pf_dev_event_destroy(dev, e1);
    return rc == 0 ? ms : -1.0;
}

typedef struct shuffle_bench_params {
    float *out;
    int rounds;
} shuffle_bench_params;

typedef struct gemm_params {
    const float *a;
    const float *b;
    float *c;
    int m, n, k;
} gemm_params;

int main(int argc, char **argv)
{
    int size = argc > 1 ? atoi(argv[1]) : 256;
    if (size < 1)
        size = 256;
    if (bench_raw_switches() != 0) {
        fprintf(stderr, "emu_bench: %s\n", pf_error_get());
        return 1;
    }
    pf_device *dev;
    if (pf_emu_open("sm_90", &dev) != 0) {
        fprintf(stderr, "emu_bench: %s\n", pf_error_get());
        return 1;
    }
    int workers = pf_emu_worker_count();

    pf_module *sh = load(dev, "bench_shuffle.cu");
    pf_module *gm = load(dev, "gemm_tiled.cu");
    if (!sh || !gm) {
        fprintf(stderr, "emu_bench: %s\n", pf_error_get());
        return 1;
    }
    pf_dptr out;
    unsigned blocks = 4u * (unsigned)workers;
    pf_dev_alloc(dev, blocks * 128 * sizeof(float), "bench.out", &out);
    shuffle_bench_params sp = {(float *)(uintptr_t)out, 2000};
    pf_dim3 g = {blocks, 1, 1}, b = {128, 1, 1};
    timed_launch(dev, sh, "bench_shuffle", g, b, 0, &sp, sizeof sp); /* warm-up */
    double ms = timed_launch(dev, sh, "bench_shuffle", g, b, 0, &sp, sizeof sp);
    double switches = (double)blocks * 128.0 * sp.rounds;
    printf("emu (host timing): shuffle kernel: %.1f M fiber switches/s over %d workers (%.1f ms, %u blocks "
           "x 128 threads x %d shuffles)\n",
           switches / (ms * 1e-3) / 1e6, workers, ms, blocks, sp.rounds);

    size_t n = (size_t)size * size;
    float *h = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        h[i] = (float)rand() / (float)RAND_MAX;
    pf_dptr da, db, dc;
    pf_dev_alloc(dev, n * 4, "bench.a", &da);
    pf_dev_alloc(dev, n * 4, "bench.b", &db);
    pf_dev_alloc(dev, n * 4, "bench.c", &dc);
    pf_dev_copy_htod(dev, da, h, n * 4, NULL);
    pf_dev_copy_htod(dev, db, h, n * 4, NULL);
    gemm_params gp = {(const float *)(uintptr_t)da, (const float *)(uintptr_t)db, (float *)(uintptr_t)dc,
                      size, size, size};
    pf_dim3 gg = {(unsigned)(size + 31) / 32, (unsigned)(size + 31) / 32, 1};
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        double t = timed_launch(dev, gm, "gemm_tiled", gg, b, 16 * 32 * 4, &gp, sizeof gp);
        if (t < 0) {
            fprintf(stderr, "emu_bench: %s\n", pf_error_get());
            return 1;
        }
        best = t < best ? t : best;
    }
    printf("emu (host timing): gemm_tiled %dx%dx%d, 128 threads/block: %.2f ms (best of 3, %.2f GFLOP/s, "
           "%d workers)\n",
           size, size, size, best, 2.0 * size * size * size / (best * 1e-3) / 1e9, workers);
    free(h);
    pf_dev_free(dev, out);
    pf_dev_free(dev, da);
    pf_dev_free(dev, db);
    pf_dev_free(dev, dc);
    pf_dev_module_unload(dev, sh);
    pf_dev_module_unload(dev, gm);
    pf_device_close(dev);
    return 0;
}
