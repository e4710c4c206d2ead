/* Status names (see status.h). */
#include "core/status.h"

#include <string.h>

static const char *const names[PF_STATUS_COUNT] = {
    "ok", "invalid", "compile_failed", "verify_failed", "runtime_failed", "crashed", "timeout",
};

const char *pf_status_name(pf_status s)
{
    return (unsigned)s < PF_STATUS_COUNT ? names[s] : "?";
}

int pf_status_parse(const char *name)
{
    for (int i = 0; i < PF_STATUS_COUNT; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}
