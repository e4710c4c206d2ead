/* The cuda backend's plumbing without a GPU: the test builds a fake
 * libcuda.so.1 (tests/unit/mock_libcuda.c) with the host compiler, re-runs
 * itself with that library first on LD_LIBRARY_PATH, and then drives
 * device selection, props, memory, events, module load and launch through
 * pf_backend_ops. What the real driver does is covered by tests/gpu. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "device/device.h"
#include "measure/measure.h"
#include "core/pf_error.h"
#include "pf_test.h"

typedef struct mock_state_t {
    int live_allocs, launches, ctx_current_unused, max_dyn_smem_attr, inits;
} mock_state_t;

static int build_and_reexec(char **argv)
{
    char dir[] = "/tmp/pf_mock_cuda_XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    /* PF_CUDA_INCLUDE_DIR may be a CMake list ("a;b"); cuda.h is in the first. */
    char inc[512];
    snprintf(inc, sizeof inc, "%s", PF_CUDA_INCLUDE_DIR);
    inc[strcspn(inc, ";")] = '\0';
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "'%s' -shared -fPIC -O1 -I'%s' -o '%s/libcuda.so.1' '%s/tests/unit/mock_libcuda.c'",
             PF_HOST_CC, inc, dir, PF_SOURCE_DIR);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot build the mock driver: %s\n", cmd);
        return 1;
    }
    setenv("LD_LIBRARY_PATH", dir, 1);
    setenv("PF_MOCK_CUDA_DIR", dir, 1);
    execv("/proc/self/exe", argv);
    perror("execv");
    return 1;
}

typedef struct scale_params {
    pf_dptr data;
    uint32_t n;
    float mul;
} scale_params;

typedef struct work {
    pf_device *d;
    pf_module *m;
    scale_params p;
} work;

static int enqueue(void *ctx, pf_stream *s)
{
    work *w = ctx;
    pf_dim3 grid = {(w->p.n + 255) / 256, 1, 1}, block = {256, 1, 1};
    return pf_dev_launch(w->d, w->m, "mock_scale", grid, block, 0, s, &w->p, sizeof w->p);
}

static void *launch_in_thread(void *arg)
{
    work *w = arg;
    return (void *)(intptr_t)enqueue(w, NULL);
}

static void run_tests(mock_state_t *ms)
{
    char why[PF_ERROR_MAX];
    CHECK_MSG(pf_cuda_device_count(why, sizeof why) == 1, "%s", why);
    pf_device *d = NULL;
    CHECK_MSG(pf_device_open("auto", &d) == 0, "%s", pf_error_get());
    if (!d)
        return;
    pf_device_props p;
    CHECK(pf_dev_props(d, &p) == 0);
    CHECK(p.kind == PF_BACKEND_CUDA && ms->inits == 1);
    CHECK(strcmp(p.backend, "cuda") == 0 && strcmp(p.name, "Mock H100") == 0);
    CHECK(p.cc_major == 9 && p.cc_minor == 0 && p.sm_count == 132 && p.warp_size == 32);
    CHECK(p.smem_per_block == 48 * 1024 && p.smem_per_block_optin == 227 * 1024);
    CHECK(p.l2_bytes == 50u << 20 && p.mem_bytes == (size_t)80 << 30);
    /* 2 x 2619 MHz x 5120 bits / 8 */
    CHECK(p.mem_bandwidth_gbs > 3352.0 && p.mem_bandwidth_gbs < 3353.0);
    CHECK(strcmp(p.driver, "CUDA 12.8") == 0);

    /* memory round trip, odd size */
    size_t n = 1 + (size_t)(rand() % 100000);
    unsigned char *src = malloc(n), *back = malloc(n);
    for (size_t i = 0; i < n; i++)
        src[i] = (unsigned char)rand();
    pf_dptr a = 0, b = 0;
    CHECK(pf_dev_alloc(d, n, "a", &a) == 0 && pf_dev_alloc(d, n, "b", &b) == 0);
    CHECK(pf_dev_copy_htod(d, a, src, n, NULL) == 0 && pf_dev_copy_dtod(d, b, a, n, NULL) == 0);
    size_t off = (size_t)rand() % n;
    CHECK(pf_dev_memset8(d, b + off, 0x5a, n - off, NULL) == 0);
    CHECK(pf_dev_copy_dtoh(d, back, b, n, NULL) == 0);
    CHECK(memcmp(back, src, off) == 0 && back[n - 1] == 0x5a);
    pf_dptr zero = 0;
    CHECK(pf_dev_alloc(d, 0, "empty", &zero) == 0 && zero != 0 && pf_dev_free(d, zero) == 0);
    pf_dptr huge;
    CHECK(pf_dev_alloc(d, (size_t)1 << 40, "huge tensor", &huge) == -1);
    CHECK_MSG(strstr(pf_error_get(), "cuMemAlloc(1099511627776 bytes, huge tensor)") &&
                  strstr(pf_error_get(), "CUDA_ERROR_OUT_OF_MEMORY") &&
                  strstr(pf_error_get(), "out of memory"),
              "%s", pf_error_get());

    /* module + launch */
    pf_module *m = NULL;
    pf_binary bad = {"ELF?", 4, NULL};
    CHECK(pf_dev_module_load(d, &bad, &m) == -1 && strstr(pf_error_get(), "cuModuleLoadData") &&
          strstr(pf_error_get(), "CUDA_ERROR_INVALID_IMAGE"));
    pf_binary none = {NULL, 0, "/some/emu.so"};
    CHECK(pf_dev_module_load(d, &none, &m) == -1 && strstr(pf_error_get(), "no cubin"));
    pf_binary img = {"MOCKCUBIN", 10, NULL};
    CHECK(pf_dev_module_load(d, &img, &m) == 0 && m);
    int count = 1 + rand() % 5000;
    float *x = malloc((size_t)count * 4), *y = malloc((size_t)count * 4);
    for (int i = 0; i < count; i++)
        x[i] = (float)(rand() % 100);
    pf_dptr dx = 0;
    CHECK(pf_dev_alloc(d, (size_t)count * 4, "x", &dx) == 0);
    CHECK(pf_dev_copy_htod(d, dx, x, (size_t)count * 4, NULL) == 0);
    work w = {d, m, {dx, (uint32_t)count, 2.0f + (float)(rand() % 3)}};
    CHECK_MSG(enqueue(&w, NULL) == 0, "%s", pf_error_get());
    CHECK(pf_dev_copy_dtoh(d, y, dx, (size_t)count * 4, NULL) == 0);
    int ok = 1;
    for (int i = 0; i < count; i++)
        ok &= y[i] == x[i] * w.p.mul;
    CHECK(ok);

    pf_dim3 g = {1, 1, 1};
    /* dynamic shared memory above 48 KiB is opted in, once, and capped */
    size_t smem = 48 * 1024 + 1 + (size_t)(rand() % 1000);
    CHECK_MSG(pf_dev_launch(d, m, "mock_scale", g, g, smem, NULL, &w.p, sizeof w.p) == 0, "%s",
              pf_error_get());
    CHECK(ms->max_dyn_smem_attr == (int)smem);
    CHECK(pf_dev_launch(d, m, "mock_scale", g, g, p.smem_per_block_optin + 1, NULL, &w.p,
                        sizeof w.p) == -1 &&
          strstr(pf_error_get(), "opt-in limit"));
    CHECK(pf_dev_launch(d, m, "mock_scale", g, g, 0, NULL, &w.p, sizeof w.p - 4) == -1 &&
          strstr(pf_error_get(), "struct layouts differ"));
    CHECK(pf_dev_launch(d, m, "nope", g, g, 0, NULL, &w.p, sizeof w.p) == -1 &&
          strstr(pf_error_get(), "cuModuleGetFunction(nope)") &&
          strstr(pf_error_get(), "CUDA_ERROR_NOT_FOUND"));

    /* streams, events and the measurement loop */
    pf_stream *s = NULL;
    CHECK(pf_dev_stream_create(d, &s) == 0 && s != NULL);
    pf_measure_opts o;
    pf_measure_defaults(&o);
    o.max_samples = 12;
    o.stdrel = 0;
    pf_measure_summary sum;
    int launches_before = ms->launches;
    CHECK_MSG(pf_measure_run(d, s, enqueue, &w, &o, &sum, NULL) == 0, "%s", pf_error_get());
    CHECK(strcmp(sum.timer, "cuda-events") == 0 && sum.samples == 12 && sum.min_ms >= 0);
    CHECK(ms->launches - launches_before == o.warmup + 12);
    CHECK(pf_dev_stream_destroy(d, s) == 0);

    /* a fresh thread has no current context: the backend must set it */
    pthread_t t;
    void *thread_rc = (void *)1;
    CHECK(pthread_create(&t, NULL, launch_in_thread, &w) == 0 && pthread_join(t, &thread_rc) == 0);
    CHECK_MSG(thread_rc == NULL, "launch from another thread: %s", pf_error_get());

    CHECK(pf_dev_free(d, a) == 0 && pf_dev_free(d, b) == 0 && pf_dev_free(d, dx) == 0);
    CHECK(pf_dev_module_unload(d, m) == 0);
    CHECK_MSG(ms->live_allocs == 0, "%d allocations leaked", ms->live_allocs);
    pf_device_close(d);

    CHECK(pf_device_open("cuda:1", &d) == -1 && strstr(pf_error_get(), "no such device"));
    CHECK(pf_device_open("cuda:0", &d) == 0);
    pf_device_close(d);
    free(src);
    free(back);
    free(x);
    free(y);
}

int main(int argc, char **argv)
{
    (void)argc;
    if (!getenv("PF_MOCK_CUDA_DIR"))
        return build_and_reexec(argv);
    const char *dir = getenv("PF_MOCK_CUDA_DIR");
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    /* the same handle the backend gets, for reading the mock's state */
    void *h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    mock_state_t *(*get_state)(void) = h ? (mock_state_t * (*)(void)) dlsym(h, "mock_state") : NULL;
    CHECK_MSG(get_state != NULL, "mock libcuda.so.1 not loaded from %s", dir);
    if (get_state)
        run_tests(get_state());
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", dir);
    return PF_TEST_RESULT();
}
