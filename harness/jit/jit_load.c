/* Compile for a device and load (see jit_load.h). */
#include "jit/jit_load.h"

#include <stdio.h>
#include <string.h>

#include "core/pf_error.h"
#include "device/arch.h"

int pf_jit_device_target(pf_device *dev, char *out, size_t size)
{
    pf_device_props pr;
    if (pf_dev_props(dev, &pr))
        return -1;
    if (pr.kind == PF_BACKEND_EMU) {
        snprintf(out, size, "emu");
        return 0;
    }
    /* a cubin of the nearest older arch runs on a newer minor revision */
    return pf_device_arch(dev, out, size);
}

int pf_jit_load(pf_device *dev, pf_variant *v, const char *what, pf_module **out,
                pf_jit_loaded *info)
{
    *out = NULL;
    if (pf_jit_device_target(dev, v->target, sizeof v->target))
        return pf_error_prefix("%s", what);
    pf_jit_result jr;
    memset(&jr, 0, sizeof jr);
    if (pf_jit_compile(v, &jr))
        return pf_error_prefix("%s: compile", what);
    if (!jr.valid) {
        const char *log = jr.log ? jr.log : "";
        const char *nl = strchr(log, '\n');
        pf_error_set("%s failed to compile for %s: %.*s", what, v->target,
                     nl ? (int)(nl - log) : (int)strlen(log), log);
        pf_jit_result_free(&jr);
        return -1;
    }
    if (info) {
        snprintf(info->target, sizeof info->target, "%s", v->target);
        info->from_cache = jr.from_cache;
        info->compile_ms = jr.compile_ms;
        info->res = jr.res;
    }
    int rc = pf_dev_module_load(dev, &jr.bin, out);
    pf_jit_result_free(&jr);
    return rc;
}
