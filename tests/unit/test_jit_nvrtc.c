/* JIT, GPU archs (NVRTC; no GPU needed): a fresh kernel compiles for sm_80
 * and sm_90 with a plausible resource record; a syntax error is an invalid
 * variant with a log; the cache serves hits faster and rebuilds corrupted
 * entries to the same cubin; parallel compiles give byte-identical cubins;
 * the ptxas log parser reads a synthetic log with random numbers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jit/jit.h"
#include "jit/jit_internal.h"
#include "core/pf_error.h"
#include "pf_test.h"

static char tmpdir[256];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void corrupt(const char *path, int mode)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return;
    if (mode == 1) {
        CHECK(truncate(path, sb.st_size - 1 - rand() % 64) == 0);
        return;
    }
    FILE *f = fopen(path, "r+b");
    if (!f)
        return;
    long at = 24 + rand() % (sb.st_size - 24); /* anywhere in the body */
    fseek(f, at, SEEK_SET);
    int c = fgetc(f);
    fseek(f, at, SEEK_SET);
    fputc(c ^ 0x21, f);
    fclose(f);
}

static void set_variant(pf_variant *v, const char *src, const char *target, int tile)
{
    memset(v, 0, sizeof *v);
    snprintf(v->source, sizeof v->source, "%s", src);
    snprintf(v->target, sizeof v->target, "%s", target);
    char t[16];
    snprintf(t, sizeof t, "%d", tile);
    pf_variant_add_define(v, "TILE", t);
}

static void test_parser(void)
{
    int regs = 1 + rand() % 255, smem = rand() % 100000, stack = 8 * (rand() % 50);
    int st = rand() % 500, ld = rand() % 500, cmem = 300 + rand() % 200;
    char log[2048];
    snprintf(log, sizeof log,
             "ptxas info    : 0 bytes gmem\n"
             "ptxas info    : Compiling entry function 'second_k' for 'sm_80'\n"
             "ptxas info    : Function properties for second_k\n"
             "ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads\n"
             "ptxas info    : Used 8 registers, used 0 barriers, 360 bytes cmem[0]\n"
             "ptxas info    : Compiling entry function 'first_k' for 'sm_80'\n"
             "ptxas info    : Function properties for first_k\n"
             "ptxas         .     %d bytes stack frame, %d bytes spill stores, %d bytes spill loads\n"
             "ptxas info    : Used %d registers, used 1 barriers, %d bytes cumulative stack size, "
             "%d bytes smem, %d bytes cmem[0]\n"
             "ptxas info    : Function properties for _Z6helperPfi\n"
             "ptxas         .     999 bytes stack frame, 77 bytes spill stores, 77 bytes spill loads\n",
             stack, st, ld, regs, stack, smem, cmem);
    const char *src = "void first_k(P p) {}\nvoid second_k(P p) {}\n";
    pf_resources r;
    memset(&r, 0, sizeof r);
    char entry[64];
    CHECK(pf_jit_parse_ptxas_log(log, src, &r, entry, sizeof entry) == 2);
    CHECK(strcmp(entry, "first_k") == 0);
    CHECK(r.registers == regs && r.static_smem == smem && r.const_mem == cmem);
    CHECK(r.stack_frame == stack && r.spill_stores == st && r.spill_loads == ld);
    CHECK(pf_jit_parse_ptxas_log("garbage\n", src, &r, entry, sizeof entry) == 0);
}

int main(void)
{
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    snprintf(tmpdir, sizeof tmpdir, "/tmp/pf-test-jit-nvrtc-XXXXXX");
    CHECK(mkdtemp(tmpdir) != NULL);
    char cachedir[300], src[300];
    snprintf(cachedir, sizeof cachedir, "%s/cache", tmpdir);
    snprintf(src, sizeof src, "%s/k.cu", tmpdir);
    pf_jit_set_cache_dir(cachedir);
    pf_jit_set_cache_enabled(1);
    test_parser();

    /* a real kernel: shared memory, a barrier, a dynamically indexed local
     * array (-> stack frame), a random constant so the key is fresh */
    char text[1500];
    int salt = rand();
    snprintf(text, sizeof text,
             "#ifndef TILE\n#define TILE 64\n#endif\n"
             "struct P { float *x; int n; int salt; };\n"
             "extern \"C\" __global__ void tiny_kernel(struct P p)\n"
             "{\n"
             "    __shared__ float s[TILE];\n"
             "    float loc[32];\n"
             "    int i = threadIdx.x;\n"
             "    for (int j = 0; j < 32; j++) loc[j] = p.x[(i * j) %% p.n];\n"
             "    s[i %% TILE] = p.x[i] * %d.0f + loc[p.salt & 31];\n"
             "    __syncthreads();\n"
             "    float a = 0;\n"
             "    for (int j = 0; j < p.n; j++) a += s[(i + j) %% TILE] * p.x[j];\n"
             "    p.x[i] = a;\n"
             "}\n",
             salt % 1000);
    write_file(src, text);

    const char *archs[] = {"sm_80", "sm_90"};
    for (int a = 0; a < 2; a++) {
        int tile = 32 + 8 * (rand() % 16);
        pf_variant v;
        set_variant(&v, src, archs[a], tile);
        pf_jit_result miss, hit;
        CHECK(pf_jit_compile(&v, &miss) == 0);
        CHECK_MSG(miss.valid, "%s log: %s", archs[a], miss.log ? miss.log : "");
        CHECK(miss.from_cache == 0);
        CHECK(miss.bin.image && miss.bin.image_size > 64);
        CHECK(miss.bin.image && memcmp(miss.bin.image, "\177ELF", 4) == 0);
        CHECK_MSG(miss.res.registers > 0, "%s registers %d", archs[a], miss.res.registers);
        CHECK_MSG(miss.res.static_smem == tile * 4, "%s smem %d want %d", archs[a],
                  miss.res.static_smem, tile * 4);
        CHECK_MSG(miss.res.stack_frame > 0, "%s stack %d", archs[a], miss.res.stack_frame);
        CHECK_MSG(miss.res.const_mem > 0, "%s cmem %d", archs[a], miss.res.const_mem);

        CHECK(pf_jit_compile(&v, &hit) == 0);
        CHECK(hit.from_cache == 1 && hit.valid);
        CHECK_MSG(hit.compile_ms < miss.compile_ms, "hit %.2f ms miss %.2f ms", hit.compile_ms,
                  miss.compile_ms);
        CHECK(hit.bin.image_size == miss.bin.image_size &&
              memcmp(hit.bin.image, miss.bin.image, miss.bin.image_size) == 0);
        CHECK(memcmp(&hit.res, &miss.res, sizeof hit.res) == 0);

        /* corrupted and truncated entries are rebuilt to the same cubin */
        char entry[400];
        snprintf(entry, sizeof entry, "%s/%s.entry", cachedir, miss.key);
        for (int mode = 0; mode < 2; mode++) {
            corrupt(entry, mode);
            pf_jit_result again;
            CHECK(pf_jit_compile(&v, &again) == 0);
            CHECK_MSG(again.from_cache == 0, "%s mode %d served a corrupted entry", archs[a], mode);
            CHECK(again.valid && again.bin.image_size == miss.bin.image_size &&
                  memcmp(again.bin.image, miss.bin.image, miss.bin.image_size) == 0);
            pf_jit_result_free(&again);
            CHECK(pf_jit_compile(&v, &again) == 0);
            CHECK(again.from_cache == 1);
            pf_jit_result_free(&again);
        }
        pf_jit_result_free(&miss);
        pf_jit_result_free(&hit);
    }

    /* syntax error: invalid variant with the error in the log */
    char bad[400];
    snprintf(bad, sizeof bad, "%s/kernels/test/syntax_error.cu",
             getenv("PFTUNE_SOURCE_DIR") ? getenv("PFTUNE_SOURCE_DIR") : PF_SOURCE_DIR);
    pf_variant bv;
    set_variant(&bv, bad, "sm_90", 64);
    pf_jit_result br;
    CHECK(pf_jit_compile(&bv, &br) == 0);
    CHECK(br.valid == 0);
    CHECK_MSG(br.log && strstr(br.log, "error") && strstr(br.log, "syntax_error.cu"), "log: %s",
              br.log ? br.log : "(null)");
    CHECK(br.bin.image == NULL);
    pf_jit_result_free(&br);

    /* unknown target: -1 listing the known ones */
    pf_variant uv;
    set_variant(&uv, src, "sm_75", 64);
    CHECK(pf_jit_compile(&uv, &br) == -1);
    CHECK(strstr(pf_error_get(), "sm_75") && strstr(pf_error_get(), "sm_90"));

    /* parallel == serial, cache off so every compile really runs */
    enum { N = 6 };
    pf_variant vs[N];
    for (int i = 0; i < N; i++)
        set_variant(&vs[i], src, archs[i % 2], 16 * (1 + rand() % 8));
    pf_jit_result par[N], ser[N];
    pf_jit_set_cache_enabled(0);
    CHECK(pf_jit_compile_many(vs, N, 4, par) == 0);
    CHECK(pf_jit_compile_many(vs, N, 1, ser) == 0);
    pf_jit_set_cache_enabled(1);
    for (int i = 0; i < N; i++) {
        CHECK(par[i].valid && ser[i].valid && par[i].from_cache == 0);
        CHECK(strcmp(par[i].key, ser[i].key) == 0);
        CHECK(par[i].bin.image_size == ser[i].bin.image_size &&
              memcmp(par[i].bin.image, ser[i].bin.image, ser[i].bin.image_size) == 0);
        CHECK(memcmp(&par[i].res, &ser[i].res, sizeof par[i].res) == 0);
        pf_jit_result_free(&par[i]);
        pf_jit_result_free(&ser[i]);
    }
    /* a failing member (missing file) makes compile_many -1, others still built */
    snprintf(vs[1].source, sizeof vs[1].source, "%s/missing.cu", tmpdir);
    CHECK(pf_jit_compile_many(vs, 3, 3, par) == -1);
    CHECK(strstr(pf_error_get(), "missing.cu") != NULL);
    CHECK(par[0].valid && par[2].valid && !par[1].valid);
    for (int i = 0; i < 3; i++)
        pf_jit_result_free(&par[i]);

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    CHECK(system(cmd) == 0);
    return PF_TEST_RESULT();
}
