/* Device selection: "auto", "cuda", "cuda:N", "emu" -> a backend. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "device/device.h"
#include "core/pf_error.h"

#define PF_DEVICE_FORMS "auto, cuda, cuda:N (N = GPU ordinal), emu, emu:sm_XX (arch to mimic)"
#define PF_EMU_DEFAULT_ARCH "sm_90"

static int parse_ordinal(const char *text, int *out)
{
    if (!*text || *text == '-' || *text == '+')
        return -1;
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || v < 0 || v > 1023)
        return -1;
    *out = (int)v;
    return 0;
}

int pf_device_open(const char *which, pf_device **out)
{
    *out = NULL;
    if (!which || strcmp(which, "auto") == 0) {
        char why[PF_ERROR_MAX];
        if (pf_cuda_device_count(why, sizeof why) > 0)
            return pf_cuda_open(0, out);
        return pf_emu_open(PF_EMU_DEFAULT_ARCH, out);
    }
    if (strcmp(which, "emu") == 0)
        return pf_emu_open(PF_EMU_DEFAULT_ARCH, out);
    if (strncmp(which, "emu:", 4) == 0)
        return pf_emu_open(which + 4, out);
    if (strcmp(which, "cuda") == 0)
        return pf_cuda_open(0, out);
    if (strncmp(which, "cuda:", 5) == 0) {
        int ordinal;
        if (parse_ordinal(which + 5, &ordinal))
            return pf_error_set("device '%s': bad GPU ordinal (valid forms: %s)", which,
                                PF_DEVICE_FORMS);
        return pf_cuda_open(ordinal, out);
    }
    return pf_error_set("unknown device '%s' (valid forms: %s)", which, PF_DEVICE_FORMS);
}

void pf_device_close(pf_device *dev)
{
    if (dev)
        pf_device_ops(dev)->close(dev);
}
