/* Guarded allocations (see emu_guard.h). The registry is a mutex-protected
 * array; the fault path reads it only after jumping out of the signal
 * handler, in ordinary context. */
#include "device/emu/emu_guard.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/pf_error.h"

#define CANARY 0xa5
#define FRONT_BAND 64u

typedef struct guard_entry {
    unsigned char *map;
    size_t map_size;
    unsigned char *data;
    size_t bytes;
    size_t front;       /* canary bytes just before data */
    char label[64];
} guard_entry;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static guard_entry *g_entries;
static size_t g_count, g_cap;

static size_t page_size(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

int pf_emu_guard_alloc(size_t bytes, const char *label, void **out)
{
    size_t page = page_size();
    size_t rounded = (bytes + 15) / 16 * 16;
    size_t body = (rounded + page - 1) / page * page;
    if (body == 0)
        body = page;
    size_t total = page + body + page;
    unsigned char *m = (unsigned char *)mmap(NULL, total, PROT_READ | PROT_WRITE,
                                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        return pf_error_set("emu: cannot allocate %zu bytes for '%s'", bytes, label ? label : "?");
    if (mprotect(m, page, PROT_NONE) != 0 || mprotect(m + page + body, page, PROT_NONE) != 0) {
        munmap(m, total);
        return pf_error_set("emu: cannot protect the guard pages of '%s'", label ? label : "?");
    }
    guard_entry e;
    memset(&e, 0, sizeof e);
    e.map = m;
    e.map_size = total;
    e.data = m + page + body - rounded;
    e.bytes = bytes;
    e.front = (size_t)(e.data - (m + page));
    if (e.front > FRONT_BAND)
        e.front = FRONT_BAND;
    snprintf(e.label, sizeof e.label, "%s", label && *label ? label : "(unnamed)");
    memset(e.data - e.front, CANARY, e.front);
    memset(e.data + bytes, CANARY, rounded - bytes);

    pthread_mutex_lock(&g_lock);
    if (g_count == g_cap) {
        size_t cap = g_cap ? g_cap * 2 : 64;
        guard_entry *n = (guard_entry *)realloc(g_entries, cap * sizeof *n);
        if (!n) {
            pthread_mutex_unlock(&g_lock);
            munmap(m, total);
            return pf_error_set("emu: out of memory tracking allocations");
        }
        g_entries = n;
        g_cap = cap;
    }
    g_entries[g_count++] = e;
    pthread_mutex_unlock(&g_lock);
    *out = e.data;
    return 0;
}

int pf_emu_guard_free(void *p)
{
    if (!p)
        return 0;
    pthread_mutex_lock(&g_lock);
    for (size_t i = 0; i < g_count; i++) {
        if (g_entries[i].data == p) {
            guard_entry e = g_entries[i];
            g_entries[i] = g_entries[--g_count];
            pthread_mutex_unlock(&g_lock);
            munmap(e.map, e.map_size);
            return 0;
        }
    }
    pthread_mutex_unlock(&g_lock);
    return pf_error_set("emu: free of %p, which is not a live emu allocation", p);
}

int pf_emu_guard_range(const void *p, size_t n, const char *what)
{
    uintptr_t a = (uintptr_t)p;
    int rc = -1;
    pthread_mutex_lock(&g_lock);
    for (size_t i = 0; i < g_count; i++) {
        const guard_entry *e = &g_entries[i];
        uintptr_t lo = (uintptr_t)e->map, hi = lo + e->map_size;
        if (a < lo || a >= hi)
            continue;
        uintptr_t d = (uintptr_t)e->data;
        if (a >= d && n <= e->bytes && a - d <= e->bytes - n)
            rc = 0;
        else
            pf_error_set("emu: %s of %zu bytes at offset %lld overruns buffer '%s' (%zu bytes)", what, n,
                         (long long)(a - d), e->label, e->bytes);
        pthread_mutex_unlock(&g_lock);
        return rc;
    }
    pthread_mutex_unlock(&g_lock);
    if (n == 0)
        return 0;
    return pf_error_set("emu: %s: address %p is not in any emu allocation", what, p);
}

int pf_emu_guard_check_all(const char *who)
{
    int rc = 0;
    pthread_mutex_lock(&g_lock);
    for (size_t i = 0; i < g_count; i++) {
        guard_entry *e = &g_entries[i];
        size_t slack = (e->bytes + 15) / 16 * 16 - e->bytes;
        for (size_t j = 0; j < slack && rc == 0; j++)
            if (e->data[e->bytes + j] != CANARY)
                rc = pf_error_set("%s: out-of-bounds write past the end of buffer '%s' (%zu bytes) at "
                                  "byte offset %zu",
                                  who, e->label, e->bytes, e->bytes + j);
        for (size_t j = 0; j < e->front && rc == 0; j++)
            if (e->data[-(ptrdiff_t)e->front + (ptrdiff_t)j] != CANARY)
                rc = pf_error_set("%s: out-of-bounds write before the start of buffer '%s' (%zu bytes) "
                                  "at byte offset -%zu",
                                  who, e->label, e->bytes, e->front - j);
        if (rc != 0) {
            memset(e->data - e->front, CANARY, e->front);
            memset(e->data + e->bytes, CANARY, slack);
            break;
        }
    }
    pthread_mutex_unlock(&g_lock);
    return rc;
}

int pf_emu_guard_label(uintptr_t addr, char *out, size_t out_size)
{
    out[0] = '\0';
    pthread_mutex_lock(&g_lock);
    for (size_t i = 0; i < g_count; i++) {
        const guard_entry *e = &g_entries[i];
        uintptr_t lo = (uintptr_t)e->data;
        if (addr < lo || addr >= lo + e->bytes)
            continue;
        snprintf(out, out_size, "global buffer '%s' (%zu bytes) at byte offset %zu", e->label, e->bytes,
                 (size_t)(addr - lo));
        pthread_mutex_unlock(&g_lock);
        return 1;
    }
    pthread_mutex_unlock(&g_lock);
    return 0;
}

int pf_emu_guard_describe(uintptr_t addr, char *out, size_t out_size)
{
    out[0] = '\0';
    pthread_mutex_lock(&g_lock);
    for (size_t i = 0; i < g_count; i++) {
        const guard_entry *e = &g_entries[i];
        uintptr_t lo = (uintptr_t)e->map, hi = lo + e->map_size;
        if (addr < lo || addr >= hi)
            continue;
        long long off = (long long)(addr - (uintptr_t)e->data);
        snprintf(out, out_size, "out-of-bounds access to buffer '%s' (%zu bytes) at byte offset %lld",
                 e->label, e->bytes, off);
        pthread_mutex_unlock(&g_lock);
        return 1;
    }
    pthread_mutex_unlock(&g_lock);
    return 0;
}
