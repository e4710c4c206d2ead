/* Tracked device allocations (dev_arena.h). */
#include "models/dev_arena.h"

#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"

void pf_arena_init(pf_dev_arena *a, pf_device *dev)
{
    memset(a, 0, sizeof *a);
    a->dev = dev;
}

static void count(pf_dev_arena *a, size_t bytes, pf_mem_class cls)
{
    a->held += bytes;
    if (a->held > a->peak)
        a->peak = a->held;
    a->by_class[cls] += bytes;
}

int pf_arena_alloc(pf_dev_arena *a, size_t bytes, pf_mem_class cls, const char *label,
                   pf_dptr *out)
{
    if (a->n == a->cap) {
        int cap = a->cap ? a->cap * 2 : 64;
        pf_dptr *p = realloc(a->ptr, (size_t)cap * sizeof *p);
        if (p)
            a->ptr = p;
        size_t *b = realloc(a->bytes, (size_t)cap * sizeof *b);
        if (b)
            a->bytes = b;
        if (!p || !b)
            return pf_error_set("out of host memory tracking device buffers");
        a->cap = cap;
    }
    size_t n = bytes ? bytes : 1;
    if (pf_dev_alloc(a->dev, n, label, out))
        return pf_error_prefix("%s (%zu bytes)", label, n);
    a->ptr[a->n] = *out;
    a->bytes[a->n++] = n;
    count(a, n, cls);
    return pf_dev_memset8(a->dev, *out, 0, n, NULL);
}

int pf_arena_upload(pf_dev_arena *a, const void *src, size_t bytes, pf_mem_class cls,
                    const char *label, pf_dptr *out)
{
    if (pf_arena_alloc(a, bytes, cls, label, out))
        return -1;
    if (bytes && pf_dev_copy_htod(a->dev, *out, src, bytes, NULL))
        return pf_error_prefix("%s: upload", label);
    return 0;
}

void pf_arena_account(pf_dev_arena *a, size_t bytes, pf_mem_class cls)
{
    count(a, bytes, cls);
}

void pf_arena_free_all(pf_dev_arena *a)
{
    for (int i = 0; i < a->n; i++)
        pf_dev_free(a->dev, a->ptr[i]);
    free(a->ptr);
    free(a->bytes);
    pf_device *dev = a->dev;
    pf_arena_init(a, dev);
}
