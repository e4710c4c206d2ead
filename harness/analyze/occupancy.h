/* Theoretical occupancy of a kernel on an arch of device/arch.h: resident
 * blocks and warps per SM from registers, shared memory, threads and the
 * block limit, with the allocation rules of CUDA's cuda_occupancy.h for
 * sm_80 and newer: registers are allocated per warp in units of 256 and
 * split over 4 SM sub-partitions; shared memory per block is rounded up to
 * 128 bytes after adding the 1 KiB the driver reserves per block. */
#ifndef PF_OCCUPANCY_H
#define PF_OCCUPANCY_H

#include <stddef.h>

#include "device/arch.h"

typedef struct pf_occupancy {
    int blocks;           /* resident blocks per SM (0: it cannot launch) */
    int warps;            /* resident warps per SM */
    double fraction;      /* warps / the arch's max warps per SM */
    int by_regs, by_smem, by_warps, by_blocks; /* each limit alone */
    const char *limiter;  /* "registers", "shared memory", "warps", "blocks" */
    int regs_per_warp;    /* allocated */
    size_t smem_per_block; /* allocated, reservation included */
    char why[160];        /* when blocks == 0: the limit exceeded */
} pf_occupancy;

/* regs per thread, threads per block, smem = static + dynamic bytes per
 * block. -1 only for meaningless input (threads or regs < 1). */
int pf_occupancy_compute(const pf_arch *arch, int regs, int threads, size_t smem,
                         pf_occupancy *out);

#endif
