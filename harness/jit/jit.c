/* Public JIT API (harness/jit/jit.h): key -> cache lookup -> build -> store. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jit/jit_internal.h"
#include "core/pf_error.h"
#include "core/clock.h"

static const char *const known_targets[] = {"sm_80", "sm_86", "sm_89",  "sm_90",
                                            "sm_90a", "sm_100", "sm_120", "emu"};
#define N_TARGETS (sizeof known_targets / sizeof known_targets[0])

/* Settings are process-wide; set them before compiling (not while workers run). */
static char cache_dir_override[1024];
static int cache_enabled = 1;
static int cache_shared = -1; /* -1: PFTUNE_CACHE_SHARED decides */

int pf_define_parse(const char *text, pf_define *out)
{
    memset(out, 0, sizeof *out);
    const char *eq = strchr(text, '=');
    size_t name_len = eq ? (size_t)(eq - text) : strlen(text);
    const char *value = eq ? eq + 1 : "1";
    if (name_len == 0 || !(isalpha((unsigned char)text[0]) || text[0] == '_'))
        return pf_error_set("malformed define '%s' (expected NAME=VALUE)", text);
    for (size_t i = 0; i < name_len; i++)
        if (!(isalnum((unsigned char)text[i]) || text[i] == '_'))
            return pf_error_set("malformed define '%s' (bad character in name)", text);
    if (name_len >= sizeof out->name)
        return pf_error_set("define name too long in '%s' (max %zu)", text,
                            sizeof out->name - 1);
    if (strlen(value) >= sizeof out->value)
        return pf_error_set("define value too long in '%s' (max %zu)", text,
                            sizeof out->value - 1);
    if (eq && value[0] == '\0')
        return pf_error_set("malformed define '%s' (empty value)", text);
    for (const char *p = value; *p; p++)
        if (iscntrl((unsigned char)*p))
            return pf_error_set("malformed define '%s' (control character in value)", text);
    memcpy(out->name, text, name_len);
    snprintf(out->value, sizeof out->value, "%s", value);
    return 0;
}

int pf_variant_add_define(pf_variant *v, const char *name, const char *value)
{
    if (strlen(name) >= sizeof v->defines[0].name || strlen(value) >= sizeof v->defines[0].value)
        return pf_error_set("define %s=%s too long", name, value);
    for (int i = 0; i < v->n_defines; i++)
        if (strcmp(v->defines[i].name, name) == 0) {
            snprintf(v->defines[i].value, sizeof v->defines[i].value, "%s", value);
            return 0;
        }
    if (v->n_defines >= PF_JIT_MAX_DEFINES)
        return pf_error_set("too many defines (max %d)", PF_JIT_MAX_DEFINES);
    pf_define *d = &v->defines[v->n_defines++];
    snprintf(d->name, sizeof d->name, "%s", name);
    snprintf(d->value, sizeof d->value, "%s", value);
    return 0;
}

int pf_target_check(const char *target)
{
    for (size_t i = 0; i < N_TARGETS; i++)
        if (strcmp(target, known_targets[i]) == 0)
            return 0;
    char list[256] = "";
    for (size_t i = 0; i < N_TARGETS; i++) {
        strcat(list, known_targets[i]);
        if (i + 1 < N_TARGETS)
            strcat(list, ", ");
    }
    return pf_error_set("unknown target '%s' (known: %s)", target, list);
}

const char *pf_kernel_dir(void)
{
    const char *env = getenv("PFTUNE_KERNEL_DIR");
    return env && env[0] ? env : PF_KERNEL_DIR_DEFAULT;
}

void pf_jit_set_cache_dir(const char *dir)
{
    snprintf(cache_dir_override, sizeof cache_dir_override, "%s", dir ? dir : "");
}

void pf_jit_set_cache_enabled(int enabled) { cache_enabled = enabled; }

void pf_jit_set_cache_shared(int shared) { cache_shared = shared != 0; }

int pf_jit_cache_shared(void)
{
    if (cache_shared >= 0)
        return cache_shared;
    const char *env = getenv("PFTUNE_CACHE_SHARED");
    return env && env[0] && strcmp(env, "0") != 0;
}

/* The default location: $XDG_CACHE_HOME/pftune, else ~/.cache/pftune. */
static int default_cache_dir(char *out, size_t out_size)
{
    const char *env;
    int n;
    if ((env = getenv("XDG_CACHE_HOME")) && env[0])
        n = snprintf(out, out_size, "%s/pftune", env);
    else if ((env = getenv("HOME")) && env[0])
        n = snprintf(out, out_size, "%s/.cache/pftune", env);
    else
        return pf_error_set("no cache directory: set PFTUNE_CACHE_DIR or HOME");
    if (n < 0 || (size_t)n >= out_size)
        return pf_error_set("cache directory path too long");
    return 0;
}

/* The cache directory and the trust it is held to: shared only when the
 * setting is on and a directory was named (the default is always private). */
static int cache_dir_trust(char *out, size_t out_size, pf_trust *trust)
{
    const char *env;
    int n = 0;
    *trust = pf_jit_cache_shared() ? PF_TRUST_SHARED : PF_TRUST_PRIVATE;
    if (cache_dir_override[0])
        n = snprintf(out, out_size, "%s", cache_dir_override);
    else if ((env = getenv("PFTUNE_CACHE_DIR")) && env[0])
        n = snprintf(out, out_size, "%s", env);
    else if (default_cache_dir(out, out_size) != 0)
        return -1;
    else
        *trust = PF_TRUST_PRIVATE;
    if (n < 0 || (size_t)n >= out_size)
        return pf_error_set("cache directory path too long");
    return pf_jit_ensure_dir(out, *trust);
}

int pf_jit_cache_dir(char *out, size_t out_size)
{
    pf_trust trust;
    return cache_dir_trust(out, out_size, &trust);
}

/* Where `target`'s entries live and the trust they are read with. Host code
 * (emu) is only ever loaded from a private directory: with a shared cache
 * that others can write, emu goes to the default (private) location. */
static int target_cache_dir(const char *target, char *dir, size_t size, pf_trust *trust)
{
    if (cache_dir_trust(dir, size, trust) != 0)
        return -1;
    if (strcmp(target, "emu") != 0 || *trust == PF_TRUST_PRIVATE)
        return 0;
    *trust = PF_TRUST_PRIVATE;
    if (pf_jit_dir_trusted(dir, PF_TRUST_PRIVATE))
        return 0;
    if (default_cache_dir(dir, size) != 0)
        return -1;
    return pf_jit_ensure_dir(dir, PF_TRUST_PRIVATE);
}

/* With the cache off, emu objects still need a home: a per-process temp dir
 * whose files pf_jit_result_free removes. */
static char nocache_dir[512];
static pthread_once_t nocache_once = PTHREAD_ONCE_INIT;

static void remove_nocache_dir(void) { rmdir(nocache_dir); } /* only if empty */

static void make_nocache_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(nocache_dir, sizeof nocache_dir, "%s/pftune-nocache-XXXXXX",
             tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(nocache_dir))
        nocache_dir[0] = '\0';
    else
        atexit(remove_nocache_dir);
}

/* Move an artifact into the caller's result (takes ownership of its buffers). */
static int fill_result(pf_jit_artifact *a, const char *dir, pf_jit_result *r)
{
    r->valid = a->valid;
    r->res = a->res;
    r->log = a->log;
    a->log = NULL;
    if (a->valid && a->cubin) {
        r->bin.image = a->cubin;
        r->bin.image_size = a->cubin_size;
        a->cubin = NULL;
    }
    if (a->valid && a->so_name[0]) {
        size_t n = strlen(dir) + strlen(a->so_name) + 2;
        char *path = malloc(n);
        if (!path)
            return pf_error_set("out of memory");
        snprintf(path, n, "%s/%s", dir, a->so_name);
        r->bin.so_path = path;
    }
    return 0;
}

int pf_jit_compile(const pf_variant *v, pf_jit_result *r)
{
    double t0 = (pf_clock_seconds() * 1e3);
    memset(r, 0, sizeof *r);
    if (pf_target_check(v->target) != 0)
        return -1;
    const char *kernel_dir = pf_kernel_dir();
    char *src = NULL;
    size_t src_size;
    if (pf_jit_read_file(v->source, &src, &src_size) != 0)
        return pf_error_prefix("kernel source");
    if (strlen(src) != src_size) {
        free(src);
        return pf_error_set("kernel source '%s' contains NUL bytes", v->source);
    }
    char key[33];
    if (pf_jit_key(v, src, kernel_dir, key) != 0) {
        free(src);
        return -1;
    }
    memcpy(r->key, key, sizeof key);

    char dir[1024];
    pf_trust trust = PF_TRUST_PRIVATE;
    if (cache_enabled) {
        if (target_cache_dir(v->target, dir, sizeof dir, &trust) != 0) {
            free(src);
            return -1;
        }
    } else {
        pthread_once(&nocache_once, make_nocache_dir);
        if (!nocache_dir[0]) {
            free(src);
            return pf_error_set("cannot create a temporary directory: %s", strerror(errno));
        }
        snprintf(dir, sizeof dir, "%s", nocache_dir);
    }

    pf_jit_artifact a;
    int is_emu = strcmp(v->target, "emu") == 0;
    int rc = 0;
    if (cache_enabled && pf_jit_cache_load(dir, key, v->target, trust, &a) == 0) {
        r->from_cache = 1;
    } else {
        rc = is_emu ? pf_jit_emu_build(v, key, kernel_dir, dir, &a)
                    : pf_jit_nvrtc_build(v, src, kernel_dir, &a);
        if (rc == 0 && cache_enabled)
            rc = pf_jit_cache_store(dir, key, trust, &a);
    }
    free(src);
    if (rc == 0)
        rc = fill_result(&a, dir, r);
    pf_jit_artifact_free(&a);
    if (rc != 0) {
        pf_jit_result_free(r);
        return -1;
    }
    r->compile_ms = (pf_clock_seconds() * 1e3) - t0;
    return 0;
}

void pf_jit_result_free(pf_jit_result *r)
{
    if (!r)
        return;
    size_t n = strlen(nocache_dir);
    if (r->bin.so_path && n && strncmp(r->bin.so_path, nocache_dir, n) == 0 &&
        r->bin.so_path[n] == '/') {
        /* Safe even if loaded: dlopen keeps its mapping. */
        unlink(r->bin.so_path);
    }
    free(r->log);
    free((void *)r->bin.image);
    free((void *)r->bin.so_path);
    memset(r, 0, sizeof *r);
}
