/* Device facts from a child process (see device_probe.h). */
#include "device/device_probe.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/pf_error.h"
#include "device/arch.h"

typedef struct probe_reply {
    int rc;
    pf_device_props props;
    char arch[16];
    char msg[PF_ERROR_MAX];
} probe_reply;

static void probe_here(const char *which, probe_reply *out)
{
    memset(out, 0, sizeof *out);
    pf_device *dev = NULL;
    if (pf_device_open(which, &dev) < 0 || pf_dev_props(dev, &out->props) < 0 ||
        pf_device_arch(dev, out->arch, sizeof out->arch) < 0) {
        out->rc = -1;
        snprintf(out->msg, sizeof out->msg, "%s", pf_error_get());
    }
    if (dev)
        pf_device_close(dev);
}

int pf_device_probe_here(const char *which, pf_device_props *props, char *arch,
                         size_t arch_size)
{
    probe_reply r;
    probe_here(which, &r);
    if (r.rc < 0)
        return pf_error_set("%s", r.msg);
    if (props)
        *props = r.props;
    snprintf(arch, arch_size, "%s", r.arch);
    return 0;
}

int pf_device_probe(const char *which, pf_device_props *props, char *arch, size_t arch_size)
{
    int fds[2];
    if (pipe(fds) < 0)
        return pf_error_set("pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return pf_error_set("fork: %s", strerror(errno));
    }
    if (pid == 0) {
        close(fds[0]);
        probe_reply r;
        probe_here(which, &r);
        ssize_t w = write(fds[1], &r, sizeof r);
        _exit(w == (ssize_t)sizeof r ? 0 : 3);
    }
    close(fds[1]);
    probe_reply r;
    size_t got = 0;
    while (got < sizeof r) {
        ssize_t n = read(fds[0], (char *)&r + got, sizeof r - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fds[0]);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    if (got != sizeof r)
        return pf_error_set("device %s: the probe process died", which);
    if (r.rc < 0)
        return pf_error_set("%s", r.msg);
    if (props)
        *props = r.props;
    snprintf(arch, arch_size, "%s", r.arch);
    return 0;
}
