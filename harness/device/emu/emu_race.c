/* ThreadSanitizer contexts and report capture for the race check (see
 * emu_race.h). This file, like the rest of the emu runtime, is compiled
 * without TSan instrumentation (the scheduler's own bookkeeping is shared
 * by all fibers of a worker with no TSan-visible order); only the calls
 * below tell TSan anything. */
#include "device/emu/emu_race.h"

#ifdef PF_EMU_TSAN

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/emu/emu_describe.h"

/* int __tsan_get_report_* (tsan_interface.h does not declare them) */
int __tsan_get_report_data(void *report, const char **description, int *count, int *stack_count,
                           int *mop_count, int *loc_count, int *mutex_count, int *thread_count,
                           int *unique_tid_count, void **sleep_trace, unsigned long trace_size);
int __tsan_get_report_mop(void *report, unsigned long idx, int *tid, void **addr, int *size, int *write,
                          int *atomic, void **trace, unsigned long trace_size);
int __tsan_get_report_thread(void *report, unsigned long idx, int *tid, unsigned long *os_id,
                             int *running, const char **name, int *parent_tid, void **trace,
                             unsigned long trace_size);

#define NAME_MAX_LEN 96

typedef struct race_mop {
    uintptr_t addr;
    int size, write, atomic;
    void *pc;
    char who[NAME_MAX_LEN];
} race_mop;

struct pf_emu_race {
    int have;
    race_mop mop[2]; /* [0] the access that found the race, [1] the earlier one */
};

static __thread void *t_sched_ctx;
static int g_foreign;

static void copy_name(char *dst, const char *src)
{
    size_t i = 0;
    for (; src && src[i] && i + 1 < NAME_MAX_LEN; i++) /* no libc: we are inside TSan */
        dst[i] = src[i];
    dst[i] = '\0';
}

static void name_fiber(pf_emu_block *b, pf_emu_fiber *f)
{
    char name[NAME_MAX_LEN];
    snprintf(name, sizeof name, "block (%u,%u,%u) thread %u (warp %u lane %u)", b->block_idx.x,
             b->block_idx.y, b->block_idx.z, f->tid, f->pub.warp, f->pub.lane);
    __tsan_set_fiber_name(f->tsan, name);
    snprintf(name, sizeof name, "cp.async unit of block (%u,%u,%u) thread %u (warp %u lane %u)",
             b->block_idx.x, b->block_idx.y, b->block_idx.z, f->tid, f->pub.warp, f->pub.lane);
    __tsan_set_fiber_name(f->tsan_copier, name);
}

static void drop_contexts(pf_emu_block *b)
{
    for (int i = 0; i < b->tsan_cap; i++) {
        __tsan_destroy_fiber(b->fibers[i].tsan);
        __tsan_destroy_fiber(b->fibers[i].tsan_copier);
        b->fibers[i].tsan = b->fibers[i].tsan_copier = NULL;
    }
    b->tsan_cap = 0;
}

int pf_emu_race_block_begin(pf_emu_block *b)
{
    if (!b->tsan_sched) {
        b->tsan_sched = __tsan_get_current_fiber();
        t_sched_ctx = b->tsan_sched;
    }
    if (!b->race) {
        b->race = (struct pf_emu_race *)calloc(1, sizeof *b->race);
        if (!b->race) {
            snprintf(b->msg, sizeof b->msg, "emu: out of memory");
            return -1;
        }
    }
    b->race->have = 0;
    if (!b->tickets && !(b->tickets = (char *)malloc((size_t)PF_EMU_MAX_THREADS * PF_EMU_TICKETS))) {
        snprintf(b->msg, sizeof b->msg, "emu: out of memory");
        return -1;
    }
    for (; b->tsan_cap < b->n; b->tsan_cap++) {
        /* created here, so each starts after everything the worker saw */
        b->fibers[b->tsan_cap].tsan = __tsan_create_fiber(0);
        b->fibers[b->tsan_cap].tsan_copier = __tsan_create_fiber(0);
    }
    /* contexts made for an earlier block must start after this point too */
    __tsan_release(b);
    for (int i = 0; i < b->n; i++)
        name_fiber(b, &b->fibers[i]);
    return 0;
}

static void describe_mop(pf_emu_block *b, const race_mop *m, char *out, size_t size)
{
    char where[160];
    pf_emu_symbolize(m->pc, where, sizeof where);
    snprintf(out, size, "%s%s of %d bytes by %.96s at %.150s", m->atomic ? "atomic " : "",
             m->write ? "write" : "read", m->size, m->who, where);
    (void)b;
}

int pf_emu_race_block_end(pf_emu_block *b)
{
    /* the worker's next block starts after all of this one */
    for (int i = 0; i < b->n; i++) {
        __tsan_acquire(&b->fibers[i]);
        __tsan_acquire(&b->fibers[i].copies);
    }
    if (b->failed)
        drop_contexts(b); /* abandoned mid-kernel: their shadow stacks are stale */
    if (!b->race || !b->race->have || b->failed)
        return b->failed ? -1 : 0;
    const race_mop *now = &b->race->mop[0], *before = &b->race->mop[1];
    char buffer[320], a[400], c[400];
    pf_emu_describe_addr(b, now->addr, buffer, sizeof buffer);
    describe_mop(b, before, a, sizeof a);
    describe_mop(b, now, c, sizeof c);
    pf_emu_block_fail(b, "data race on %.300s: %.330s, unordered with %.330s (TSan report on stderr)",
                      buffer, a, c);
    return -1;
}

void pf_emu_race_block_destroy(pf_emu_block *b)
{
    drop_contexts(b);
    free(b->race);
    b->race = NULL;
    free(b->tickets);
    b->tickets = NULL;
}

void pf_emu_race_to_sched(void)
{
    pf_emu_fiber *f = pf_emu_current_fiber();
    if (f)
        __tsan_release(f); /* as leave() does: the worker acquires it */
    if (t_sched_ctx)
        __tsan_switch_to_fiber(t_sched_ctx, __tsan_switch_to_fiber_no_sync);
}

int pf_emu_race_foreign_reports(void)
{
    return __atomic_load_n(&g_foreign, __ATOMIC_SEQ_CST);
}

static const char *thread_name(void *rep, int n_threads, int tid)
{
    for (int i = 0; i < n_threads; i++) {
        int t, running, parent;
        unsigned long os;
        const char *name = NULL;
        void *trace[1];
        if (__tsan_get_report_thread(rep, (unsigned long)i, &t, &os, &running, &name, &parent, trace, 1) &&
            t == tid)
            return name ? name : "?";
    }
    return "?";
}

void pf_emu_race_on_report(void *rep)
{
    const char *what = NULL;
    int count, stacks, mops, locs, mutexes, threads, uniq;
    void *sleep[1];
    if (!__tsan_get_report_data(rep, &what, &count, &stacks, &mops, &locs, &mutexes, &threads, &uniq,
                                sleep, 1))
        return;
    pf_emu_fiber *f = pf_emu_current_fiber();
    if (!f || mops < 2 || !what || strcmp(what, "data-race") != 0) {
        __atomic_fetch_add(&g_foreign, 1, __ATOMIC_SEQ_CST);
        return;
    }
    pf_emu_block *b = f->block;
    if (!b->race || b->race->have)
        return;
    for (int i = 0; i < 2; i++) {
        race_mop *m = &b->race->mop[i];
        void *addr = NULL, *trace[2] = {NULL, NULL};
        int tid = -1;
        __tsan_get_report_mop(rep, (unsigned long)i, &tid, &addr, &m->size, &m->write, &m->atomic, trace, 2);
        m->addr = (uintptr_t)addr;
        m->pc = trace[0];
        copy_name(m->who, thread_name(rep, threads, tid));
    }
    b->race->have = 1;
}

#endif
