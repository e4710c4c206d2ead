/* The emu backend's runtime, host side: each CUDA thread of a block is a
 * fiber; a block's fibers run on one host worker thread; blocks are spread
 * over a pool of workers (PFTUNE_EMU_THREADS, default: number of cores).
 *
 * Kernel code (the dlopen'd .so built from a kernel .cu with -DPF_EMU=1)
 * sees only the declarations in kernels/pf_dialect.h's PF_EMU section; this
 * header repeats the ones host code needs and adds the launcher's internals. */
#ifndef PF_EMU_RUNTIME_H
#define PF_EMU_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "device/device.h"

/* Warp-wide collective: each active lane of the calling warp passes `in`
 * (in_size bytes) and receives `out` (out_size bytes). When all 32 lanes
 * have arrived, one lane calls fn(ctx, ins, outs) where ins[i]/outs[i] point
 * at lane i's buffers; then all continue. A warp with fewer than 32 live
 * threads calling this is an error (named kernel/block/warp): the launch
 * fails with that message. Also declared in pf_dialect.h (PF_EMU). */
void pf_emu_warp_collective(const void *in, size_t in_size, void *out, size_t out_size,
                            void (*fn)(void *ctx, const void *const ins[32], void *const outs[32]),
                            void *ctx);

#endif
