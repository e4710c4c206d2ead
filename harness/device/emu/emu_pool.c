/* The worker pool: host threads created on the first launch, each owning a
 * pf_emu_block (fibers, stacks, shared-memory arena) reused for every block
 * it runs. A launch publishes itself, the workers take block indices from an
 * atomic counter, and the launcher waits until all of them are idle again. */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device/emu/emu_block.h"
#include "device/emu/emu_fault.h"
#include "device/emu/emu_guard.h"
#include "device/emu/emu_launch.h"
#include "core/pf_error.h"

typedef struct pool {
    pthread_mutex_t lock;
    pthread_cond_t work, idle;
    pthread_mutex_t launch_lock; /* one launch at a time */
    int nthreads, started, init_rc;
    char init_msg[PF_ERROR_MAX];
    unsigned long generation;
    int busy;
    const pf_emu_launch *launch;
    long total;
    long next;     /* atomic */
    int failed;    /* atomic */
    char msg[PF_ERROR_MAX];
} pool;

static pool g_pool = {.lock = PTHREAD_MUTEX_INITIALIZER,
                      .work = PTHREAD_COND_INITIALIZER,
                      .idle = PTHREAD_COND_INITIALIZER,
                      .launch_lock = PTHREAD_MUTEX_INITIALIZER};
static pthread_once_t g_pool_once = PTHREAD_ONCE_INIT;

int pf_emu_worker_count(void)
{
    const char *env = getenv("PFTUNE_EMU_THREADS");
    if (env && *env) {
        int n = atoi(env);
        if (n >= 1 && n <= 256)
            return n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n >= 1 ? (int)(n > 256 ? 256 : n) : 1;
}

size_t pf_emu_stack_bytes(void)
{
    const char *env = getenv("PFTUNE_EMU_STACK_KB");
    if (env && *env) {
        long kb = atol(env);
        if (kb >= 16 && kb <= 65536)
            return (size_t)kb * 1024;
    }
    return 256 * 1024;
}

static void record_failure(const char *msg)
{
    pthread_mutex_lock(&g_pool.lock);
    if (!__atomic_load_n(&g_pool.failed, __ATOMIC_SEQ_CST)) {
        snprintf(g_pool.msg, sizeof g_pool.msg, "%s", msg);
        __atomic_store_n(&g_pool.failed, 1, __ATOMIC_SEQ_CST);
    }
    pthread_mutex_unlock(&g_pool.lock);
}

static const char *signal_name(int sig)
{
    return sig == SIGSEGV ? "SIGSEGV" : sig == SIGBUS ? "SIGBUS" : sig == SIGFPE ? "SIGFPE" : "signal";
}

/* The message for a fault that jumped out of block `bidx`. */
static void describe_fault(pf_emu_block *b, const pf_emu_fault *fault, const pf_emu_fiber *who)
{
    char what[512];
    if (pf_emu_guard_describe(fault->addr, what, sizeof what) ||
        pf_emu_smem_describe(b, fault->addr, what, sizeof what)) {
        /* named above */
    } else if (fault->sig == SIGFPE) {
        snprintf(what, sizeof what, "arithmetic exception (SIGFPE: integer division by zero?)");
    } else {
        snprintf(what, sizeof what, "%s at address 0x%llx", signal_name(fault->sig),
                 (unsigned long long)fault->addr);
        for (int i = 0; i < b->cap; i++) {
            uintptr_t g = (uintptr_t)b->stacks[i].map;
            if (fault->addr >= g && fault->addr < (uintptr_t)b->stacks[i].base) {
                snprintf(what, sizeof what,
                         "fiber stack overflow (%zu KiB per CUDA thread; raise PFTUNE_EMU_STACK_KB)",
                         b->stacks[i].size / 1024);
                break;
            }
        }
    }
    const pf_emu_launch *L = b->launch;
    if (who)
        snprintf(b->msg, sizeof b->msg, "kernel %s, block (%u,%u,%u), thread (%u,%u,%u): %s", L->kernel,
                 b->block_idx.x, b->block_idx.y, b->block_idx.z, who->pub.thread_idx.x,
                 who->pub.thread_idx.y, who->pub.thread_idx.z, what);
    else
        snprintf(b->msg, sizeof b->msg, "kernel %s, block (%u,%u,%u): %s", L->kernel, b->block_idx.x,
                 b->block_idx.y, b->block_idx.z, what);
}

/* Run one block with the fault handler armed. */
static int run_guarded(pf_emu_block *b, const pf_emu_launch *L, pf_emu_uint3 bidx)
{
    sigjmp_buf jb;
    pf_emu_fault fault = {0, 0};
    volatile int rc = -1;
    if (sigsetjmp(jb, 1) == 0) {
        pf_emu_fault_arm(&jb, &fault, b->sched_stack_bottom, b->sched_stack_size);
        rc = pf_emu_block_run(b, L, bidx);
        pf_emu_fault_disarm();
    } else {
        pf_emu_fiber *who = b->cur;
        pf_emu_block_after_fault(b);
        describe_fault(b, &fault, who);
        rc = -1;
    }
    return rc;
}

static void *worker_main(void *arg)
{
    (void)arg;
    pf_emu_block *b = (pf_emu_block *)malloc(sizeof *b);
    int ok = b && pf_emu_block_init(b) == 0 && pf_emu_fault_thread_init() == 0;
    char init_msg[PF_ERROR_MAX];
    snprintf(init_msg, sizeof init_msg, "%s", ok ? "" : b ? pf_error_get() : "emu: out of memory");
    unsigned long seen = 0;
    pthread_mutex_lock(&g_pool.lock);
    for (;;) {
        while (g_pool.generation == seen)
            pthread_cond_wait(&g_pool.work, &g_pool.lock);
        seen = g_pool.generation;
        const pf_emu_launch *L = g_pool.launch;
        pthread_mutex_unlock(&g_pool.lock);

        if (!ok)
            record_failure(init_msg);
        while (ok && !__atomic_load_n(&g_pool.failed, __ATOMIC_SEQ_CST)) {
            long i = __atomic_fetch_add(&g_pool.next, 1, __ATOMIC_SEQ_CST);
            if (i >= g_pool.total)
                break;
            unsigned long gx = L->grid.x, gy = L->grid.y;
            pf_emu_uint3 bidx = {(unsigned)((unsigned long)i % gx), (unsigned)((unsigned long)i / gx % gy),
                                 (unsigned)((unsigned long)i / (gx * gy))};
            if (run_guarded(b, L, bidx) != 0)
                record_failure(b->msg);
        }

        pthread_mutex_lock(&g_pool.lock);
        if (--g_pool.busy == 0)
            pthread_cond_broadcast(&g_pool.idle);
    }
    return NULL;
}

static void start_pool(void)
{
    int n = pf_emu_worker_count();
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (int i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, &attr, worker_main, NULL) != 0)
            break;
        g_pool.started++;
    }
    pthread_attr_destroy(&attr);
    g_pool.nthreads = n;
    if (g_pool.started == 0) {
        g_pool.init_rc = -1;
        snprintf(g_pool.init_msg, sizeof g_pool.init_msg, "emu: cannot start worker threads");
    }
}

int pf_emu_launch_run(const pf_emu_launch *L)
{
    pthread_once(&g_pool_once, start_pool);
    if (g_pool.init_rc != 0)
        return pf_error_set("%s", g_pool.init_msg);
    long total = (long)L->grid.x * (long)L->grid.y * (long)L->grid.z;
    if (total == 0)
        return 0;
    pthread_mutex_lock(&g_pool.launch_lock);
    pthread_mutex_lock(&g_pool.lock);
    g_pool.launch = L;
    g_pool.total = total;
    g_pool.next = 0;
    g_pool.failed = 0;
    g_pool.msg[0] = '\0';
    g_pool.busy = g_pool.started;
    g_pool.generation++;
    pthread_cond_broadcast(&g_pool.work);
    while (g_pool.busy > 0)
        pthread_cond_wait(&g_pool.idle, &g_pool.lock);
    int failed = g_pool.failed;
    char msg[PF_ERROR_MAX];
    snprintf(msg, sizeof msg, "%s", g_pool.msg);
    g_pool.launch = NULL;
    pthread_mutex_unlock(&g_pool.lock);
    /* Canaries of guarded buffers, still under the launch lock so that a
     * damaged one is blamed on this kernel (also restores them on failure). */
    char who[320];
    snprintf(who, sizeof who, "kernel %s", L->kernel);
    int rc = pf_emu_guard_check_all(who);
    pthread_mutex_unlock(&g_pool.launch_lock);
    if (failed)
        return pf_error_set("%s", msg);
    return rc;
}
