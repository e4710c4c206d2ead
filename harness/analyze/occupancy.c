/* Occupancy (occupancy.h), following cuda_occupancy.h's
 * cudaOccMaxBlocksPerSMRegsLimit / ...SmemLimit for compute capability 8.x+. */
#include "analyze/occupancy.h"

#include <stdio.h>
#include <string.h>

#include "core/pf_error.h"

#define REG_UNIT 256      /* registers per warp are allocated in these */
#define SUB_PARTITIONS 4  /* register file quarters; a warp lives in one */
#define SMEM_UNIT 128     /* shared memory allocation granularity */
#define REGS_PER_BLOCK 65536

static int round_up(int x, int unit)
{
    return (x + unit - 1) / unit * unit;
}

static int min_i(int a, int b)
{
    return a < b ? a : b;
}

int pf_occupancy_compute(const pf_arch *a, int regs, int threads, size_t smem, pf_occupancy *o)
{
    memset(o, 0, sizeof *o);
    if (regs < 1 || threads < 1)
        return pf_error_set("occupancy needs registers and threads (got %d, %d)", regs, threads);
    int warps = (threads + 31) / 32;
    /* The driver reserves per block what the opt-in limit leaves of the SM
     * (1 KiB on every arch of the table, see device/arch.c). */
    size_t reserved = a->smem_per_sm - a->smem_per_block_optin;
    o->regs_per_warp = round_up(regs * 32, REG_UNIT);
    o->smem_per_block = (smem + reserved + SMEM_UNIT - 1) / SMEM_UNIT * SMEM_UNIT;

    if (threads > a->max_threads_per_block)
        snprintf(o->why, sizeof o->why, "%d threads exceed the %s limit of %d per block",
                 threads, a->name, a->max_threads_per_block);
    else if (regs > a->max_regs_per_thread)
        snprintf(o->why, sizeof o->why, "%d registers exceed the %s limit of %d per thread",
                 regs, a->name, a->max_regs_per_thread);
    else if ((long)o->regs_per_warp * round_up(warps, SUB_PARTITIONS) > REGS_PER_BLOCK)
        snprintf(o->why, sizeof o->why, "%d registers x %d threads exceed %d per block", regs,
                 threads, REGS_PER_BLOCK);
    else if (smem > a->smem_per_block_optin)
        snprintf(o->why, sizeof o->why, "%zu bytes of shared memory exceed the %s opt-in limit "
                 "of %zu per block", smem, a->name, a->smem_per_block_optin);

    int warps_per_sub = a->regs_per_sm / SUB_PARTITIONS / o->regs_per_warp;
    o->by_regs = o->why[0] ? 0 : warps_per_sub * SUB_PARTITIONS / warps;
    o->by_smem = o->why[0] ? 0 : (int)(a->smem_per_sm / o->smem_per_block);
    o->by_warps = min_i(a->max_warps_per_sm / warps, a->max_threads_per_sm / threads);
    o->by_blocks = a->max_blocks_per_sm;
    /* ties name the first: registers, shared memory, warps, blocks */
    o->blocks = o->by_regs;
    o->limiter = "registers";
    if (o->by_smem < o->blocks) {
        o->blocks = o->by_smem;
        o->limiter = "shared memory";
    }
    if (o->by_warps < o->blocks) {
        o->blocks = o->by_warps;
        o->limiter = "warps";
    }
    if (o->by_blocks < o->blocks) {
        o->blocks = o->by_blocks;
        o->limiter = "blocks";
    }
    if (o->why[0])
        o->limiter = strstr(o->why, "shared") ? "shared memory"
                     : strstr(o->why, "registers") ? "registers" : "threads";
    o->warps = o->blocks * warps;
    o->fraction = (double)o->warps / a->max_warps_per_sm;
    return 0;
}
