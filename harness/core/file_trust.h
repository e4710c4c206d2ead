/* May pftune trust a file or directory it is about to run, load or read
 * compiled code from? The rules are ssh's for ~/.ssh: whoever else can write
 * to it could have put code there.
 *
 * PF_TRUST_PRIVATE: owned by the effective user, not writable by group or
 *   others.
 * PF_TRUST_SHARED: any owner, writable by the group but not by others (an
 *   explicitly shared cache of GPU binaries; never used for host code). */
#ifndef PF_FILE_TRUST_H
#define PF_FILE_TRUST_H

#include <stddef.h>
#include <sys/stat.h>

typedef enum pf_trust { PF_TRUST_PRIVATE, PF_TRUST_SHARED } pf_trust;

/* NULL if `sb` passes `t`; else what is wrong, written into `why`
 * ("owned by uid 65534, not you (uid 1000)", "writable by others (mode 1777)"). */
const char *pf_trust_problem(const struct stat *sb, pf_trust t, char *why, size_t why_size);

/* Open `path` read-only without following a symlink, then check the open
 * file (fstat: regular file, pf_trust_problem), so what is checked is what
 * is read or dlopen'd. Returns the fd (O_CLOEXEC), or -1 with pf_error set
 * and errno ENOENT (missing), EPERM (not trusted: a symlink, not a regular
 * file, foreign owner, writable by others) or the open error. */
int pf_open_trusted(const char *path, pf_trust t);

#endif
