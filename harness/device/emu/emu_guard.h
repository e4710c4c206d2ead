/* Guarded host allocations for the emu backend's device memory. Each buffer
 * gets its own mapping: a guard page, then the data placed so that its
 * 16-byte-rounded end abuts a trailing guard page. Accesses past either
 * guard fault (caught by emu_fault.c and named by pf_emu_guard_describe);
 * the few bytes of rounding slack after the end and a band before the start
 * hold a canary that pf_emu_guard_check_all verifies after each launch. */
#ifndef PF_EMU_GUARD_H
#define PF_EMU_GUARD_H

#include <stddef.h>
#include <stdint.h>

int pf_emu_guard_alloc(size_t bytes, const char *label, void **out);
int pf_emu_guard_free(void *p);
/* Is [p, p+n) inside one live allocation? -1 with a message naming the
 * buffer (or "not an emu allocation") otherwise. */
int pf_emu_guard_range(const void *p, size_t n, const char *what);
/* Verify every live allocation's canaries; -1 with a message naming the
 * first damaged buffer (prefixed by `who`), canaries then restored. */
int pf_emu_guard_check_all(const char *who);
/* Name the allocation holding addr: "global buffer 'label' (N bytes) at
 * byte offset X"; 0 (and "") if none. */
int pf_emu_guard_label(uintptr_t addr, char *out, size_t out_size);
/* Describe a faulting address near an allocation; 0 (and "") if none. */
int pf_emu_guard_describe(uintptr_t addr, char *out, size_t out_size);

#endif
