/* The emu device backend's plain operations: props for sm_80 / sm_90,
 * guarded alloc with copies / memset / device-to-device copies (and
 * out-of-range copies refused with the buffer named), streams and events
 * (host time), gemm_bf16 (both B layouts, odd sizes) against a double
 * reference on the same bf16 values, module and kernel lookup errors, launch
 * shape checks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "device/device.h"
#include "jit/jit.h"
#include "core/pf_error.h"
#include "kernels/pf_numeric.h"
#include "pf_test.h"

static pf_device *dev;

static void test_props(void)
{
    pf_device *d80 = NULL;
    pf_device_props p;
    CHECK(pf_emu_open("sm_80", &d80) == 0);
    if (d80) {
        CHECK(pf_dev_props(d80, &p) == 0);
        CHECK(strcmp(p.backend, "emu") == 0);
        CHECK(strstr(p.name, "sm_80") != NULL);
        CHECK(p.cc_major == 8 && p.cc_minor == 0);
        CHECK(p.smem_per_block_optin == 166912);
        CHECK(p.smem_per_block == 49152);
        pf_device_close(d80);
    }
    CHECK(pf_dev_props(dev, &p) == 0);
    CHECK(p.cc_major == 9 && p.smem_per_block_optin == 232448 && p.warp_size == 32);
    CHECK(p.max_threads_per_block == 1024 && p.regs_per_sm == 65536);
    CHECK(p.mem_bytes >= ((size_t)64 << 20)); /* host RAM */
    pf_device *bad = NULL;
    CHECK(pf_emu_open("sm_75x", &bad) == -1 && bad == NULL);
    CHECK(strstr(pf_error_get(), "sm_75x") != NULL);
}

static void test_memory(void)
{
    size_t n = 1000 + (size_t)(rand() % 5000);
    unsigned char *h = malloc(n), *back = malloc(n);
    for (size_t i = 0; i < n; i++)
        h[i] = (unsigned char)rand();
    pf_dptr a, b;
    CHECK(pf_dev_alloc(dev, n, "mem.a", &a) == 0);
    CHECK(pf_dev_alloc(dev, n, "mem.b", &b) == 0);
    CHECK(a % 16 == 0 && b % 16 == 0);
    CHECK(pf_dev_copy_htod(dev, a, h, n, NULL) == 0);
    CHECK(pf_dev_copy_dtod(dev, b, a, n, NULL) == 0);
    CHECK(pf_dev_copy_dtoh(dev, back, b, n, NULL) == 0);
    CHECK(memcmp(h, back, n) == 0);
    size_t off = (size_t)rand() % (n / 2), len = (size_t)rand() % (n - off);
    int val = rand() & 255;
    CHECK(pf_dev_memset8(dev, b + off, val, len, NULL) == 0);
    CHECK(pf_dev_copy_dtoh(dev, back, b, n, NULL) == 0);
    int bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += back[i] != ((i >= off && i < off + len) ? (unsigned char)val : h[i]);
    CHECK(bad == 0);
    /* out of range: refused, buffer named */
    CHECK(pf_dev_copy_htod(dev, a + 8, h, n, NULL) == -1);
    CHECK(strstr(pf_error_get(), "'mem.a'") != NULL);
    CHECK(pf_dev_memset8(dev, b, 0, n + 1, NULL) == -1);
    CHECK(strstr(pf_error_get(), "'mem.b'") != NULL);
    CHECK(pf_dev_copy_dtoh(dev, back, (pf_dptr)(uintptr_t)h, 16, NULL) == -1);
    CHECK(strstr(pf_error_get(), "not in any emu allocation") != NULL);
    CHECK(pf_dev_free(dev, a) == 0);
    CHECK(pf_dev_free(dev, a) == -1);
    CHECK(pf_dev_free(dev, b) == 0);
    pf_dptr z;
    CHECK(pf_dev_alloc(dev, 0, "empty", &z) == 0);
    CHECK(pf_dev_free(dev, z) == 0);
    free(h);
    free(back);
}

static void test_events(void)
{
    pf_stream *s;
    pf_event *e0, *e1;
    CHECK(pf_dev_stream_create(dev, &s) == 0);
    CHECK(pf_dev_event_create(dev, &e0) == 0);
    CHECK(pf_dev_event_create(dev, &e1) == 0);
    float ms = -1;
    CHECK(pf_dev_event_elapsed_ms(dev, e0, e1, &ms) == -1); /* never recorded */
    CHECK(pf_dev_event_record(dev, e0, s) == 0);
    usleep(20000);
    CHECK(pf_dev_event_record(dev, e1, s) == 0);
    CHECK(pf_dev_stream_sync(dev, s) == 0);
    CHECK(pf_dev_event_elapsed_ms(dev, e0, e1, &ms) == 0);
    CHECK_MSG(ms >= 19.0f && ms < 2000.0f, "elapsed %f ms", ms);
    pf_dev_event_destroy(dev, e0);
    pf_dev_event_destroy(dev, e1);
    pf_dev_stream_destroy(dev, s);
}

static void test_gemm(int m, int n, int k, int b_trans)
{
    size_t sa = (size_t)m * k, sb = (size_t)k * n, sc = (size_t)m * n;
    pf_bf16 *a = malloc(sa * 2), *b = malloc(sb * 2);
    float *c = malloc(sc * 4);
    for (size_t i = 0; i < sa; i++)
        a[i] = pf_f32_to_bf16((float)rand() / RAND_MAX * 2 - 1);
    for (size_t i = 0; i < sb; i++)
        b[i] = pf_f32_to_bf16((float)rand() / RAND_MAX * 2 - 1);
    pf_dptr da, db, dc;
    CHECK(pf_dev_alloc(dev, sa * 2, "gemm.a", &da) == 0);
    CHECK(pf_dev_alloc(dev, sb * 2, "gemm.b", &db) == 0);
    CHECK(pf_dev_alloc(dev, sc * 4, "gemm.c", &dc) == 0);
    pf_dev_copy_htod(dev, da, a, sa * 2, NULL);
    pf_dev_copy_htod(dev, db, b, sb * 2, NULL);
    CHECK_MSG(pf_dev_gemm_bf16(dev, m, n, k, da, db, b_trans, dc, NULL) == 0, "%s", pf_error_get());
    pf_dev_copy_dtoh(dev, c, dc, sc * 4, NULL);
    int bad = 0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = 0, sabs = 0;
            for (int kk = 0; kk < k; kk++) {
                double bv = pf_bf16_to_f32(b_trans ? b[(size_t)j * k + kk] : b[(size_t)kk * n + j]);
                double t = pf_bf16_to_f32(a[(size_t)i * k + kk]) * bv;
                s += t;
                sabs += fabs(t);
            }
            bad += fabs(c[(size_t)i * n + j] - s) > 1e-5 * sabs + 1e-6;
        }
    CHECK_MSG(bad == 0, "gemm %dx%dx%d b_trans=%d: %d wrong", m, n, k, b_trans, bad);
    /* B too small for the shape: refused */
    CHECK(pf_dev_gemm_bf16(dev, m, n + 1, k, da, db, b_trans, dc, NULL) == -1);
    pf_dev_free(dev, da);
    pf_dev_free(dev, db);
    pf_dev_free(dev, dc);
    free(a), free(b), free(c);
}

static void test_modules(void)
{
    pf_binary none = {NULL, 0, NULL};
    pf_module *m = NULL;
    CHECK(pf_dev_module_load(dev, &none, &m) == -1);
    pf_binary missing = {NULL, 0, "/nonexistent/x.so"};
    CHECK(pf_dev_module_load(dev, &missing, &m) == -1);
    CHECK(strstr(pf_error_get(), "/nonexistent/x.so") != NULL);

    pf_variant v;
    pf_jit_result r;
    memset(&v, 0, sizeof v);
    snprintf(v.source, sizeof v.source, "%s/test/reduce.cu", pf_kernel_dir());
    snprintf(v.target, sizeof v.target, "emu");
    if (pf_jit_compile(&v, &r) != 0 || !r.valid) {
        CHECK_MSG(0, "jit: %s", pf_error_get());
        return;
    }
    CHECK(pf_dev_module_load(dev, &r.bin, &m) == 0);
    pf_jit_result_free(&r);
    char params[32] = {0};
    pf_dim3 g = {1, 1, 1}, b = {32, 1, 1}, big = {33, 32, 1}, zero = {0, 1, 1};
    CHECK(pf_dev_launch(dev, m, "no_such_kernel", g, b, 0, NULL, params, sizeof params) == -1);
    CHECK(strstr(pf_error_get(), "no_such_kernel") != NULL);
    CHECK(pf_dev_launch(dev, m, "reduce_sum", g, big, 0, NULL, params, sizeof params) == -1);
    CHECK(strstr(pf_error_get(), "1024") != NULL);
    CHECK(pf_dev_launch(dev, m, "reduce_sum", zero, b, 0, NULL, params, sizeof params) == -1);
    pf_dev_module_unload(dev, m);
}

int main(void)
{
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    CHECK_MSG(pf_emu_open("sm_90", &dev) == 0, "%s", pf_error_get());
    if (!dev)
        return PF_TEST_RESULT();
    test_props();
    test_memory();
    test_events();
    test_gemm(77, 53, 91, 0);
    test_gemm(31 + rand() % 40, 1 + rand() % 60, 1 + rand() % 130, 1);
    test_gemm(64, 1, 17, rand() % 2);
    test_modules();
    pf_device_close(dev);
    return PF_TEST_RESULT();
}
