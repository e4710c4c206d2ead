/* JIT, target emu: a fresh C kernel with random constants is compiled by the
 * host compiler, dlopen'd and called; the cache serves the second compile
 * (faster), and corrupted entries / objects are detected and rebuilt. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jit/jit.h"
#include "core/pf_error.h"
#include "pf_test.h"

static char tmpdir[256], cachedir[300], srcpath[300];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void flip_byte(const char *path, long offset_from_end)
{
    FILE *f = fopen(path, "r+b");
    if (!f)
        return;
    fseek(f, -offset_from_end, SEEK_END);
    int c = fgetc(f);
    fseek(f, -offset_from_end, SEEK_END);
    fputc(c ^ 0x5a, f);
    fclose(f);
}

static void truncate_half(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) == 0)
        CHECK(truncate(path, sb.st_size / 2) == 0);
}

/* Compile, check the result, dlopen it and call pf_test_fn(x). */
static int compile_and_call(const pf_variant *v, int x, int *from_cache, double *ms, int *y)
{
    pf_jit_result r;
    if (pf_jit_compile(v, &r) != 0) {
        fprintf(stderr, "compile failed: %s\n", pf_error_get());
        return -1;
    }
    CHECK_MSG(r.valid, "log: %s", r.log ? r.log : "(none)");
    CHECK(r.bin.so_path != NULL);
    CHECK(strlen(r.key) == 32);
    *from_cache = r.from_cache;
    *ms = r.compile_ms;
    int rc = -1;
    void *h = r.bin.so_path ? dlopen(r.bin.so_path, RTLD_NOW | RTLD_LOCAL) : NULL;
    CHECK_MSG(h != NULL, "dlopen: %s", dlerror());
    if (h) {
        int (*fn)(int) = (int (*)(int))dlsym(h, "pf_test_fn");
        CHECK(fn != NULL);
        if (fn) {
            *y = fn(x);
            rc = 0;
        }
        dlclose(h);
    }
    pf_jit_result_free(&r);
    return rc;
}

int main(void)
{
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    snprintf(tmpdir, sizeof tmpdir, "/tmp/pf-test-jit-emu-XXXXXX");
    CHECK(mkdtemp(tmpdir) != NULL);
    snprintf(cachedir, sizeof cachedir, "%s/cache", tmpdir);
    snprintf(srcpath, sizeof srcpath, "%s/tiny.cu", tmpdir);
    pf_jit_set_cache_dir(cachedir);
    pf_jit_set_cache_enabled(1);

    /* A unique kernel: random constants in the text and via defines, plus a
     * quoted include that must be found beside the source. */
    int a = 3 + rand() % 1000, b = rand() % 100000, c = 1 + rand() % 77;
    char text[512], hdr[300];
    snprintf(hdr, sizeof hdr, "%s/tiny_helper.h", tmpdir);
    snprintf(text, sizeof text, "#define HELPER_C %d\n", c);
    write_file(hdr, text);
    snprintf(text, sizeof text,
             "#include \"tiny_helper.h\"\n"
             "#ifndef SCALE\n#error SCALE must be defined\n#endif\n"
             "int pf_test_fn(int x) { return x * SCALE + OFFSET + %d * HELPER_C; }\n",
             a);
    write_file(srcpath, text);

    pf_variant v;
    memset(&v, 0, sizeof v);
    snprintf(v.source, sizeof v.source, "%s", srcpath);
    snprintf(v.target, sizeof v.target, "emu");
    int scale = 2 + rand() % 50;
    char sv[16], ov[16];
    snprintf(sv, sizeof sv, "%d", scale);
    snprintf(ov, sizeof ov, "%d", b);
    CHECK(pf_variant_add_define(&v, "SCALE", sv) == 0);
    CHECK(pf_variant_add_define(&v, "OFFSET", ov) == 0);

    int x = rand() % 1000, y = 0, hit = -1;
    int want = x * scale + b + a * c;
    double miss_ms = 0, hit_ms = 0;

    /* miss, then hit (faster) */
    CHECK(compile_and_call(&v, x, &hit, &miss_ms, &y) == 0);
    CHECK(hit == 0);
    CHECK_MSG(y == want, "got %d want %d", y, want);
    CHECK(compile_and_call(&v, x, &hit, &hit_ms, &y) == 0);
    CHECK(hit == 1);
    CHECK(y == want);
    CHECK_MSG(hit_ms < miss_ms, "hit %.2f ms, miss %.2f ms", hit_ms, miss_ms);

    /* the key follows the include: editing the helper is a miss */
    pf_jit_result r1, r2;
    CHECK(pf_jit_compile(&v, &r1) == 0);
    snprintf(text, sizeof text, "#define HELPER_C %d\n", c + 1);
    write_file(hdr, text);
    CHECK(pf_jit_compile(&v, &r2) == 0);
    CHECK(strcmp(r1.key, r2.key) != 0);
    CHECK(r2.from_cache == 0);
    pf_jit_result_free(&r1);
    pf_jit_result_free(&r2);
    want = x * scale + b + a * (c + 1);

    /* define order does not change the key; a different value does */
    pf_variant w = v;
    w.defines[0] = v.defines[1];
    w.defines[1] = v.defines[0];
    CHECK(pf_jit_compile(&v, &r1) == 0);
    CHECK(pf_jit_compile(&w, &r2) == 0);
    CHECK(strcmp(r1.key, r2.key) == 0);
    CHECK(r2.from_cache == 1);
    char entry[400];
    snprintf(entry, sizeof entry, "%s/%s.entry", cachedir, r1.key);
    char so_path[400];
    pf_jit_result_free(&r1);
    pf_jit_result_free(&r2);

    /* corrupted entry (flipped byte), truncated entry, corrupted .so: each is
     * rebuilt transparently, and the rebuilt entry serves the next call */
    for (int mode = 0; mode < 3; mode++) {
        if (mode == 0)
            flip_byte(entry, 1 + rand() % 16);
        else if (mode == 1)
            truncate_half(entry);
        else {
            CHECK(pf_jit_compile(&v, &r1) == 0); /* the object currently in use */
            snprintf(so_path, sizeof so_path, "%s", r1.bin.so_path ? r1.bin.so_path : "");
            pf_jit_result_free(&r1);
            flip_byte(so_path, 100 + rand() % 1000);
        }
        CHECK(compile_and_call(&v, x, &hit, &miss_ms, &y) == 0);
        CHECK_MSG(hit == 0, "mode %d: corrupted entry served from cache", mode);
        CHECK(y == want);
        CHECK(compile_and_call(&v, x, &hit, &hit_ms, &y) == 0);
        CHECK_MSG(hit == 1, "mode %d: rebuilt entry not cached", mode);
        CHECK(y == want);
    }

    /* cache disabled: still builds, nothing is served from the cache */
    pf_jit_set_cache_enabled(0);
    CHECK(compile_and_call(&v, x, &hit, &miss_ms, &y) == 0);
    CHECK(hit == 0);
    CHECK(y == want);
    pf_jit_set_cache_enabled(1);

    /* a compile error is a result, not a failure */
    char bad[400];
    snprintf(bad, sizeof bad, "%s/kernels/test/syntax_error.cu",
             getenv("PFTUNE_SOURCE_DIR") ? getenv("PFTUNE_SOURCE_DIR") : PF_SOURCE_DIR);
    pf_variant bv = v;
    snprintf(bv.source, sizeof bv.source, "%s", bad);
    pf_jit_result br;
    CHECK(pf_jit_compile(&bv, &br) == 0);
    CHECK(br.valid == 0);
    CHECK(br.log && strstr(br.log, "error"));
    CHECK(br.bin.so_path == NULL);
    pf_jit_result_free(&br);
    /* ...also when it comes back from the cache */
    CHECK(pf_jit_compile(&bv, &br) == 0);
    CHECK(br.valid == 0 && br.from_cache == 1);
    CHECK(br.log && strstr(br.log, "error"));
    pf_jit_result_free(&br);

    /* missing source: -1 with a message naming the file */
    pf_variant mv = v;
    snprintf(mv.source, sizeof mv.source, "%s/does_not_exist.cu", tmpdir);
    CHECK(pf_jit_compile(&mv, &br) == -1);
    CHECK(strstr(pf_error_get(), "does_not_exist.cu") != NULL);

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    CHECK(system(cmd) == 0);
    return PF_TEST_RESULT();
}
