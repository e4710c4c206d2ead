/* One error convention for all of pftune: functions return 0 on success and
 * -1 on failure after recording a one-line message with pf_error_set().
 * The message lives in thread-local storage so worker threads do not clobber
 * each other; callers that hand work across threads copy it out. */
#ifndef PF_ERROR_H
#define PF_ERROR_H

#include <stddef.h>

#define PF_ERROR_MAX 1024

#if defined(__GNUC__)
#define PF_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define PF_PRINTF(a, b)
#endif

/* Record a message (printf-style); always returns -1 so callers can
 * `return pf_error_set(...)`. */
int pf_error_set(const char *fmt, ...) PF_PRINTF(1, 2);
/* Prefix the current message with "ctx: " (for adding call-site context). */
int pf_error_prefix(const char *fmt, ...) PF_PRINTF(1, 2);
/* The last message recorded on this thread ("" if none). */
const char *pf_error_get(void);
void pf_error_clear(void);

#endif
