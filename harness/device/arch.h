/* Per-architecture limits, keyed by compute capability: one table that the
 * attention variant rules, the emu backend and the launcher all read.
 *
 * The limits are the public ones of NVIDIA's CUDA C Programming Guide
 * ("Technical Specifications per Compute Capability") and of the CUDA 13
 * occupancy calculator (cuda_occupancy.h). The SM count and L2 size are not
 * arch facts: they are those of the part named in `part`, which the emu
 * backend mimics. */
#ifndef PF_ARCH_H
#define PF_ARCH_H

#include <stddef.h>

#include "device/device.h"

typedef struct pf_arch {
    const char *name;          /* "sm_86" */
    int cc_major, cc_minor;
    size_t smem_per_block;     /* default per block (48 KiB) */
    size_t smem_per_block_optin; /* per block with the opt-in attribute */
    size_t smem_per_sm;
    int regs_per_sm;           /* 32-bit registers */
    int max_regs_per_thread;
    int max_threads_per_block;
    int max_threads_per_sm;
    int max_blocks_per_sm;
    int max_warps_per_sm;
    const char *part;          /* the part whose SM count and L2 emu mimics */
    int sm_count;
    size_t l2_bytes;
} pf_arch;

/* The table, oldest first; *n gets its length. */
const pf_arch *pf_arch_table(int *n);
/* The entry for exactly cc major.minor, or NULL. */
const pf_arch *pf_arch_lookup_cc(int major, int minor);
/* The entry named "sm_XX", or NULL with a message listing the known ones. */
const pf_arch *pf_arch_lookup(const char *name);
/* The newest entry not newer than major.minor (a newer part keeps the
 * limits of the arch it extends), or NULL with a message when it is older
 * than every entry. */
const pf_arch *pf_arch_lookup_nearest(int major, int minor);
/* "sm_80, sm_86, ..." for messages. */
void pf_arch_names(char *out, size_t size);
/* The largest opt-in shared memory per block of any entry. */
size_t pf_arch_max_smem_optin(void);

/* The arch of a device, e.g. "sm_86" on an A10, the one emu mimics on emu.
 * An unknown newer cc gets the nearest older entry's name; what the device
 * itself reports (its opt-in shared memory) still bounds launches. -1 with a
 * message for a device older than the table (no bf16 mma before sm_80). */
int pf_device_arch(pf_device *dev, char *out, size_t size);

#endif
