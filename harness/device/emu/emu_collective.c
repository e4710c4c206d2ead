/* Barriers and warp collectives as the kernel calls them. A warp collective
 * gathers the lanes named in its mask: each lane parks a pointer to its
 * input and output; the last to arrive computes every lane's result (fn)
 * and releases the others, then carries on without a switch (under chaos
 * it yields, so any lane may run on first).
 *
 * Race check edges: a barrier is a release by every arriving thread and an
 * acquire by every leaving one on a block-wide word (one per generation
 * parity); a collective is a
 * release by each lane on its own word, an acquire of all members' words
 * by the lane that completes it, then a release by that lane into each
 * member's collective_done word, which the member acquires on waking (only
 * the members are ordered, whatever the mask, and nothing the completer
 * does later). */
#include <stdio.h>
#include <string.h>

#include "core/pf_sanitize.h"
#include "device/emu/emu_block.h"
#include "device/emu/emu_race.h"
#include "device/emu/emu_runtime.h"

static const char *collective_why(const pf_emu_block *b, unsigned warp, uint32_t missing)
{
    int first = __builtin_ctz(missing);
    return (int)(warp * 32 + (unsigned)first) >= b->n ? "does not exist (the block's last warp is partial)"
                                                      : "has exited";
}

static void arrive(uint32_t mask, const void *in, size_t in_size, void *out, size_t out_size,
                   pf_emu_collective_fn fn, void *ctx, const char *what)
{
    pf_emu_fiber *f = pf_emu_current_fiber();
    pf_emu_block *b = f->block;
    unsigned warp = f->pub.warp, lane = f->pub.lane;
    pf_emu_warp *w = &b->warps[warp];
    if (!(mask >> lane & 1u))
        pf_emu_block_fail(b, "thread %u (warp %u lane %u) calls %s with mask 0x%08x, which leaves it out",
                          f->tid, warp, lane, what, mask);
    uint32_t missing = mask & w->done_mask;
    if (missing)
        pf_emu_block_fail(b,
                          "partial-warp collective: thread %u (warp %u lane %u) calls %s with mask "
                          "0x%08x but lane %d %s",
                          f->tid, warp, lane, what, mask, __builtin_ctz(missing),
                          collective_why(b, warp, missing));
    if (w->arrived == 0) {
        w->mask = mask;
        w->fn = fn;
        w->ctx = ctx;
        w->in_size = in_size;
        w->out_size = out_size;
        w->what = what;
        if (mask != 0xffffffffu) { /* non-members must read as NULL */
            memset(w->ins, 0, sizeof w->ins);
            memset(w->outs, 0, sizeof w->outs);
        }
    } else if (w->mask != mask || w->fn != fn || w->ctx != ctx || w->in_size != in_size ||
               w->out_size != out_size) {
        pf_emu_block_fail(b,
                          "warp %u: thread %u calls %s (mask 0x%08x) while other lanes wait in %s "
                          "(mask 0x%08x)",
                          warp, f->tid, what, mask, w->what, w->mask);
    }
    w->ins[lane] = in;
    w->outs[lane] = out;
    w->arrived++;
    w->arrived_mask |= 1u << lane;
    pf_emu_cp_async_chaos(f);
    pf_emu_race_release(f);
    if (w->arrived_mask != mask) {
        pf_emu_block_wait(f, PF_FIBER_COLLECTIVE);
        pf_emu_race_acquire(&f->collective_done);
        return;
    }
    uint32_t others = w->arrived_mask & ~(1u << lane);
    pf_emu_fiber *lanes = &b->fibers[warp * 32];
#ifdef PF_EMU_TSAN
    for (uint32_t m = others; m; m &= m - 1)
        pf_emu_race_acquire(&lanes[__builtin_ctz(m)]);
#endif
    fn(ctx, w->ins, w->outs);
    w->arrived = 0;
    w->arrived_mask = 0;
    while (others) {
        int l = __builtin_ctz(others);
        others &= others - 1;
        pf_emu_race_release(&lanes[l].collective_done);
        pf_emu_block_release(b, &lanes[l]);
    }
    if (b->sanitize & PF_SAN_CHAOS)
        pf_emu_block_wait(f, PF_FIBER_RUNNABLE);
}

void pf_emu_warp_collective(const void *in, size_t in_size, void *out, size_t out_size,
                            void (*fn)(void *ctx, const void *const ins[32], void *const outs[32]),
                            void *ctx)
{
    pf_emu_current_fiber()->call_pc = __builtin_return_address(0);
    arrive(0xffffffffu, in, in_size, out, out_size, fn, ctx, "a warp-wide collective");
}

void pf_emu_syncthreads(const char *file, int line)
{
    pf_emu_fiber *f = pf_emu_current_fiber();
    f->wait_file = file;
    f->wait_line = line;
    pf_emu_cp_async_chaos(f);
    char *word = &f->block->barrier_word[f->block->barrier_gen & 1];
    pf_emu_race_release(word);
    pf_emu_block_wait(f, PF_FIBER_BARRIER);
    pf_emu_race_acquire(word);
}

/* ---- shuffles */

typedef struct shfl_wire {
    uint32_t value;
    int op, arg, width;
} shfl_wire;

static const char *const shfl_names[] = {"__shfl_sync", "__shfl_up_sync", "__shfl_down_sync",
                                         "__shfl_xor_sync"};

/* Source lane per the PTX shfl.sync rules: lanes form segments of `width`;
 * idx reads inside the segment, up/down stay inside it, xor may reach lower
 * segments but not higher ones; an out-of-range source yields one's own value. */
static int shfl_source(int op, int lane, int arg, int width)
{
    int lo = lane & ~(width - 1), hi = lo + width - 1, j;
    switch (op) {
    case PF_EMU_SHFL_IDX:
        return lo + (arg & (width - 1));
    case PF_EMU_SHFL_UP:
        j = lane - (int)((unsigned)arg & 31u);
        return j >= lo ? j : lane;
    case PF_EMU_SHFL_DOWN:
        j = lane + (int)((unsigned)arg & 31u);
        return j <= hi ? j : lane;
    default:
        j = lane ^ (int)((unsigned)arg & 31u);
        return j <= hi ? j : lane;
    }
}

static void shfl_fn(void *ctx, const void *const ins[32], void *const outs[32])
{
    (void)ctx;
    for (int lane = 0; lane < 32; lane++) {
        if (!ins[lane])
            continue;
        const shfl_wire *me = (const shfl_wire *)ins[lane];
        int src = shfl_source(me->op, lane, me->arg, me->width);
        /* reading a lane outside the mask is undefined on the GPU */
        const shfl_wire *from = ins[src] ? (const shfl_wire *)ins[src] : me;
        *(uint32_t *)outs[lane] = from->value;
    }
}

uint32_t pf_emu_shfl32(int op, unsigned mask, uint32_t value, int arg, int width)
{
    if (op < 0 || op > PF_EMU_SHFL_XOR)
        op = PF_EMU_SHFL_IDX;
    if (width < 1 || width > 32 || (width & (width - 1))) {
        pf_emu_fiber *f = pf_emu_current_fiber();
        pf_emu_block_fail(f->block, "thread %u calls %s with width %d (must be a power of two <= 32)",
                          f->tid, shfl_names[op], width);
    }
    shfl_wire in = {value, op, arg, width};
    uint32_t out = 0;
    arrive(mask, &in, sizeof in, &out, sizeof out, shfl_fn, NULL, shfl_names[op]);
    return out;
}

/* ---- votes and __syncwarp */

typedef struct vote_wire {
    int op, pred;
} vote_wire;

static void vote_fn(void *ctx, const void *const ins[32], void *const outs[32])
{
    (void)ctx;
    uint32_t ballot = 0, members = 0;
    for (int lane = 0; lane < 32; lane++)
        if (ins[lane]) {
            members |= 1u << lane;
            if (((const vote_wire *)ins[lane])->pred)
                ballot |= 1u << lane;
        }
    for (int lane = 0; lane < 32; lane++) {
        if (!ins[lane])
            continue;
        int op = ((const vote_wire *)ins[lane])->op;
        uint32_t r = op == PF_EMU_VOTE_BALLOT ? ballot
                     : op == PF_EMU_VOTE_ANY  ? (ballot != 0)
                                              : (ballot == members);
        *(uint32_t *)outs[lane] = r;
    }
}

static const char *const vote_names[] = {"__ballot_sync", "__any_sync", "__all_sync"};

uint32_t pf_emu_vote(int op, unsigned mask, int pred)
{
    if (op < 0 || op > PF_EMU_VOTE_ALL)
        op = PF_EMU_VOTE_BALLOT;
    vote_wire in = {op, pred};
    uint32_t out = 0;
    arrive(mask, &in, sizeof in, &out, sizeof out, vote_fn, NULL, vote_names[op]);
    return out;
}

static void syncwarp_fn(void *ctx, const void *const ins[32], void *const outs[32])
{
    (void)ctx;
    (void)ins;
    (void)outs;
}

void pf_emu_syncwarp(unsigned mask)
{
    arrive(mask, NULL, 0, NULL, 0, syncwarp_fn, NULL, "__syncwarp");
}
