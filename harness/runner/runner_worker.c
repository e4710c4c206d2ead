/* The child side of the runner (see runner_internal.h): start-up, then
 * items until the parent closes the socket. Children leave with _exit so
 * nothing the parent registered (atexit, stdio buffers) runs twice. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner/runner_internal.h"

/* MSG_NOSIGNAL: a parent that went away is EPIPE here, not SIGPIPE. */
static int send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* 1: got n bytes; 0: end of file (the parent has no more items); -1: error. */
static int recv_all(int fd, void *p, size_t n)
{
    char *c = p;
    size_t got = 0;
    while (got < n) {
        ssize_t r = recv(fd, c + got, n - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r == 0 && got == 0 ? 0 : -1;
        got += (size_t)r;
    }
    return 1;
}

static void send_frame(int fd, int kind, int index, pf_status st, const char *msg,
                       const void *record, size_t size)
{
    pf_runner_frame f;
    memset(&f, 0, sizeof f);
    f.kind = kind;
    f.index = index;
    f.status = (int32_t)st;
    f.payload = (uint32_t)size;
    snprintf(f.message, sizeof f.message, "%s", msg ? msg : "");
    if (send_all(fd, &f, sizeof f) < 0 || (size && send_all(fd, record, size) < 0))
        _exit(4);
}

static void __attribute__((noreturn)) worker_main(const pf_runner_config *cfg, int worker, int fd)
{
    pf_error_clear();
    if (cfg->init && cfg->init(cfg->ctx, worker) < 0) {
        send_frame(fd, PF_RUNNER_INIT_FAILED, -1, PF_STATUS_RUNTIME_FAILED, pf_error_get(), NULL, 0);
        _exit(3);
    }
    size_t size = cfg->record_size;
    void *record = calloc(1, size ? size : 1);
    if (!record) {
        send_frame(fd, PF_RUNNER_INIT_FAILED, -1, PF_STATUS_RUNTIME_FAILED,
                   "out of memory for a result record", NULL, 0);
        _exit(3);
    }
    send_frame(fd, PF_RUNNER_READY, -1, PF_STATUS_OK, NULL, NULL, 0);
    int32_t index;
    while (recv_all(fd, &index, sizeof index) == 1) {
        memset(record, 0, size);
        pf_error_clear();
        pf_status st = cfg->item(cfg->ctx, index, record);
        fflush(NULL); /* what the item printed, before a later crash loses it */
        send_frame(fd, PF_RUNNER_RESULT, index, st, st == PF_STATUS_OK ? NULL : pf_error_get(),
                   record, size);
    }
    if (cfg->fini)
        cfg->fini(cfg->ctx);
    free(record);
    _exit(0);
}

int pf_runner_spawn(const pf_runner_config *cfg, int worker, const char *emu_threads,
                    const int *close_fds, int n_close, pid_t *pid, int *fd)
{
    int sv[2];
    /* CLOEXEC: compilers a worker runs must not hold its socket open */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return pf_error_set("runner: socketpair: %s", strerror(errno));
    fflush(NULL); /* or buffered output is written twice */
    pid_t p = fork();
    if (p < 0) {
        int e = errno;
        close(sv[0]);
        close(sv[1]);
        return pf_error_set("runner: fork: %s", strerror(e));
    }
    if (p == 0) {
        close(sv[0]);
        for (int i = 0; i < n_close; i++)
            close(close_fds[i]);
        setenv("PFTUNE_EMU_THREADS", emu_threads, 0);
        worker_main(cfg, worker, sv[1]);
    }
    close(sv[1]);
    int flags = fcntl(sv[0], F_GETFL);
    if (flags < 0 || fcntl(sv[0], F_SETFL, flags | O_NONBLOCK) < 0) {
        /* a parent blocked on one worker could miss another's timeout */
        int e = errno;
        close(sv[0]);
        kill(p, SIGKILL);
        waitpid(p, NULL, 0);
        return pf_error_set("runner: fcntl: %s", strerror(e));
    }
    *pid = p;
    *fd = sv[0];
    return 0;
}
