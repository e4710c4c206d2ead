/* JIT cache entries under random damage: an entry is either rejected or read
 * back exactly as written (the checksum never lets a damaged entry through);
 * define parsing and target checks; the cubin / ptxas-log parsers survive
 * random bytes. */
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

static char *random_text(size_t n)
{
    char *s = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        s[i] = (char)(' ' + rand() % 95);
    s[n] = '\0';
    return s;
}

static int same_artifact(const pf_jit_artifact *a, const pf_jit_artifact *b)
{
    return a->valid == b->valid && memcmp(&a->res, &b->res, sizeof a->res) == 0 &&
           a->cubin_size == b->cubin_size && memcmp(a->cubin, b->cubin, a->cubin_size) == 0 &&
           a->ptx_size == b->ptx_size && strcmp(a->ptx, b->ptx) == 0 && strcmp(a->log, b->log) == 0;
}

static void write_bytes(const char *path, const char *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(data, 1, n, f);
        fclose(f);
    }
}

static void test_entry_damage(const char *dir)
{
    pf_jit_artifact a;
    memset(&a, 0, sizeof a);
    a.valid = 1;
    a.res = (pf_resources){1 + rand() % 255, rand() % 64, rand() % 64, rand() % 99999,
                           rand() % 512, rand() % 1000};
    a.cubin_size = 100 + (size_t)(rand() % 5000);
    a.cubin = malloc(a.cubin_size);
    for (size_t i = 0; i < a.cubin_size; i++)
        ((unsigned char *)a.cubin)[i] = (unsigned char)rand();
    a.ptx = random_text(50 + (size_t)(rand() % 3000));
    a.ptx_size = strlen(a.ptx);
    a.log = random_text((size_t)(rand() % 400));
    char key[33];
    for (int i = 0; i < 32; i++)
        key[i] = "0123456789abcdef"[rand() % 16];
    key[32] = '\0';
    CHECK(pf_jit_cache_store(dir, key, PF_TRUST_PRIVATE, &a) == 0);

    pf_jit_artifact b;
    CHECK(pf_jit_cache_load(dir, key, "sm_90", PF_TRUST_PRIVATE, &b) == 0);
    CHECK(same_artifact(&a, &b));
    pf_jit_artifact_free(&b);
    /* a different key never reads this entry's file as its own */
    char other[33];
    memcpy(other, key, sizeof other);
    other[0] = other[0] == 'a' ? 'b' : 'a';
    CHECK(pf_jit_cache_load(dir, other, "sm_90", PF_TRUST_PRIVATE, &b) == -1);

    char path[600];
    snprintf(path, sizeof path, "%s/%s.entry", dir, key);
    char *orig;
    size_t n;
    CHECK(pf_jit_read_file(path, &orig, &n) == 0);
    char *buf = malloc(n + 64);
    int rejected = 0, trials = 300;
    for (int t = 0; t < trials; t++) {
        memcpy(buf, orig, n);
        size_t m = n;
        switch (rand() % 4) {
        case 0: /* flip 1..4 random bits */
            for (int k = 1 + rand() % 4; k > 0; k--)
                buf[rand() % n] ^= (char)(1 << (rand() % 8));
            break;
        case 1: /* truncate */
            m = (size_t)rand() % n;
            break;
        case 2: /* append garbage */
            for (int k = 1 + rand() % 63; k > 0; k--)
                buf[m++] = (char)rand();
            break;
        default: /* overwrite a random run */
            for (size_t i = (size_t)rand() % n, k = 1 + (size_t)(rand() % 16); k > 0 && i < n; k--, i++)
                buf[i] = (char)rand();
            break;
        }
        if (m == n && memcmp(buf, orig, n) == 0)
            continue; /* the "damage" was a no-op */
        write_bytes(path, buf, m);
        if (pf_jit_cache_load(dir, key, "sm_90", PF_TRUST_PRIVATE, &b) == 0) {
            CHECK_MSG(same_artifact(&a, &b), "damaged entry accepted with different content");
            pf_jit_artifact_free(&b);
        } else {
            rejected++;
        }
    }
    CHECK_MSG(rejected > trials * 9 / 10, "only %d of %d damaged entries rejected", rejected, trials);
    free(buf);
    free(orig);
    pf_jit_artifact_free(&a);
}

static void test_defines(void)
{
    pf_define d;
    char text[80], name[20];
    int len = 1 + rand() % 10;
    for (int i = 0; i < len; i++)
        name[i] = "ABCXYZ_abc"[rand() % 10];
    name[len] = '\0';
    int value = rand();
    snprintf(text, sizeof text, "%s=%d", name, value);
    CHECK(pf_define_parse(text, &d) == 0);
    CHECK(strcmp(d.name, name) == 0 && atoi(d.value) == value);
    CHECK(pf_define_parse(name, &d) == 0 && strcmp(d.value, "1") == 0);
    CHECK(pf_define_parse("X=a=b", &d) == 0 && strcmp(d.value, "a=b") == 0);
    const char *bad[] = {"", "=1", "1X=2", "A B=1", "X=", "A-B", "X=\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(pf_define_parse(bad[i], &d) == -1, "accepted '%s'", bad[i]);
    char longname[100];
    memset(longname, 'N', 99);
    longname[99] = '\0';
    CHECK(pf_define_parse(longname, &d) == -1);

    pf_variant v;
    memset(&v, 0, sizeof v);
    CHECK(pf_variant_add_define(&v, "A", "1") == 0);
    CHECK(pf_variant_add_define(&v, "A", "2") == 0); /* replaces */
    CHECK(v.n_defines == 1 && strcmp(v.defines[0].value, "2") == 0);
    for (int i = 1; i < PF_JIT_MAX_DEFINES; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "D%d", i);
        CHECK(pf_variant_add_define(&v, nm, "0") == 0);
    }
    CHECK(pf_variant_add_define(&v, "ONE_TOO_MANY", "0") == -1);

    const char *ok[] = {"sm_80", "sm_86", "sm_89", "sm_90", "sm_90a", "sm_100", "sm_120", "emu"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        CHECK(pf_target_check(ok[i]) == 0);
    const char *no[] = {"sm_75", "sm_9", "SM_90", "", "cuda", "sm_90 "};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        CHECK(pf_target_check(no[i]) == -1);
}

static void test_parsers_survive_garbage(void)
{
    for (int t = 0; t < 200; t++) {
        size_t n = (size_t)(rand() % 600);
        unsigned char *b = malloc(n + 1);
        for (size_t i = 0; i < n; i++)
            b[i] = (unsigned char)rand();
        if (n >= 64 && rand() % 2) { /* a plausible ELF header with random offsets */
            memcpy(b, "\177ELF\2", 5);
        }
        CHECK(pf_jit_cubin_cmem(b, n, "k") >= -1);
        /* log lines built from the parser's own keywords in random order */
        const char *words[] = {"Compiling entry function 'k'", "Function properties for k",
                               "Used 12 registers", "bytes stack frame", ",", "\n", "'",
                               "bytes smem", "cmem[0]", "99", "spill stores"};
        char log[2048] = "";
        for (int w = 0; w < 40; w++)
            strncat(log, words[rand() % 11], sizeof log - strlen(log) - 1);
        pf_resources r;
        memset(&r, 0, sizeof r);
        char entry[32];
        CHECK(pf_jit_parse_ptxas_log(log, "k", &r, entry, sizeof entry) >= 0);
        free(b);
    }
}

int main(void)
{
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    char dir[] = "/tmp/pf-test-jit-cache-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    for (int i = 0; i < 3; i++)
        test_entry_damage(dir);
    test_defines();
    test_parsers_survive_garbage();

    /* the cache dir is created on demand, and an unusable one is an error */
    char sub[100], file[100];
    snprintf(sub, sizeof sub, "%s/a/b/c", dir);
    CHECK(pf_jit_ensure_dir(sub, PF_TRUST_PRIVATE) == 0);
    struct stat sb;
    CHECK(stat(sub, &sb) == 0 && S_ISDIR(sb.st_mode));
    snprintf(file, sizeof file, "%s/plain", dir);
    write_bytes(file, "x", 1);
    snprintf(sub, sizeof sub, "%s/plain/sub", dir);
    CHECK(pf_jit_ensure_dir(sub, PF_TRUST_PRIVATE) == -1);
    CHECK(strstr(pf_error_get(), "plain") != NULL);

    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    return PF_TEST_RESULT();
}
