/* Named barriers (pf_bar_sync): kernels/test/named_barrier.cu on the emu
 * backend against a C model, groups of 2 and 4 warps with different round
 * counts per group, several blocks, in order and under chaos scheduling
 * (several seeds); the kernel and the planted-bug file also compile with
 * NVRTC for sm_80 and sm_90 (no GPU needed). */
#include <stdlib.h>
#include <string.h>

#include "core/pf_sanitize.h"
#include "device/device.h"
#include "jit/jit.h"
#include "core/pf_error.h"
#include "pf_test.h"
#include "kernels/test/named_barrier_params.h"
#include "pf_test_kernel.h"

#define GRID 3
#define WARPS (NB_THREADS / 32)

static pf_device *dev;

/* The writer's value in round r, group g of block b, lane l. */
static float written(const float *in, int groups, int b, int g, int r, int l)
{
    return in[(b * groups + g) * 32 + l] * (float)(r + 1) + (float)g;
}

/* Mismatches between the launch's outputs and the model. */
static int count_bad(const float *in, const float *out, const float *tail, int group, int rounds)
{
    int groups = WARPS / group, bad = 0;
    for (int b = 0; b < GRID; b++)
        for (int t = 0; t < NB_THREADS; t++) {
            int lane = t % 32, g = t / 32 / group, k = t / 32 % group;
            for (int r = 0; k != 0 && r < rounds + g; r++)
                bad += out[(b * NB_THREADS + t) * NB_MAX_ROUNDS + r] !=
                       written(in, groups, b, g, r, (lane + r + k) % 32);
            int gg = (g + 1) % groups;
            bad += tail[b * NB_THREADS + t] != written(in, groups, b, gg, rounds + gg - 1, lane);
        }
    return bad;
}

static void run_case(pf_module *m, int group, int rounds)
{
    size_t n_in = GRID * 32 * WARPS, n_out = (size_t)GRID * NB_THREADS * NB_MAX_ROUNDS,
           n_tail = GRID * NB_THREADS;
    float *in = malloc(n_in * sizeof *in), *out = malloc(n_out * sizeof *out),
          *tail = malloc(n_tail * sizeof *tail);
    for (size_t i = 0; i < n_in; i++)
        in[i] = (float)(rand() % 100); /* small integers: every product is exact */
    pf_dptr d_in = 0, d_out = 0, d_tail = 0;
    CHECK(pf_dev_alloc(dev, n_in * sizeof *in, "nb.in", &d_in) == 0);
    CHECK(pf_dev_alloc(dev, n_out * sizeof *out, "nb.out", &d_out) == 0);
    CHECK(pf_dev_alloc(dev, n_tail * sizeof *tail, "nb.tail", &d_tail) == 0);
    CHECK(pf_dev_copy_htod(dev, d_in, in, n_in * sizeof *in, NULL) == 0);
    named_barrier_params p = {(const float *)(uintptr_t)d_in, (float *)(uintptr_t)d_out,
                              (float *)(uintptr_t)d_tail, group, rounds};
    pf_dim3 g = {GRID, 1, 1}, blk = {NB_THREADS, 1, 1};
    int rc = pf_dev_launch(dev, m, "named_barrier", g, blk, 0, NULL, &p, sizeof p);
    CHECK_MSG(rc == 0, "group %d rounds %d: %s", group, rounds, pf_error_get());
    if (rc == 0) {
        CHECK(pf_dev_copy_dtoh(dev, out, d_out, n_out * sizeof *out, NULL) == 0);
        CHECK(pf_dev_copy_dtoh(dev, tail, d_tail, n_tail * sizeof *tail, NULL) == 0);
        int bad = count_bad(in, out, tail, group, rounds);
        CHECK_MSG(bad == 0, "group %d rounds %d: %d wrong values", group, rounds, bad);
    }
    pf_dev_free(dev, d_in);
    pf_dev_free(dev, d_out);
    pf_dev_free(dev, d_tail);
    free(in);
    free(out);
    free(tail);
}

int main(void)
{
    srand((unsigned)time(NULL));
    static const char *const files[] = {"named_barrier", "planted_named_barrier"};
    pf_test_check_nvrtc("test", files, 2);
    CHECK_MSG(pf_emu_open("sm_80", &dev) == 0, "%s", pf_error_get());
    if (!dev)
        return PF_TEST_RESULT();
    pf_module *m = pf_test_load_kernel(dev, "emu", "named_barrier.cu");
    if (m) {
        for (int group = 2; group <= 4; group += 2)
            run_case(m, group, 1 + rand() % 12);
        for (uint64_t seed = 1; seed <= 3; seed++) { /* any fiber order gives the same result */
            CHECK(pf_sanitize_set(PF_SAN_CHAOS, seed + (uint64_t)rand()) == 0);
            run_case(m, 2 + 2 * (int)(seed & 1), 1 + rand() % 12);
        }
        CHECK(pf_sanitize_set(0, 1) == 0);
        pf_dev_module_unload(dev, m);
    }
    pf_device_close(dev);
    return PF_TEST_RESULT();
}
