/* Words for check reports: which buffer an address lies in, and which
 * kernel source line a code address is. */
#ifndef PF_EMU_DESCRIBE_H
#define PF_EMU_DESCRIBE_H

#include <stddef.h>
#include <stdint.h>

#include "device/emu/emu_block.h"

/* "__shared__ array 'name' (file:line, N bytes) at byte offset X", the
 * dynamic shared memory, a labelled global buffer, or the bare address. */
void pf_emu_describe_addr(const pf_emu_block *b, uintptr_t addr, char *out, size_t out_size);
/* "file.cu:42" for a return address inside a kernel (the kernel must be
 * built with -g; else "lib.so+0x1234"); "?" for NULL. */
void pf_emu_symbolize(void *pc, char *out, size_t out_size);

#endif
