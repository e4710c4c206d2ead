/* UTC ISO 8601 timestamps (see iso_time.h). */
#include "core/iso_time.h"

#include <time.h>

void pf_iso_time_now(char *out, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
