/* Target "emu": compile the kernel source as C with the host compiler into a
 * shared object. Its undefined pf_emu_* symbols resolve against
 * libpftune_core when the emu backend dlopens it, so nothing else is linked. */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jit/jit_internal.h"
#include "core/pf_error.h"
#include "core/pf_sanitize.h"

extern char **environ;

/* Run argv, collecting stdout+stderr into *log. *status gets the exit status
 * (or -1 if killed by a signal). */
static int run_capture(char *const argv[], char **log, int *status)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return pf_error_set("pipe: %s", strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    pid_t pid;
    int err = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (err != 0) {
        close(fds[0]);
        return pf_error_set("cannot run host compiler '%s': %s", argv[0], strerror(err));
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (buf && n + 1024 > cap) {
            char *b = realloc(buf, cap * 2);
            if (!b) {
                free(buf);
                buf = NULL;
            } else {
                buf = b;
                cap *= 2;
            }
        }
        char sink[1024];
        ssize_t r = buf ? read(fds[0], buf + n, cap - n - 1) : read(fds[0], sink, sizeof sink);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (buf)
            n += (size_t)r;
    }
    close(fds[0]);
    int ws;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
    }
    if (!buf)
        return pf_error_set("out of memory reading compiler output");
    buf[n] = '\0';
    *log = buf;
    *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
    return 0;
}

int pf_jit_emu_flags(const char *flags[PF_JIT_EMU_MAX_FLAGS])
{
    unsigned mode = pf_sanitize_mode();
    int n = 0;
    if (mode & (PF_SAN_RACE | PF_SAN_INIT))
        flags[n++] = "-g"; /* reports name kernel source lines */
    if (mode & PF_SAN_RACE)
        flags[n++] = "-fsanitize=thread";
    if (mode & PF_SAN_INIT) {
        /* every load and store becomes a call to __asan_{load,store}N_noabort,
         * which pf_dialect.h defines (hidden) under PF_EMU_INITCHECK */
        static const char *const init[] = {"-DPF_EMU_INITCHECK=1", "-fsanitize=kernel-address",
                                           "--param=asan-instrumentation-with-call-threshold=0",
                                           "--param=asan-stack=0", "--param=asan-globals=0"};
        for (size_t i = 0; i < sizeof init / sizeof init[0]; i++)
            flags[n++] = init[i];
    }
    return n;
}

int pf_jit_emu_build(const pf_variant *v, const char *key, const char *kernel_dir,
                     const char *dir, pf_jit_artifact *out)
{
    memset(out, 0, sizeof *out);
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s/.tmp-emu-XXXXXX.so", dir);
    int fd = mkstemps(tmp, 3);
    if (fd < 0)
        return pf_error_set("cannot write to '%s': %s", dir, strerror(errno));
    close(fd);

    char inc[1100];
    snprintf(inc, sizeof inc, "-I%s", kernel_dir);
    char defs[PF_JIT_MAX_DEFINES][140];
    char *argv[32 + PF_JIT_MAX_DEFINES];
    int a = 0;
    argv[a++] = (char *)PF_HOST_CC;
    const char *fixed[] = {"-x", "c", "-std=gnu11", "-O2", "-fPIC", "-shared", "-DPF_EMU=1"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        argv[a++] = (char *)fixed[i];
    argv[a++] = inc;
    const char *extra[PF_JIT_EMU_MAX_FLAGS];
    int n_extra = pf_jit_emu_flags(extra);
    for (int i = 0; i < n_extra; i++)
        argv[a++] = (char *)extra[i];
    for (int i = 0; i < v->n_defines && i < PF_JIT_MAX_DEFINES; i++) {
        if (v->defines[i].value[0])
            snprintf(defs[i], sizeof defs[i], "-D%s=%s", v->defines[i].name, v->defines[i].value);
        else
            snprintf(defs[i], sizeof defs[i], "-D%s", v->defines[i].name);
        argv[a++] = defs[i];
    }
    argv[a++] = (char *)v->source;
    argv[a++] = "-o";
    argv[a++] = tmp;
    argv[a++] = "-lm";
    argv[a] = NULL;

    int status = 0;
    if (run_capture(argv, &out->log, &status) != 0) {
        unlink(tmp);
        return -1;
    }
    if (status < 0) { /* killed (e.g. out of memory): not the variant's fault, not cached */
        unlink(tmp);
        return pf_error_set("host compiler '%s' was killed by a signal", PF_HOST_CC);
    }
    if (status != 0) {
        unlink(tmp);
        out->valid = 0;
        return 0;
    }
    /* The linker may have recreated the file (default mode): make it 0700,
     * durable, and hash the bytes of the file that will be renamed. Name the
     * object by key and content: concurrent builders of the same key never
     * overwrite a file another process has verified or loaded. */
    fd = pf_open_trusted(tmp, PF_TRUST_PRIVATE);
    int rc = fd < 0 ? -1 : 0;
    if (rc == 0 && (fchmod(fd, 0700) != 0 || fsync(fd) != 0))
        rc = pf_error_set("cannot finish '%s': %s", tmp, strerror(errno));
    if (rc == 0)
        rc = pf_jit_hash_fd(fd, tmp, &out->so_hash, &out->so_size);
    if (fd >= 0)
        close(fd);
    if (rc != 0) {
        unlink(tmp);
        return -1;
    }
    snprintf(out->so_name, sizeof out->so_name, "%s-%016llx.so", key,
             (unsigned long long)out->so_hash);
    char dst[1400];
    snprintf(dst, sizeof dst, "%s/%s", dir, out->so_name);
    if (rename(tmp, dst) != 0) {
        int e = errno;
        unlink(tmp);
        return pf_error_set("cannot rename '%s' to '%s': %s", tmp, dst, strerror(e));
    }
    out->valid = 1;
    return 0;
}
