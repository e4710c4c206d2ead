/* File helpers of the exporter: writes under the staging root (creating
 * directories), copies, text builders, and removal of a staged tree. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/pf_error.h"
#include "export/export_internal.h"

/* mkdir -p of the directories of root/rel. */
static int make_parents(const char *path)
{
    char buf[2048];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = strchr(buf + 1, '/'); p; p = strchr(p + 1, '/')) {
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return pf_error_set("cannot create directory %s: %s", buf, strerror(errno));
        *p = '/';
    }
    return 0;
}

int pf_export_write(const char *root, const char *rel, const void *data, size_t n)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    if (make_parents(path) < 0)
        return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return pf_error_set("cannot write %s: %s", path, strerror(errno));
    const char *p = data;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            return pf_error_set("cannot write %s: %s", path, strerror(e));
        }
        p += w;
        n -= (size_t)w;
    }
    if (close(fd) < 0)
        return pf_error_set("cannot write %s: %s", path, strerror(errno));
    return 0;
}

int pf_export_copy(const char *src, const char *root, const char *rel)
{
    FILE *f = fopen(src, "rb");
    if (!f)
        return pf_error_set("cannot read %s: %s", src, strerror(errno));
    char *buf = NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    int ok = n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) &&
             fread(buf, 1, (size_t)n, f) == (size_t)n;
    fclose(f);
    int rc = ok ? pf_export_write(root, rel, buf, (size_t)n)
                : pf_error_set("cannot read %s", src);
    free(buf);
    return rc;
}

FILE *pf_export_text_open(char **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    FILE *f = open_memstream(buf, len);
    if (!f)
        pf_error_set("out of memory");
    return f;
}

int pf_export_text_write(FILE *f, char **buf, size_t *len, const char *root, const char *rel)
{
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        free(*buf);
        *buf = NULL;
        return pf_error_set("out of memory building %s", rel);
    }
    int rc = pf_export_write(root, rel, *buf, *len);
    free(*buf);
    *buf = NULL;
    return rc;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

int pf_export_rmtree(const char *path)
{
    if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
        return pf_error_set("cannot remove %s: %s", path, strerror(errno));
    return 0;
}

void pf_export_device_slug(const char *device, char *out, size_t size)
{
    size_t n = 0;
    for (const char *p = device; *p && n + 1 < size; p++) {
        char ch = *p;
        int keep = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                   (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
        if (!keep)
            ch = '_';
        if (ch == '_' && (n == 0 || out[n - 1] == '_'))
            continue; /* one underscore per run, none leading */
        out[n++] = ch;
    }
    while (n > 0 && out[n - 1] == '_')
        n--;
    out[n] = '\0';
    if (n == 0)
        snprintf(out, size, "unknown");
}
