/* One kernel launch on the emu backend, as the block scheduler sees it, and
 * the worker pool that runs its blocks. */
#ifndef PF_EMU_LAUNCH_H
#define PF_EMU_LAUNCH_H

#include <stddef.h>

#include "device/device.h"

typedef struct pf_emu_launch {
    const char *kernel;                 /* for messages */
    void (*entry)(const void *params);  /* name__pf_entry in the kernel .so */
    const void *params;
    pf_dim3 grid, block;
    size_t dyn_smem;
    size_t smem_limit;                  /* static + dynamic per block (opt-in) */
    size_t static_smem_limit;           /* 48 KiB, as on NVIDIA GPUs */
} pf_emu_launch;

/* Run every block of the launch on the worker pool; returns when all are
 * done, then verifies the canaries of all guarded buffers. -1 with the first
 * failing block's message (the rest of the grid is skipped) or the damaged
 * buffer's. Launches are serialized. */
int pf_emu_launch_run(const pf_emu_launch *L);
/* Worker threads: PFTUNE_EMU_THREADS, else the number of online cores. */
int pf_emu_worker_count(void);
/* Usable bytes of each fiber stack: PFTUNE_EMU_STACK_KB (default 256). */
size_t pf_emu_stack_bytes(void);

#endif
