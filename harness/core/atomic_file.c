/* Atomic file writes (see atomic_file.h). */
#include "core/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/pf_error.h"

static void release(pf_atomic_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    free(f->path);
    free(f->tmp);
    f->fd = -1;
    f->path = f->tmp = NULL;
}

int pf_atomic_open(pf_atomic_file *f, const char *path, mode_t mode)
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
    size_t len = strlen(path) + 16;
    f->path = strdup(path);
    f->tmp = malloc(len);
    if (!f->path || !f->tmp) {
        release(f);
        return pf_error_set("%s: out of memory", path);
    }
    snprintf(f->tmp, len, "%s.tmp.XXXXXX", path);
    /* mkstemp creates the file exclusively (O_EXCL) with mode 0600. */
    f->fd = mkstemp(f->tmp);
    if (f->fd < 0) {
        int e = errno;
        release(f);
        return pf_error_set("%s: cannot create a temporary file beside it: %s", path, strerror(e));
    }
    if (fchmod(f->fd, mode) != 0) {
        int e = errno;
        pf_atomic_abort(f);
        return pf_error_set("%s: cannot set mode %o: %s", path, (unsigned)mode, strerror(e));
    }
    return 0;
}

int pf_atomic_put(pf_atomic_file *f, const void *data, size_t n)
{
    const char *p = data;
    while (n > 0 && !f->failed) {
        ssize_t w = write(f->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            f->failed = 1;
            return pf_error_set("%s: write failed: %s", f->path,
                                w < 0 ? strerror(errno) : "no progress");
        }
        p += w;
        n -= (size_t)w;
    }
    return f->failed ? pf_error_set("%s: an earlier write failed", f->path) : 0;
}

/* fsync of the directory makes the rename itself durable. */
static int sync_parent_dir(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return pf_error_set("out of memory");
    int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    int rc = 0;
    if (dfd < 0 || fsync(dfd) != 0)
        rc = pf_error_set("%s: cannot sync its directory: %s", path, strerror(errno));
    if (dfd >= 0)
        close(dfd);
    free(copy);
    return rc;
}

int pf_atomic_commit(pf_atomic_file *f)
{
    if (f->failed) {
        pf_atomic_abort(f);
        return pf_error_set("not committed: an earlier write failed");
    }
    if (fsync(f->fd) != 0 || close(f->fd) != 0) {
        int e = errno;
        f->fd = -1;
        pf_error_set("%s: cannot flush to disk: %s", f->path, strerror(e));
        pf_atomic_abort(f);
        return -1;
    }
    f->fd = -1;
    if (rename(f->tmp, f->path) != 0) {
        int e = errno;
        pf_error_set("%s: cannot rename the temporary file over it: %s", f->path, strerror(e));
        pf_atomic_abort(f);
        return -1;
    }
    int rc = sync_parent_dir(f->path);
    release(f);
    return rc;
}

void pf_atomic_abort(pf_atomic_file *f)
{
    if (f->tmp)
        unlink(f->tmp);
    release(f);
}

int pf_atomic_write(const char *path, const void *data, size_t n, mode_t mode)
{
    pf_atomic_file f;
    if (pf_atomic_open(&f, path, mode))
        return -1;
    if (pf_atomic_put(&f, data, n)) {
        pf_atomic_abort(&f);
        return -1;
    }
    return pf_atomic_commit(&f);
}
