/* On-disk JIT cache.
 *
 * One entry per key: <dir>/<key>.entry, laid out as
 *   "PFJITE01" | u64 body_len | u64 xxh3_64(body) | body
 * where the body is a list of records (u32 tag, u32 len, bytes). The checksum
 * covers every byte after the header, so a truncated or corrupted entry is
 * detected and rebuilt. An emu entry names its shared object
 * (<dir>/<key>-<hash>.so) and stores that file's size and xxh3-64; the .so is
 * verified before use. Files are written to a temp file in the same directory,
 * fsync'd and renamed, so concurrent processes only ever see whole files.
 *
 * The checksum catches damage, not tampering: what keeps planted code out is
 * that every file is opened without following symlinks and checked on the
 * open fd (owner, mode: core/file_trust.h) before a byte of it is used. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "jit/jit_internal.h"
#include "core/atomic_file.h"
#include "core/pf_error.h"

static const char MAGIC[8] = {'P', 'F', 'J', 'I', 'T', 'E', '0', '1'};
#define HEADER_SIZE 24

enum { TAG_KEY = 1, TAG_VALID, TAG_RES, TAG_LOG, TAG_CUBIN, TAG_PTX, TAG_SO_NAME, TAG_SO_SIZE,
       TAG_SO_HASH };

void pf_jit_artifact_free(pf_jit_artifact *a)
{
    free(a->log);
    free(a->cubin);
    free(a->ptx);
    memset(a, 0, sizeof *a);
}

int pf_jit_read_file(const char *path, char **data, size_t *size)
{
    *data = NULL;
    *size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pf_error_set("cannot read '%s': %s", path, strerror(errno));
    int rc = pf_jit_read_fd(fd, path, data, size);
    close(fd);
    return rc;
}

int pf_jit_read_fd(int fd, const char *path, char **data, size_t *size)
{
    *data = NULL;
    *size = 0;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int e = errno;
            free(buf);
            return pf_error_set("cannot read '%s': %s", path, strerror(e));
        }
        if (got == 0)
            break;
        n += (size_t)got;
        if (n == cap) {
            cap *= 2;
            char *bigger = realloc(buf, cap + 1);
            if (!bigger)
                free(buf);
            buf = bigger;
        }
    }
    if (!buf)
        return pf_error_set("out of memory reading '%s'", path);
    buf[n] = '\0';
    *data = buf;
    *size = n;
    return 0;
}

int pf_jit_hash_fd(int fd, const char *path, uint64_t *hash, uint64_t *size)
{
    char *data;
    size_t n;
    if (pf_jit_read_fd(fd, path, &data, &n) != 0)
        return -1;
    *hash = XXH3_64bits(data, n);
    *size = n;
    free(data);
    return 0;
}

/* --- record encoding --- */

typedef struct buf {
    char *data;
    size_t len, cap;
} buf;

static int buf_put(buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d)
            return pf_error_set("out of memory");
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

static int put_record(buf *b, uint32_t tag, const void *p, size_t n)
{
    uint32_t len = (uint32_t)n;
    if (n > UINT32_MAX)
        return pf_error_set("cache record too large");
    if (buf_put(b, &tag, 4) || buf_put(b, &len, 4) || buf_put(b, p, n))
        return -1;
    return 0;
}

int pf_jit_cache_store(const char *dir, const char *key, pf_trust trust, const pf_jit_artifact *a)
{
    buf body = {0};
    int32_t res[6] = {a->res.registers, a->res.spill_stores, a->res.spill_loads,
                      a->res.static_smem, a->res.stack_frame, a->res.const_mem};
    int32_t valid = a->valid;
    int rc = put_record(&body, TAG_KEY, key, strlen(key));
    rc = rc ? rc : put_record(&body, TAG_VALID, &valid, sizeof valid);
    rc = rc ? rc : put_record(&body, TAG_RES, res, sizeof res);
    if (!rc && a->log)
        rc = put_record(&body, TAG_LOG, a->log, strlen(a->log));
    if (!rc && a->cubin)
        rc = put_record(&body, TAG_CUBIN, a->cubin, a->cubin_size);
    if (!rc && a->ptx)
        rc = put_record(&body, TAG_PTX, a->ptx, a->ptx_size);
    if (!rc && a->so_name[0]) {
        rc = put_record(&body, TAG_SO_NAME, a->so_name, strlen(a->so_name));
        rc = rc ? rc : put_record(&body, TAG_SO_SIZE, &a->so_size, sizeof a->so_size);
        rc = rc ? rc : put_record(&body, TAG_SO_HASH, &a->so_hash, sizeof a->so_hash);
    }
    buf file = {0};
    if (!rc) {
        uint64_t len = body.len, hash = XXH3_64bits(body.data, body.len);
        rc = buf_put(&file, MAGIC, 8);
        rc = rc ? rc : buf_put(&file, &len, 8);
        rc = rc ? rc : buf_put(&file, &hash, 8);
        rc = rc ? rc : buf_put(&file, body.data, body.len);
    }
    char path[1200];
    snprintf(path, sizeof path, "%s/%s.entry", dir, key);
    /* team members read a shared entry; nobody else needs to */
    if (!rc)
        rc = pf_atomic_write(path, file.data, file.len, trust == PF_TRUST_SHARED ? 0644 : 0600);
    free(body.data);
    free(file.data);
    return rc;
}

/* Copy with a trailing NUL (handy for text; harmless for binary). */
static char *dup_bytes(const char *p, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, p, n);
        d[n] = '\0';
    }
    return d;
}

/* Parse a checked body into `out`. Returns 0 if it is complete and sane. */
static int parse_body(const char *p, size_t n, const char *key, pf_jit_artifact *out)
{
    int have_key = 0, have_valid = 0;
    while (n > 0) {
        uint32_t tag, len;
        if (n < 8)
            return -1;
        memcpy(&tag, p, 4);
        memcpy(&len, p + 4, 4);
        p += 8;
        n -= 8;
        if (len > n)
            return -1;
        switch (tag) {
        case TAG_KEY:
            have_key = len == strlen(key) && memcmp(p, key, len) == 0;
            break;
        case TAG_VALID:
            if (len != 4)
                return -1;
            int32_t valid;
            memcpy(&valid, p, 4);
            out->valid = valid;
            have_valid = 1;
            break;
        case TAG_RES: {
            int32_t r[6];
            if (len != sizeof r)
                return -1;
            memcpy(r, p, sizeof r);
            out->res = (pf_resources){r[0], r[1], r[2], r[3], r[4], r[5]};
            break;
        }
        case TAG_LOG:
            free(out->log);
            out->log = dup_bytes(p, len);
            break;
        case TAG_CUBIN:
            free(out->cubin);
            out->cubin = dup_bytes(p, len);
            out->cubin_size = len;
            break;
        case TAG_PTX:
            free(out->ptx);
            out->ptx = dup_bytes(p, len);
            out->ptx_size = len;
            break;
        case TAG_SO_NAME:
            if (len == 0 || len >= sizeof out->so_name || memchr(p, '/', len))
                return -1;
            memcpy(out->so_name, p, len);
            out->so_name[len] = '\0';
            break;
        case TAG_SO_SIZE:
        case TAG_SO_HASH:
            if (len != 8)
                return -1;
            memcpy(tag == TAG_SO_SIZE ? &out->so_size : &out->so_hash, p, 8);
            break;
        default:
            break; /* unknown records are skipped (forward compatible) */
        }
        p += len;
        n -= len;
    }
    return have_key && have_valid ? 0 : -1;
}

/* Open a cache file that must pass `trust`: -1 on a miss (no error set). A
 * file someone else could have written is never read: it gets a warning and
 * the caller rebuilds and replaces it. */
static int open_entry_file(const char *path, pf_trust trust)
{
    char saved[PF_ERROR_MAX];
    snprintf(saved, sizeof saved, "%s", pf_error_get());
    int fd = pf_open_trusted(path, trust);
    if (fd < 0 && errno == EPERM)
        fprintf(stderr, "pftune: warning: ignoring untrusted cache entry: %s; rebuilding it\n",
                pf_error_get());
    pf_error_set("%s", saved); /* a miss is not an error */
    return fd;
}

/* The emu entry's shared object, from a checked fd: private, and the bytes
 * the entry recorded. */
static int so_matches(const char *dir, const pf_jit_artifact *a)
{
    char so[1400];
    snprintf(so, sizeof so, "%s/%s", dir, a->so_name);
    int fd = a->so_name[0] ? open_entry_file(so, PF_TRUST_PRIVATE) : -1;
    if (fd < 0)
        return 0;
    char saved[PF_ERROR_MAX];
    snprintf(saved, sizeof saved, "%s", pf_error_get());
    uint64_t h, sz;
    int ok = pf_jit_hash_fd(fd, so, &h, &sz) == 0 && h == a->so_hash && sz == a->so_size;
    pf_error_set("%s", saved);
    close(fd);
    return ok;
}

/* Returns 0 on a verified hit; -1 on a miss or a bad entry (no error set:
 * the caller rebuilds and overwrites). */
int pf_jit_cache_load(const char *dir, const char *key, const char *target, pf_trust trust,
                      pf_jit_artifact *out)
{
    memset(out, 0, sizeof *out);
    char path[1200];
    snprintf(path, sizeof path, "%s/%s.entry", dir, key);
    int is_emu = strcmp(target, "emu") == 0;
    int fd = open_entry_file(path, is_emu ? PF_TRUST_PRIVATE : trust);
    if (fd < 0)
        return -1;
    char *data;
    size_t n;
    char saved[PF_ERROR_MAX];
    snprintf(saved, sizeof saved, "%s", pf_error_get());
    int rc = pf_jit_read_fd(fd, path, &data, &n);
    pf_error_set("%s", saved);
    close(fd);
    if (rc != 0)
        return -1;
    uint64_t len, hash;
    rc = -1;
    if (n >= HEADER_SIZE && memcmp(data, MAGIC, 8) == 0) {
        memcpy(&len, data + 8, 8);
        memcpy(&hash, data + 16, 8);
        if (len == n - HEADER_SIZE && XXH3_64bits(data + HEADER_SIZE, len) == hash)
            rc = parse_body(data + HEADER_SIZE, len, key, out);
    }
    free(data);
    if (rc == 0 && out->valid && is_emu && !so_matches(dir, out))
        rc = -1;
    if (rc == 0 && out->valid && !is_emu && !out->cubin)
        rc = -1;
    if (rc != 0)
        pf_jit_artifact_free(out);
    return rc;
}
