/* Strings from input files (JSON keys, tensor names) as they may appear in a
 * one-line error message: at most n-1 bytes, control characters as '?'. */
#ifndef PF_MSG_CLEAN_H
#define PF_MSG_CLEAN_H

#include <stddef.h>

static inline const char *pf_msg_clean(const char *s, char *buf, size_t n)
{
    size_t i = 0;
    for (; s && s[i] && i + 1 < n; i++)
        buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    buf[i] = 0;
    return buf;
}

#endif
