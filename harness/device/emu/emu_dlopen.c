/* Trusted dlopen of emu kernels (see emu_dlopen.h). */
#define _GNU_SOURCE /* dlinfo */
#include "device/emu/emu_dlopen.h"

#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "core/file_trust.h"
#include "core/pf_error.h"

/* glibc matches a dlopen name against the names of loaded objects before it
 * opens anything, so "/proc/self/fd/5" would return whatever library was
 * loaded through an earlier fd 5 and is still mapped. Each load therefore
 * spells the path differently: 32 bits of a counter as "//" or "/." (empty
 * or "." components, which the kernel skips) after "/proc". */
static void unique_fd_path(int fd, char *out, size_t size)
{
    static unsigned counter;
    unsigned n = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
    char bits[65];
    for (int i = 0; i < 32; i++) {
        bits[2 * i] = '/';
        bits[2 * i + 1] = (n >> i) & 1 ? '.' : '/';
    }
    bits[64] = '\0';
    snprintf(out, size, "/proc%s/self/fd/%d", bits, fd);
}

/* Load base -> file of every kernel loaded; a base reused by a later load
 * takes the new file. */
#define MAX_MODULES 512
static struct {
    uintptr_t base;
    char path[1024];
} modules[MAX_MODULES];
static int n_modules;
static pthread_mutex_t modules_lock = PTHREAD_MUTEX_INITIALIZER;

static void remember(void *h, const char *path)
{
    struct link_map *lm = NULL;
    if (dlinfo(h, RTLD_DI_LINKMAP, &lm) != 0 || !lm)
        return;
    pthread_mutex_lock(&modules_lock);
    int i = 0;
    while (i < n_modules && modules[i].base != (uintptr_t)lm->l_addr)
        i++;
    if (i == n_modules && n_modules < MAX_MODULES)
        n_modules++;
    if (i < n_modules) {
        modules[i].base = (uintptr_t)lm->l_addr;
        snprintf(modules[i].path, sizeof modules[i].path, "%s", path);
    }
    pthread_mutex_unlock(&modules_lock);
}

const char *pf_emu_module_path(const void *base)
{
    const char *found = NULL;
    pthread_mutex_lock(&modules_lock);
    for (int i = 0; i < n_modules && !found; i++)
        if (modules[i].base == (uintptr_t)base)
            found = modules[i].path;
    pthread_mutex_unlock(&modules_lock);
    return found;
}

void *pf_emu_dlopen_trusted(const char *path)
{
    int fd = pf_open_trusted(path, PF_TRUST_PRIVATE);
    if (fd < 0) {
        pf_error_prefix("emu: cannot load the kernel");
        return NULL;
    }
    char via[128];
    unique_fd_path(fd, via, sizeof via);
    void *h = dlopen(via, RTLD_NOW | RTLD_LOCAL);
    close(fd); /* the mapping keeps the file */
    if (!h)
        pf_error_set("emu: cannot load %s: %s", path, dlerror());
    else
        remember(h, path);
    return h;
}
