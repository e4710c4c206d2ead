/* Buffer and source-line names for the checkers' reports. Symbolizing runs
 * only when a report is made, with addr2line on the kernel's shared object
 * (TSan's in-process symbolizer, libbacktrace in GCC, only knows the
 * modules loaded before its first use). */
#define _GNU_SOURCE
#include "device/emu/emu_describe.h"
#include "device/emu/emu_dlopen.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "device/emu/emu_guard.h"


void pf_emu_describe_addr(const pf_emu_block *b, uintptr_t addr, char *out, size_t out_size)
{
    for (int i = 0; i < b->n_sites; i++) {
        const pf_emu_smem_entry *e = &b->sites[i];
        uintptr_t lo = (uintptr_t)b->static_base + e->offset;
        if (addr >= lo && addr < lo + e->bytes) {
            snprintf(out, out_size, "__shared__ array '%s' (%s:%d, %zu bytes) at byte offset %zu",
                     e->site->name, e->site->file, e->site->line, e->bytes, (size_t)(addr - lo));
            return;
        }
    }
    uintptr_t dy = (uintptr_t)b->dyn;
    if (b->launch && addr >= dy && addr < dy + b->launch->dyn_smem) {
        snprintf(out, out_size, "dynamic shared memory (%zu bytes) at byte offset %zu", b->launch->dyn_smem,
                 (size_t)(addr - dy));
        return;
    }
    if (pf_emu_guard_label(addr, out, out_size))
        return;
    snprintf(out, out_size, "address 0x%llx", (unsigned long long)addr);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* "path:line" from addr2line, or 0. */
static int addr2line(const char *so, uintptr_t offset, char *out, size_t out_size)
{
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "addr2line -e '%s' 0x%llx 2>/dev/null", so, (unsigned long long)offset);
    FILE *p = popen(cmd, "r");
    if (!p)
        return 0;
    char line[1024];
    int ok = fgets(line, sizeof line, p) != NULL;
    pclose(p);
    if (!ok || line[0] == '?')
        return 0;
    line[strcspn(line, " \n")] = '\0';
    snprintf(out, out_size, "%s", base_name(line));
    return 1;
}

void pf_emu_symbolize(void *pc, char *out, size_t out_size)
{
    if (!pc) {
        snprintf(out, out_size, "?");
        return;
    }
    void *at = (char *)pc - 1; /* a return address: the call's line */
    Dl_info info;
    if (dladdr(at, &info) && info.dli_fname) {
        uintptr_t off = (uintptr_t)at - (uintptr_t)info.dli_fbase;
        /* kernels are loaded through /proc/self/fd paths: use the real file */
        const char *file = pf_emu_module_path(info.dli_fbase);
        if (!file)
            file = info.dli_fname;
        if (!addr2line(file, off, out, out_size))
            snprintf(out, out_size, "%s+0x%llx", base_name(file), (unsigned long long)off);
        return;
    }
    snprintf(out, out_size, "%p", pc);
}
