/* The monotonic clock, in seconds, for deadlines and elapsed times on the
 * host (never for GPU numbers: those come from the measure layer). */
#ifndef PF_CLOCK_H
#define PF_CLOCK_H

#include <time.h>

static inline double pf_clock_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif
