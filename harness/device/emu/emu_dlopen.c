/* Trusted dlopen of emu kernels (see emu_dlopen.h). */
#include "device/emu/emu_dlopen.h"

#include <dlfcn.h>
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
    return h;
}
