/* Writing plot scripts and running gnuplot (see gnuplot.h). */
#include "report/gnuplot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/atomic_file.h"
#include "core/pf_error.h"

const char *pf_plots_dir(void)
{
    const char *d = getenv("PFTUNE_PLOTS_DIR");
    if (d && d[0])
        return d;
    static char buf[1024];
    const char *src = getenv("PFTUNE_SOURCE_DIR");
    snprintf(buf, sizeof buf, "%s/plots", src && src[0] ? src : PF_SOURCE_DIR);
    return buf;
}

const char *pf_gnuplot_find(void)
{
    const char *g = getenv("PFTUNE_GNUPLOT");
    if (g && g[0])
        return strcmp(g, "none") == 0 || access(g, X_OK) != 0 ? NULL : g;
    const char *path = getenv("PATH");
    if (!path)
        return NULL;
    static char buf[1024];
    for (const char *s = path; *s;) {
        const char *end = strchr(s, ':');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        snprintf(buf, sizeof buf, "%.*s/gnuplot", (int)len, s);
        if (len && access(buf, X_OK) == 0)
            return buf;
        s = end ? end + 1 : s + len;
    }
    return NULL;
}

void pf_gp_escape(const char *s, char *out, size_t size)
{
    size_t o = 0;
    for (; *s && o + 3 < size; s++) {
        if (*s == '"' || *s == '\\')
            out[o++] = '\\';
        out[o++] = *s == '\n' ? ' ' : *s;
    }
    out[o] = '\0';
}

void pf_gp_var_str(FILE *vars, const char *name, const char *value)
{
    char esc[2048];
    pf_gp_escape(value, esc, sizeof esc);
    fprintf(vars, "%s = \"%s\"\n", name, esc);
}

void pf_gp_var_num(FILE *vars, const char *name, double value)
{
    fprintf(vars, "%s = %.10g\n", name, value);
}

static int append_file(FILE *out, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return pf_error_set("%s: cannot open plot template: %s (set PFTUNE_PLOTS_DIR)", path,
                            strerror(errno));
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, out);
    fclose(f);
    return 0;
}

int pf_gp_write(const char *dir, const char *name, const char *template_name, const char *vars)
{
    char *text = NULL, path[1200];
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m)
        return pf_error_set("out of memory");
    fprintf(m, "# %s.gp: written by pftune report from plots/%s.gp and %s.dat.\n"
               "# Re-render: gnuplot %s.gp (PNG), gnuplot -e 'fmt=\"svg\"' %s.gp (SVG)\n",
            name, template_name, name, name, name);
    pf_gp_var_str(m, "name", name);
    fputs(vars, m);
    int rc = 0;
    snprintf(path, sizeof path, "%s/common.gp", pf_plots_dir());
    rc = append_file(m, path);
    snprintf(path, sizeof path, "%s/%s.gp", pf_plots_dir(), template_name);
    if (!rc)
        rc = append_file(m, path);
    fclose(m);
    if (!rc) {
        snprintf(path, sizeof path, "%s/%s.gp", dir, name);
        rc = pf_atomic_write(path, text, len, 0644);
    }
    free(text);
    return rc;
}

/* gnuplot -e 'fmt="png"' NAME.gp in DIR, stdout and stderr to gnuplot.log. */
static int run_one(const char *gnuplot, const char *dir, const char *name, const char *fmt)
{
    char arg[64], script[256];
    snprintf(arg, sizeof arg, "fmt=\"%s\"", fmt);
    snprintf(script, sizeof script, "%s.gp", name);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return pf_error_set("fork: %s", strerror(errno));
    if (pid == 0) {
        if (chdir(dir) != 0)
            _exit(126);
        int fd = open("gnuplot.log", O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execl(gnuplot, "gnuplot", "-e", arg, script, (char *)NULL);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return pf_error_set("waitpid: %s", strerror(errno));
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return pf_error_set("gnuplot failed on %s/%s (%s): see %s/gnuplot.log", dir, script, fmt,
                            dir);
    char img[1200];
    struct stat sb;
    snprintf(img, sizeof img, "%s/%s.%s", dir, name, fmt);
    if (stat(img, &sb) != 0 || sb.st_size == 0)
        return pf_error_set("gnuplot wrote no %s (see %s/gnuplot.log)", img, dir);
    return 0;
}

int pf_gp_render(const char *gnuplot, const char *dir, const char *name, int formats)
{
    if ((formats & PF_FMT_PNG) && run_one(gnuplot, dir, name, "png"))
        return -1;
    if ((formats & PF_FMT_SVG) && run_one(gnuplot, dir, name, "svg"))
        return -1;
    return 0;
}
