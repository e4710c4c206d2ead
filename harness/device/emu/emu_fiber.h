/* Fiber contexts: a hand-written x86_64 switch (callee-saved registers,
 * mxcsr and the x87 control word; no syscalls) with ucontext as the fallback
 * on other architectures. Stacks are mmap'd with a guard page below. */
#ifndef PF_EMU_FIBER_H
#define PF_EMU_FIBER_H

#include <stddef.h>

#if !defined(__x86_64__) || defined(PF_EMU_FORCE_UCONTEXT)
#include <ucontext.h>
#endif

typedef struct pf_emu_ctx {
#if defined(__x86_64__) && !defined(PF_EMU_FORCE_UCONTEXT)
    void *sp;
#else
    ucontext_t uc;
#endif
} pf_emu_ctx;

typedef struct pf_emu_stack {
    void *map;       /* guard page + usable stack */
    size_t map_size;
    void *base;      /* lowest usable address (just above the guard) */
    size_t size;     /* usable bytes */
} pf_emu_stack;

int pf_emu_stack_alloc(pf_emu_stack *s, size_t size);
void pf_emu_stack_free(pf_emu_stack *s);

/* Prepare `c` to run fn(arg) on `s` when first switched to. fn must never
 * return (it switches away for the last time instead). */
void pf_emu_ctx_init(pf_emu_ctx *c, pf_emu_stack *s, void (*fn)(void *), void *arg);
/* Save the current context in `from` and resume `to`. */
void pf_emu_ctx_switch(pf_emu_ctx *from, pf_emu_ctx *to);

#endif
