/* Trust checks on files and directories (see file_trust.h). */
#include "core/file_trust.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/pf_error.h"

const char *pf_trust_problem(const struct stat *sb, pf_trust t, char *why, size_t why_size)
{
    uid_t me = geteuid();
    unsigned mode = (unsigned)(sb->st_mode & 07777);
    if (t == PF_TRUST_PRIVATE && sb->st_uid != me)
        snprintf(why, why_size, "owned by uid %u, not you (uid %u)", (unsigned)sb->st_uid,
                 (unsigned)me);
    else if (sb->st_mode & S_IWOTH)
        snprintf(why, why_size, "writable by others (mode %04o)", mode);
    else if (t == PF_TRUST_PRIVATE && (sb->st_mode & S_IWGRP))
        snprintf(why, why_size, "writable by its group (mode %04o)", mode);
    else
        return NULL;
    return why;
}

int pf_open_trusted(const char *path, pf_trust t)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        if (e == ELOOP) { /* O_NOFOLLOW met a symlink */
            pf_error_set("'%s' is a symbolic link (not followed)", path);
            e = EPERM;
        } else {
            pf_error_set("cannot open '%s': %s", path, strerror(e));
        }
        errno = e;
        return -1;
    }
    struct stat sb;
    char why[96];
    const char *bad = NULL;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        pf_error_set("cannot stat '%s': %s", path, strerror(e));
        errno = e;
        return -1;
    }
    if (!S_ISREG(sb.st_mode))
        bad = "not a regular file";
    else
        bad = pf_trust_problem(&sb, t, why, sizeof why);
    if (bad) {
        close(fd);
        pf_error_set("'%s' is %s", path, bad);
        errno = EPERM;
        return -1;
    }
    /* O_NONBLOCK only kept a planted FIFO from blocking the open. */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}
