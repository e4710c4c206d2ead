/* On a real GPU: kernels/test/mma_probe.cu gives the same results on the
 * cuda backend as on emu (within the accumulation-order tolerance), and
 * both match a double-precision reference. This is what pins the emulated
 * tensor-core layouts (harness/device/emu/emu_warp_math.c) to the hardware. Also: the
 * GPU's bf16/f16 conversions (PTX cvt) equal the host ones (kernels/
 * pf_numeric.h) bit for bit, NaN for NaN. Without a GPU it fails (label
 * gpu: it only runs in the GPU suite). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device/device.h"
#include "jit/jit_load.h"
#include "core/pf_error.h"
#include "kernels/pf_numeric.h"
#include "pf_test.h"
#include "kernels/test/mma_probe_params.h"

typedef struct backend {
    const char *name;
    pf_device *dev;
    pf_module *mod;
} backend;

static uint16_t to16(int dtype, float f) { return dtype ? pf_f32_to_f16(f) : pf_f32_to_bf16(f); }
static float from16(int dtype, uint16_t h) { return dtype ? pf_f16_to_f32(h) : pf_bf16_to_f32(h); }

static int backend_open(backend *be, const char *which, const char *source)
{
    memset(be, 0, sizeof *be);
    be->name = which;
    if (pf_device_open(which, &be->dev) != 0)
        return -1;
    pf_variant v;
    memset(&v, 0, sizeof v);
    snprintf(v.source, sizeof v.source, "%s", source);
    return pf_jit_load(be->dev, &v, source, &be->mod, NULL);
}

static void backend_close(backend *be)
{
    if (be->mod)
        pf_dev_module_unload(be->dev, be->mod);
    if (be->dev)
        pf_device_close(be->dev);
}

static pf_dptr upload(backend *be, const void *host, size_t bytes)
{
    pf_dptr p = 0;
    if (pf_dev_alloc(be->dev, bytes, "mma_probe", &p) != 0)
        return 0;
    if (pf_dev_copy_htod(be->dev, p, host, bytes, NULL) != 0) {
        pf_dev_free(be->dev, p);
        return 0;
    }
    return p;
}

/* Launch and read back d (d_n floats, pre-filled by the caller). */
static int run_probe(backend *be, const char *kernel, pf_dim3 grid, unsigned threads, const uint16_t *a,
                     size_t a_n, const uint16_t *b, size_t b_n, const float *c, size_t c_n, float *d,
                     size_t d_n, int m, int n, int k, int dtype, int mode)
{
    pf_dptr da = upload(be, a, a_n * 2), db = upload(be, b, b_n * 2);
    pf_dptr dc = c ? upload(be, c, c_n * 4) : 0, dd = upload(be, d, d_n * 4);
    int rc = (da && db && dd && (dc || !c)) ? 0 : -1;
    pf_mma_probe_params p = {(const void *)(uintptr_t)da, (const void *)(uintptr_t)db,
                      (const float *)(uintptr_t)dc, (float *)(uintptr_t)dd, m, n, k, dtype, mode};
    pf_dim3 block = {threads, 1, 1};
    if (rc == 0)
        rc = pf_dev_launch(be->dev, be->mod, kernel, grid, block, 0, NULL, &p, sizeof p);
    if (rc == 0)
        rc = pf_dev_stream_sync(be->dev, NULL);
    if (rc == 0)
        rc = pf_dev_copy_dtoh(be->dev, d, dd, d_n * 4, NULL);
    if (rc != 0)
        fprintf(stderr, "%s %s: %s\n", be->name, kernel, pf_error_get());
    pf_dptr bufs[] = {da, db, dc, dd};
    for (int i = 0; i < 4; i++)
        if (bufs[i])
            pf_dev_free(be->dev, bufs[i]);
    return rc;
}

/* Compare gpu and emu outputs of an m x n result with reduction length k
 * against each other and against the double reference. */
static void compare(const char *what, const float *gpu, const float *emu, const double *ref, const double *mag,
                    int count, int k)
{
    int bad_ref = 0, bad_pair = 0;
    for (int i = 0; i < count; i++) {
        /* emu: fp32 round-to-nearest sums. Tensor cores align and may
         * truncate inside the adder tree: allow them 4x that. */
        double tol_emu = (k + 1) * ldexp(mag[i], -24), tol_gpu = 4 * tol_emu;
        bad_ref += !(fabs(gpu[i] - ref[i]) <= tol_gpu) + !(fabs(emu[i] - ref[i]) <= tol_emu);
        bad_pair += !(fabs((double)gpu[i] - emu[i]) <= tol_gpu + tol_emu);
    }
    CHECK_MSG(bad_ref == 0, "%s: %d results off the reference", what, bad_ref);
    CHECK_MSG(bad_pair == 0, "%s: %d results differ between gpu and emu", what, bad_pair);
}

static void test_tile(backend *gpu, backend *emu, int dtype, int mode)
{
    uint16_t A[256], B[128];
    float C[128], Dg[128], De[128];
    double ref[128], mag[128];
    for (int i = 0; i < 256; i++)
        A[i] = to16(dtype, pf_test_frand() * 4);
    for (int i = 0; i < 128; i++) {
        B[i] = to16(dtype, pf_test_frand());
        C[i] = pf_test_frand() * 8;
        Dg[i] = De[i] = NAN;
    }
    for (int m = 0; m < 16; m++)
        for (int n = 0; n < 8; n++) {
            ref[m * 8 + n] = C[m * 8 + n];
            mag[m * 8 + n] = fabs(C[m * 8 + n]);
            for (int k = 0; k < 16; k++) {
                double prod = (double)from16(dtype, A[m * 16 + k]) * from16(dtype, B[k * 8 + n]);
                ref[m * 8 + n] += prod;
                mag[m * 8 + n] += fabs(prod);
            }
        }
    pf_dim3 one = {1, 1, 1};
    int rc = run_probe(gpu, "pf_mma_probe_tile", one, 32, A, 256, B, 128, C, 128, Dg, 128, 16, 8, 16, dtype, mode);
    rc |= run_probe(emu, "pf_mma_probe_tile", one, 32, A, 256, B, 128, C, 128, De, 128, 16, 8, 16, dtype, mode);
    CHECK(rc == 0);
    char what[64];
    snprintf(what, sizeof what, "tile dtype %d mode %d", dtype, mode);
    compare(what, Dg, De, ref, mag, 128, 16);
}

static void test_gemm(backend *gpu, backend *emu, int m, int n, int k, int dtype)
{
    size_t mn = (size_t)m * n;
    uint16_t *A = malloc(2 * (size_t)m * k), *B = malloc(2 * (size_t)k * n);
    float *Dg = malloc(4 * mn), *De = malloc(4 * mn);
    double *ref = calloc(mn, sizeof *ref), *mag = calloc(mn, sizeof *mag);
    for (int i = 0; i < m * k; i++)
        A[i] = to16(dtype, pf_test_frand());
    for (int i = 0; i < k * n; i++)
        B[i] = to16(dtype, pf_test_frand());
    for (size_t i = 0; i < mn; i++)
        Dg[i] = De[i] = NAN;
    for (int i = 0; i < m; i++)
        for (int kk = 0; kk < k; kk++) {
            double x = from16(dtype, A[i * k + kk]);
            for (int j = 0; j < n; j++) {
                double prod = x * from16(dtype, B[kk * n + j]);
                ref[(size_t)i * n + j] += prod;
                mag[(size_t)i * n + j] += fabs(prod);
            }
        }
    pf_dim3 grid = {(unsigned)((n + 63) / 64), (unsigned)((m + 63) / 64), 1};
    int rc = run_probe(gpu, "pf_mma_probe_gemm", grid, 128, A, (size_t)m * k, B, (size_t)k * n, NULL, 0, Dg,
                       mn, m, n, k, dtype, 0);
    rc |= run_probe(emu, "pf_mma_probe_gemm", grid, 128, A, (size_t)m * k, B, (size_t)k * n, NULL, 0, De, mn,
                    m, n, k, dtype, 0);
    CHECK(rc == 0);
    char what[64];
    snprintf(what, sizeof what, "gemm %dx%dx%d dtype %d", m, n, k, dtype);
    compare(what, Dg, De, ref, mag, (int)mn, k);
    free(A);
    free(B);
    free(Dg);
    free(De);
    free(ref);
    free(mag);
}

static int same16(uint16_t got, uint16_t want, unsigned inf_pattern)
{
    if ((want & 0x7fff) > inf_pattern) /* NaN: any NaN will do */
        return (got & 0x7fff) > inf_pattern;
    return got == want;
}

/* The GPU's cvt instructions against the host conversions, bit for bit. */
static void test_numeric(backend *be)
{
    enum { N = 1 << 16 };
    float *x = malloc(4 * N), *bf_back = malloc(4 * 65536), *hf_back = malloc(4 * 65536);
    uint16_t *bf = malloc(2 * N), *hf = malloc(2 * N);
    uint32_t *pbf = malloc(4 * N), *phf = malloc(4 * N);
    for (int i = 0; i < N; i++) {
        uint32_t u = (uint32_t)pf_test_rng();
        if (i % 4 == 1) /* near the 16-bit grids: ties and neighbours */
            u = (u & 0xffff0000u) | (0x8000u + (uint32_t)(int)(pf_test_rng() % 3) - 1);
        if (i % 4 == 2)
            u = (u & 0xffffe000u) | (0x1000u + (uint32_t)(int)(pf_test_rng() % 3) - 1);
        memcpy(&x[i], &u, 4);
    }
    pf_dptr dx = upload(be, x, 4 * N), d[6] = {0};
    size_t sizes[6] = {2 * N, 2 * N, 4 * N, 4 * N, 4 * 65536, 4 * 65536};
    int rc = dx ? 0 : -1;
    for (int i = 0; i < 6 && rc == 0; i++)
        rc = pf_dev_alloc(be->dev, sizes[i], "numeric_probe", &d[i]);
    pf_numeric_probe_params p = {(const float *)(uintptr_t)dx, (uint16_t *)(uintptr_t)d[0], (uint16_t *)(uintptr_t)d[1],
                        (uint32_t *)(uintptr_t)d[2], (uint32_t *)(uintptr_t)d[3], (float *)(uintptr_t)d[4],
                        (float *)(uintptr_t)d[5], N};
    pf_dim3 grid = {N / 256, 1, 1}, block = {256, 1, 1};
    if (rc == 0)
        rc = pf_dev_launch(be->dev, be->mod, "pf_numeric_probe", grid, block, 0, NULL, &p, sizeof p);
    if (rc == 0)
        rc = pf_dev_stream_sync(be->dev, NULL);
    void *host[6] = {bf, hf, pbf, phf, bf_back, hf_back};
    for (int i = 0; i < 6 && rc == 0; i++)
        rc = pf_dev_copy_dtoh(be->dev, host[i], d[i], sizes[i], NULL);
    CHECK_MSG(rc == 0, "numeric probe: %s", pf_error_get());
    int bad_bf = 0, bad_hf = 0, bad_pack = 0, bad_back = 0;
    for (int i = 0; rc == 0 && i < N; i++) {
        float lo = x[i], hi = x[(i + 1) % N];
        bad_bf += !same16(bf[i], pf_f32_to_bf16(lo), 0x7f80);
        bad_hf += !same16(hf[i], pf_f32_to_f16(lo), 0x7c00);
        uint32_t wb = pf_pack_bf16x2(lo, hi), wh = pf_pack_f16x2(lo, hi);
        bad_pack += !same16(pbf[i] & 0xffff, wb & 0xffff, 0x7f80) + !same16(pbf[i] >> 16, wb >> 16, 0x7f80) +
                    !same16(phf[i] & 0xffff, wh & 0xffff, 0x7c00) + !same16(phf[i] >> 16, wh >> 16, 0x7c00);
    }
    for (int h = 0; rc == 0 && h < 65536; h++) {
        float wb = pf_bf16_to_f32((pf_bf16)h), wh = pf_f16_to_f32((pf_f16)h);
        bad_back += isnan(wb) ? !isnan(bf_back[h]) : memcmp(&wb, &bf_back[h], 4) != 0;
        bad_back += isnan(wh) ? !isnan(hf_back[h]) : memcmp(&wh, &hf_back[h], 4) != 0;
    }
    CHECK_MSG(bad_bf == 0 && bad_hf == 0 && bad_pack == 0 && bad_back == 0,
              "numeric: gpu differs from host: bf16 %d, f16 %d, pack %d, decode %d", bad_bf, bad_hf, bad_pack,
              bad_back);
    if (dx)
        pf_dev_free(be->dev, dx);
    for (int i = 0; i < 6; i++)
        if (d[i])
            pf_dev_free(be->dev, d[i]);
    free(x);
    free(bf_back);
    free(hf_back);
    free(bf);
    free(hf);
    free(pbf);
    free(phf);
}

int main(void)
{
    char why[PF_ERROR_MAX];
    if (pf_cuda_device_count(why, sizeof why) <= 0) {
        fprintf(stderr, "FAIL: GPU test run without a usable GPU: %s\n", why);
        return 1; /* the GPU suite's convention: a missing GPU fails */
    }
    pf_test_seed();
    char source[512];
    snprintf(source, sizeof source, "%s/test/mma_probe.cu", pf_kernel_dir());

    backend gpu, emu;
    memset(&gpu, 0, sizeof gpu);
    memset(&emu, 0, sizeof emu);
    int ok_gpu = backend_open(&gpu, "cuda", source) == 0;
    CHECK_MSG(ok_gpu, "cuda: %s", pf_error_get());
    int ok_emu = ok_gpu && backend_open(&emu, "emu", source) == 0;
    CHECK_MSG(!ok_gpu || ok_emu, "emu: %s", pf_error_get());
    if (ok_gpu)
        test_numeric(&gpu);
    if (ok_gpu && ok_emu) {
        for (int dtype = 0; dtype < 2; dtype++)
            for (int mode = 0; mode < 3; mode++)
                test_tile(&gpu, &emu, dtype, mode);
        test_gemm(&gpu, &emu, 64, 64, 64, 0);
        test_gemm(&gpu, &emu, 64, 64, 64, 1);
        test_gemm(&gpu, &emu, 50, 40, 72, 0);
        test_gemm(&gpu, &emu, 130 + (int)(pf_test_rng() % 7), 136, 40, 1);
        test_gemm(&gpu, &emu, 256, 192, 520, 0);
    }
    backend_close(&gpu);
    backend_close(&emu);
    return PF_TEST_RESULT();
}
