/* The block scheduler. All fibers of a block run on the worker's host
 * thread. A fiber runs until it waits (barrier, warp collective) or returns;
 * then control passes straight to the next runnable fiber (no trip through
 * the scheduler), so a warp shuffle costs one switch per lane. Only when no
 * fiber is runnable does the worker's own context look at the waiters:
 * everyone at the same __syncthreads -> release them all; anything else
 * (also anyone at a named barrier, which completes on its own last
 * arrival) is a divergence or deadlock, reported with the threads and
 * call sites. */
#define _GNU_SOURCE
#include "device/emu/emu_block.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_sanitize.h"
#include "device/emu/emu_asan.h"
#include "device/emu/emu_init.h"
#include "device/emu/emu_race.h"

/* initial-exec: see pf_dialect.h */
__thread pf_emu_thread *pf_emu_self __attribute__((tls_model("initial-exec")));

pf_emu_fiber *pf_emu_current_fiber(void)
{
    return (pf_emu_fiber *)pf_emu_self;
}

/* ---- switching (with ASan's fiber annotations when it is on) */

static void switch_to_fiber(pf_emu_block *b, pf_emu_ctx *from, void **from_fake, int from_exits,
                            pf_emu_fiber *to)
{
    b->cur = to;
    pf_emu_self = &to->pub;
#ifdef PF_EMU_ASAN
    pf_emu_stack *s = &b->stacks[to->tid];
    __sanitizer_start_switch_fiber(from_exits ? NULL : from_fake, s->base, s->size);
#else
    (void)from_fake;
    (void)from_exits;
#endif
    pf_emu_race_switch(to->tsan);
    pf_emu_ctx_switch(from, &to->ctx);
#ifdef PF_EMU_ASAN
    __sanitizer_finish_switch_fiber(*from_fake, NULL, NULL);
#endif
}

static void switch_to_sched(pf_emu_block *b, pf_emu_fiber *from, int from_exits)
{
    b->cur = NULL;
    pf_emu_self = NULL;
#ifdef PF_EMU_ASAN
    __sanitizer_start_switch_fiber(from_exits ? NULL : &from->asan_fake_stack, b->sched_stack_bottom,
                                   b->sched_stack_size);
#else
    (void)from_exits;
#endif
    pf_emu_race_switch(b->tsan_sched);
    pf_emu_ctx_switch(&from->ctx, &b->sched);
#ifdef PF_EMU_ASAN
    __sanitizer_finish_switch_fiber(from->asan_fake_stack, NULL, NULL);
#endif
}

void pf_emu_block_after_fault(pf_emu_block *b)
{
    b->cur = NULL;
    pf_emu_self = NULL;
#ifdef PF_EMU_ASAN
    /* We left a fiber by siglongjmp: ASan still believes we are on it. */
    __sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
    b->failed = 1;
    pf_emu_race_block_end(b); /* drops the abandoned fibers' TSan contexts */
}

/* ---- run queue */

static void queue_push(pf_emu_block *b, int i)
{
    b->queue[(b->q_head + b->q_count) % (unsigned)b->n] = i;
    b->q_count++;
}

static pf_emu_fiber *queue_pop(pf_emu_block *b)
{
    if (b->q_count == 0)
        return NULL;
    if (b->sanitize & PF_SAN_CHAOS) { /* any runnable fiber may go next */
        unsigned n = (unsigned)b->n, k = pf_emu_chaos_below(b, b->q_count);
        unsigned h = b->q_head, j = (h + k) % n;
        int t = b->queue[h];
        b->queue[h] = b->queue[j];
        b->queue[j] = t;
    }
    int i = b->queue[b->q_head];
    b->q_head = (b->q_head + 1) % (unsigned)b->n;
    b->q_count--;
    return &b->fibers[i];
}

void pf_emu_block_release(pf_emu_block *b, pf_emu_fiber *f)
{
    f->state = PF_FIBER_RUNNABLE;
    queue_push(b, (int)f->tid);
}

/* Leave fiber f (waiting, exiting or failed) for the next runnable one. */
static void leave(pf_emu_block *b, pf_emu_fiber *f, int exits)
{
    /* Race check: the worker acquires every fiber's word after the block,
     * also after a failure that abandons fibers mid-kernel (their writes,
     * e.g. the message, must not race with the worker's next block). Only
     * the worker and collective completers read these words. */
    pf_emu_race_release(f);
    pf_emu_fiber *next = b->failed ? NULL : queue_pop(b);
    if (next == f)
        return; /* a yield that drew itself */
    if (next)
        switch_to_fiber(b, &f->ctx, &f->asan_fake_stack, exits, next);
    else
        switch_to_sched(b, f, exits);
    /* resumed: pf_emu_self was set to f by whoever switched here */
}

void pf_emu_block_wait(pf_emu_fiber *f, int state)
{
    f->state = state;
    if (state == PF_FIBER_RUNNABLE) /* a yield: queue up behind the others */
        queue_push(f->block, (int)f->tid);
    leave(f->block, f, 0);
}

void pf_emu_block_fail(pf_emu_block *b, const char *fmt, ...)
{
    if (!b->failed) {
        const pf_emu_launch *L = b->launch;
        int n = snprintf(b->msg, sizeof b->msg, "kernel %s, block (%u,%u,%u): ", L->kernel,
                         b->block_idx.x, b->block_idx.y, b->block_idx.z);
        if (n < 0 || (size_t)n >= sizeof b->msg)
            n = 0;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(b->msg + n, sizeof b->msg - (size_t)n, fmt, ap);
        va_end(ap);
        b->failed = 1;
    }
    pf_emu_fiber *f = b->cur;
    if (f)
        leave(b, f, 1); /* never resumed: the block is abandoned */
}

static void fiber_main(void *arg)
{
    pf_emu_fiber *f = (pf_emu_fiber *)arg;
    pf_emu_block *b = f->block;
#ifdef PF_EMU_ASAN
    __sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
    pf_emu_race_acquire(b); /* starts after the worker's view of the launch */
    b->launch->entry(b->launch->params);
    pf_emu_cp_async_drain(f); /* copies nobody waited for still land */
    f->state = PF_FIBER_DONE;
    b->done++;
    b->warps[f->pub.warp].done_mask |= 1u << f->pub.lane;
    leave(b, f, 1);
    abort(); /* unreachable: a finished fiber is never resumed */
}

/* ---- thread lists for messages */

void pf_emu_format_threads(const pf_emu_block *b, int (*pick)(const pf_emu_fiber *f, const void *arg),
                           const void *arg, char *out, size_t out_size)
{
    size_t len = 0;
    out[0] = '\0';
    int i = 0;
    while (i < b->n) {
        if (!pick(&b->fibers[i], arg)) {
            i++;
            continue;
        }
        int j = i;
        while (j + 1 < b->n && pick(&b->fibers[j + 1], arg))
            j++;
        int w = j > i ? snprintf(out + len, out_size - len, "%s%d-%d", len ? "," : "", i, j)
                      : snprintf(out + len, out_size - len, "%s%d", len ? "," : "", i);
        if (w < 0 || len + (size_t)w >= out_size) {
            if (out_size > 4)
                strcpy(out + out_size - 4, "...");
            return;
        }
        len += (size_t)w;
        i = j + 1;
    }
}

int pf_emu_pick_state(const pf_emu_fiber *f, const void *arg)
{
    return f->state == *(const int *)arg;
}

static int pick_same_site(const pf_emu_fiber *f, const void *arg)
{
    const pf_emu_fiber *g = (const pf_emu_fiber *)arg;
    return f->state == PF_FIBER_BARRIER && f->wait_line == g->wait_line &&
           strcmp(f->wait_file, g->wait_file) == 0;
}

typedef struct warp_lanes {
    unsigned warp;
    int state;
} warp_lanes;

static int pick_warp_state(const pf_emu_fiber *f, const void *arg)
{
    const warp_lanes *w = (const warp_lanes *)arg;
    return f->pub.warp == w->warp && f->state == w->state;
}

/* ---- what to do when nothing is runnable: 0 done, 1 released, -1 error */

static int report_collective_deadlock(pf_emu_block *b, unsigned warp)
{
    char waiting[192], exited[192], barrier[192];
    warp_lanes sel = {warp, PF_FIBER_COLLECTIVE};
    pf_emu_format_threads(b, pick_warp_state, &sel, waiting, sizeof waiting);
    sel.state = PF_FIBER_DONE;
    pf_emu_format_threads(b, pick_warp_state, &sel, exited, sizeof exited);
    sel.state = PF_FIBER_BARRIER;
    pf_emu_format_threads(b, pick_warp_state, &sel, barrier, sizeof barrier);
    pf_emu_block_fail(b,
                      "deadlock in warp %u: threads %s wait in %s (mask 0x%08x) but the other lanes "
                      "never arrive (exited: %s; at __syncthreads: %s)",
                      warp, waiting, b->warps[warp].what, b->warps[warp].mask, exited[0] ? exited : "none",
                      barrier[0] ? barrier : "none");
    return -1;
}

static int resolve_waiters(pf_emu_block *b)
{
    if (b->done == b->n)
        return 0;
    for (unsigned w = 0; w < (unsigned)(b->n + 31) / 32; w++)
        if (b->warps[w].arrived)
            return report_collective_deadlock(b, w);
    for (int i = 0; i < b->n; i++) /* never released by a __syncthreads */
        if (b->fibers[i].state == PF_FIBER_NAMED_BAR)
            return pf_emu_named_bar_deadlock(b);

    int barrier = PF_FIBER_BARRIER, done = PF_FIBER_DONE;
    char waiting[256], other[256];
    pf_emu_fiber *first = NULL;
    for (int i = 0; i < b->n && !first; i++)
        if (b->fibers[i].state == PF_FIBER_BARRIER)
            first = &b->fibers[i];
    if (b->done > 0) {
        pf_emu_format_threads(b, pf_emu_pick_state, &barrier, waiting, sizeof waiting);
        pf_emu_format_threads(b, pf_emu_pick_state, &done, other, sizeof other);
        pf_emu_block_fail(b,
                          "barrier divergence: threads %s exited while threads %s wait at "
                          "__syncthreads() (%s:%d)",
                          other, waiting, first->wait_file, first->wait_line);
        return -1;
    }
    for (int i = 0; i < b->n; i++) {
        pf_emu_fiber *f = &b->fibers[i];
        if (f->wait_line != first->wait_line || strcmp(f->wait_file, first->wait_file) != 0) {
            pf_emu_format_threads(b, pick_same_site, first, waiting, sizeof waiting);
            pf_emu_format_threads(b, pick_same_site, f, other, sizeof other);
            pf_emu_block_fail(b,
                              "barrier divergence: threads %s wait at __syncthreads() (%s:%d) while "
                              "threads %s wait at __syncthreads() (%s:%d)",
                              waiting, first->wait_file, first->wait_line, other, f->wait_file,
                              f->wait_line);
            return -1;
        }
    }
    b->barrier_gen++;
    for (int i = 0; i < b->n; i++)
        pf_emu_block_release(b, &b->fibers[i]);
    return 1;
}

/* ---- setup */

int pf_emu_block_init(pf_emu_block *b)
{
    memset(b, 0, sizeof *b);
    b->stack_size = pf_emu_stack_bytes();
    b->fibers = (pf_emu_fiber *)calloc(PF_EMU_MAX_THREADS, sizeof *b->fibers);
    b->stacks = (pf_emu_stack *)calloc(PF_EMU_MAX_THREADS, sizeof *b->stacks);
    b->queue = (int *)calloc(PF_EMU_MAX_THREADS, sizeof *b->queue);
    if (!b->fibers || !b->stacks || !b->queue) {
        pf_emu_block_destroy(b);
        return pf_error_set("emu: out of memory for a block's fibers");
    }
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        void *addr;
        size_t size;
        pthread_attr_getstack(&attr, &addr, &size);
        b->sched_stack_bottom = addr;
        b->sched_stack_size = size;
        pthread_attr_destroy(&attr);
    }
    if (pf_emu_smem_init(b) != 0) {
        pf_emu_block_destroy(b);
        return -1;
    }
    return 0;
}

void pf_emu_block_destroy(pf_emu_block *b)
{
    if (b->stacks)
        for (int i = 0; i < b->cap; i++)
            pf_emu_stack_free(&b->stacks[i]);
    if (b->fibers)
        for (int i = 0; i < PF_EMU_MAX_THREADS; i++)
            pf_emu_cp_async_free(&b->fibers[i]);
    pf_emu_race_block_destroy(b);
    pf_emu_init_destroy(b);
    pf_emu_smem_destroy(b);
    free(b->fibers);
    free(b->stacks);
    free(b->queue);
    b->fibers = NULL;
    b->stacks = NULL;
    b->queue = NULL;
}

static int ensure_stacks(pf_emu_block *b, int n)
{
    while (b->cap < n) {
        if (pf_emu_stack_alloc(&b->stacks[b->cap], b->stack_size) != 0)
            return -1;
        b->cap++;
    }
    return 0;
}

int pf_emu_block_run(pf_emu_block *b, const pf_emu_launch *L, pf_emu_uint3 bidx)
{
    unsigned bx = L->block.x, by = L->block.y;
    int n = (int)(bx * by * L->block.z);
    if (ensure_stacks(b, n) != 0) {
        snprintf(b->msg, sizeof b->msg, "%s", pf_error_get());
        return -1;
    }
    b->launch = L;
    b->block_idx = bidx;
    b->n = n;
    b->done = 0;
    b->failed = 0;
    b->msg[0] = '\0';
    b->q_head = 0;
    b->q_count = 0;
    b->sanitize = pf_sanitize_mode();
    pf_emu_chaos_begin(b);
    pf_emu_named_bar_begin(b);
    pf_emu_smem_begin(b);
    if (pf_emu_init_begin(b) != 0)
        return -1;
    pf_emu_uint3 bdim = {L->block.x, L->block.y, L->block.z};
    pf_emu_uint3 gdim = {L->grid.x, L->grid.y, L->grid.z};
    for (int w = 0; w < (n + 31) / 32; w++) {
        pf_emu_warp *wp = &b->warps[w];
        wp->arrived = 0;
        wp->arrived_mask = 0;
        /* lanes past the end of the block count as never alive */
        int lanes = n - w * 32 < 32 ? n - w * 32 : 32;
        wp->done_mask = lanes == 32 ? 0 : ~((1u << lanes) - 1u);
    }
    for (int i = 0; i < n; i++) {
        pf_emu_fiber *f = &b->fibers[i];
        unsigned u = (unsigned)i;
        f->pub.thread_idx.x = u % bx;
        f->pub.thread_idx.y = (u / bx) % by;
        f->pub.thread_idx.z = u / (bx * by);
        f->pub.block_idx = bidx;
        f->pub.block_dim = bdim;
        f->pub.grid_dim = gdim;
        f->pub.lane = u % 32;
        f->pub.warp = u / 32;
        f->pub.dyn_smem = b->dyn;
        f->state = PF_FIBER_RUNNABLE;
        f->tid = u;
        f->block = b;
        f->asan_fake_stack = NULL;
        f->n_copies = 0;
        f->group = 0;
        f->issued = 0;
#ifdef PF_EMU_ASAN
        /* A block that failed mid-run leaves ASan shadow markings on the
         * reused stack; clear them so the next launch starts clean. */
        __asan_unpoison_memory_region(b->stacks[i].base, b->stacks[i].size);
#endif
        pf_emu_ctx_init(&f->ctx, &b->stacks[i], fiber_main, f);
        queue_push(b, i);
    }
    if (pf_emu_race_block_begin(b) != 0) /* names the fibers set up above */
        return -1;
    for (;;) {
        if (b->failed)
            break;
        pf_emu_fiber *f = queue_pop(b);
        if (!f) {
            int r = resolve_waiters(b);
            if (r <= 0)
                break;
            continue;
        }
        switch_to_fiber(b, &b->sched, &b->sched_fake_stack, 0, f);
    }
    b->cur = NULL;
    pf_emu_self = NULL;
    if (pf_emu_race_block_end(b) != 0)
        b->failed = 1;
    if (!b->failed && pf_emu_smem_check(b) != 0)
        b->failed = 1;
    return b->failed ? -1 : 0;
}
