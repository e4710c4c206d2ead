/* models/safetensors: parsing, conversions, sharded models through the
 * index, and every malformed file the issue lists (each a one-line error
 * naming the file or tensor). Files are written to a temp directory. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/pf_error.h"
#include "models/safetensors.h"
#include "pf_test.h"

static char dir[256];

/* Write header + data as a safetensors file named `name` in dir. */
static void write_st(const char *name, const char *header, const void *data, size_t dsize)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    uint64_t h = strlen(header);
    uint8_t len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (uint8_t)(h >> (8 * i));
    fwrite(len, 1, 8, f);
    fwrite(header, 1, h, f);
    if (dsize)
        fwrite(data, 1, dsize, f);
    fclose(f);
}

static void write_text(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

/* Parsing an in-memory image fails and the message contains `what`. */
static int parse_fails(const char *header, size_t dsize, const char *what)
{
    size_t h = strlen(header), size = 8 + h + dsize;
    uint8_t *buf = calloc(1, size);
    for (int i = 0; i < 8; i++)
        buf[i] = (uint8_t)((uint64_t)h >> (8 * i));
    memcpy(buf + 8, header, h);
    pf_st_tensor *t;
    int n;
    pf_error_clear();
    int rc = pf_st_parse(buf, size, "x.safetensors", &t, &n);
    if (rc == 0)
        pf_st_tensors_free(t, n);
    free(buf);
    if (rc == 0)
        return 0;
    if (!strstr(pf_error_get(), what) || strchr(pf_error_get(), '\n')) {
        fprintf(stderr, "  message '%s' lacks '%s'\n", pf_error_get(), what);
        return 0;
    }
    return 1;
}

static void test_single_file(void)
{
    /* a: bf16 [2,3]; b: f32 [2]; c: f16 [1]; metadata ignored */
    uint8_t data[12 + 8 + 2];
    uint16_t a[6] = {0x3f80, 0xbf80, 0x4000, 0x0000, 0x4040, 0x3f00};
    float b[2] = {1.00390625f, -3.5f}; /* 1+2^-8: a bf16 tie, rounds to even (1.0) */
    uint16_t c = 0x3c00;               /* f16 1.0 */
    memcpy(data, a, 12);
    memcpy(data + 12, b, 8);
    memcpy(data + 20, &c, 2);
    write_st("model.safetensors",
             "{\"__metadata__\":{\"format\":\"pt\"},"
             "\"a\":{\"dtype\":\"BF16\",\"shape\":[2,3],\"data_offsets\":[0,12]},"
             "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]},"
             "\"c\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[20,22]}}",
             data, sizeof data);
    pf_safetensors *st;
    CHECK_MSG(pf_st_open(dir, &st) == 0, "%s", pf_error_get());
    if (!st)
        return;
    CHECK(pf_st_count(st) == 3);
    const pf_st_tensor *ta = pf_st_find(st, "a"), *tb = pf_st_find(st, "b"),
                       *tc = pf_st_find(st, "c");
    CHECK(ta && ta->ndim == 2 && ta->shape[0] == 2 && ta->shape[1] == 3 && ta->count == 6);
    CHECK(pf_st_find(st, "__metadata__") == NULL && pf_st_find(st, "d") == NULL);
    float f[6];
    uint16_t h[6];
    CHECK(pf_st_to_f32(ta, f) == 0 && f[0] == 1.0f && f[1] == -1.0f && f[5] == 0.5f);
    CHECK(pf_st_to_bf16(ta, h) == 0 && memcmp(h, a, 12) == 0);
    CHECK(pf_st_to_bf16(tb, h) == 0 && h[0] == 0x3f80 && h[1] == 0xc060);
    CHECK(pf_st_to_f32(tb, f) == 0 && f[0] == 1.00390625f);
    CHECK(pf_st_to_f32(tc, f) == 0 && f[0] == 1.0f);
    pf_st_close(st);
}

static void test_malformed(void)
{
    CHECK(parse_fails("{\"a\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[0,8]}}", 4,
                      "outside"));
    CHECK(parse_fails("{\"a\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8,
                      "8 bytes of data for 3 BF16"));
    CHECK(parse_fails("{\"a\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]},"
                      "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[2,6]}}", 8,
                      "overlap"));
    CHECK(parse_fails("{\"a\":{\"dtype\":\"Q4_K\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4,
                      "unsupported dtype 'Q4_K'"));
    CHECK(parse_fails("{\"a\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]},"
                      "\"a\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4,
                      "x.safetensors"));
    CHECK(parse_fails("{\"a\":{\"dtype\":\"BF16\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4,
                      "shape"));
    CHECK(parse_fails("{\"a\":{\"dtype\":\"F32\",\"shape\":[1099511627776,1099511627776],"
                      "\"data_offsets\":[0,4]}}", 4, "too large"));
    CHECK(parse_fails("{\"a\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[4,0]}}", 4,
                      "outside"));
    CHECK(parse_fails("[1]", 0, "not a JSON object"));
    CHECK(parse_fails("{\"a\":", 0, "header"));
    /* header length past the file, and a file too short for the length */
    uint8_t buf[16] = {0xff, 0xff, 0, 0, 0, 0, 0, 0};
    pf_st_tensor *t;
    int n;
    CHECK(pf_st_parse(buf, sizeof buf, "y", &t, &n) == -1 &&
          strstr(pf_error_get(), "runs past the file"));
    CHECK(pf_st_parse(buf, 5, "y", &t, &n) == -1 && strstr(pf_error_get(), "truncated"));

    /* an integer tensor parses (unused tensors are ignored) but cannot convert */
    int64_t iv = 7;
    write_st("int.safetensors", "{\"i\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}",
             &iv, 8);
    char path[512];
    snprintf(path, sizeof path, "%s/int.safetensors", dir);
    pf_safetensors *st;
    CHECK(pf_st_open_file(path, &st) == 0);
    float f;
    if (st) {
        CHECK(pf_st_to_f32(pf_st_find(st, "i"), &f) == -1 &&
              strstr(pf_error_get(), "'i'") && strstr(pf_error_get(), "I64"));
        pf_st_close(st);
    }
    /* truncated on disk: the data section is cut */
    write_st("cut.safetensors", "{\"i\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}",
             &iv, 3);
    snprintf(path, sizeof path, "%s/cut.safetensors", dir);
    CHECK(pf_st_open_file(path, &st) == -1 && strstr(pf_error_get(), "cut.safetensors") &&
          strstr(pf_error_get(), "truncated"));
    snprintf(path, sizeof path, "%s/absent.safetensors", dir);
    CHECK(pf_st_open_file(path, &st) == -1 && strstr(pf_error_get(), "absent.safetensors"));
}

static void test_shards(void)
{
    uint16_t v[2] = {0x3f80, 0x4000};
    write_st("s1.safetensors", "{\"x\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[0,2]}}",
             v, 2);
    write_st("s2.safetensors", "{\"y\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[0,2]},"
             "\"z\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[2,4]}}", v, 4);
    write_text("model.safetensors.index.json",
               "{\"metadata\":{},\"weight_map\":{\"x\":\"s1.safetensors\","
               "\"y\":\"s2.safetensors\",\"z\":\"s2.safetensors\"}}");
    pf_safetensors *st;
    CHECK_MSG(pf_st_open(dir, &st) == 0, "%s", pf_error_get());
    if (st) {
        CHECK(pf_st_count(st) == 3 && pf_st_find(st, "x") && pf_st_find(st, "z"));
        float f;
        CHECK(pf_st_to_f32(pf_st_find(st, "z"), &f) == 0 && f == 2.0f);
        pf_st_close(st);
    }
    write_text("model.safetensors.index.json",
               "{\"weight_map\":{\"x\":\"s1.safetensors\",\"w\":\"s3.safetensors\"}}");
    CHECK(pf_st_open(dir, &st) == -1 && strstr(pf_error_get(), "s3.safetensors"));
    write_text("model.safetensors.index.json",
               "{\"weight_map\":{\"x\":\"s1.safetensors\",\"y\":\"s1.safetensors\"}}");
    CHECK(pf_st_open(dir, &st) == -1 && strstr(pf_error_get(), "'y'"));
    write_text("model.safetensors.index.json", "{\"weight_map\":{\"x\":\"../s1.safetensors\"}}");
    CHECK(pf_st_open(dir, &st) == -1 && strstr(pf_error_get(), "weight_map['x']"));
    /* the same tensor in two shards */
    write_st("s4.safetensors", "{\"x\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[0,2]}}",
             v, 2);
    write_text("model.safetensors.index.json",
               "{\"weight_map\":{\"x\":\"s1.safetensors\",\"q\":\"s4.safetensors\"}}");
    CHECK(pf_st_open(dir, &st) == -1 && strstr(pf_error_get(), "'x' is in both"));
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/pf_st_test_XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    test_single_file();
    test_malformed();
    test_shards();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return PF_TEST_RESULT();
}
