/* Shared by tests that run kernel files in kernels/test/: compile one for a target
 * ("emu", "sm_90", ...) and load it on a device. Failures are CHECKs that
 * name the file; returns NULL when nothing could be loaded. Include after
 * pf_test.h. */
#ifndef PF_TEST_KERNEL_H
#define PF_TEST_KERNEL_H

#include <stdio.h>
#include <string.h>

#include "device/device.h"
#include "jit/jit.h"
#include "core/pf_error.h"

static pf_module *pf_test_load_kernel(pf_device *dev, const char *target, const char *file)
{
    pf_variant v;
    pf_jit_result r;
    memset(&v, 0, sizeof v);
    snprintf(v.source, sizeof v.source, "%s/test/%s", pf_kernel_dir(), file);
    snprintf(v.target, sizeof v.target, "%s", target);
    if (pf_jit_compile(&v, &r) != 0) {
        CHECK_MSG(0, "%s %s: %s", target, file, pf_error_get());
        return NULL;
    }
    CHECK_MSG(r.valid, "%s %s: %s", target, file, r.log ? r.log : "");
    pf_module *m = NULL;
    if (r.valid)
        CHECK_MSG(pf_dev_module_load(dev, &r.bin, &m) == 0, "%s %s: %s", target, file,
                  pf_error_get());
    pf_jit_result_free(&r);
    return m;
}

#endif
