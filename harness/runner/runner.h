/* The parallel runner: work items 0..n-1 run in forked worker processes
 * and come back as fixed-size records, one callback per item in the parent
 * as results arrive. The parent hands out the items itself, so it always
 * knows which item each worker holds: a worker that dies (signal, exit)
 * has its item recorded as PF_STATUS_CRASHED, one that overruns the
 * per-item timeout is SIGKILLed and its item recorded as PF_STATUS_TIMEOUT;
 * either way the worker is replaced and the run goes on.
 *
 * Workers never share a device with the parent: CUDA contexts do not
 * survive fork, so `init` opens whatever a worker needs in the child. */
#ifndef PF_RUNNER_H
#define PF_RUNNER_H

#include <stddef.h>

#include "core/status.h"

/* One finished item, as the parent sees it. */
typedef struct pf_runner_result {
    int index;
    pf_status status;
    /* Non-ok statuses: the item's pf_error message, or what happened to its
     * worker ("its worker died of signal 11 (Segmentation fault)"). */
    const char *message;
    /* record_size bytes the item callback filled; all zero when the item
     * crashed or timed out. Valid during the callback only. */
    const void *record;
} pf_runner_result;

typedef struct pf_runner_config {
    /* Worker processes; 0 runs everything in this process, in order (no
     * isolation, no timeout: for debugging and for devices that must stay
     * in the caller). */
    int workers;
    /* Per-item limit in seconds of wall time; 0 = none. Needs workers. A
     * worker's start-up (init) gets max(timeout_s, 60 s). */
    double timeout_s;
    size_t record_size;  /* bytes per result record; any size */
    void *ctx;           /* passed to every callback (each child has a copy) */

    /* In each worker, once, before its first item (e.g. open the device).
     * `worker` is the worker's slot, 0..workers-1 (a replacement keeps its
     * slot, so one worker per device stays on its device; 0 in-process).
     * 0, or -1 with pf_error set: that worker never takes an item. */
    int (*init)(void *ctx, int worker);
    /* In each worker after its last item (may be NULL). */
    void (*fini)(void *ctx);
    /* Runs item `index`: fills `record` (zeroed before the call) and returns
     * its status; for a non-ok status pf_error holds the message. */
    pf_status (*item)(void *ctx, int index, void *record);
    /* In the parent, once per item, in arrival order. */
    void (*done)(void *ctx, const pf_runner_result *r);
    /* Optional, in the parent: the source of items (a search strategy).
     * Called whenever a worker is free; returns an index in 0..n_items-1
     * (each at most once) or -1 when there are no more. The run ends when
     * it has returned -1 and every item it gave is done. NULL: items
     * 0..n_items-1 in order. */
    int (*next)(void *ctx);
} pf_runner_config;

/* Runs items 0..n_items-1 (or those `next` gives); `done` is called exactly
 * once for each. Returns
 * 0, or -1 with pf_error set when no worker could start (then the message
 * is the first init failure) or the pool itself failed (fork, socket).
 * With workers > 0 every child gets PFTUNE_EMU_THREADS = cores / workers
 * (unless already set) so the emu backend's block threads share the cores. */
int pf_runner_run(const pf_runner_config *cfg, int n_items);

#endif
