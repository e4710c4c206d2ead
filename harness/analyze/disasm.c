/* Finding and running the SASS disassembler (see disasm.h). The cubin goes
 * to a temp file (both tools read files only); stdout comes back through a
 * pipe, stderr through a temp file for the error message. */
#include "analyze/disasm.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/pf_error.h"

static int executable(const char *p)
{
    return p && p[0] && access(p, X_OK) == 0;
}

static int take(pf_disasm_tool *out, const char *path, pf_disasm_kind kind)
{
    size_t n = path ? strlen(path) : 0;
    if (n >= sizeof out->path || !executable(path))
        return 0;
    memcpy(out->path, path, n + 1);
    out->kind = kind;
    return 1;
}

static int find_in_path(const char *name, pf_disasm_tool *out, pf_disasm_kind kind)
{
    const char *path = getenv("PATH");
    if (!path)
        return 0;
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    char *save = NULL;
    for (char *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        char p[1200];
        snprintf(p, sizeof p, "%s/%s", d, name);
        if (take(out, p, kind))
            return 1;
    }
    return 0;
}

/* The pip wheels put the tools at site-packages/nvidia/cu<major>/bin. */
static int find_in_pip(const char *prefix, const char *name, pf_disasm_tool *out,
                       pf_disasm_kind kind)
{
    char pattern[1200];
    snprintf(pattern, sizeof pattern, "%s/lib/python3*/site-packages/nvidia/cu*/bin/%s", prefix,
             name);
    glob_t g;
    int found = 0;
    if (glob(pattern, 0, NULL, &g) == 0) {
        for (size_t i = g.gl_pathc; i-- > 0 && !found;) /* newest cu<N> sorts last */
            found = take(out, g.gl_pathv[i], kind);
        globfree(&g);
    }
    return found;
}

static int find_tool(const char *name, pf_disasm_kind kind, pf_disasm_tool *out)
{
    if (find_in_path(name, out, kind))
        return 1;
    char p[1200];
    const char *cuda = getenv("CUDA_HOME");
    if (cuda && cuda[0]) {
        snprintf(p, sizeof p, "%s/bin/%s", cuda, name);
        if (take(out, p, kind))
            return 1;
    }
    snprintf(p, sizeof p, "/usr/local/cuda/bin/%s", name);
    if (take(out, p, kind))
        return 1;
    const char *src = getenv("PFTUNE_SOURCE_DIR");
    snprintf(p, sizeof p, "%s/.tools-venv", src && src[0] ? src : PF_SOURCE_DIR);
    if (find_in_pip(p, name, out, kind))
        return 1;
    const char *home = getenv("HOME");
    if (home && home[0]) {
        snprintf(p, sizeof p, "%s/.local", home);
        if (find_in_pip(p, name, out, kind))
            return 1;
    }
    return 0;
}

int pf_disasm_find(pf_disasm_tool *out)
{
    memset(out, 0, sizeof *out);
    const char *env = getenv("PFTUNE_NVDISASM");
    if (env && env[0]) {
        const char *base = strrchr(env, '/');
        pf_disasm_kind kind = strstr(base ? base : env, "cuobjdump") ? PF_DISASM_CUOBJDUMP
                                                                     : PF_DISASM_NVDISASM;
        if (!take(out, env, kind))
            return pf_error_set("PFTUNE_NVDISASM=%s is not an executable file", env);
        return 0;
    }
    if (find_tool("nvdisasm", PF_DISASM_NVDISASM, out) ||
        find_tool("cuobjdump", PF_DISASM_CUOBJDUMP, out))
        return 0;
    return pf_error_set("no SASS disassembler (nvdisasm or cuobjdump) found: run tools/setup.sh "
                        "(pip installs nvidia-cuda-nvdisasm into .tools-venv) or set "
                        "PFTUNE_NVDISASM to its path");
}

static int write_temp(const char *tmpdir, const void *data, size_t size, char *path, size_t n)
{
    snprintf(path, n, "%s/pftune-cubin-XXXXXX", tmpdir);
    int fd = mkstemp(path);
    if (fd < 0)
        return pf_error_set("cannot create a temp file in %s: %s", tmpdir, strerror(errno));
    const char *p = data;
    size_t left = size;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(path);
            return pf_error_set("cannot write %s: %s", path, strerror(e));
        }
        p += w;
        left -= (size_t)w;
    }
    close(fd);
    return 0;
}

/* All of fd into a malloc'd NUL-terminated string. */
static char *slurp(int fd)
{
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (len + 1 == cap) {
            char *b = realloc(buf, cap * 2);
            if (!b)
                break;
            buf = b;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + len, cap - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            buf[len] = 0;
            return buf;
        }
        len += (size_t)r;
    }
    free(buf);
    return NULL;
}

/* The first non-empty line of the tool's stderr, for the message. */
static void first_line(const char *path, char *out, size_t n)
{
    out[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (line[0]) {
            snprintf(out, n, "%s", line);
            break;
        }
    }
    fclose(f);
}

int pf_disasm_cubin(const pf_disasm_tool *tool, const void *cubin, size_t size, char **sass)
{
    *sass = NULL;
    const char *tmpdir = getenv("TMPDIR");
    if (!tmpdir || !tmpdir[0])
        tmpdir = "/tmp";
    char in[1100], err[1100];
    if (write_temp(tmpdir, cubin, size, in, sizeof in))
        return -1;
    if (write_temp(tmpdir, "", 0, err, sizeof err)) {
        unlink(in);
        return -1;
    }
    int rc = -1, fds[2];
    if (pipe(fds) != 0) {
        pf_error_set("pipe: %s", strerror(errno));
        goto out;
    }
    pid_t pid = fork();
    if (pid < 0) {
        pf_error_set("fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        goto out;
    }
    if (pid == 0) {
        int efd = open(err, O_WRONLY | O_TRUNC);
        dup2(fds[1], 1);
        if (efd >= 0)
            dup2(efd, 2);
        close(fds[0]);
        close(fds[1]);
        if (tool->kind == PF_DISASM_NVDISASM) /* -c: code sections only */
            execl(tool->path, tool->path, "-c", in, (char *)NULL);
        else
            execl(tool->path, tool->path, "-sass", in, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char *text = slurp(fds[0]);
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!text) {
        pf_error_set("out of memory reading %s's output", tool->path);
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char line[512];
        first_line(err, line, sizeof line);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && !line[0])
            snprintf(line, sizeof line, "cannot run it");
        pf_error_set("%s failed: %s", tool->path, line[0] ? line : "no message");
        free(text);
    } else {
        *sass = text;
        rc = 0;
    }
out:
    unlink(in);
    unlink(err);
    return rc;
}
