/* Cache key of a variant.
 *
 * "Preprocessed source" is approximated without running a preprocessor: the
 * source text plus the full text of every file it includes with "..."
 * (recursively, each file once, resolved like the compilers do: the
 * including file's directory, then the kernel dir). <...> includes are system
 * or CUDA headers, covered by the compiler identity. Over-approximating (an
 * include inside #if 0 still counts) only costs a spurious rebuild. */
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <nvrtc.h>

#include "jit/jit_internal.h"
#include "core/pf_error.h"

#define MAX_INCLUDED 256
#define MAX_DEPTH 32

typedef struct include_walk {
    XXH3_state_t *st;
    const char *kernel_dir;
    char *seen[MAX_INCLUDED];
    int n_seen;
} include_walk;

static void hash_str(XXH3_state_t *st, const char *s)
{
    XXH3_128bits_update(st, s, strlen(s) + 1); /* with the NUL: field separator */
}

static int already_seen(include_walk *w, const char *path)
{
    for (int i = 0; i < w->n_seen; i++)
        if (strcmp(w->seen[i], path) == 0)
            return 1;
    if (w->n_seen < MAX_INCLUDED)
        w->seen[w->n_seen++] = strdup(path);
    return 0;
}

/* Find the name of a `#include "name"` directive at the start of `line`. */
static int quoted_include(const char *line, const char *end, char *name, size_t name_size)
{
    const char *p = line;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p >= end || *p != '#')
        return 0;
    p++;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if ((size_t)(end - p) < 7 || strncmp(p, "include", 7) != 0)
        return 0;
    p += 7;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p >= end || *p != '"')
        return 0;
    const char *q = memchr(p + 1, '"', (size_t)(end - p - 1));
    if (!q || (size_t)(q - p - 1) >= name_size)
        return 0;
    memcpy(name, p + 1, (size_t)(q - p - 1));
    name[q - p - 1] = '\0';
    return 1;
}

static int resolve_include(const char *from_dir, const char *kernel_dir, const char *name,
                           char *out, size_t out_size)
{
    const char *dirs[2] = {from_dir, kernel_dir};
    for (int i = 0; i < 2; i++) {
        if (name[0] == '/')
            snprintf(out, out_size, "%s", name);
        else
            snprintf(out, out_size, "%s/%s", dirs[i], name);
        struct stat sb;
        if (stat(out, &sb) == 0 && S_ISREG(sb.st_mode))
            return 1;
    }
    return 0;
}

static void hash_includes(include_walk *w, const char *text, const char *file_path, int depth)
{
    if (depth > MAX_DEPTH)
        return;
    char dir_buf[1024];
    snprintf(dir_buf, sizeof dir_buf, "%s", file_path);
    const char *from_dir = dirname(dir_buf);
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        if (!end)
            end = line + strlen(line);
        char name[512], path[2048];
        if (quoted_include(line, end, name, sizeof name)) {
            hash_str(w->st, name);
            if (resolve_include(from_dir, w->kernel_dir, name, path, sizeof path)) {
                char *real = realpath(path, NULL);
                const char *id = real ? real : path;
                char *body = NULL;
                size_t size = 0;
                if (!already_seen(w, id) && pf_jit_read_file(id, &body, &size) == 0) {
                    XXH3_128bits_update(w->st, body, size);
                    hash_includes(w, body, id, depth + 1);
                }
                free(body);
                free(real);
            }
        }
        line = *end ? end + 1 : end;
    }
}

static int define_cmp(const void *a, const void *b)
{
    const pf_define *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

static char emu_id[256];
static char nvrtc_id[64];
static pthread_once_t ids_once = PTHREAD_ONCE_INIT;

/* `cc --version` first line, run once per process. */
static void compute_ids(void)
{
    int major = 0, minor = 0;
    nvrtcVersion(&major, &minor);
    snprintf(nvrtc_id, sizeof nvrtc_id, "nvrtc %d.%d", major, minor);

    snprintf(emu_id, sizeof emu_id, "%s (unknown version)", PF_HOST_CC);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "'%s' --version 2>/dev/null", PF_HOST_CC);
    FILE *f = popen(cmd, "r");
    if (!f)
        return;
    char line[200];
    if (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        snprintf(emu_id, sizeof emu_id, "%s: %s", PF_HOST_CC, line);
    }
    pclose(f);
}

const char *pf_jit_compiler_id(const char *target)
{
    pthread_once(&ids_once, compute_ids);
    return strcmp(target, "emu") == 0 ? emu_id : nvrtc_id;
}

int pf_jit_key(const pf_variant *v, const char *src, const char *kernel_dir, char key[33])
{
    XXH3_state_t *st = XXH3_createState();
    if (!st)
        return pf_error_set("out of memory");
    XXH3_128bits_reset(st);
    hash_str(st, "pftune-jit-key-2"); /* bump when build options change */
    hash_str(st, v->target);
    hash_str(st, pf_jit_compiler_id(v->target));
    /* checker instrumentation (pf_sanitize.h); none adds nothing, so plain
     * builds keep their keys */
    const char *flags[PF_JIT_EMU_MAX_FLAGS];
    int n_flags = strcmp(v->target, "emu") == 0 ? pf_jit_emu_flags(flags) : 0;
    for (int i = 0; i < n_flags; i++)
        hash_str(st, flags[i]);

    pf_define defs[PF_JIT_MAX_DEFINES];
    int n = v->n_defines < PF_JIT_MAX_DEFINES ? v->n_defines : PF_JIT_MAX_DEFINES;
    memcpy(defs, v->defines, (size_t)n * sizeof defs[0]);
    qsort(defs, (size_t)n, sizeof defs[0], define_cmp);
    for (int i = 0; i < n; i++) {
        hash_str(st, defs[i].name);
        hash_str(st, defs[i].value);
    }

    XXH3_128bits_update(st, src, strlen(src));
    include_walk w = {.st = st, .kernel_dir = kernel_dir};
    char *real = realpath(v->source, NULL);
    already_seen(&w, real ? real : v->source);
    hash_includes(&w, src, real ? real : v->source, 0);
    free(real);
    for (int i = 0; i < w.n_seen; i++)
        free(w.seen[i]);

    XXH128_hash_t h = XXH3_128bits_digest(st);
    XXH3_freeState(st);
    snprintf(key, 33, "%016llx%016llx", (unsigned long long)h.high64,
             (unsigned long long)h.low64);
    return 0;
}

int pf_jit_source_hash(const char *source_path, char out[33])
{
    char *src = NULL;
    size_t size = 0;
    if (pf_jit_read_file(source_path, &src, &size))
        return -1;
    XXH3_state_t *st = XXH3_createState();
    if (!st) {
        free(src);
        return pf_error_set("out of memory");
    }
    XXH3_128bits_reset(st);
    XXH3_128bits_update(st, src, size);
    include_walk w = {.st = st, .kernel_dir = pf_kernel_dir()};
    char *real = realpath(source_path, NULL);
    already_seen(&w, real ? real : source_path);
    hash_includes(&w, src, real ? real : source_path, 0);
    free(real);
    free(src);
    for (int i = 0; i < w.n_seen; i++)
        free(w.seen[i]);
    XXH128_hash_t h = XXH3_128bits_digest(st);
    XXH3_freeState(st);
    snprintf(out, 33, "%016llx%016llx", (unsigned long long)h.high64, (unsigned long long)h.low64);
    return 0;
}
