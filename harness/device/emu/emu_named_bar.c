/* Named barriers (pf_bar_sync -> PTX bar.sync id, nthreads). Threads arrive
 * one at a time; the arrival that makes the count reach nthreads completes
 * the generation and releases the others, so arrivals never overshoot.
 * bar.sync is .aligned: a warp takes part with all 32 lanes, which is
 * checked at completion (hence whole-warp blocks only). A barrier still
 * short of its count when nothing is runnable never completes: the block
 * scheduler calls pf_emu_named_bar_deadlock. __syncthreads is barrier 0 and
 * keeps its own path (emu_block.c releases only fibers parked there).
 *
 * Race check edges: as __syncthreads, per barrier id: a release by every
 * arriving thread and an acquire by every leaving one on word[gen & 1]. */
#include <stdio.h>
#include <string.h>

#include "core/pf_sanitize.h"
#include "device/emu/emu_block.h"
#include "device/emu/emu_race.h"

void pf_emu_named_bar_begin(pf_emu_block *b)
{
    for (int i = 0; i < PF_EMU_NAMED_BARRIERS; i++) {
        pf_emu_named_bar *nb = &b->bars[i];
        nb->arrived = nb->nthreads = 0;
        nb->gen = 0;
        nb->file = NULL;
        nb->line = 0;
    }
}

static int pick_at_bar(const pf_emu_fiber *f, const void *arg)
{
    return f->state == PF_FIBER_NAMED_BAR && f->bar_id == *(const int *)arg;
}

static void check_arrival(pf_emu_block *b, const pf_emu_fiber *f, int id, int nthreads, const char *file,
                          int line)
{
    const char *why = NULL;
    char detail[96] = "";
    if (id < 1 || id >= PF_EMU_NAMED_BARRIERS)
        why = "id must be 1..15 (0 is __syncthreads's)";
    else if (nthreads <= 0 || nthreads % 32 != 0 || nthreads > b->n) {
        snprintf(detail, sizeof detail, "nthreads must be a positive multiple of 32, at most the block's %d",
                 b->n);
        why = detail;
    } else if (b->n % 32 != 0) {
        snprintf(detail, sizeof detail, "the block's %d threads are not whole warps", b->n);
        why = detail;
    }
    if (why)
        pf_emu_block_fail(b, "thread %u (warp %u lane %u) calls pf_bar_sync(%d, %d) at %s:%d: %s", f->tid,
                          f->pub.warp, f->pub.lane, id, nthreads, file, line, why);
    const pf_emu_named_bar *nb = &b->bars[id];
    if (nb->arrived > 0 && nb->nthreads != nthreads) {
        char waiting[192];
        pf_emu_format_threads(b, pick_at_bar, &id, waiting, sizeof waiting);
        pf_emu_block_fail(b,
                          "thread %u (warp %u lane %u) calls pf_bar_sync(%d, %d) at %s:%d while threads %s "
                          "wait at named barrier %d for %d threads (first at %s:%d)",
                          f->tid, f->pub.warp, f->pub.lane, id, nthreads, file, line, waiting, id,
                          nb->nthreads, nb->file, nb->line);
    }
}

/* At completion (f is the last arrival, not parked): every warp with an
 * arrived lane must have all 32 there. */
static void check_whole_warps(pf_emu_block *b, const pf_emu_fiber *f, int id)
{
    for (int w = 0; w < b->n / 32; w++) {
        uint32_t lanes = 0;
        for (int l = 0; l < 32; l++) {
            const pf_emu_fiber *g = &b->fibers[w * 32 + l];
            lanes |= (uint32_t)(g == f || pick_at_bar(g, &id)) << l;
        }
        if (lanes && lanes != 0xffffffffu) {
            const pf_emu_named_bar *nb = &b->bars[id];
            pf_emu_block_fail(b,
                              "named barrier %d (%s:%d) reached its %d threads with only lanes 0x%08x of "
                              "warp %d (thread %u arrived last): bar.sync takes whole warps",
                              id, nb->file, nb->line, nb->nthreads, lanes, w, f->tid);
        }
    }
}

void pf_emu_bar_sync(int id, int nthreads, const char *file, int line)
{
    pf_emu_fiber *f = pf_emu_current_fiber();
    pf_emu_block *b = f->block;
    check_arrival(b, f, id, nthreads, file, line);
    pf_emu_named_bar *nb = &b->bars[id];
    if (nb->arrived == 0) {
        nb->nthreads = nthreads;
        nb->file = file;
        nb->line = line;
    }
    f->wait_file = file;
    f->wait_line = line;
    f->bar_id = id;
    pf_emu_cp_async_chaos(f);
    char *word = &nb->word[nb->gen & 1];
    pf_emu_race_release(word);
    if (++nb->arrived < nthreads) {
        pf_emu_block_wait(f, PF_FIBER_NAMED_BAR);
        pf_emu_race_acquire(word);
        return;
    }
    check_whole_warps(b, f, id);
    pf_emu_race_acquire(word);
    nb->arrived = 0;
    nb->gen++;
    for (int i = 0; i < b->n; i++)
        if (pick_at_bar(&b->fibers[i], &id))
            pf_emu_block_release(b, &b->fibers[i]);
    if (b->sanitize & PF_SAN_CHAOS) /* any of them may run on first */
        pf_emu_block_wait(f, PF_FIBER_RUNNABLE);
}

int pf_emu_named_bar_deadlock(pf_emu_block *b)
{
    const pf_emu_fiber *first = NULL;
    for (int i = 0; i < b->n && !first; i++)
        if (b->fibers[i].state == PF_FIBER_NAMED_BAR)
            first = &b->fibers[i];
    int id = first->bar_id, done = PF_FIBER_DONE, barrier = PF_FIBER_BARRIER;
    const pf_emu_named_bar *nb = &b->bars[id];
    char waiting[192], exited[192], at_sync[192];
    pf_emu_format_threads(b, pick_at_bar, &id, waiting, sizeof waiting);
    pf_emu_format_threads(b, pf_emu_pick_state, &done, exited, sizeof exited);
    pf_emu_format_threads(b, pf_emu_pick_state, &barrier, at_sync, sizeof at_sync);
    pf_emu_block_fail(b,
                      "deadlock: threads %s wait at named barrier %d (%s:%d) for %d threads, %d arrived "
                      "(exited: %s; at __syncthreads: %s)",
                      waiting, id, nb->file, nb->line, nb->nthreads, nb->arrived, exited[0] ? exited : "none",
                      at_sync[0] ? at_sync : "none");
    return -1;
}
