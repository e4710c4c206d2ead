/* Opening safetensors files: mmap each file, parse its header, and for a
 * sharded model check the index (every shard is a plain file name in the
 * model directory, present, and holds the tensors the index gives it; no
 * tensor is in two shards). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/pf_error.h"
#include "models/msg_clean.h"
#include "models/safetensors.h"

typedef struct st_file {
    char *path;
    void *map;
    size_t size;
    pf_st_tensor *t;
    int n;
} st_file;

struct pf_safetensors {
    st_file *files;
    int nfiles;
    const pf_st_tensor **all; /* sorted by name */
    int n;
};

static int map_file(const char *path, st_file *f)
{
    memset(f, 0, sizeof *f);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pf_error_set("%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return pf_error_set("%s: not a regular file", path);
    }
    f->size = (size_t)sb.st_size;
    if (f->size)
        f->map = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (f->map == MAP_FAILED) {
        f->map = NULL;
        return pf_error_set("%s: mmap failed: %s", path, strerror(errno));
    }
    if (!(f->path = strdup(path)))
        return pf_error_set("out of memory");
    return pf_st_parse(f->map ? f->map : "", f->size, f->path, &f->t, &f->n);
}

static void unmap_file(st_file *f)
{
    pf_st_tensors_free(f->t, f->n);
    if (f->map)
        munmap(f->map, f->size);
    free(f->path);
}

void pf_st_close(pf_safetensors *st)
{
    if (!st)
        return;
    for (int i = 0; i < st->nfiles; i++)
        unmap_file(&st->files[i]);
    free(st->files);
    free(st->all);
    free(st);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp((*(const pf_st_tensor *const *)a)->name, (*(const pf_st_tensor *const *)b)->name);
}

/* Index every tensor by name; a name in two files is an error. */
static int build_index(pf_safetensors *st)
{
    int n = 0;
    for (int i = 0; i < st->nfiles; i++)
        n += st->files[i].n;
    st->all = malloc((size_t)(n ? n : 1) * sizeof *st->all);
    if (!st->all)
        return pf_error_set("out of memory");
    st->n = 0;
    for (int i = 0; i < st->nfiles; i++)
        for (int j = 0; j < st->files[i].n; j++)
            st->all[st->n++] = &st->files[i].t[j];
    qsort(st->all, (size_t)st->n, sizeof *st->all, cmp_name);
    char nb[101];
    for (int i = 1; i < st->n; i++)
        if (strcmp(st->all[i - 1]->name, st->all[i]->name) == 0)
            return pf_error_set("tensor '%s' is in both %s and %s",
                                pf_msg_clean(st->all[i]->name, nb, sizeof nb),
                                st->all[i - 1]->file, st->all[i]->file);
    return 0;
}

int pf_st_open_file(const char *path, pf_safetensors **out)
{
    *out = NULL;
    pf_safetensors *st = calloc(1, sizeof *st);
    if (!st || !(st->files = calloc(1, sizeof *st->files))) {
        free(st);
        return pf_error_set("out of memory");
    }
    st->nfiles = 1;
    if (map_file(path, &st->files[0]) || build_index(st)) {
        pf_st_close(st);
        return -1;
    }
    *out = st;
    return 0;
}

/* The shards of an index: weight_map values, deduplicated in order. */
static int open_index(const char *dir, const char *ipath, pf_safetensors *st)
{
    json_error_t jerr;
    char eb[201];
    json_t *root = json_load_file(ipath, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return pf_error_set("%s: %s", ipath, pf_msg_clean(jerr.text, eb, sizeof eb));
    json_t *wm = json_object_get(root, "weight_map");
    int rc = 0;
    if (!json_is_object(wm) || json_object_size(wm) == 0)
        rc = pf_error_set("%s: weight_map: expected a non-empty object", ipath);
    size_t cap = rc ? 0 : json_object_size(wm);
    if (!rc && !(st->files = calloc(cap, sizeof *st->files)))
        rc = pf_error_set("out of memory");
    const char *name;
    json_t *v;
    char nb[101];
    if (!rc)
        json_object_foreach(wm, name, v) {
            const char *shard = json_string_value(v);
            if (!shard || !*shard || strchr(shard, '/') || strcmp(shard, "..") == 0 ||
                strcmp(shard, ".") == 0) {
                rc = pf_error_set("%s: weight_map['%s']: expected a file name in the "
                                  "model directory", ipath, pf_msg_clean(name, nb, sizeof nb));
                break;
            }
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, shard);
            int have = 0;
            for (int i = 0; i < st->nfiles && !have; i++)
                have = strcmp(st->files[i].path, path) == 0;
            if (!have && map_file(path, &st->files[st->nfiles++])) {
                rc = pf_error_prefix("shard named by %s", ipath);
                break;
            }
        }
    if (!rc)
        rc = build_index(st);
    if (!rc) /* every indexed tensor is in the shard the index names */
        json_object_foreach(wm, name, v) {
            const pf_st_tensor *t = pf_st_find(st, name);
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, json_string_value(v));
            if (!t || strcmp(t->file, path) != 0) {
                rc = pf_error_set("%s: tensor '%s' is not in %s", ipath,
                                  pf_msg_clean(name, nb, sizeof nb), path);
                break;
            }
        }
    json_decref(root);
    return rc;
}

int pf_st_open(const char *dir, pf_safetensors **out)
{
    *out = NULL;
    char ipath[4096];
    snprintf(ipath, sizeof ipath, "%s/model.safetensors.index.json", dir);
    if (access(ipath, F_OK) != 0) {
        snprintf(ipath, sizeof ipath, "%s/model.safetensors", dir);
        return pf_st_open_file(ipath, out);
    }
    pf_safetensors *st = calloc(1, sizeof *st);
    if (!st)
        return pf_error_set("out of memory");
    if (open_index(dir, ipath, st)) {
        pf_st_close(st);
        return -1;
    }
    *out = st;
    return 0;
}

const pf_st_tensor *pf_st_find(const pf_safetensors *st, const char *name)
{
    int lo = 0, hi = st->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, c = strcmp(st->all[mid]->name, name);
        if (c == 0)
            return st->all[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

int pf_st_count(const pf_safetensors *st)
{
    return st->n;
}

const pf_st_tensor *pf_st_at(const pf_safetensors *st, int i)
{
    return st->all[i];
}
