/* Fiber context switch. On x86_64 a switch is a dozen instructions: push
 * the callee-saved registers and the FP control state, swap stack pointers,
 * pop. Everything else is caller-saved by the SysV ABI, so the C compiler
 * already spilled it around the call. */
#include "device/emu/emu_fiber.h"

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/pf_error.h"

int pf_emu_stack_alloc(pf_emu_stack *s, size_t size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size = (size + page - 1) / page * page;
    void *m = mmap(NULL, size + page, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (m == MAP_FAILED)
        return pf_error_set("emu: cannot map a %zu-byte fiber stack", size);
    if (mprotect(m, page, PROT_NONE) != 0) {
        munmap(m, size + page);
        return pf_error_set("emu: cannot protect a fiber stack guard page");
    }
    s->map = m;
    s->map_size = size + page;
    s->base = (char *)m + page;
    s->size = size;
    return 0;
}

void pf_emu_stack_free(pf_emu_stack *s)
{
    if (s->map)
        munmap(s->map, s->map_size);
    s->map = NULL;
}

#if defined(__x86_64__) && !defined(PF_EMU_FORCE_UCONTEXT)

/* void pf_emu_ctx_switch_asm(void **save_sp, void *load_sp) */
__asm__(".text\n"
        ".p2align 4\n"
        ".type pf_emu_ctx_switch_asm,@function\n"
        "pf_emu_ctx_switch_asm:\n"
        "  pushq %rbp\n"
        "  pushq %rbx\n"
        "  pushq %r12\n"
        "  pushq %r13\n"
        "  pushq %r14\n"
        "  pushq %r15\n"
        "  subq $8, %rsp\n"
        "  stmxcsr (%rsp)\n"
        "  fnstcw 4(%rsp)\n"
        "  movq %rsp, (%rdi)\n"
        "  movq %rsi, %rsp\n"
        "  ldmxcsr (%rsp)\n"
        "  fldcw 4(%rsp)\n"
        "  addq $8, %rsp\n"
        "  popq %r15\n"
        "  popq %r14\n"
        "  popq %r13\n"
        "  popq %r12\n"
        "  popq %rbx\n"
        "  popq %rbp\n"
        "  ret\n"
        ".size pf_emu_ctx_switch_asm, .-pf_emu_ctx_switch_asm\n"
        /* First entry of a fiber: r12 = arg, r13 = fn (set by ctx_init). */
        ".p2align 4\n"
        ".type pf_emu_fiber_start_asm,@function\n"
        "pf_emu_fiber_start_asm:\n"
        "  movq %r12, %rdi\n"
        "  callq *%r13\n"
        "  ud2\n"
        ".size pf_emu_fiber_start_asm, .-pf_emu_fiber_start_asm\n");

void pf_emu_ctx_switch_asm(void **save_sp, void *load_sp);
void pf_emu_fiber_start_asm(void);

void pf_emu_ctx_init(pf_emu_ctx *c, pf_emu_stack *s, void (*fn)(void *), void *arg)
{
    /* top is 16-byte aligned; after `ret` pops the start address rsp = top,
     * so the `call` in the start stub sees the ABI's alignment. */
    uintptr_t top = ((uintptr_t)s->base + s->size - 64) & ~(uintptr_t)15;
    uint64_t *sp = (uint64_t *)top;
    uint32_t fpstate[2];
    __asm__ volatile("stmxcsr %0" : "=m"(fpstate[0]));
    __asm__ volatile("fnstcw %0" : "=m"(fpstate[1]));
    *--sp = (uint64_t)(uintptr_t)pf_emu_fiber_start_asm; /* return address */
    *--sp = 0;                                             /* rbp */
    *--sp = 0;                                             /* rbx */
    *--sp = (uint64_t)(uintptr_t)arg;                      /* r12 */
    *--sp = (uint64_t)(uintptr_t)fn;                       /* r13 */
    *--sp = 0;                                             /* r14 */
    *--sp = 0;                                             /* r15 */
    *--sp = (uint64_t)fpstate[0] | ((uint64_t)(fpstate[1] & 0xffff) << 32);
    c->sp = sp;
}

void pf_emu_ctx_switch(pf_emu_ctx *from, pf_emu_ctx *to)
{
    pf_emu_ctx_switch_asm(&from->sp, to->sp);
}

#else /* ucontext fallback */

/* makecontext passes ints: fn and arg travel as 32-bit halves. */
static void pf_emu_ucontext_start(unsigned fh, unsigned fl, unsigned ah, unsigned al)
{
    void (*fn)(void *) = (void (*)(void *))(((uintptr_t)fh << 32) | fl);
    fn((void *)(((uintptr_t)ah << 32) | al));
}

void pf_emu_ctx_init(pf_emu_ctx *c, pf_emu_stack *s, void (*fn)(void *), void *arg)
{
    getcontext(&c->uc);
    c->uc.uc_stack.ss_sp = s->base;
    c->uc.uc_stack.ss_size = s->size;
    c->uc.uc_link = NULL;
    uintptr_t a = (uintptr_t)arg, f = (uintptr_t)fn;
    makecontext(&c->uc, (void (*)(void))pf_emu_ucontext_start, 4, (unsigned)(f >> 32), (unsigned)f,
                (unsigned)(a >> 32), (unsigned)a);
}

void pf_emu_ctx_switch(pf_emu_ctx *from, pf_emu_ctx *to)
{
    swapcontext(&from->uc, &to->uc);
}

#endif
