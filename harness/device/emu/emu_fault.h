/* Faults inside emu kernels (SIGSEGV, SIGBUS, SIGFPE) become launch errors.
 * A worker arms a sigjmp_buf around each block; the handler (on an
 * alternate signal stack, since the fault may be a fiber stack overflow)
 * records the signal and address and siglongjmp's back to the worker, which
 * names the buffer and thread. The process stays sane because the fibers
 * of the failed block are simply abandoned (they own no locks or heap
 * state); limits: a fault while the kernel is inside libc (e.g. holding
 * malloc's lock) could leave that lock taken. Faults on threads that are
 * not running a block are passed on to the previous handler. */
#ifndef PF_EMU_FAULT_H
#define PF_EMU_FAULT_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pf_emu_fault {
    int sig;
    uintptr_t addr;
} pf_emu_fault;

/* Install the process-wide handler (once) and this thread's altstack. */
int pf_emu_fault_thread_init(void);
/* Arm/disarm this thread: while armed, a fault jumps to `jb` with
 * sigsetjmp's value 1 and fills *fault. [stack_bottom, +stack_size) is the
 * stack `jb` lives on (ASan is told about the switch back to it). */
void pf_emu_fault_arm(sigjmp_buf *jb, pf_emu_fault *fault, const void *stack_bottom, size_t stack_size);
void pf_emu_fault_disarm(void);

#endif
