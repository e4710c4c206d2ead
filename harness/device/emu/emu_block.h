/* One thread block on the emu backend: its fibers (one per CUDA thread),
 * the run queue that switches between them, barrier and warp-collective
 * bookkeeping, and the block's shared-memory arena. A pf_emu_block belongs
 * to one host worker thread and is reused for every block that worker runs. */
#ifndef PF_EMU_BLOCK_H
#define PF_EMU_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#define PF_EMU_ABI_ONLY
#include "kernels/pf_dialect.h"
#undef PF_EMU_ABI_ONLY

#include "device/emu/emu_fiber.h"
#include "device/emu/emu_launch.h"
#include "core/pf_error.h"

#define PF_EMU_MAX_THREADS 1024
#define PF_EMU_MAX_WARPS (PF_EMU_MAX_THREADS / 32)
#define PF_EMU_MAX_SMEM_SITES 64
#define PF_EMU_NAMED_BARRIERS 16 /* bar.sync ids; 0 is __syncthreads's */

enum { PF_FIBER_RUNNABLE, PF_FIBER_BARRIER, PF_FIBER_COLLECTIVE, PF_FIBER_DONE, PF_FIBER_NAMED_BAR };

typedef struct pf_emu_block pf_emu_block;

/* One cp.async in flight (emu_cp_async.c). */
typedef struct pf_emu_copy {
    void *dst;
    const void *src;
    int src_bytes;
    unsigned group;           /* commit-group sequence number */
    void *pc;                 /* issuing call site, for race reports */
    void *ticket;             /* race: sync address holding the issue-time clock */
} pf_emu_copy;

typedef struct pf_emu_fiber {
    pf_emu_thread pub;        /* what the kernel reads through pf_emu_self */
    pf_emu_ctx ctx;
    int state;
    unsigned tid;             /* linear thread index in the block */
    const char *wait_file;    /* __syncthreads / pf_bar_sync call site while waiting */
    int wait_line;
    int bar_id;               /* the named barrier waited at (PF_FIBER_NAMED_BAR) */
    void *call_pc;            /* kernel call site of the current collective */
    pf_emu_block *block;
    void *asan_fake_stack;
    /* cp.async queue: copies not landed yet, oldest first */
    pf_emu_copy *copies;
    int n_copies, cap_copies;
    unsigned group;           /* groups committed so far */
    unsigned issued;          /* copies issued (race: picks the ticket) */
    /* ThreadSanitizer contexts (race check): the thread, its copy unit; the
     * lane completing a collective releases into collective_done for each
     * member (the fiber's own address is its word for the worker) */
    void *tsan, *tsan_copier;
    int collective_done;
} pf_emu_fiber;

typedef void (*pf_emu_collective_fn)(void *ctx, const void *const ins[32], void *const outs[32]);

/* A warp collective in progress: lanes arrive one at a time. */
typedef struct pf_emu_warp {
    int arrived;
    uint32_t arrived_mask, mask, done_mask;
    pf_emu_collective_fn fn;
    void *ctx;
    size_t in_size, out_size;
    const char *what;
    const void *ins[32];
    void *outs[32];
} pf_emu_warp;

/* One named barrier (pf_bar_sync) of the block: the generation filling up. */
typedef struct pf_emu_named_bar {
    int arrived;              /* threads in this generation so far */
    int nthreads;             /* the count its first arrival asked for */
    unsigned gen;             /* generations completed */
    const char *file;         /* first arrival's call site */
    int line;
    /* race: generation k's arrivals release into word[k & 1] (as barrier_word) */
    char word[2];
} pf_emu_named_bar;

typedef struct pf_emu_smem_entry {
    const pf_emu_smem_site *site;
    size_t offset, bytes;
} pf_emu_smem_entry;

struct pf_emu_block {
    /* persistent (per worker) */
    pf_emu_fiber *fibers;
    pf_emu_stack *stacks;
    int cap;                  /* fibers with a stack */
    size_t stack_size;
    int *queue;               /* ring of runnable fiber indices */
    unsigned q_head, q_count;
    pf_emu_ctx sched;         /* the worker's own context */
    const void *sched_stack_bottom;
    size_t sched_stack_size;
    void *sched_fake_stack;
    pf_emu_warp warps[PF_EMU_MAX_WARPS];

    /* shared-memory arena: [static cap][guard][dynamic cap][guard] */
    unsigned char *smem_map;
    size_t smem_map_size;
    unsigned char *static_base, *static_guard, *dyn_guard;
    size_t static_cap, dyn_cap;
    pf_emu_smem_entry sites[PF_EMU_MAX_SMEM_SITES];
    int n_sites;
    size_t static_used;       /* incl. alignment and redzones */
    size_t static_declared;   /* what the kernel asked for */
    unsigned char *dyn;       /* this launch's dynamic region */

    /* the block being run */
    const pf_emu_launch *launch;
    pf_emu_uint3 block_idx;
    int n;                    /* threads */
    int done;                 /* fibers that returned */
    int failed;
    pf_emu_fiber *cur;
    char msg[PF_ERROR_MAX];

    /* checks (core/pf_sanitize.h), fixed for the block's run */
    unsigned sanitize;
    uint64_t rng;             /* chaos: per-block stream */
    unsigned char *written;   /* init: a bit per arena byte written */
    void *tsan_sched;         /* race: the worker's own TSan context */
    char *tickets;            /* race: sync addresses for cp.async issues */
    /* race: barrier generation k's arrivals release into barrier_word[k & 1]
     * (a fast thread's next arrival must not reach a slow leaver) */
    unsigned barrier_gen;
    char barrier_word[2];
    pf_emu_named_bar bars[PF_EMU_NAMED_BARRIERS]; /* reset per block */
    int tsan_cap;             /* fibers with TSan contexts */
    struct pf_emu_race *race; /* race: the first report in this block */
};

int pf_emu_block_init(pf_emu_block *b);
void pf_emu_block_destroy(pf_emu_block *b);
/* Run block `bidx` of the launch to completion. -1 with b->msg set when the
 * kernel misbehaved (divergence, deadlock, overrun, ...). */
int pf_emu_block_run(pf_emu_block *b, const pf_emu_launch *L, pf_emu_uint3 bidx);
/* After a fault jumped out of pf_emu_block_run: tell ASan we are back on the
 * worker's stack. */
void pf_emu_block_after_fault(pf_emu_block *b);

/* ---- for the runtime's kernel-facing functions (called on a fiber) */
pf_emu_fiber *pf_emu_current_fiber(void);
/* Park the current fiber in `state` and run others until it is released. */
void pf_emu_block_wait(pf_emu_fiber *f, int state);
void pf_emu_block_release(pf_emu_block *b, pf_emu_fiber *f);
/* Record "kernel K, block (x,y,z): <message>" and abandon the block. When
 * called on a fiber it does not return. */
void pf_emu_block_fail(pf_emu_block *b, const char *fmt, ...) PF_PRINTF(2, 3);
/* "0-31,40,64-95": the fibers for which pick(f) holds. */
void pf_emu_format_threads(const pf_emu_block *b, int (*pick)(const pf_emu_fiber *f, const void *arg),
                           const void *arg, char *out, size_t out_size);
/* A pick for pf_emu_format_threads: fibers whose state is *(const int *)arg. */
int pf_emu_pick_state(const pf_emu_fiber *f, const void *arg);

/* ---- named barriers (emu_named_bar.c) */
void pf_emu_named_bar_begin(pf_emu_block *b);
/* Nothing runnable and some fiber parked at a named barrier: report the
 * deadlock (always -1; such a barrier can never complete). */
int pf_emu_named_bar_deadlock(pf_emu_block *b);

/* ---- cp.async (emu_cp_async.c) */
/* Land every copy of fiber f (at exit: nothing waits for them). */
void pf_emu_cp_async_drain(pf_emu_fiber *f);
/* Chaos: land some of f's queued copies now (at one of its sync points). */
void pf_emu_cp_async_chaos(pf_emu_fiber *f);
void pf_emu_cp_async_free(pf_emu_fiber *f);

/* ---- chaos scheduling (emu_chaos.c) */
void pf_emu_chaos_begin(pf_emu_block *b);
/* A uniformly random integer in [0, n). */
unsigned pf_emu_chaos_below(pf_emu_block *b, unsigned n);

/* ---- shared memory (emu_shared.c) */
int pf_emu_smem_init(pf_emu_block *b);
void pf_emu_smem_destroy(pf_emu_block *b);
void pf_emu_smem_begin(pf_emu_block *b);      /* fill, place the dynamic region */
int pf_emu_smem_check(pf_emu_block *b);       /* redzones at block end */
/* Describe a faulting address inside the arena ("" when outside). */
int pf_emu_smem_describe(const pf_emu_block *b, uintptr_t addr, char *out, size_t out_size);

#endif
