/* The emu backend catches planted kernel bugs and says which kernel, block,
 * threads and buffer: barrier divergence (two call sites, early exit),
 * out-of-bounds global writes (into the guard page and into the rounding
 * slack) and reads before the start, static and dynamic shared-memory
 * overruns, full-mask collectives of partial warps, a shuffle/barrier
 * deadlock and a fiber stack overflow. The launch returns
 * -1 with the message; the process and the device stay usable (a correct
 * launch afterwards still works). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "device/device.h"
#include "jit/jit.h"
#include "core/pf_error.h"
#include "kernels/test/planted_oob_params.h"
#include "pf_test.h"
#include "pf_test_kernel.h"

static pf_device *dev;

static pf_module *load(const char *file)
{
    return pf_test_load_kernel(dev, "emu", file);
}

static int contains(const char *hay, const char *needle)
{
    return strstr(hay, needle) != NULL;
}

static char last[PF_ERROR_MAX];

static int launch(pf_module *m, const char *name, unsigned grid, unsigned threads, size_t dyn, const void *p,
                  size_t size)
{
    pf_dim3 g = {grid, 1, 1}, b = {threads, 1, 1};
    pf_error_clear();
    int rc = pf_dev_launch(dev, m, name, g, b, dyn, NULL, p, size);
    snprintf(last, sizeof last, "%s", pf_error_get());
    if (rc != 0)
        printf("  %s -> %s\n", name, last);
    return rc;
}

typedef struct divergence_params {
    float *out;
    int split;
} divergence_params;

static void test_divergence(void)
{
    pf_module *m = load("planted_divergence.cu");
    if (!m)
        return;
    pf_dptr out;
    CHECK(pf_dev_alloc(dev, 256 * sizeof(float), "div.out", &out) == 0);
    int split = 1 + rand() % 127; /* any split except none */
    divergence_params p = {(float *)(uintptr_t)out, split};
    char want[64];
    CHECK(launch(m, "planted_divergence", 3, 128, 0, &p, sizeof p) == -1);
    CHECK(contains(last, "kernel planted_divergence"));
    CHECK(contains(last, "barrier divergence"));
    CHECK(contains(last, "planted_divergence.cu:17"));
    CHECK(contains(last, "planted_divergence.cu:20"));
    snprintf(want, sizeof want, "threads 0-%d wait", split - 1);
    if (split == 1)
        snprintf(want, sizeof want, "threads 0 wait");
    CHECK_MSG(contains(last, want), "want '%s' in '%s'", want, last);

    /* nobody diverges when every thread takes the same branch */
    p.split = 128;
    CHECK_MSG(launch(m, "planted_divergence", 2, 128, 0, &p, sizeof p) == 0, "%s", last);

    p.split = 1 + rand() % 127;
    CHECK(launch(m, "planted_early_exit", 1, 128, 0, &p, sizeof p) == -1);
    CHECK(contains(last, "kernel planted_early_exit, block (0,0,0)"));
    CHECK(contains(last, "exited while threads"));
    CHECK(contains(last, "planted_divergence.cu:31"));

    /* the correct kernel gives the reference result */
    p.split = rand() % 128;
    CHECK_MSG(launch(m, "uniform_barrier", 1, 128, 0, &p, sizeof p) == 0, "%s", last);
    float got[128];
    CHECK(pf_dev_copy_dtoh(dev, got, out, sizeof got, NULL) == 0);
    int bad = 0;
    for (int t = 0; t < 128; t++)
        bad += got[t] != (float)(t < p.split ? (t + 1) % 128 : (t + 2) % 128);
    CHECK(bad == 0);
    pf_dev_free(dev, out);
    pf_dev_module_unload(dev, m);
}

static void test_oob_global(void)
{
    pf_module *m = load("planted_oob_global.cu");
    if (!m)
        return;
    /* n a multiple of 4 floats: the extra element lands on the guard page;
     * otherwise in the rounding slack (found by the canary check). */
    int sizes[2] = {4 * (50 + rand() % 200), 4 * (50 + rand() % 200) + 1 + rand() % 3};
    for (int s = 0; s < 2; s++) {
        int n = sizes[s];
        pf_dptr in, out;
        char label[32];
        snprintf(label, sizeof label, "planted.out%d", s);
        CHECK(pf_dev_alloc(dev, (size_t)n * 4, "planted.in", &in) == 0);
        CHECK(pf_dev_alloc(dev, (size_t)n * 4, label, &out) == 0);
        oob_params p = {(const float *)(uintptr_t)in, (float *)(uintptr_t)out, n};
        unsigned grid = (unsigned)(n + 127) / 128 + (n % 128 == 0);
        CHECK(launch(m, "planted_oob_global", grid, 128, 0, &p, sizeof p) == -1);
        char want[96];
        snprintf(want, sizeof want, "buffer '%s' (%d bytes) at byte offset %d", label, n * 4, n * 4);
        CHECK_MSG(contains(last, want), "want \"%s\" in \"%s\"", want, last);
        CHECK(contains(last, "kernel planted_oob_global"));
        if (s == 0) {
            snprintf(want, sizeof want, "block (%d,0,0), thread (%d,0,0)", n / 128, n % 128);
            CHECK_MSG(contains(last, want), "want \"%s\" in \"%s\"", want, last);
        }
        /* reading before the start of the input */
        CHECK(launch(m, "planted_oob_underflow", (unsigned)(n + 127) / 128, 128, 0, &p, sizeof p) == -1);
        CHECK(contains(last, "buffer 'planted.in'"));
        CHECK(contains(last, "byte offset -"));
        /* fixed bound: fine, and the buffers are unharmed */
        p.n = n - 1;
        CHECK_MSG(launch(m, "planted_oob_global", grid, 128, 0, &p, sizeof p) == 0, "%s", last);
        pf_dev_free(dev, in);
        pf_dev_free(dev, out);
    }
    pf_dev_module_unload(dev, m);
}

typedef struct smem_oob_params {
    float *out;
    int extra;
} smem_oob_params;

static void test_oob_shared(void)
{
    pf_module *m = load("planted_oob_shared.cu");
    if (!m)
        return;
    pf_dptr out;
    CHECK(pf_dev_alloc(dev, 128 * sizeof(float), "smem.out", &out) == 0);
    smem_oob_params p = {(float *)(uintptr_t)out, 1 + rand() % 4};
    CHECK(launch(m, "planted_oob_shared", 2, 128, 0, &p, sizeof p) == -1);
    CHECK(contains(last, "kernel planted_oob_shared"));
    CHECK(contains(last, "shared-memory overrun"));
    CHECK(contains(last, "'staging'"));
    CHECK(contains(last, "planted_oob_shared.cu:12"));
    p.extra = 0;
    CHECK_MSG(launch(m, "planted_oob_shared", 2, 128, 0, &p, sizeof p) == 0, "%s", last);
    float got[128];
    CHECK(pf_dev_copy_dtoh(dev, got, out, sizeof got, NULL) == 0);
    int bad = 0;
    for (int t = 0; t < 128; t++)
        bad += got[t] != (float)t + 1.0f;
    CHECK(bad == 0);

    /* dynamic: 128 floats requested, written at t + extra */
    p.extra = 1 + rand() % 64;
    CHECK(launch(m, "planted_oob_dynamic", 1, 128, 128 * sizeof(float), &p, sizeof p) == -1);
    CHECK(contains(last, "kernel planted_oob_dynamic"));
    CHECK(contains(last, "dynamic shared memory (512 bytes)"));
    /* odd size: the overrun stays inside the 16-byte rounding (canary) */
    p.extra = 1;
    CHECK(launch(m, "planted_oob_dynamic", 1, 126, 126 * sizeof(float), &p, sizeof p) == -1);
    CHECK(contains(last, "dynamic shared memory (504 bytes)"));
    p.extra = 0;
    CHECK_MSG(launch(m, "planted_oob_dynamic", 1, 128, 128 * sizeof(float), &p, sizeof p) == 0, "%s", last);
    /* static arrays over 48 KiB: refused, array named */
    pf_module *big = load("planted_static_too_big.cu");
    if (big) {
        CHECK(launch(big, "planted_static_too_big", 1, 128, 0, &p, sizeof p) == -1);
        CHECK(contains(last, "'huge'"));
        CHECK(contains(last, "49412 bytes, over the 49152-byte static limit"));
        pf_dev_module_unload(dev, big);
    }
    /* over the opt-in limit: refused like on a GPU */
    CHECK(launch(m, "planted_oob_dynamic", 1, 128, 300 * 1024, &p, sizeof p) == -1);
    CHECK(contains(last, "opt-in limit"));
    pf_dev_free(dev, out);
    pf_dev_module_unload(dev, m);
}

typedef struct partial_params {
    float *out;
    int exit_lane5;
} partial_params;

static void test_partial_warp(void)
{
    pf_module *m = load("planted_partial_warp.cu");
    if (!m)
        return;
    pf_dptr out;
    CHECK(pf_dev_alloc(dev, 64 * sizeof(float), "pw.out", &out) == 0);
    partial_params p = {(float *)(uintptr_t)out, 0};
    CHECK(launch(m, "planted_partial_warp", 1, 48, 0, &p, sizeof p) == -1);
    CHECK(contains(last, "kernel planted_partial_warp"));
    CHECK(contains(last, "partial-warp collective"));
    CHECK(contains(last, "does not exist"));
    p.exit_lane5 = 1;
    CHECK(launch(m, "planted_partial_warp", 1, 64, 0, &p, sizeof p) == -1);
    CHECK(contains(last, "lane 5"));
    CHECK(contains(last, "exited") || contains(last, "deadlock"));
    CHECK(launch(m, "planted_mixed_collective", 1, 32, 0, &p, sizeof p) == -1);
    CHECK(contains(last, "kernel planted_mixed_collective"));
    CHECK(contains(last, "__ballot_sync") && contains(last, "__shfl_xor_sync"));
    CHECK(contains(last, "while other lanes wait in"));
    p.exit_lane5 = 0;
    CHECK_MSG(launch(m, "planted_partial_warp", 1, 64, 0, &p, sizeof p) == 0, "%s", last);
    float got[64];
    CHECK(pf_dev_copy_dtoh(dev, got, out, sizeof got, NULL) == 0);
    int bad = 0;
    for (int t = 0; t < 64; t++)
        bad += got[t] != (float)(t ^ 1);
    CHECK(bad == 0);
    pf_dev_free(dev, out);
    pf_dev_module_unload(dev, m);
}

typedef struct deadlock_params {
    float *out;
    int depth;
} deadlock_params;

static void test_deadlock_and_stack(void)
{
    pf_module *m = load("planted_deadlock.cu");
    if (!m)
        return;
    pf_dptr out;
    CHECK(pf_dev_alloc(dev, 64 * sizeof(float), "dl.out", &out) == 0);
    deadlock_params p = {(float *)(uintptr_t)out, 0};
    CHECK(launch(m, "planted_deadlock", 2, 64, 0, &p, sizeof p) == -1);
    CHECK(contains(last, "kernel planted_deadlock"));
    CHECK(contains(last, "deadlock in warp 0"));
    CHECK(contains(last, "threads 0-15 wait in __shfl_xor_sync"));
    CHECK(contains(last, "at __syncthreads: 16-31"));
    /* a shallow recursion is fine; a deep one overflows the fiber stack */
    p.depth = 10 + rand() % 20;
    CHECK_MSG(launch(m, "planted_stack_overflow", 1, 32, 0, &p, sizeof p) == 0, "%s", last);
    p.depth = 2000 + rand() % 1000;
    CHECK(launch(m, "planted_stack_overflow", 1, 32, 0, &p, sizeof p) == -1);
    CHECK(contains(last, "kernel planted_stack_overflow"));
    CHECK(contains(last, "fiber stack overflow"));
    pf_dev_free(dev, out);
    pf_dev_module_unload(dev, m);
}

int main(void)
{
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    CHECK_MSG(pf_emu_open("sm_80", &dev) == 0, "%s", pf_error_get());
    if (!dev)
        return PF_TEST_RESULT();
    test_divergence();
    test_oob_global();
    test_oob_shared();
    test_partial_warp();
    test_deadlock_and_stack();
    pf_device_close(dev);
    return PF_TEST_RESULT();
}
