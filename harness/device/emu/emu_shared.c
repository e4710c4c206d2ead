/* A block's shared memory. One mapping per worker:
 *
 *   [static region][guard page][dynamic region][guard page]
 *
 * Static arrays (PF_SHARED) are handed out in declaration order, each
 * 16-byte aligned and followed by a canary redzone that is checked when the
 * block ends. The dynamic region of a launch is placed so that it ends at
 * the last guard page: an access past its end faults at once. Everything
 * starts filled with 0xff (a NaN as float) so reads of never-written shared
 * memory show up as wrong results. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "device/arch.h"
#include "device/emu/emu_block.h"
#include "device/emu/emu_race.h"

#define STATIC_CAP (52u * 1024u) /* 48 KiB of arrays + redzones */
#define REDZONE 32u
#define CANARY 0xa5
#define FILL 0xff

static size_t round_up(size_t v, size_t a)
{
    return (v + a - 1) / a * a;
}

int pf_emu_smem_init(pf_emu_block *b)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    /* one arena serves every emu device: room for the largest opt-in limit */
    size_t st = round_up(STATIC_CAP, page), dy = round_up(pf_arch_max_smem_optin(), page);
    size_t total = st + page + dy + page;
    void *m = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        return pf_error_set("emu: cannot map a shared-memory arena");
    unsigned char *base = (unsigned char *)m;
    if (mprotect(base + st, page, PROT_NONE) != 0 || mprotect(base + st + page + dy, page, PROT_NONE) != 0) {
        munmap(m, total);
        return pf_error_set("emu: cannot protect shared-memory guard pages");
    }
    b->smem_map = base;
    b->smem_map_size = total;
    b->static_base = base;
    b->static_cap = st;
    b->static_guard = base + st;
    b->dyn_cap = dy;
    b->dyn_guard = base + st + page + dy;
    return 0;
}

void pf_emu_smem_destroy(pf_emu_block *b)
{
    if (b->smem_map)
        munmap(b->smem_map, b->smem_map_size);
    b->smem_map = NULL;
}

void pf_emu_smem_begin(pf_emu_block *b)
{
    size_t dyn = b->launch->dyn_smem, rounded = round_up(dyn, 16);
    b->n_sites = 0;
    b->static_used = 0;
    b->static_declared = 0;
    b->dyn = b->dyn_guard - rounded;
    memset(b->dyn, FILL, dyn);
    memset(b->dyn + dyn, CANARY, rounded - dyn);
#ifdef PF_EMU_TSAN
    /* Fill the static arrays here, on the worker, before any fiber runs:
     * under TSan a fill by the first fiber to declare an array would race
     * with the other fibers' writes. */
    memset(b->static_base, FILL, b->static_cap);
#endif
}

static int redzone_intact(const unsigned char *p, size_t n, size_t *first_bad)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != CANARY) {
            *first_bad = i;
            return 0;
        }
    return 1;
}

int pf_emu_smem_check(pf_emu_block *b)
{
    size_t bad;
    for (int i = 0; i < b->n_sites; i++) {
        const pf_emu_smem_entry *e = &b->sites[i];
        size_t end = e->offset + e->bytes, zone = round_up(end, 16) + REDZONE - end;
        if (!redzone_intact(b->static_base + end, zone, &bad)) {
            pf_emu_block_fail(b,
                              "shared-memory overrun: bytes past the end of __shared__ array '%s' "
                              "(%s:%d, %zu bytes) were written (byte offset %zu)",
                              e->site->name, e->site->file, e->site->line, e->bytes, e->bytes + bad);
            return -1;
        }
    }
    size_t dyn = b->launch->dyn_smem;
    if (!redzone_intact(b->dyn + dyn, round_up(dyn, 16) - dyn, &bad)) {
        pf_emu_block_fail(b,
                          "shared-memory overrun: bytes past the end of the dynamic shared memory "
                          "(%zu bytes) were written (byte offset %zu)",
                          dyn, dyn + bad);
        return -1;
    }
    return 0;
}

void *pf_emu_shared_static(const pf_emu_smem_site *site, size_t bytes)
{
    pf_emu_fiber *f = pf_emu_current_fiber();
    pf_emu_block *b = f->block;
    for (int i = 0; i < b->n_sites; i++)
        if (b->sites[i].site == site)
            return b->static_base + b->sites[i].offset;
    const pf_emu_launch *L = b->launch;
    size_t declared = b->static_declared + bytes;
    if (declared > L->static_smem_limit)
        pf_emu_block_fail(b,
                          "__shared__ array '%s' (%s:%d, %zu bytes) brings static shared memory to %zu "
                          "bytes, over the %zu-byte static limit",
                          site->name, site->file, site->line, bytes, declared, L->static_smem_limit);
    if (declared + L->dyn_smem > L->smem_limit)
        pf_emu_block_fail(b,
                          "__shared__ array '%s' (%s:%d, %zu bytes): %zu static + %zu dynamic bytes of "
                          "shared memory exceed the %zu-byte limit per block",
                          site->name, site->file, site->line, bytes, declared, L->dyn_smem, L->smem_limit);
    if (b->n_sites == PF_EMU_MAX_SMEM_SITES)
        pf_emu_block_fail(b, "more than %d __shared__ arrays (emu limit)", PF_EMU_MAX_SMEM_SITES);
    size_t offset = b->static_used, end = offset + bytes;
    size_t next = round_up(end, 16) + REDZONE;
    if (next > b->static_cap)
        pf_emu_block_fail(b, "static shared-memory arena exhausted by '%s'", site->name);
#ifndef PF_EMU_TSAN
    memset(b->static_base + offset, FILL, bytes);
#endif
    memset(b->static_base + end, CANARY, next - end);
    pf_emu_smem_entry *e = &b->sites[b->n_sites++];
    e->site = site;
    e->offset = offset;
    e->bytes = bytes;
    b->static_used = next;
    b->static_declared = declared;
    return b->static_base + offset;
}

int pf_emu_smem_describe(const pf_emu_block *b, uintptr_t addr, char *out, size_t out_size)
{
    uintptr_t st = (uintptr_t)b->static_base, sg = (uintptr_t)b->static_guard;
    uintptr_t dy = (uintptr_t)b->dyn, dg = (uintptr_t)b->dyn_guard;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (addr >= sg && addr < sg + page) {
        const char *last = b->n_sites ? b->sites[b->n_sites - 1].site->name : "?";
        snprintf(out, out_size,
                 "shared-memory overrun: access past the static shared memory (%zu bytes; last array "
                 "'%s')",
                 b->static_declared, last);
        return 1;
    }
    if (addr >= dg && addr < dg + page) {
        snprintf(out, out_size,
                 "shared-memory overrun: access at byte offset %zu of the dynamic shared memory (%zu "
                 "bytes)",
                 (size_t)(addr - dy), b->launch ? b->launch->dyn_smem : 0);
        return 1;
    }
    (void)st;
    out[0] = '\0';
    return 0;
}
