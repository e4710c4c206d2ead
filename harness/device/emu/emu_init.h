/* The init check (--sanitize init): a bit per shared-memory byte, set when
 * the kernel (or a landing cp.async) writes it; a read of a byte whose bit
 * is clear fails the launch with the thread, the shared array and the
 * source line. Kernels built for it call pf_emu_init_access on every load
 * and store (pf_dialect.h, PF_EMU_INITCHECK); global memory is not tracked. */
#ifndef PF_EMU_INIT_H
#define PF_EMU_INIT_H

#include <stddef.h>

#include "device/emu/emu_block.h"

/* At block start: clear the bits (allocated on first use). */
int pf_emu_init_begin(pf_emu_block *b);
void pf_emu_init_destroy(pf_emu_block *b);
/* The runtime's own accesses: cp.async landing (write), ldmatrix rows (read). */
void pf_emu_init_access(const void *addr, size_t n, int write, void *pc);

#endif
