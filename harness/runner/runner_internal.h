/* The runner's wire protocol and worker start-up, shared by the parent
 * (runner.c) and the child side (runner_worker.c).
 *
 * One SOCK_STREAM socketpair per worker. Parent -> child: an int32 item
 * index per message; closing the socket tells the worker to finish. Child
 * -> parent: a frame header, then `payload` record bytes. The first frame
 * is READY or INIT_FAILED; each RESULT also means "ready for the next". */
#ifndef PF_RUNNER_INTERNAL_H
#define PF_RUNNER_INTERNAL_H

#include <stdint.h>
#include <sys/types.h>

#include "core/pf_error.h"
#include "runner/runner.h"

enum { PF_RUNNER_READY = 1, PF_RUNNER_INIT_FAILED, PF_RUNNER_RESULT };

typedef struct pf_runner_frame {
    int32_t kind;
    int32_t index;
    int32_t status;                 /* pf_status */
    uint32_t payload;               /* record bytes that follow (RESULT only) */
    char message[PF_ERROR_MAX];
} pf_runner_frame;

/* Fork a worker running cfg's callbacks. The child closes `close_fds` (the
 * parent's sockets to the other workers, so their EOF reaches them) and
 * sets PFTUNE_EMU_THREADS=emu_threads unless set. Returns 0 with the pid
 * and the parent's end of the socket (non-blocking), or -1. */
int pf_runner_spawn(const pf_runner_config *cfg, int worker, const char *emu_threads,
                    const int *close_fds, int n_close, pid_t *pid, int *fd);

#endif
