/* The cache directory: created 0700, and refused (ssh-style) when anyone but
 * the user could have written into it or could swap it for another one. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jit/jit_internal.h"
#include "core/pf_error.h"

/* A parent is safe when only the user (or root) can rename entries in it:
 * not writable by others (or group, for a private cache) unless sticky. */
static const char *parent_problem(const struct stat *sb, pf_trust t, char *why, size_t size)
{
    uid_t me = geteuid();
    int sticky = (sb->st_mode & S_ISVTX) != 0;
    unsigned mode = (unsigned)(sb->st_mode & 07777);
    if (t == PF_TRUST_PRIVATE && sb->st_uid != me && sb->st_uid != 0)
        snprintf(why, size, "owned by uid %u", (unsigned)sb->st_uid);
    else if ((sb->st_mode & S_IWOTH) && !sticky)
        snprintf(why, size, "writable by others (mode %04o)", mode);
    else if (t == PF_TRUST_PRIVATE && (sb->st_mode & S_IWGRP) && !sticky)
        snprintf(why, size, "writable by its group (mode %04o)", mode);
    else
        return NULL;
    return why;
}

/* 0 if `dir` (an existing directory) and its parents pass `t`; else -1 with
 * the one-line refusal and its fix. */
static int check_dir(const char *dir, pf_trust t)
{
    struct stat sb;
    char why[96];
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return pf_error_set("cache directory '%s' is not a directory", dir);
    if (pf_trust_problem(&sb, t, why, sizeof why)) {
        if (sb.st_uid == geteuid())
            return pf_error_set("cache directory '%s' is %s: chmod 700 %s, or use another "
                                "--cache-dir, or --no-cache", dir, why, dir);
        return pf_error_set("cache directory '%s' is %s: use a directory of your own "
                            "(--cache-dir), or --no-cache", dir, why);
    }
    char real[PATH_MAX];
    if (!realpath(dir, real))
        return pf_error_set("cache directory '%s': %s", dir, strerror(errno));
    for (char *slash = strrchr(real, '/'); slash; slash = strrchr(real, '/')) {
        slash[slash == real] = '\0'; /* "/a/b" -> "/a", "/a" -> "/" */
        if (stat(real, &sb) == 0 && parent_problem(&sb, t, why, sizeof why))
            return pf_error_set("cache directory '%s' is inside '%s', which is %s: use "
                                "another --cache-dir, or --no-cache", dir, real, why);
        if (slash == real)
            break;
    }
    return 0;
}

int pf_jit_dir_trusted(const char *dir, pf_trust t)
{
    char saved[PF_ERROR_MAX];
    snprintf(saved, sizeof saved, "%s", pf_error_get());
    int ok = check_dir(dir, t) == 0;
    pf_error_set("%s", saved);
    return ok;
}

int pf_jit_ensure_dir(const char *dir, pf_trust t)
{
    char path[1024];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return pf_error_set("cache directory path too long");
    for (char *p = path + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(path, 0700) != 0 && errno != EEXIST)
                return pf_error_set("cannot create cache directory '%s': %s", path,
                                    strerror(errno));
            *p = c;
            if (!c)
                break;
        }
    }
    if (check_dir(dir, t) != 0)
        return -1;
    if (access(dir, W_OK | X_OK) != 0)
        return pf_error_set("cache directory '%s' is not writable: %s", dir, strerror(errno));
    return 0;
}
