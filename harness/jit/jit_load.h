/* Compile a kernel for a device and load it: the device decides the target
 * ("emu" on the emu backend, else its arch from device/arch.h), the caller
 * gives the source and defines. */
#ifndef PF_JIT_LOAD_H
#define PF_JIT_LOAD_H

#include <stddef.h>

#include "device/device.h"
#include "jit/jit.h"

/* What the compile of a loaded kernel reports. */
typedef struct pf_jit_loaded {
    char target[16];
    int from_cache;
    double compile_ms;
    pf_resources res; /* cuda targets; zeros on emu */
} pf_jit_loaded;

/* The JIT target for dev: "emu" or "sm_XX". */
int pf_jit_device_target(pf_device *dev, char *out, size_t size);

/* Set v->target to dev's, compile v and load it on dev into *out. A variant
 * that does not compile is an error "<what> failed to compile for <target>:
 * <first log line>". info may be NULL. */
int pf_jit_load(pf_device *dev, pf_variant *v, const char *what, pf_module **out,
                pf_jit_loaded *info);

#endif
