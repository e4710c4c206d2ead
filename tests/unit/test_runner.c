/* The runner (harness/runner): 12 items over 3 forked workers, each with
 * its own emu device, where item OOB launches a planted out-of-bounds
 * kernel (emu catches the fault: runtime_failed with its message, worker
 * unharmed), item SEGV faults for real outside any kernel and item EXIT
 * exits early (both crashed, naming what happened), item HANG sleeps past
 * the timeout (timeout). Every other item is ok with its record intact,
 * every item is delivered exactly once, and the run ends soon after the
 * timeout. Also: a worker init that fails fails the run with its message;
 * the in-process mode runs items in order. Records are 64 KiB, far above
 * PIPE_BUF, so they arrive in pieces. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/pf_error.h"
#include "device/device.h"
#include "jit/jit.h"
#include "runner/runner.h"
#include "pf_test.h"
#include "pf_test_kernel.h"
#include "kernels/test/planted_oob_params.h"

#define N_ITEMS 12
#define RECORD_WORDS (16 * 1024)
#define TIMEOUT_S 1.5

enum { ITEM_OOB = 2, ITEM_SEGV = 4, ITEM_EXIT = 7, ITEM_HANG = 9 };

typedef struct test_ctx {
    /* worker side (each child has its own copy) */
    int fail_init;
    pf_device *dev;
    /* parent side */
    int seen[N_ITEMS];
    int order[N_ITEMS], n_done;
    pf_status status[N_ITEMS];
    char message[N_ITEMS][PF_ERROR_MAX];
    int bad_records;
    /* item source (next): these items, in this order */
    const int *source;
    int n_source, taken;
    int worker;   /* worker side: the slot init was given */
    uint32_t max_slot; /* parent side: the largest slot seen in a record */
} test_ctx;

static uint32_t word(int index, int i)
{
    return (uint32_t)index * 2654435761u ^ (uint32_t)i;
}

static int init(void *p, int worker)
{
    test_ctx *c = p;
    c->worker = worker;
    if (c->fail_init)
        return pf_error_set("test: no device today");
    return pf_device_open("emu", &c->dev);
}

static void fini(void *p)
{
    test_ctx *c = p;
    pf_device_close(c->dev);
}

/* One element past the end of a 256-float buffer: the guard page. */
static pf_status run_oob(test_ctx *c)
{
    pf_module *m = pf_test_load_kernel(c->dev, "emu", "planted_oob_global.cu");
    if (!m)
        return PF_STATUS_COMPILE_FAILED;
    int n = 256;
    pf_dptr in, out;
    if (pf_dev_alloc(c->dev, n * 4, "runner.in", &in) < 0 ||
        pf_dev_alloc(c->dev, n * 4, "runner.out", &out) < 0)
        return PF_STATUS_RUNTIME_FAILED;
    oob_params prm = {(const float *)(uintptr_t)in, (float *)(uintptr_t)out, n};
    pf_dim3 grid = {(unsigned)n / 128 + 1, 1, 1}, block = {128, 1, 1};
    int rc = pf_dev_launch(c->dev, m, "planted_oob_global", grid, block, 0, NULL, &prm, sizeof prm);
    char msg[PF_ERROR_MAX];
    snprintf(msg, sizeof msg, "%s", pf_error_get());
    pf_dev_free(c->dev, in);
    pf_dev_free(c->dev, out);
    pf_dev_module_unload(c->dev, m);
    if (rc == 0)
        return PF_STATUS_OK;
    pf_error_set("%s", msg);
    return PF_STATUS_RUNTIME_FAILED;
}

static pf_status item(void *p, int index, void *record)
{
    test_ctx *c = p;
    if (index == ITEM_OOB)
        return run_oob(c);
    if (index == ITEM_SEGV) {
        /* a volatile pointer: the compiler cannot turn this into a trap */
        volatile int *volatile bad = (volatile int *)(uintptr_t)64;
        *bad = 1;
    }
    if (index == ITEM_EXIT)
        _exit(7);
    if (index == ITEM_HANG)
        sleep(60);
    uint32_t *w = record;
    for (int i = 0; i < RECORD_WORDS; i++)
        w[i] = word(index, i);
    return PF_STATUS_OK;
}

static void done(void *p, const pf_runner_result *r)
{
    test_ctx *c = p;
    if (r->index < 0 || r->index >= N_ITEMS) {
        c->bad_records++;
        return;
    }
    c->seen[r->index]++;
    c->order[c->n_done++ % N_ITEMS] = r->index;
    c->status[r->index] = r->status;
    snprintf(c->message[r->index], sizeof c->message[r->index], "%s", r->message);
    const uint32_t *w = r->record;
    if (c->source && r->status == PF_STATUS_OK) { /* word 0 carries the slot */
        uint32_t slot = w[0] ^ word(r->index, 0);
        c->max_slot = slot > c->max_slot ? slot : c->max_slot;
    }
    for (int i = c->source ? 1 : 0; i < RECORD_WORDS; i++)
        if (w[i] != (r->status == PF_STATUS_OK ? word(r->index, i) : 0)) {
            c->bad_records++;
            break;
        }
    printf("  item %2d: %s %s\n", r->index, pf_status_name(r->status), r->message);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static pf_runner_config config(test_ctx *c, int workers, double timeout_s)
{
    pf_runner_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.workers = workers;
    cfg.timeout_s = timeout_s;
    cfg.record_size = RECORD_WORDS * sizeof(uint32_t);
    cfg.ctx = c;
    cfg.init = init;
    cfg.fini = fini;
    cfg.item = item;
    cfg.done = done;
    return cfg;
}

static void test_crash_timeout(void)
{
    /* compile the planted kernel here (no device, no threads) so the worker
     * only loads it from the cache, well inside the item timeout */
    pf_variant v;
    pf_jit_result jr;
    memset(&v, 0, sizeof v);
    snprintf(v.source, sizeof v.source, "%s/test/planted_oob_global.cu", pf_kernel_dir());
    snprintf(v.target, sizeof v.target, "emu");
    CHECK_MSG(pf_jit_compile(&v, &jr) == 0 && jr.valid, "%s", pf_error_get());
    pf_jit_result_free(&jr);

    static test_ctx c;
    memset(&c, 0, sizeof c);
    pf_runner_config cfg = config(&c, 3, TIMEOUT_S);
    double t0 = now_s();
    CHECK_MSG(pf_runner_run(&cfg, N_ITEMS) == 0, "%s", pf_error_get());
    double wall = now_s() - t0;
    printf("  wall %.2f s\n", wall);
    CHECK_MSG(wall < 12, "wall %.1f s: the hung item held up the run", wall);
    CHECK(c.n_done == N_ITEMS);
    CHECK(c.bad_records == 0);
    for (int i = 0; i < N_ITEMS; i++) {
        CHECK_MSG(c.seen[i] == 1, "item %d delivered %d times", i, c.seen[i]);
        pf_status want = i == ITEM_OOB                       ? PF_STATUS_RUNTIME_FAILED
                         : i == ITEM_SEGV || i == ITEM_EXIT ? PF_STATUS_CRASHED
                         : i == ITEM_HANG                    ? PF_STATUS_TIMEOUT
                                                             : PF_STATUS_OK;
        CHECK_MSG(c.status[i] == want, "item %d: %s, want %s (%s)", i, pf_status_name(c.status[i]),
                  pf_status_name(want), c.message[i]);
    }
    CHECK_MSG(strstr(c.message[ITEM_OOB], "kernel planted_oob_global") &&
                  strstr(c.message[ITEM_OOB], "buffer 'runner.out'"),
              "%s", c.message[ITEM_OOB]);
    /* a plain build dies of SIGSEGV; ASan reports the fault and exits 1 */
    CHECK_MSG(strstr(c.message[ITEM_SEGV], "its worker died of signal 11") ||
                  strstr(c.message[ITEM_SEGV], "its worker exited with code 1"),
              "%s", c.message[ITEM_SEGV]);
    CHECK_MSG(strcmp(c.message[ITEM_EXIT], "its worker exited with code 7") == 0, "%s",
              c.message[ITEM_EXIT]);
    CHECK_MSG(strcmp(c.message[ITEM_HANG], "no result within 1.5 s (its worker was killed)") == 0,
              "%s", c.message[ITEM_HANG]);
}

static void test_init_failure(void)
{
    static test_ctx c;
    memset(&c, 0, sizeof c);
    c.fail_init = 1;
    pf_runner_config cfg = config(&c, 2, 0);
    CHECK(pf_runner_run(&cfg, 5) == -1);
    CHECK_MSG(strcmp(pf_error_get(), "test: no device today") == 0, "%s", pf_error_get());
    CHECK(c.n_done == 0);
}

static int from_source(void *p)
{
    test_ctx *c = p;
    return c->taken < c->n_source ? c->source[c->taken++] : -1;
}

/* Records of worker-slot items: word 0 is the slot that ran it. */
static pf_status slot_item(void *p, int index, void *record)
{
    test_ctx *c = p;
    uint32_t *w = record;
    for (int i = 0; i < RECORD_WORDS; i++)
        w[i] = word(index, i);
    w[0] = word(index, 0) ^ (uint32_t)c->worker;
    return PF_STATUS_OK;
}

/* A strategy as the item source: exactly the items it gives, each once,
 * over workers that know their slot; the same in-process. */
static void test_next_source(void)
{
    static const int order[] = {11, 3, 0, 7, 5};
    for (int workers = 0; workers <= 2; workers += 2) {
        static test_ctx c;
        memset(&c, 0, sizeof c);
        c.source = order;
        c.n_source = 5;
        pf_runner_config cfg = config(&c, workers, 0);
        cfg.next = from_source;
        cfg.item = slot_item;
        CHECK_MSG(pf_runner_run(&cfg, N_ITEMS) == 0, "%s", pf_error_get());
        CHECK(c.n_done == 5 && c.taken == 5);
        for (int i = 0; i < N_ITEMS; i++) {
            int want = i == 11 || i == 3 || i == 0 || i == 7 || i == 5;
            CHECK_MSG(c.seen[i] == want, "item %d seen %d times", i, c.seen[i]);
        }
        CHECK(c.bad_records == 0);
        CHECK_MSG(c.max_slot < (uint32_t)(workers ? workers : 1), "slot %u", c.max_slot);
        if (workers == 0)
            CHECK(c.order[0] == 11 && c.order[4] == 5);
    }
}

/* Items that cannot hurt the caller, in order, with no device. */
static void test_in_process(void)
{
    static test_ctx c;
    memset(&c, 0, sizeof c);
    pf_runner_config cfg = config(&c, 0, 0);
    cfg.init = NULL;
    cfg.fini = NULL;
    CHECK_MSG(pf_runner_run(&cfg, 2) == 0, "%s", pf_error_get());
    CHECK(c.n_done == 2 && c.order[0] == 0 && c.order[1] == 1 && c.bad_records == 0);
    CHECK(c.status[0] == PF_STATUS_OK && c.status[1] == PF_STATUS_OK);
    cfg.timeout_s = 1;
    CHECK(pf_runner_run(&cfg, 2) == -1 && strstr(pf_error_get(), "timeout needs worker"));
}

int main(void)
{
    test_crash_timeout();
    test_init_failure();
    test_in_process();
    test_next_source();
    return PF_TEST_RESULT();
}
