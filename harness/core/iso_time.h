/* The one format outputs record wall-clock times in: UTC ISO 8601,
 * "2025-05-01T12:00:00Z" (results meta, the Slurm job record). */
#ifndef PF_ISO_TIME_H
#define PF_ISO_TIME_H

#include <stddef.h>

/* The current time into out (n >= 21). */
void pf_iso_time_now(char *out, size_t n);

#endif
