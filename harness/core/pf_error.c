#include "core/pf_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char pf_error_buf[PF_ERROR_MAX];

int pf_error_set(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pf_error_buf, sizeof pf_error_buf, fmt, ap);
    va_end(ap);
    return -1;
}

int pf_error_prefix(const char *fmt, ...)
{
    char head[PF_ERROR_MAX], old[PF_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, pf_error_buf, sizeof old);
    /* Truncation of an over-long message is acceptable. */
    size_t n = strlen(head);
    if (n > sizeof pf_error_buf - 3)
        n = sizeof pf_error_buf - 3;
    memcpy(pf_error_buf, head, n);
    memcpy(pf_error_buf + n, ": ", 2);
    size_t rest = sizeof pf_error_buf - n - 2;
    size_t m = strnlen(old, rest - 1);
    memcpy(pf_error_buf + n + 2, old, m);
    pf_error_buf[n + 2 + m] = '\0';
    return -1;
}

const char *pf_error_get(void) { return pf_error_buf; }

void pf_error_clear(void) { pf_error_buf[0] = '\0'; }
