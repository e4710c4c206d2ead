/* Fault handler for emu kernels (see emu_fault.h). */
#define _GNU_SOURCE
#include "device/emu/emu_fault.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"

#include "device/emu/emu_asan.h"
#include "device/emu/emu_race.h"

static const int handled[] = {SIGSEGV, SIGBUS, SIGFPE};
#define N_HANDLED 3
static struct sigaction previous[N_HANDLED];
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static int install_rc;

static __thread sigjmp_buf *armed_jb;
static __thread pf_emu_fault *armed_fault;
static __thread void *altstack;
static __thread const void *armed_stack_bottom;
static __thread size_t armed_stack_size;

static void chain(int sig, siginfo_t *info, void *uc)
{
    for (int i = 0; i < N_HANDLED; i++) {
        if (handled[i] != sig)
            continue;
        const struct sigaction *p = &previous[i];
        if (p->sa_flags & SA_SIGINFO) {
            if (p->sa_sigaction) {
                p->sa_sigaction(sig, info, uc);
                return;
            }
        } else if (p->sa_handler != SIG_DFL && p->sa_handler != SIG_IGN) {
            p->sa_handler(sig);
            return;
        }
        /* default action: reinstall it; the faulting instruction re-runs */
        signal(sig, SIG_DFL);
        return;
    }
}

static void on_fault(int sig, siginfo_t *info, void *uc)
{
    sigjmp_buf *jb = armed_jb;
    if (!jb) {
        chain(sig, info, uc);
        return;
    }
    armed_jb = NULL;
    armed_fault->sig = sig;
    armed_fault->addr = (uintptr_t)info->si_addr;
#ifdef PF_EMU_ASAN
    /* leaving a fiber for the worker's stack; finished after the jump */
    __sanitizer_start_switch_fiber(NULL, armed_stack_bottom, armed_stack_size);
#endif
    pf_emu_race_to_sched(); /* TSan too: the jump buffer is the worker's */
    siglongjmp(*jb, 1);
}

static void install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < N_HANDLED; i++)
        if (sigaction(handled[i], &sa, &previous[i]) != 0)
            install_rc = -1;
}

int pf_emu_fault_thread_init(void)
{
    pthread_once(&install_once, install);
    if (install_rc != 0)
        return pf_error_set("emu: cannot install the fault handler");
    if (altstack)
        return 0;
    size_t size = 64 * 1024;
    altstack = malloc(size);
    if (!altstack)
        return pf_error_set("emu: out of memory for a signal stack");
    stack_t ss;
    memset(&ss, 0, sizeof ss);
    ss.ss_sp = altstack;
    ss.ss_size = size;
    if (sigaltstack(&ss, NULL) != 0)
        return pf_error_set("emu: sigaltstack failed");
    return 0;
}

void pf_emu_fault_arm(sigjmp_buf *jb, pf_emu_fault *fault, const void *stack_bottom, size_t stack_size)
{
    armed_stack_bottom = stack_bottom;
    armed_stack_size = stack_size;
    armed_fault = fault;
    armed_jb = jb;
}

void pf_emu_fault_disarm(void)
{
    armed_jb = NULL;
}
