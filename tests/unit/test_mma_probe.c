/* kernels/test/mma_probe.cu end to end on the emu backend: JIT-compiled for
 * emu (and, as a compile check, for sm_80 and sm_90 with NVRTC), launched
 * through the device interface, and compared with host references:
 *  - the tile probe (one mma) in its three fragment-loading modes, bf16 and
 *    f16, against a double-precision product; the modes must agree exactly;
 *  - the block GEMM (ldmatrix.x4 + mma + cp.async pipeline) on 64^3 and on
 *    odd sizes with edge tiles, against a double product (tolerance) and
 *    against sequential fp32 accumulation in k order, which is what the
 *    emulated mma documents (bit-exact). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device/device.h"
#include "jit/jit.h"
#include "core/pf_error.h"
#include "kernels/pf_numeric.h"
#include "pf_test.h"
#include "kernels/test/mma_probe_params.h"


static uint16_t to16(int dtype, float f) { return dtype ? pf_f32_to_f16(f) : pf_f32_to_bf16(f); }
static float from16(int dtype, uint16_t h) { return dtype ? pf_f16_to_f32(h) : pf_bf16_to_f32(h); }

static pf_device *dev;
static char last_error[PF_ERROR_MAX];
static pf_module *mod;

static pf_dptr upload(const void *host, size_t bytes)
{
    pf_dptr p = 0;
    if (pf_dev_alloc(dev, bytes, "mma_probe", &p) != 0)
        p = 0;
    else if (pf_dev_copy_htod(dev, p, host, bytes, NULL) != 0) {
        pf_dev_free(dev, p);
        p = 0;
    }
    if (!p)
        fprintf(stderr, "upload: %s\n", pf_error_get());
    return p;
}

/* Launch `kernel` and read back d (count floats); 0 on success. */
static int run_probe(const char *kernel, pf_dim3 grid, unsigned threads, const uint16_t *a, size_t a_n,
                     const uint16_t *b, size_t b_n, const float *c, size_t c_n, float *d, size_t d_n,
                     int m, int n, int k, int dtype, int mode)
{
    pf_dptr da = upload(a, a_n * 2), db = upload(b, b_n * 2);
    pf_dptr dc = c ? upload(c, c_n * 4) : 0;
    pf_dptr dd = upload(d, d_n * 4); /* NaNs: every element must be written */
    int rc = (da && db && dd && (dc || !c)) ? 0 : -1;
    pf_mma_probe_params p = {(const void *)(uintptr_t)da, (const void *)(uintptr_t)db,
                      (const float *)(uintptr_t)dc, (float *)(uintptr_t)dd, m, n, k, dtype, mode};
    pf_dim3 block = {threads, 1, 1};
    if (rc == 0)
        rc = pf_dev_launch(dev, mod, kernel, grid, block, 0, NULL, &p, sizeof p);
    if (rc == 0)
        rc = pf_dev_stream_sync(dev, NULL);
    if (rc == 0)
        rc = pf_dev_copy_dtoh(dev, d, dd, d_n * 4, NULL);
    if (rc != 0)
        snprintf(last_error, sizeof last_error, "%s", pf_error_get());
    pf_dptr bufs[] = {da, db, dc, dd};
    for (int i = 0; i < 4; i++)
        if (bufs[i])
            pf_dev_free(dev, bufs[i]);
    return rc;
}

static void test_tile(int dtype)
{
    uint16_t A[16 * 16], B[16 * 8];
    float C[16 * 8], D[3][16 * 8];
    for (int i = 0; i < 256; i++)
        A[i] = to16(dtype, pf_test_frand() * 4);
    for (int i = 0; i < 128; i++) {
        B[i] = to16(dtype, pf_test_frand());
        C[i] = pf_test_frand() * 8;
    }
    pf_dim3 one = {1, 1, 1};
    for (int mode = 0; mode < 3; mode++) {
        for (int i = 0; i < 128; i++)
            D[mode][i] = NAN;
        int rc = run_probe("pf_mma_probe_tile", one, 32, A, 256, B, 128, C, 128, D[mode], 128, 16, 8, 16,
                           dtype, mode);
        CHECK_MSG(rc == 0, "tile dtype %d mode %d launch: %s", dtype, mode, last_error);
        int bad = 0;
        for (int m = 0; m < 16; m++)
            for (int n = 0; n < 8; n++) {
                double ref = C[m * 8 + n], mag = fabs(ref);
                for (int k = 0; k < 16; k++) {
                    double prod = (double)from16(dtype, A[m * 16 + k]) * from16(dtype, B[k * 8 + n]);
                    ref += prod;
                    mag += fabs(prod);
                }
                bad += !(fabs(D[mode][m * 8 + n] - ref) <= 17 * ldexp(mag, -24));
            }
        CHECK_MSG(bad == 0, "tile dtype %d mode %d: %d elements off", dtype, mode, bad);
    }
    CHECK_MSG(memcmp(D[0], D[1], sizeof D[0]) == 0 && memcmp(D[0], D[2], sizeof D[0]) == 0,
              "tile dtype %d: ldmatrix paths disagree with direct fragments", dtype);
}

static void test_gemm(int m, int n, int k, int dtype)
{
    uint16_t *A = malloc(sizeof *A * (size_t)(m * k)), *B = malloc(sizeof *B * (size_t)(k * n));
    float *D = malloc(sizeof *D * (size_t)(m * n));
    for (int i = 0; i < m * k; i++)
        A[i] = to16(dtype, pf_test_frand());
    for (int i = 0; i < k * n; i++)
        B[i] = to16(dtype, pf_test_frand());
    for (int i = 0; i < m * n; i++)
        D[i] = NAN;
    pf_dim3 grid = {(unsigned)((n + 63) / 64), (unsigned)((m + 63) / 64), 1};
    int rc = run_probe("pf_mma_probe_gemm", grid, 128, A, (size_t)(m * k), B, (size_t)(k * n), NULL, 0, D,
                       (size_t)(m * n), m, n, k, dtype, 0);
    CHECK_MSG(rc == 0, "gemm %dx%dx%d launch: %s", m, n, k, last_error);
    int off_tol = 0, off_exact = 0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double ref = 0, mag = 0;
            float seq = 0.0f;
            for (int kk = 0; kk < k; kk++) {
                float x = from16(dtype, A[i * k + kk]), y = from16(dtype, B[kk * n + j]);
                ref += (double)x * y;
                mag += fabs((double)x * y);
                seq += x * y; /* exact product, fp32 sum in k order */
            }
            float got = D[i * n + j];
            off_tol += !(fabs(got - ref) <= (k + 1) * ldexp(mag, -24));
            off_exact += got != seq;
        }
    CHECK_MSG(off_tol == 0, "gemm %dx%dx%d dtype %d: %d elements outside tolerance", m, n, k, dtype, off_tol);
    CHECK_MSG(off_exact == 0, "gemm %dx%dx%d dtype %d: %d elements differ from fp32 k-order sum", m, n, k,
              dtype, off_exact);
    free(A);
    free(B);
    free(D);
}

/* Where the GPU would fault, emu fails the launch with a message. */
static void test_faults(void)
{
    uint16_t A[256] = {0}, B[128] = {0};
    float C[128] = {0}, D[128] = {0};
    pf_dim3 one = {1, 1, 1};
    const char *expect[] = {"ldmatrix", "cp.async"};
    for (int mode = 3; mode <= 4; mode++) {
        last_error[0] = '\0';
        int rc = run_probe("pf_mma_probe_tile", one, 32, A, 256, B, 128, C, 128, D, 128, 16, 8, 16, 0, mode);
        CHECK_MSG(rc != 0 && strstr(last_error, expect[mode - 3]) && strstr(last_error, "pf_mma_probe_tile"),
                  "fault mode %d: rc %d, message '%s'", mode, rc, last_error);
        printf("expected failure: %s\n", last_error);
    }
}

/* NVRTC must accept the probe for the GPU archs (no GPU needed). */
static void test_nvrtc(const char *source)
{
    const char *archs[] = {"sm_80", "sm_90"};
    for (int i = 0; i < 2; i++) {
        pf_variant v;
        memset(&v, 0, sizeof v);
        snprintf(v.source, sizeof v.source, "%s", source);
        snprintf(v.target, sizeof v.target, "%s", archs[i]);
        pf_jit_result r;
        int rc = pf_jit_compile(&v, &r);
        CHECK_MSG(rc == 0 && r.valid, "nvrtc %s: %s %s", archs[i], rc ? pf_error_get() : "",
                  r.log ? r.log : "");
        if (rc == 0 && r.valid)
            CHECK_MSG(r.res.spill_stores == 0, "%s: %d bytes of spill stores", archs[i], r.res.spill_stores);
        pf_jit_result_free(&r);
    }
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0); /* keep progress if a launch aborts */
    pf_test_seed();

    char source[512];
    snprintf(source, sizeof source, "%s/test/mma_probe.cu", pf_kernel_dir());
    test_nvrtc(source);

    pf_variant v;
    memset(&v, 0, sizeof v);
    snprintf(v.source, sizeof v.source, "%s", source);
    snprintf(v.target, sizeof v.target, "emu");
    pf_jit_result jr;
    int rc = pf_jit_compile(&v, &jr);
    CHECK_MSG(rc == 0 && jr.valid, "emu compile: %s %s", rc ? pf_error_get() : "", jr.log ? jr.log : "");
    if (rc != 0 || !jr.valid)
        return PF_TEST_RESULT();
    CHECK_MSG(pf_device_open("emu", &dev) == 0, "emu open: %s", pf_error_get());
    if (!dev) {
        pf_jit_result_free(&jr);
        return PF_TEST_RESULT();
    }
    CHECK_MSG(pf_dev_module_load(dev, &jr.bin, &mod) == 0, "module load: %s", pf_error_get());
    if (mod) {
        test_tile(0);
        test_tile(1);
        test_gemm(64, 64, 64, 0);
        test_gemm(64, 64, 64, 1);
        test_gemm(50, 40, 72, 0);                             /* edges in m, n and k */
        test_gemm(130 + (int)(pf_test_rng() % 7), 136, 40, 0);        /* several blocks, odd m */
        test_gemm(17, 8 * (1 + (int)(pf_test_rng() % 12)), 8 * (1 + (int)(pf_test_rng() % 10)), 1);
        /* Last: a failed block abandons its fibers, and in ASan builds the
         * emu runtime (as of this writing) leaves their stale stack poison
         * for the next launch to trip over. */
        test_faults();
        pf_dev_module_unload(dev, mod);
    }
    pf_device_close(dev);
    pf_jit_result_free(&jr);
    return PF_TEST_RESULT();
}
