/* Written-byte bitmap over the block's shared-memory arena (see emu_init.h). */
#include "device/emu/emu_init.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_sanitize.h"
#include "device/emu/emu_describe.h"

int pf_emu_init_begin(pf_emu_block *b)
{
    if (!(b->sanitize & PF_SAN_INIT))
        return 0;
    size_t bytes = (b->smem_map_size + 7) / 8;
    if (!b->written && !(b->written = (unsigned char *)malloc(bytes))) {
        snprintf(b->msg, sizeof b->msg, "emu: out of memory for the init check");
        return -1;
    }
    memset(b->written, 0, bytes);
    return 0;
}

void pf_emu_init_destroy(pf_emu_block *b)
{
    free(b->written);
    b->written = NULL;
}

static void report(pf_emu_block *b, const pf_emu_fiber *f, uintptr_t addr, size_t n, void *pc)
{
    char what[320], where[256];
    pf_emu_describe_addr(b, addr, what, sizeof what);
    if (pc)
        pf_emu_symbolize(pc, where, sizeof where);
    else
        snprintf(where, sizeof where, "an ldmatrix");
    pf_emu_block_fail(b,
                      "uninitialized read: thread %u (warp %u lane %u) reads %zu bytes of %s, never "
                      "written in this launch, at %s",
                      f->tid, f->pub.warp, f->pub.lane, n, what, where);
}

void pf_emu_init_access(const void *addr, size_t n, int write, void *pc)
{
    pf_emu_fiber *f = pf_emu_current_fiber();
    if (!f)
        return;
    pf_emu_block *b = f->block;
    uintptr_t base = (uintptr_t)b->smem_map, a = (uintptr_t)addr;
    if (!b->written || a < base || a - base >= b->smem_map_size)
        return; /* not shared memory */
    size_t off = a - base;
    if (n > b->smem_map_size - off)
        n = b->smem_map_size - off;
    for (size_t i = off; i < off + n; i++) {
        unsigned char bit = (unsigned char)(1u << (i & 7));
        if (write)
            b->written[i >> 3] |= bit;
        else if (!(b->written[i >> 3] & bit))
            report(b, f, base + i, n, pc);
    }
}
