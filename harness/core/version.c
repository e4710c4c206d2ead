/* Version strings (see version.h). */
#include "core/version.h"

#include <stdio.h>

static char full[128] = PF_VERSION " (unknown revision)";

void pf_version_set_revision(const char *rev)
{
    snprintf(full, sizeof full, "%s (%s)", PF_VERSION, rev);
}

const char *pf_version(void)
{
    return PF_VERSION;
}

const char *pf_version_full(void)
{
    return full;
}
