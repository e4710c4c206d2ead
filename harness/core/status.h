/* The outcome of one measured point (a kernel variant on a problem), shared
 * by check, the runner, the tuner and every results file. The names are the
 * strings written to JSON; readers match on them. */
#ifndef PF_STATUS_H
#define PF_STATUS_H

typedef enum pf_status {
    PF_STATUS_OK = 0,         /* ran and verified */
    PF_STATUS_INVALID,        /* refused by the variant's validity rules */
    PF_STATUS_COMPILE_FAILED, /* NVRTC / host compiler error */
    PF_STATUS_VERIFY_FAILED,  /* ran, but the output differs from the reference */
    PF_STATUS_RUNTIME_FAILED, /* a launch, copy or allocation failed */
    PF_STATUS_CRASHED,        /* its worker process died (signal, early exit) */
    PF_STATUS_TIMEOUT,        /* its worker exceeded the per-item time limit */
    PF_STATUS_COUNT
} pf_status;

/* "ok", "invalid", "compile_failed", ... ("?" for out-of-range values). */
const char *pf_status_name(pf_status s);
/* Inverse of pf_status_name; -1 for an unknown name. */
int pf_status_parse(const char *name);

#endif
