/* cp.async as the GPU runs it: each thread queues its copies; commit closes
 * a group; cp.async.wait_group N lands every copy of all but the newest N
 * committed groups (copies not yet committed stay queued). Copies nobody
 * waited for land when the thread exits. Under chaos a queued copy may also
 * land at any of the thread's barriers or collectives before its wait.
 *
 * Race check: the copy is written by the thread's copy unit, a TSan context
 * of its own that starts from the thread's view at issue; the wait is the
 * only edge back, so touching the destination before the wait (or letting
 * another thread touch it without a wait and a barrier in between) is a
 * reported race, at whatever point the copy physically lands. */
#include <stdlib.h>
#include <string.h>

#include "core/pf_sanitize.h"
#include "device/emu/emu_block.h"
#include "device/emu/emu_init.h"
#include "device/emu/emu_race.h"
#include "device/emu/emu_warp_math.h"

void pf_emu_cp_async(void *smem, const void *gmem, int src_bytes);
void pf_emu_cp_async_commit(void);
void pf_emu_cp_async_wait(int n);

static void copy_now(void *dst, const void *src, int src_bytes)
{
    if (src_bytes > 0) /* 0: the source may be an out-of-range clamped pointer */
        memcpy(dst, src, (size_t)src_bytes);
    memset((unsigned char *)dst + src_bytes, 0, (size_t)(16 - src_bytes));
}

static void land(pf_emu_fiber *f, const pf_emu_copy *c)
{
#ifdef PF_EMU_TSAN
    pf_emu_race_switch(f->tsan_copier);
    pf_emu_race_acquire(c->ticket); /* the thread's view at issue */
    if (c->src_bytes > 0)
        __tsan_read_range_pc((void *)c->src, (unsigned long)c->src_bytes, c->pc);
    __tsan_write_range_pc(c->dst, 16, c->pc);
#endif
    copy_now(c->dst, c->src, c->src_bytes);
#ifdef PF_EMU_TSAN
    pf_emu_race_release(&f->copies);
    pf_emu_race_switch(f->tsan);
#endif
    if (f->block->written)
        pf_emu_init_access(c->dst, 16, 1, c->pc);
}

/* Land the queued copies for which pick(copy) holds, keeping the others in order. */
static void land_some(pf_emu_fiber *f, int (*pick)(pf_emu_fiber *f, const pf_emu_copy *c, unsigned arg),
                      unsigned arg)
{
    int kept = 0;
    for (int i = 0; i < f->n_copies; i++) {
        pf_emu_copy c = f->copies[i];
        if (pick(f, &c, arg))
            land(f, &c);
        else
            f->copies[kept++] = c;
    }
    f->n_copies = kept;
}

static int pick_retired(pf_emu_fiber *f, const pf_emu_copy *c, unsigned n)
{
    return f->group - c->group > n;
}

static int pick_all(pf_emu_fiber *f, const pf_emu_copy *c, unsigned n)
{
    (void)f;
    (void)c;
    (void)n;
    return 1;
}

static int pick_coin(pf_emu_fiber *f, const pf_emu_copy *c, unsigned n)
{
    (void)c;
    (void)n;
    return pf_emu_chaos_below(f->block, 2) == 0;
}

void pf_emu_cp_async(void *smem, const void *gmem, int src_bytes)
{
    pf_emu_fiber *f = pf_emu_current_fiber();
    if (!f) { /* outside a block (unit tests): nothing to wait for */
        copy_now(smem, gmem, src_bytes);
        return;
    }
    pf_emu_cp_async_check(smem, gmem, src_bytes);
    if (f->n_copies == f->cap_copies) {
        int cap = f->cap_copies ? f->cap_copies * 2 : 32;
        pf_emu_copy *q = (pf_emu_copy *)realloc(f->copies, (size_t)cap * sizeof *q);
        if (!q)
            pf_emu_block_fail(f->block, "cp.async: thread %u: out of memory for %d copies in flight",
                              f->tid, cap);
        f->copies = q;
        f->cap_copies = cap;
    }
    pf_emu_copy *c = &f->copies[f->n_copies++];
    c->dst = smem;
    c->src = gmem;
    c->src_bytes = src_bytes;
    c->group = f->group;
    c->pc = __builtin_return_address(0);
    c->ticket = NULL;
#ifdef PF_EMU_TSAN
    /* a ring of sync addresses per thread: a ticket is reused only after
     * PF_EMU_TICKETS newer issues (older clocks in it are harmless) */
    c->ticket = f->block->tickets + (size_t)f->tid * PF_EMU_TICKETS + f->issued % PF_EMU_TICKETS;
    pf_emu_race_release(c->ticket);
#endif
    f->issued++;
}

void pf_emu_cp_async_commit(void)
{
    pf_emu_fiber *f = pf_emu_current_fiber();
    if (f)
        f->group++;
}

void pf_emu_cp_async_wait(int n)
{
    pf_emu_fiber *f = pf_emu_current_fiber();
    if (!f)
        return;
    land_some(f, pick_retired, n < 0 ? 0u : (unsigned)n);
    pf_emu_race_acquire(&f->copies);
}

void pf_emu_cp_async_drain(pf_emu_fiber *f)
{
    land_some(f, pick_all, 0);
}

void pf_emu_cp_async_chaos(pf_emu_fiber *f)
{
    if (f->n_copies && (f->block->sanitize & PF_SAN_CHAOS))
        land_some(f, pick_coin, 0);
}

void pf_emu_cp_async_free(pf_emu_fiber *f)
{
    free(f->copies);
    f->copies = NULL;
    f->n_copies = f->cap_copies = 0;
}
