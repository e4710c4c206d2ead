/* The JIT cache never runs code someone else put there: cache directories
 * that others can write (or that belong to someone else, or sit in such a
 * directory) are refused; new ones are 0700, entries 0600 and shared objects
 * 0700; a shared object planted under the exact name the cache uses (owned
 * by another uid, mode 0666, or a symlink) is neither loaded by the cache
 * nor by the emu device: its constructor would write a marker file, which
 * never appears, and the rebuilt kernel still computes the right answer.
 * Foreign ownership needs root (chown); those checks are skipped otherwise. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/pf_error.h"
#include "device/device.h"
#include "jit/jit.h"
#include "jit/jit_internal.h"
#include "pf_test.h"

#define NOBODY 65534

static char root[256], marker[300], planted[300];
static pf_device *dev;
static int salt;
static int is_root;

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static unsigned mode_of(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0 ? (unsigned)(sb.st_mode & 07777) : 0xffffu;
}

static int exists(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0;
}

static void sub(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", root, name);
}

/* A fresh emu kernel (the salt makes its key new): out[0] = x * 3 + salt. */
static void kernel_variant(pf_variant *v)
{
    memset(v, 0, sizeof *v);
    sub(v->source, sizeof v->source, "trust.cu");
    char text[512];
    snprintf(text, sizeof text,
             "#include \"pf_dialect.h\"\n"
             "typedef struct trust_params { int *out; int x; } trust_params;\n"
             "PF_KERNEL(trust_fn, trust_params, p)\n"
             "{\n    if (threadIdx.x == 0)\n        p.out[0] = p.x * 3 + %d;\n}\n",
             salt);
    write_file(v->source, text);
    snprintf(v->target, sizeof v->target, "emu");
}

/* Load `bin` on the emu device and run the kernel: 1 if it answers right. */
static int runs_right(const pf_binary *bin)
{
    pf_module *m = NULL;
    if (pf_dev_module_load(dev, bin, &m) != 0)
        return 0;
    pf_dptr d;
    int y = -1, ok = 0;
    if (pf_dev_alloc(dev, sizeof y, "trust.out", &d) == 0) {
        struct { int *out; int x; } p = {(int *)(uintptr_t)d, 14};
        pf_dim3 g = {1, 1, 1}, b = {32, 1, 1};
        ok = pf_dev_launch(dev, m, "trust_fn", g, b, 0, NULL, &p, sizeof p) == 0 &&
             pf_dev_copy_dtoh(dev, &y, d, sizeof y, NULL) == 0 && y == 14 * 3 + salt;
        pf_dev_free(dev, d);
    }
    pf_dev_module_unload(dev, m);
    return ok;
}

/* Compile `v` through the cache: from_cache, and whether it runs right. */
static int compile_runs(const pf_variant *v, int *from_cache)
{
    pf_jit_result r;
    if (pf_jit_compile(v, &r) != 0 || !r.valid) {
        CHECK_MSG(0, "compile: %s", pf_error_get());
        return 0;
    }
    *from_cache = r.from_cache;
    int ok = runs_right(&r.bin);
    pf_jit_result_free(&r);
    return ok;
}

/* The planted object: its constructor writes the marker. */
static void build_planted(void)
{
    char src[300], cmd[1200];
    sub(src, sizeof src, "planted.c");
    sub(planted, sizeof planted, "planted.so");
    sub(marker, sizeof marker, "MARKER");
    char text[600];
    snprintf(text, sizeof text,
             "#include <stdio.h>\n"
             "__attribute__((constructor)) static void planted(void)\n"
             "{ FILE *f = fopen(\"%s\", \"w\"); if (f) fclose(f); }\n"
             "void trust_fn(void) {}\n",
             marker);
    write_file(src, text);
    snprintf(cmd, sizeof cmd, "%s -shared -fPIC -o %s %s", PF_HOST_CC, planted, src);
    CHECK(system(cmd) == 0);
}

/* Copy the planted object to `dst` and write the emu entry for `key` naming
 * it with its true size and hash, so only the trust check can stop it. */
static void plant(const char *dir, const char *key, const char *so_name)
{
    char dst[600], cmd[1400];
    snprintf(dst, sizeof dst, "%s/%s", dir, so_name);
    unlink(dst);
    snprintf(cmd, sizeof cmd, "cp %s %s", planted, dst);
    CHECK(system(cmd) == 0);
    pf_jit_artifact a;
    memset(&a, 0, sizeof a);
    a.valid = 1;
    snprintf(a.so_name, sizeof a.so_name, "%s", so_name);
    int fd = open(dst, O_RDONLY);
    CHECK(fd >= 0 && pf_jit_hash_fd(fd, dst, &a.so_hash, &a.so_size) == 0);
    if (fd >= 0)
        close(fd);
    CHECK(pf_jit_cache_store(dir, key, PF_TRUST_PRIVATE, &a) == 0);
}

static void expect_refused(const char *dir, pf_trust t, const char *what, const char *fix)
{
    CHECK_MSG(pf_jit_ensure_dir(dir, t) == -1, "%s accepted", dir);
    const char *e = pf_error_get();
    CHECK_MSG(strstr(e, dir) && strstr(e, what) && strstr(e, fix) && !strchr(e, '\n'),
              "message: %s", e);
}

static void test_directories(void)
{
    char d[300], parent[300], child[340];
    /* created 0700, parents included */
    sub(d, sizeof d, "new/a/b");
    CHECK(pf_jit_ensure_dir(d, PF_TRUST_PRIVATE) == 0);
    CHECK(mode_of(d) == 0700);
    sub(parent, sizeof parent, "new");
    CHECK(mode_of(parent) == 0700);

    sub(d, sizeof d, "world");
    CHECK(mkdir(d, 0700) == 0 && chmod(d, 01777) == 0);
    expect_refused(d, PF_TRUST_PRIVATE, "writable by others (mode 1777)", "chmod 700 ");
    expect_refused(d, PF_TRUST_SHARED, "writable by others", "--no-cache");

    sub(d, sizeof d, "group");
    CHECK(mkdir(d, 0700) == 0 && chmod(d, 0770) == 0);
    expect_refused(d, PF_TRUST_PRIVATE, "writable by its group", "chmod 700 ");
    CHECK(pf_jit_ensure_dir(d, PF_TRUST_SHARED) == 0);

    /* a parent others can write (not sticky) could swap the directory */
    sub(parent, sizeof parent, "open");
    CHECK(mkdir(parent, 0700) == 0 && chmod(parent, 0777) == 0);
    snprintf(child, sizeof child, "%s/cache", parent);
    expect_refused(child, PF_TRUST_PRIVATE, "inside", "another --cache-dir");
    CHECK(chmod(parent, 01777) == 0); /* like /tmp */
    CHECK_MSG(pf_jit_ensure_dir(child, PF_TRUST_PRIVATE) == 0, "%s", pf_error_get());

    if (is_root) {
        sub(d, sizeof d, "foreign");
        CHECK(mkdir(d, 0755) == 0 && chown(d, NOBODY, NOBODY) == 0);
        expect_refused(d, PF_TRUST_PRIVATE, "owned by uid 65534", "--no-cache");
        CHECK(pf_jit_ensure_dir(d, PF_TRUST_SHARED) == 0); /* the team's, 0755 */
        /* a symlink to it is judged by what it points to */
        sub(child, sizeof child, "link-to-foreign");
        CHECK(symlink(d, child) == 0);
        expect_refused(child, PF_TRUST_PRIVATE, "owned by uid 65534", "--no-cache");
    }

    /* the default location (XDG_CACHE_HOME) is created 0700, refused if unsafe */
    char xdg[300], dflt[340], got[1024];
    sub(xdg, sizeof xdg, "xdg");
    snprintf(dflt, sizeof dflt, "%s/pftune", xdg);
    setenv("XDG_CACHE_HOME", xdg, 1);
    unsetenv("PFTUNE_CACHE_DIR");
    pf_jit_set_cache_dir(NULL);
    CHECK_MSG(pf_jit_cache_dir(got, sizeof got) == 0, "%s", pf_error_get());
    CHECK(strcmp(got, dflt) == 0 && mode_of(dflt) == 0700 && mode_of(xdg) == 0700);
    CHECK(chmod(dflt, 0777) == 0);
    CHECK(pf_jit_cache_dir(got, sizeof got) == -1 && strstr(pf_error_get(), "chmod 700"));
    CHECK(chmod(dflt, 0700) == 0);
}

static void test_entries(void)
{
    char cache[300];
    sub(cache, sizeof cache, "cache");
    pf_jit_set_cache_dir(cache);
    pf_variant v;
    kernel_variant(&v);
    int hit = -1;
    CHECK(compile_runs(&v, &hit) && hit == 0);
    CHECK(compile_runs(&v, &hit) && hit == 1);
    CHECK(mode_of(cache) == 0700);

    pf_jit_result r;
    CHECK(pf_jit_compile(&v, &r) == 0 && r.bin.so_path);
    char key[40], so_name[128], entry[400], so[600];
    snprintf(key, sizeof key, "%s", r.key);
    const char *base = r.bin.so_path ? strrchr(r.bin.so_path, '/') : NULL;
    snprintf(so_name, sizeof so_name, "%s", base ? base + 1 : "x.so");
    pf_jit_result_free(&r);
    snprintf(entry, sizeof entry, "%s/%s.entry", cache, key);
    snprintf(so, sizeof so, "%s/%s", cache, so_name);
    CHECK_MSG(mode_of(entry) == 0600, "entry mode %o", mode_of(entry));
    CHECK_MSG(mode_of(so) == 0700, "so mode %o", mode_of(so));

    /* the emu device itself refuses an object others could have written */
    build_planted();
    CHECK(chmod(planted, 0666) == 0);
    pf_binary bad = {NULL, 0, planted};
    CHECK(!runs_right(&bad) && strstr(pf_error_get(), "writable by others"));
    CHECK(!exists(marker));
    CHECK(chmod(planted, 0700) == 0);

    /* planted under the exact name: mode 0666, another owner, a symlink */
    const char *how[] = {"mode 0666", "owned by nobody", "symlink", "foreign entry"};
    for (int i = 0; i < 4; i++) {
        if ((i == 1 || i == 3) && !is_root)
            continue;
        plant(cache, key, so_name);
        if (i == 0)
            CHECK(chmod(so, 0666) == 0);
        if (i == 1)
            CHECK(chown(so, NOBODY, NOBODY) == 0);
        if (i == 2) {
            CHECK(unlink(so) == 0 && symlink(planted, so) == 0);
        }
        if (i == 3) {
            /* a trustworthy-looking object, but the entry is someone else's */
            CHECK(chown(entry, NOBODY, NOBODY) == 0);
        }
        hit = -1;
        CHECK_MSG(compile_runs(&v, &hit) && hit == 0, "%s: served or wrong (hit %d)", how[i], hit);
        CHECK_MSG(!exists(marker), "%s: the planted object ran", how[i]);
        /* rebuilt in place, as the user's own */
        struct stat sb;
        CHECK(lstat(so, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_uid == geteuid() &&
              (sb.st_mode & 07777) == 0700);
        CHECK(lstat(entry, &sb) == 0 && sb.st_uid == geteuid() && (sb.st_mode & 07777) == 0600);
        CHECK(compile_runs(&v, &hit) && hit == 1);
        if (is_root && i == 1) { /* and the device would not load it either */
            plant(cache, key, "foreign.so");
            char foreign[400];
            snprintf(foreign, sizeof foreign, "%s/foreign.so", cache);
            CHECK(chown(foreign, NOBODY, NOBODY) == 0);
            pf_binary fb = {NULL, 0, foreign};
            CHECK(!runs_right(&fb) && strstr(pf_error_get(), "owned by uid 65534"));
            CHECK(!exists(marker));
            CHECK(compile_runs(&v, &hit) && hit == 0); /* entry pointed there: rebuilt */
        }
    }
    pf_binary link = {NULL, 0, so};
    CHECK(unlink(so) == 0 && symlink(planted, so) == 0);
    CHECK(!runs_right(&link) && strstr(pf_error_get(), "symbolic link"));
    CHECK(!exists(marker));

    /* --no-cache still works */
    pf_jit_set_cache_enabled(0);
    CHECK(compile_runs(&v, &hit) && hit == 0);
    pf_jit_set_cache_enabled(1);
}

/* Loads go through a fresh fd each time: an object still loaded from an
 * earlier fd number must not be mistaken for the next one. */
static void test_modules_coexist(void)
{
    pf_variant v;
    pf_jit_result r;
    pf_module *first = NULL;
    kernel_variant(&v);
    CHECK(pf_jit_compile(&v, &r) == 0 && r.valid);
    CHECK(pf_dev_module_load(dev, &r.bin, &first) == 0);
    pf_jit_result_free(&r);
    for (int i = 0; i < 3; i++) {
        salt++;
        kernel_variant(&v);
        int hit;
        CHECK_MSG(compile_runs(&v, &hit), "load %d ran another object's kernel", i);
    }
    pf_dev_module_unload(dev, first);
}

/* With the shared setting, a team directory is accepted for GPU binaries,
 * but emu objects go to the private default location. */
static void test_shared(void)
{
    char team[300];
    sub(team, sizeof team, "team");
    CHECK(mkdir(team, 0700) == 0 && chmod(team, 02770) == 0);
    if (is_root)
        CHECK(chown(team, NOBODY, NOBODY) == 0);
    pf_jit_set_cache_dir(team);
    char got[1024];
    CHECK(pf_jit_cache_dir(got, sizeof got) == -1);
    pf_jit_set_cache_shared(1);
    CHECK_MSG(pf_jit_cache_dir(got, sizeof got) == 0, "%s", pf_error_get());
    pf_variant v;
    salt++;
    kernel_variant(&v);
    pf_jit_result r;
    CHECK_MSG(pf_jit_compile(&v, &r) == 0 && r.valid, "%s", pf_error_get());
    char xdg[300];
    sub(xdg, sizeof xdg, "xdg/pftune/");
    CHECK_MSG(r.bin.so_path && strncmp(r.bin.so_path, xdg, strlen(xdg)) == 0, "emu in %s",
              r.bin.so_path ? r.bin.so_path : "(none)");
    CHECK(runs_right(&r.bin));
    pf_jit_result_free(&r);
    pf_jit_set_cache_shared(0);
}

int main(void)
{
    pf_test_seed();
    salt = (int)(pf_test_rng() % 100000);
    is_root = geteuid() == 0;
    if (!is_root)
        printf("not root: checks that need another owner are skipped\n");
    snprintf(root, sizeof root, "/tmp/pf-test-jit-trust-XXXXXX");
    CHECK(mkdtemp(root) != NULL);
    CHECK_MSG(pf_emu_open("sm_90", &dev) == 0, "%s", pf_error_get());
    if (!dev)
        return PF_TEST_RESULT();
    test_directories();
    test_entries();
    test_modules_coexist();
    test_shared();
    pf_device_close(dev);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    CHECK(system(cmd) == 0);
    return PF_TEST_RESULT();
}
