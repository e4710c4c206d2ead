/* The sweep journal (see journal.h). */
#include "tuner/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/pf_error.h"

#define JOURNAL_SCHEMA "pftune.journal/1"

struct pf_journal {
    int fd;
    char path[1024];
};

static json_t *header_json(const pf_journal_header *h)
{
    char seed[32];
    snprintf(seed, sizeof seed, "%" PRIu64, h->seed);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "schema", JOURNAL_SCHEMA,
                     "pftune", h->pftune, "device", h->device, "arch", h->arch, "kernel_hash",
                     h->kernel_hash, "profile_hash", h->profile_hash, "shard", h->shard,
                     "strategy", h->strategy, "seed", seed);
}

static int header_from_json(const json_t *j, pf_journal_header *h, const char *path)
{
    memset(h, 0, sizeof *h);
    const char *schema = json_string_value(json_object_get(j, "schema"));
    if (!schema || strcmp(schema, JOURNAL_SCHEMA) != 0)
        return pf_error_set("%s: not a pftune journal (schema '%s', want '%s')", path,
                            schema ? schema : "missing", JOURNAL_SCHEMA);
    struct { const char *key; char *dst; size_t n; } f[] = {
        {"pftune", h->pftune, sizeof h->pftune},
        {"device", h->device, sizeof h->device},
        {"arch", h->arch, sizeof h->arch},
        {"kernel_hash", h->kernel_hash, sizeof h->kernel_hash},
        {"profile_hash", h->profile_hash, sizeof h->profile_hash},
        {"shard", h->shard, sizeof h->shard},
        {"strategy", h->strategy, sizeof h->strategy},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        const char *v = json_string_value(json_object_get(j, f[i].key));
        if (!v)
            return pf_error_set("%s: header lacks \"%s\"", path, f[i].key);
        snprintf(f[i].dst, f[i].n, "%s", v);
    }
    const char *seed = json_string_value(json_object_get(j, "seed"));
    h->seed = seed ? strtoull(seed, NULL, 10) : 0;
    return 0;
}

/* "kernel source hash (journal abc, now def), profile hash (...)" */
static int header_diff(const pf_journal_header *a, const pf_journal_header *b, char *out,
                       size_t n)
{
    struct { const char *what; const char *x, *y; } f[] = {
        {"kernel source", a->kernel_hash, b->kernel_hash},
        {"profile", a->profile_hash, b->profile_hash},
        {"device", a->device, b->device},
        {"arch", a->arch, b->arch},
        {"shard", a->shard, b->shard},
        {"strategy", a->strategy, b->strategy},
        {"pftune version", a->pftune, b->pftune},
    };
    size_t len = 0;
    out[0] = 0;
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (strcmp(f[i].x, f[i].y) != 0 && len < n)
            len += (size_t)snprintf(out + len, n - len, "%s%s (journal '%.40s', now '%.40s')",
                                    len ? ", " : "", f[i].what, f[i].x, f[i].y);
    if (a->seed != b->seed && len < n)
        len += (size_t)snprintf(out + len, n - len, "%sseed (journal %" PRIu64 ", now %" PRIu64 ")",
                                len ? ", " : "", a->seed, b->seed);
    return len > 0;
}

static int read_all(const char *path, char **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return pf_error_set("%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf)
        return pf_error_set("%s: out of memory", path);
    buf[len] = 0;
    *data = buf;
    *size = len;
    return 0;
}

/* Parse the header and every complete line; *complete gets the byte length
 * of the complete lines (a torn tail is after it). */
static int parse(const char *path, const char *data, size_t size, pf_journal_header *h,
                 void (*on_record)(void *, const pf_record *), void *ctx, size_t *complete)
{
    size_t pos = 0;
    int line_no = 0;
    *complete = 0;
    while (pos < size) {
        const char *nl = memchr(data + pos, '\n', size - pos);
        if (!nl)
            break; /* a torn last line: the write that made it was cut short */
        size_t len = (size_t)(nl - (data + pos));
        line_no++;
        json_error_t err;
        json_t *j = json_loadb(data + pos, len, 0, &err);
        if (!j)
            return pf_error_set("%s: line %d: %s", path, line_no, err.text);
        int rc = 0;
        if (line_no == 1) {
            rc = header_from_json(j, h, path);
        } else {
            pf_record r;
            rc = pf_record_from_json(j, &r);
            if (rc)
                pf_error_prefix("%s: line %d", path, line_no);
            else if (on_record)
                on_record(ctx, &r);
            if (!rc)
                pf_record_free(&r);
        }
        json_decref(j);
        if (rc)
            return -1;
        pos += len + 1;
        *complete = pos;
    }
    if (line_no == 0)
        return pf_error_set("%s: no header line (an empty or torn journal)", path);
    return 0;
}

int pf_journal_read(const char *path, pf_journal_header *h,
                    void (*on_record)(void *ctx, const pf_record *r), void *ctx)
{
    char *data = NULL;
    size_t size = 0, complete = 0;
    pf_journal_header tmp;
    if (read_all(path, &data, &size))
        return -1;
    int rc = parse(path, data, size, h ? h : &tmp, on_record, ctx, &complete);
    free(data);
    return rc;
}

static int write_line(pf_journal *j, json_t *obj)
{
    char *text = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (!text)
        return pf_error_set("%s: cannot serialize a journal line", j->path);
    size_t n = strlen(text);
    text[n] = '\n'; /* json_dumps leaves room: replace the NUL, write n+1 */
    const char *p = text;
    size_t left = n + 1;
    int rc = 0;
    while (left > 0) {
        ssize_t w = write(j->fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = pf_error_set("%s: write failed: %s", j->path, strerror(errno));
            break;
        }
        p += w;
        left -= (size_t)w;
    }
    free(text);
    if (rc == 0 && fdatasync(j->fd) != 0)
        rc = pf_error_set("%s: fsync failed: %s", j->path, strerror(errno));
    return rc;
}

int pf_journal_open(const char *path, const pf_journal_header *h, int resume,
                    void (*on_record)(void *ctx, const pf_record *r), void *ctx,
                    pf_journal **out)
{
    *out = NULL;
    pf_journal *j = calloc(1, sizeof *j);
    if (!j)
        return pf_error_set("out of memory");
    snprintf(j->path, sizeof j->path, "%s", path);
    struct stat st;
    int exists = stat(path, &st) == 0 && st.st_size > 0;
    if (exists && !resume) {
        free(j);
        return pf_error_set("%s exists: add --resume to continue that sweep, or use another --out",
                            path);
    }
    if (exists) {
        char *data = NULL;
        size_t size = 0, complete = 0;
        pf_journal_header old;
        int rc = read_all(path, &data, &size);
        if (!rc)
            rc = parse(path, data, size, &old, NULL, NULL, &complete);
        char diff[900];
        if (!rc && header_diff(&old, h, diff, sizeof diff))
            rc = pf_error_set("cannot resume %s: it was written for another sweep: %s", path, diff);
        if (!rc && on_record)
            rc = parse(path, data, size, &old, on_record, ctx, &complete);
        free(data);
        if (!rc && (j->fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
            rc = pf_error_set("%s: %s", path, strerror(errno));
        if (!rc && complete < size && ftruncate(j->fd, (off_t)complete) != 0)
            rc = pf_error_set("%s: cannot cut its torn last line: %s", path, strerror(errno));
        if (!rc && lseek(j->fd, 0, SEEK_END) < 0)
            rc = pf_error_set("%s: %s", path, strerror(errno));
        if (rc) {
            if (j->fd > 0)
                close(j->fd);
            free(j);
            return -1;
        }
        *out = j;
        return 0;
    }
    j->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (j->fd < 0) {
        int e = errno;
        free(j);
        return pf_error_set("%s: %s", path, strerror(e));
    }
    json_t *hj = header_json(h);
    int rc = hj ? write_line(j, hj) : pf_error_set("cannot build the journal header");
    json_decref(hj);
    if (rc) {
        pf_journal_close(j);
        return -1;
    }
    *out = j;
    return 0;
}

int pf_journal_append(pf_journal *j, const pf_record *r)
{
    json_t *obj = pf_record_to_json(r);
    if (!obj)
        return pf_error_set("cannot build a journal line");
    int rc = write_line(j, obj);
    json_decref(obj);
    return rc;
}

void pf_journal_close(pf_journal *j)
{
    if (!j)
        return;
    if (j->fd >= 0)
        close(j->fd);
    free(j);
}
