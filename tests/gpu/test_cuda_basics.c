/* cuda backend on a real GPU: props, memory round trips, memset, streams,
 * events and the measurement loop's timer label. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cuda_test_util.h"
#include "measure/measure.h"
#include "pf_test.h"

static void test_props(pf_device *d)
{
    pf_device_props p;
    CHECK(pf_dev_props(d, &p) == 0);
    printf("%s sm_%d%d, %d SMs, L2 %zu, mem %zu, %.0f GB/s, %s\n", p.name, p.cc_major, p.cc_minor,
           p.sm_count, p.l2_bytes, p.mem_bytes, p.mem_bandwidth_gbs, p.driver);
    CHECK(strcmp(p.backend, "cuda") == 0 && p.name[0]);
    CHECK(p.cc_major >= 7 && p.cc_minor >= 0 && p.sm_count > 0);
    CHECK(p.smem_per_block == 48 * 1024 && p.smem_per_block_optin >= p.smem_per_block);
    CHECK(p.smem_per_sm >= p.smem_per_block_optin && p.regs_per_sm >= 65536);
    CHECK(p.max_threads_per_block == 1024 && p.warp_size == 32);
    CHECK(p.l2_bytes >= ((size_t)1 << 20) && p.mem_bytes >= ((size_t)1 << 30));
    CHECK(p.mem_bandwidth_gbs == 0 || (p.mem_bandwidth_gbs > 100 && p.mem_bandwidth_gbs < 20000));
    CHECK(strncmp(p.driver, "CUDA ", 5) == 0);
}

static void test_memory(pf_device *d)
{
    size_t n = 1 + (size_t)(rand() % 3000001); /* odd sizes, up to ~3 MB */
    unsigned char *src = malloc(n), *back = malloc(n);
    for (size_t i = 0; i < n; i++)
        src[i] = (unsigned char)rand();
    pf_dptr a = 0, b = 0;
    CHECK(pf_dev_alloc(d, n, "a", &a) == 0 && a != 0);
    CHECK(pf_dev_alloc(d, n, "b", &b) == 0 && b != 0 && b != a);
    pf_stream *s = NULL;
    CHECK(pf_dev_stream_create(d, &s) == 0);
    CHECK(pf_dev_copy_htod(d, a, src, n, s) == 0);
    CHECK(pf_dev_copy_dtod(d, b, a, n, s) == 0);
    memset(back, 0, n);
    CHECK(pf_dev_copy_dtoh(d, back, b, n, s) == 0);
    CHECK(memcmp(src, back, n) == 0);

    /* memset8 a random interior range */
    size_t off = (size_t)rand() % n, len = (size_t)rand() % (n - off + 1);
    int value = rand() & 0xff;
    CHECK(pf_dev_memset8(d, b + off, value, len, s) == 0);
    CHECK(pf_dev_copy_dtoh(d, back, b, n, s) == 0);
    int ok = 1;
    for (size_t i = 0; i < n; i++)
        ok &= back[i] == ((i >= off && i < off + len) ? value : src[i]);
    CHECK(ok);
    CHECK(pf_dev_stream_sync(d, s) == 0 && pf_dev_stream_destroy(d, s) == 0);

    /* default stream too */
    CHECK(pf_dev_copy_htod(d, a, src, n, NULL) == 0);
    CHECK(pf_dev_copy_dtoh(d, back, a, n, NULL) == 0 && memcmp(src, back, n) == 0);
    CHECK(pf_dev_free(d, a) == 0 && pf_dev_free(d, b) == 0);

    /* an impossible allocation names the call and the error */
    pf_dptr huge;
    CHECK(pf_dev_alloc(d, (size_t)1 << 50, "huge", &huge) == -1);
    CHECK(strstr(pf_error_get(), "cuMemAlloc") && strstr(pf_error_get(), "CUDA_ERROR_"));
    free(src);
    free(back);
}

typedef struct copy_work {
    pf_device *d;
    pf_dptr dst, src;
    size_t n;
} copy_work;

static int enqueue_copy(void *ctx, pf_stream *s)
{
    copy_work *w = ctx;
    return pf_dev_copy_dtod(w->d, w->dst, w->src, w->n, s);
}

static void test_events_and_measure(pf_device *d)
{
    size_t n = (size_t)256 << 20;
    copy_work w = {d, 0, 0, n};
    CHECK(pf_dev_alloc(d, n, "src", &w.src) == 0 && pf_dev_alloc(d, n, "dst", &w.dst) == 0);
    pf_event *e0 = NULL, *e1 = NULL;
    CHECK(pf_dev_event_create(d, &e0) == 0 && pf_dev_event_create(d, &e1) == 0);
    CHECK(pf_dev_event_record(d, e0, NULL) == 0 && enqueue_copy(&w, NULL) == 0 &&
          pf_dev_event_record(d, e1, NULL) == 0);
    float ms = -1;
    CHECK(pf_dev_event_elapsed_ms(d, e0, e1, &ms) == 0);
    /* 512 MB of traffic: well above 0.05 ms, below a second on any GPU */
    CHECK(ms > 0.05f && ms < 1000.0f);
    CHECK(pf_dev_event_destroy(d, e0) == 0 && pf_dev_event_destroy(d, e1) == 0);

    pf_measure_opts o;
    pf_measure_defaults(&o);
    o.max_seconds = 2;
    pf_measure_summary sum;
    CHECK(pf_measure_run(d, NULL, enqueue_copy, &w, &o, &sum, NULL) == 0);
    CHECK(strcmp(sum.timer, "cuda-events") == 0 && sum.samples >= o.min_samples);
    CHECK(sum.min_ms > 0 && sum.min_ms <= sum.median_ms && sum.median_ms <= sum.max_ms);
    pf_device_props p;
    pf_dev_props(d, &p);
    double gbs = 2.0 * n / (sum.median_ms * 1e-3) / 1e9;
    printf("dtod copy: median %.3f ms (%.0f GB/s, peak %.0f), stdrel %.4f, %d samples\n",
           sum.median_ms, gbs, p.mem_bandwidth_gbs, sum.stdrel, sum.samples);
    CHECK(p.mem_bandwidth_gbs == 0 || gbs < p.mem_bandwidth_gbs * 1.05);
    CHECK(pf_dev_free(d, w.src) == 0 && pf_dev_free(d, w.dst) == 0);
}

int main(void)
{
    pf_test_srand(); /* fresh inputs each run; PF_TEST_SEED=N replays one */
    pf_device *d = cuda_test_open();
    test_props(d);
    test_memory(d);
    test_events_and_measure(d);
    pf_device_close(d);
    return PF_TEST_RESULT();
}
