/* Atomics on the emu backend under real concurrency (blocks run on several
 * host workers; PFTUNE_EMU_THREADS is forced to 3 here so the races exist
 * even on a 1-core box): histogram adds (int and unsigned), float sum,
 * max/min, CAS-loop counters, against a serial C reference. */
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
#include "kernels/test/atomics_params.h"

static pf_device *dev;

static pf_dptr dalloc(size_t bytes, const char *label)
{
    pf_dptr p = 0;
    CHECK(pf_dev_alloc(dev, bytes, label, &p) == 0);
    CHECK(pf_dev_memset8(dev, p, 0, bytes, NULL) == 0);
    return p;
}

static void run(pf_module *m, int n, int bins, unsigned threads)
{
    int *in = malloc(sizeof(int) * n);
    for (int i = 0; i < n; i++)
        in[i] = rand() % 20001 - 10000;
    pf_dptr d_in = dalloc(sizeof(int) * n, "in"), d_hist = dalloc(sizeof(int) * bins, "hist"),
            d_hist_u = dalloc(sizeof(unsigned) * bins, "hist_u"), d_sum = dalloc(4, "sum"),
            d_max = dalloc(4, "max"), d_min = dalloc(4, "min"), d_cas = dalloc(4, "cas"),
            d_cas_i = dalloc(4, "cas_i");
    int lo = 1 << 30, hi = -(1 << 30);
    pf_dev_copy_htod(dev, d_in, in, sizeof(int) * n, NULL);
    pf_dev_copy_htod(dev, d_max, &hi, 4, NULL);
    pf_dev_copy_htod(dev, d_min, &lo, 4, NULL);
    atomics_params p = {(const int *)(uintptr_t)d_in, n, bins, (int *)(uintptr_t)d_hist,
                        (unsigned *)(uintptr_t)d_hist_u, (float *)(uintptr_t)d_sum, (int *)(uintptr_t)d_max,
                        (int *)(uintptr_t)d_min, (unsigned *)(uintptr_t)d_cas, (int *)(uintptr_t)d_cas_i};
    pf_dim3 g = {(unsigned)(n + (int)threads - 1) / threads, 1, 1}, b = {threads, 1, 1};
    CHECK_MSG(pf_dev_launch(dev, m, "atomics_mix", g, b, 0, NULL, &p, sizeof p) == 0, "%s", pf_error_get());

    int *hist = calloc((size_t)bins, sizeof(int)), *ref = calloc((size_t)bins, sizeof(int));
    unsigned *hist_u = calloc((size_t)bins, sizeof(unsigned)), *ref_u = calloc((size_t)bins, sizeof(unsigned));
    double ref_sum = 0;
    int ref_max = -(1 << 30), ref_min = 1 << 30;
    for (int i = 0; i < n; i++) {
        int bin = (in[i] % bins + bins) % bins;
        ref[bin]++;
        ref_u[bin] += (unsigned)(in[i] & 7);
        ref_sum += (double)(in[i] % 1000) * 0.25;
        ref_max = in[i] > ref_max ? in[i] : ref_max;
        ref_min = in[i] < ref_min ? in[i] : ref_min;
    }
    float sum;
    int mx, mn, cas_i;
    unsigned cas;
    pf_dev_copy_dtoh(dev, hist, d_hist, sizeof(int) * bins, NULL);
    pf_dev_copy_dtoh(dev, hist_u, d_hist_u, sizeof(unsigned) * bins, NULL);
    pf_dev_copy_dtoh(dev, &sum, d_sum, 4, NULL);
    pf_dev_copy_dtoh(dev, &mx, d_max, 4, NULL);
    pf_dev_copy_dtoh(dev, &mn, d_min, 4, NULL);
    pf_dev_copy_dtoh(dev, &cas, d_cas, 4, NULL);
    pf_dev_copy_dtoh(dev, &cas_i, d_cas_i, 4, NULL);
    CHECK(memcmp(hist, ref, sizeof(int) * bins) == 0);
    CHECK(memcmp(hist_u, ref_u, sizeof(unsigned) * bins) == 0);
    /* float adds in any order: within n half-ulps of the magnitude */
    CHECK_MSG(fabs(sum - ref_sum) <= 250.0 * n * 6e-8 + 1e-3, "sum %f vs %f", sum, ref_sum);
    CHECK(mx == ref_max);
    CHECK(mn == ref_min);
    CHECK_MSG(cas == (unsigned)n, "cas counter %u vs %d", cas, n);
    CHECK_MSG(cas_i == 2 * n, "cas counter %d vs %d", cas_i, 2 * n);
    pf_dptr all[] = {d_in, d_hist, d_hist_u, d_sum, d_max, d_min, d_cas, d_cas_i};
    for (int i = 0; i < 8; i++)
        pf_dev_free(dev, all[i]);
    free(in), free(hist), free(ref), free(hist_u), free(ref_u);
}

int main(void)
{
    setenv("PFTUNE_EMU_THREADS", "3", 1);
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    CHECK_MSG(pf_emu_open("sm_90", &dev) == 0, "%s", pf_error_get());
    if (!dev)
        return PF_TEST_RESULT();
    pf_variant v;
    pf_jit_result r;
    memset(&v, 0, sizeof v);
    snprintf(v.source, sizeof v.source, "%s/test/atomics.cu", pf_kernel_dir());
    snprintf(v.target, sizeof v.target, "emu");
    pf_module *m = NULL;
    if (pf_jit_compile(&v, &r) == 0) {
        CHECK_MSG(r.valid, "%s", r.log ? r.log : "");
        if (r.valid)
            CHECK_MSG(pf_dev_module_load(dev, &r.bin, &m) == 0, "%s", pf_error_get());
        pf_jit_result_free(&r);
    } else {
        CHECK_MSG(0, "jit: %s", pf_error_get());
    }
    if (m) {
        run(m, 20000 + rand() % 20000, 37, 128);
        run(m, 1 + rand() % 1000, 1 + rand() % 50, 96);
        run(m, 50000 + rand() % 1000, 101, 1024);
        pf_dev_module_unload(dev, m);
    }
    pf_device_close(dev);
    return PF_TEST_RESULT();
}
