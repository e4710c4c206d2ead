/* Shared by tests that run kernel files in kernels/test/: compile one for a target
 * ("emu", "sm_90", ...) and load it on a device; check that files compile
 * with NVRTC. Failures are CHECKs that
 * name the file; returns NULL when nothing could be loaded. Include after
 * pf_test.h. */
#ifndef PF_TEST_KERNEL_H
#define PF_TEST_KERNEL_H

#include <stdio.h>
#include <string.h>

#include "device/device.h"
#include "jit/jit.h"
#include "core/pf_error.h"

static inline pf_module *pf_test_load_kernel(pf_device *dev, const char *target, const char *file)
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

/* Each kernels/<dir>/<file>.cu compiles with NVRTC for sm_80 and sm_90 (no
 * GPU needed). */
static inline void pf_test_check_nvrtc(const char *dir, const char *const *files, int n)
{
    const char *archs[] = {"sm_80", "sm_90"};
    for (int a = 0; a < 2; a++)
        for (int i = 0; i < n; i++) {
            pf_variant v;
            pf_jit_result r;
            memset(&v, 0, sizeof v);
            snprintf(v.source, sizeof v.source, "%s/%s/%s.cu", pf_kernel_dir(), dir, files[i]);
            snprintf(v.target, sizeof v.target, "%s", archs[a]);
            int rc = pf_jit_compile(&v, &r);
            CHECK_MSG(rc == 0 && r.valid, "%s %s: %s", archs[a], files[i],
                      rc ? pf_error_get() : (r.log ? r.log : ""));
            if (rc == 0)
                pf_jit_result_free(&r);
        }
}

#endif
