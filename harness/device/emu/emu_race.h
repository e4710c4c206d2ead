/* The race check: ThreadSanitizer over the emu fibers (a -DPF_TSAN=ON
 * build, which defines PF_TSAN; kernels compiled with -fsanitize=thread
 * under --sanitize race). Every CUDA thread is a TSan fiber, every switch
 * is announced without synchronization, and only what orders memory on a
 * GPU becomes a happens-before edge: __syncthreads, named barriers
 * (pf_bar_sync, among the threads of one generation), warp collectives
 * (shuffles, votes, __syncwarp, mma, ldmatrix) among their lanes, atomics
 * (TSan sees them as the kernel's __atomic builtins), and a cp.async wait
 * for the copies it retires (each thread's copy unit is a fiber of its own
 * that writes the destination). A block's run is ordered before the next
 * block on the same worker, so races between blocks show up between blocks
 * on different workers. The first race of a block fails the launch with
 * the kernel, threads, access kinds, source lines and buffer; TSan prints
 * its full report with both stacks on stderr.
 *
 * Without PF_TSAN every function here is an empty inline. */
#ifndef PF_EMU_RACE_H
#define PF_EMU_RACE_H

#include "device/emu/emu_block.h"

#ifdef PF_TSAN
#define PF_EMU_TSAN 1
#define PF_EMU_TICKETS 256 /* cp.async issue sync addresses per thread */
#include <sanitizer/tsan_interface.h>

/* Worker side: contexts and names for the block's n fibers. */
int pf_emu_race_block_begin(pf_emu_block *b);
/* After the block: order it before the worker's next block; turn a
 * recorded race into the block's failure (returns -1 then). */
int pf_emu_race_block_end(pf_emu_block *b);
void pf_emu_race_block_destroy(pf_emu_block *b);
/* Called by __tsan_on_report (emu_tsan_hooks.c, linked into executables). */
void pf_emu_race_on_report(void *report);
/* The fault handler leaves a fiber by siglongjmp: tell TSan first. */
void pf_emu_race_to_sched(void);
/* Reports TSan made outside any kernel fiber (harness races). */
int pf_emu_race_foreign_reports(void);

static inline void pf_emu_race_switch(void *tsan_ctx)
{
    if (tsan_ctx)
        __tsan_switch_to_fiber(tsan_ctx, __tsan_switch_to_fiber_no_sync);
}
static inline void pf_emu_race_release(void *addr)
{
    __tsan_release(addr);
}
static inline void pf_emu_race_acquire(void *addr)
{
    __tsan_acquire(addr);
}
void __tsan_read_range_pc(void *addr, unsigned long size, void *pc);
void __tsan_write_range_pc(void *addr, unsigned long size, void *pc);

#else

static inline int pf_emu_race_block_begin(pf_emu_block *b) { (void)b; return 0; }
static inline int pf_emu_race_block_end(pf_emu_block *b) { (void)b; return 0; }
static inline void pf_emu_race_block_destroy(pf_emu_block *b) { (void)b; }
static inline void pf_emu_race_to_sched(void) {}
static inline void pf_emu_race_switch(void *tsan_ctx) { (void)tsan_ctx; }
static inline void pf_emu_race_release(void *addr) { (void)addr; }
static inline void pf_emu_race_acquire(void *addr) { (void)addr; }

#endif

#endif
