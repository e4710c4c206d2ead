/* Atomic file writes: the one way pftune writes a file a user or another
 * process may read (results, tensors, cache entries).
 *
 * Data goes to a temporary file beside the target (created exclusively),
 * is fsync'd, renamed over the target, and the directory is fsync'd so the
 * rename survives a crash. On any failure the temporary file is removed and
 * the target is left as it was: a reader sees the old file or the new one,
 * never a torn one. */
#ifndef PF_ATOMIC_FILE_H
#define PF_ATOMIC_FILE_H

#include <stddef.h>
#include <sys/types.h>

typedef struct pf_atomic_file {
    int fd;
    int failed;      /* a put failed: commit refuses */
    char *path, *tmp;
} pf_atomic_file;

/* Open a temporary file beside `path` with permissions `mode` (e.g. 0644).
 * 0 / -1 (pf_error set, nothing left behind). */
int pf_atomic_open(pf_atomic_file *f, const char *path, mode_t mode);
/* Append bytes. 0 / -1; after a failure only abort is useful. */
int pf_atomic_put(pf_atomic_file *f, const void *data, size_t n);
/* fsync, rename over the target, fsync the directory, release. 0 / -1 (on
 * failure the temporary file is removed). */
int pf_atomic_commit(pf_atomic_file *f);
/* Drop the temporary file and release (safe after a failed open/commit). */
void pf_atomic_abort(pf_atomic_file *f);

/* All of the above for one buffer. */
int pf_atomic_write(const char *path, const void *data, size_t n, mode_t mode);

#endif
