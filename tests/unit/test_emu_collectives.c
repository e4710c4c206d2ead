/* Warp collectives on the emu backend against a plain C model of CUDA's
 * documented semantics: every shuffle variant (idx, up, down, xor) on int,
 * unsigned, float (and xor on double), default width and explicit widths
 * 1..32, per-lane random arguments 0..63 (srcLane beyond width wraps modulo
 * width; PTX uses the low 5 bits of every lane operand), 3-D blocks and several blocks; ballot/any/all on random
 * predicates; a half-warp mask. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "device/device.h"
#include "jit/jit.h"
#include "core/pf_error.h"
#include "pf_test.h"
#include "kernels/test/collectives_params.h"
#include "pf_test_kernel.h"

#define VARIANTS 4

static pf_device *dev;

static pf_module *load(const char *file)
{
    return pf_test_load_kernel(dev, "emu", file);
}

/* CUDA programming guide, warp shuffle functions; the lane operand is used
 * modulo 32 (PTX shfl.sync reads b[4:0]). */
static int ref_source(int variant, int lane, int arg, int width)
{
    int seg = lane / width, in_seg = lane % width, s;
    arg %= 32;
    switch (variant) {
    case 0: /* idx: srcLane modulo width, inside the caller's segment */
        return seg * width + arg % width;
    case 1: /* up: the lower `delta` lanes of each segment keep their value */
        return in_seg >= arg ? lane - arg : lane;
    case 2: /* down */
        return in_seg + arg < width ? lane + arg : lane;
    default: /* xor: may read earlier segments, never later ones */
        s = lane ^ arg;
        return s / width > seg ? lane : s;
    }
}

static pf_dptr dalloc(size_t bytes, const char *label)
{
    pf_dptr p = 0;
    CHECK(pf_dev_alloc(dev, bytes, label, &p) == 0);
    return p;
}

static void run_case(pf_module *m, pf_dim3 block, unsigned grid, int width, int variant_of_arg)
{
    int threads = (int)(block.x * block.y * block.z), total = threads * (int)grid;
    int *in_i = malloc(sizeof(int) * total), *arg = malloc(sizeof(int) * total),
        *pred = malloc(sizeof(int) * total);
    float *in_f = malloc(sizeof(float) * total);
    for (int i = 0; i < total; i++) {
        in_i[i] = rand() - RAND_MAX / 2;
        in_f[i] = (float)rand() / (float)RAND_MAX * 100.0f - 50.0f;
        /* srcLane up to 63 (wraps), delta / laneMask 0..31 */
        arg[i] = variant_of_arg ? rand() % 64 : rand() % 32;
        pred[i] = rand() % 3 == 0;
    }
    /* a warp where everyone agrees, for any/all */
    if (threads >= 64)
        for (int l = 32; l < 64; l++)
            pred[l] = 1;
    pf_dptr d_in_i = dalloc(sizeof(int) * total, "in_i"), d_in_f = dalloc(sizeof(float) * total, "in_f"),
            d_arg = dalloc(sizeof(int) * total, "arg"), d_pred = dalloc(sizeof(int) * total, "pred"),
            d_out_i = dalloc(sizeof(int) * total * 2 * VARIANTS, "out_i"),
            d_out_u = dalloc(sizeof(unsigned) * total * VARIANTS, "out_u"),
            d_out_f = dalloc(sizeof(float) * total * VARIANTS, "out_f"),
            d_out_d = dalloc(sizeof(double) * total, "out_d"),
            d_vote = dalloc(sizeof(unsigned) * total * 3, "out_vote");
    pf_dev_copy_htod(dev, d_in_i, in_i, sizeof(int) * total, NULL);
    pf_dev_copy_htod(dev, d_in_f, in_f, sizeof(float) * total, NULL);
    pf_dev_copy_htod(dev, d_arg, arg, sizeof(int) * total, NULL);
    pf_dev_copy_htod(dev, d_pred, pred, sizeof(int) * total, NULL);
    collectives_params p = {
        (const int *)(uintptr_t)d_in_i, (const float *)(uintptr_t)d_in_f, (const int *)(uintptr_t)d_arg,
        (const int *)(uintptr_t)d_pred, (int *)(uintptr_t)d_out_i,       (unsigned *)(uintptr_t)d_out_u,
        (float *)(uintptr_t)d_out_f,    (double *)(uintptr_t)d_out_d,    (unsigned *)(uintptr_t)d_vote,
        width,                          threads};
    pf_dim3 g = {grid, 1, 1};
    int rc = pf_dev_launch(dev, m, "collectives", g, block, 0, NULL, &p, sizeof p);
    CHECK_MSG(rc == 0, "launch: %s", pf_error_get());
    int *out_i = malloc(sizeof(int) * total * 2 * VARIANTS);
    unsigned *out_u = malloc(sizeof(unsigned) * total * VARIANTS), *vote = malloc(sizeof(unsigned) * total * 3);
    float *out_f = malloc(sizeof(float) * total * VARIANTS);
    double *out_d = malloc(sizeof(double) * total);
    pf_dev_copy_dtoh(dev, out_i, d_out_i, sizeof(int) * total * 2 * VARIANTS, NULL);
    pf_dev_copy_dtoh(dev, out_u, d_out_u, sizeof(unsigned) * total * VARIANTS, NULL);
    pf_dev_copy_dtoh(dev, out_f, d_out_f, sizeof(float) * total * VARIANTS, NULL);
    pf_dev_copy_dtoh(dev, out_d, d_out_d, sizeof(double) * total, NULL);
    pf_dev_copy_dtoh(dev, vote, d_vote, sizeof(unsigned) * total * 3, NULL);

    int bad_i = 0, bad_u = 0, bad_f = 0, bad_d = 0, bad_v = 0;
    for (unsigned b = 0; b < grid; b++) {
        int base = (int)b * threads;
        for (int t = 0; t < threads; t++) {
            int g_t = base + t, lane = t % 32, warp0 = base + t - lane;
            for (int v = 0; v < VARIANTS; v++) {
                int s32 = warp0 + ref_source(v, lane, arg[g_t], 32);
                int sw = warp0 + ref_source(v, lane, arg[g_t], width);
                bad_i += out_i[base * 2 * VARIANTS + v * threads + t] != in_i[s32];
                bad_i += out_i[base * 2 * VARIANTS + (VARIANTS + v) * threads + t] != in_i[sw];
                bad_u += out_u[base * VARIANTS + v * threads + t] != (unsigned)in_i[sw] * 2654435761u;
                bad_f += out_f[base * VARIANTS + v * threads + t] != in_f[sw];
            }
            int sx = warp0 + ref_source(3, lane, arg[g_t], 32);
            bad_d += out_d[g_t] != (double)in_f[sx] * 1e10 + (double)in_i[sx];
            unsigned ballot = 0;
            for (int l = 0; l < 32; l++)
                if (pred[warp0 + l])
                    ballot |= 1u << l;
            unsigned *vb = vote + (int)b * 3 * threads;
            bad_v += vb[t] != ballot;
            bad_v += vb[threads + t] != (ballot != 0);
            bad_v += vb[2 * threads + t] != (ballot == 0xffffffffu);
        }
    }
    CHECK_MSG(bad_i == 0, "int shuffles, width %d: %d wrong", width, bad_i);
    CHECK_MSG(bad_u == 0, "unsigned shuffles, width %d: %d wrong", width, bad_u);
    CHECK_MSG(bad_f == 0, "float shuffles, width %d: %d wrong", width, bad_f);
    CHECK_MSG(bad_d == 0, "double xor shuffle: %d wrong", bad_d);
    CHECK_MSG(bad_v == 0, "votes: %d wrong", bad_v);
    pf_dptr all[] = {d_in_i, d_in_f, d_arg, d_pred, d_out_i, d_out_u, d_out_f, d_out_d, d_vote};
    for (int i = 0; i < 9; i++)
        pf_dev_free(dev, all[i]);
    free(in_i), free(arg), free(pred), free(in_f), free(out_i), free(out_u), free(out_f), free(out_d),
        free(vote);
}

typedef struct half_params {
    const int *in;
    int *out;
} half_params;

static void test_half_warp(pf_module *m)
{
    int in[64], out[64];
    for (int i = 0; i < 64; i++)
        in[i] = rand();
    pf_dptr di = dalloc(sizeof in, "half.in"), dout = dalloc(sizeof out, "half.out");
    pf_dev_copy_htod(dev, di, in, sizeof in, NULL);
    half_params p = {(const int *)(uintptr_t)di, (int *)(uintptr_t)dout};
    pf_dim3 g = {1, 1, 1}, b = {64, 1, 1};
    CHECK_MSG(pf_dev_launch(dev, m, "half_warp_xor", g, b, 0, NULL, &p, sizeof p) == 0, "%s", pf_error_get());
    pf_dev_copy_dtoh(dev, out, dout, sizeof out, NULL);
    int bad = 0;
    for (int t = 0; t < 64; t++)
        bad += out[t] != ((t & 31) < 16 ? in[t ^ 1] : in[t]);
    CHECK(bad == 0);
    pf_dev_free(dev, di);
    pf_dev_free(dev, dout);
}

int main(void)
{
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    CHECK_MSG(pf_emu_open("sm_90", &dev) == 0, "%s", pf_error_get());
    if (!dev)
        return PF_TEST_RESULT();
    pf_module *m = load("collectives.cu");
    if (m) {
        pf_dim3 b3 = {8, 4, 3}, b1 = {128, 1, 1}, b2 = {32, 2, 1};
        for (int w = 1; w <= 32; w *= 2) {
            run_case(m, b3, 3, w, 0);
            run_case(m, b1, 2, w, 1);
        }
        run_case(m, b2, 5, 1 << (rand() % 6), rand() % 2);
        test_half_warp(m);
        pf_dev_module_unload(dev, m);
    }
    pf_device_close(dev);
    return PF_TEST_RESULT();
}
