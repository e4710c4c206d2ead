/* .npy reader/writer: round trips, hand-built files of every dtype and
 * format version, and malformed files that must fail cleanly. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/npy.h"
#include "core/pf_error.h"
#include "pf_test.h"

static char tmpdir[256];

/* A file image built by hand: magic, version, header length, the header
 * text padded with spaces to a 64-byte boundary plus '\n', then data. */
static unsigned char *build_npy(int major, const char *dict, const void *data, size_t data_len,
                                size_t *size)
{
    size_t pre = major == 1 ? 10 : 12;
    size_t text = strlen(dict) + 1;
    size_t total_header = (pre + text + 63) / 64 * 64;
    size_t hlen = total_header - pre;
    unsigned char *b = malloc(total_header + data_len + 1);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (unsigned char)major;
    b[7] = 0;
    for (size_t i = 0; i < pre - 8; i++)
        b[8 + i] = (unsigned char)(hlen >> (8 * i));
    memcpy(b + pre, dict, strlen(dict));
    memset(b + pre + strlen(dict), ' ', hlen - strlen(dict) - 1);
    b[total_header - 1] = '\n';
    if (data_len)
        memcpy(b + total_header, data, data_len);
    *size = total_header + data_len;
    return b;
}

static int write_file(const char *path, const void *buf, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(buf, 1, n, f);
    fclose(f);
    return w == n ? 0 : -1;
}

static void test_round_trip_f32(void)
{
    /* odd sizes, random ranks 0..4 */
    for (int trial = 0; trial < 20; trial++) {
        int ndim = rand() % 5;
        int64_t shape[PF_NPY_MAX_DIMS];
        size_t count = 1;
        for (int i = 0; i < ndim; i++) {
            shape[i] = 1 + rand() % 13;
            count *= (size_t)shape[i];
        }
        float *data = malloc(count * sizeof *data);
        for (size_t i = 0; i < count; i++)
            data[i] = (float)((double)rand() / RAND_MAX * 200.0 - 100.0);
        char path[300];
        snprintf(path, sizeof path, "%s/rt_%d.npy", tmpdir, trial);
        CHECK(pf_npy_write_f32(path, data, ndim, shape) == 0);
        struct stat st;
        CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
        pf_npy a;
        int rc = pf_npy_read(path, &a);
        CHECK_MSG(rc == 0, "%s", pf_error_get());
        if (rc == 0) {
            CHECK(a.dtype == PF_NPY_F32 && a.ndim == ndim && a.count == count);
            for (int i = 0; i < ndim; i++)
                CHECK(a.shape[i] == shape[i]);
            CHECK(memcmp(a.data, data, count * sizeof *data) == 0);
            /* header aligned so data starts on a 64-byte boundary */
            CHECK((st.st_size - (off_t)(count * 4)) % 64 == 0);
            pf_npy_free(&a);
        }
        free(data);
    }
}

static void test_round_trip_all_dtypes(void)
{
    const pf_npy_dtype dts[] = {PF_NPY_F16, PF_NPY_F32, PF_NPY_F64, PF_NPY_I32,
                                PF_NPY_I64, PF_NPY_U8,  PF_NPY_BOOL};
    for (size_t t = 0; t < sizeof dts / sizeof dts[0]; t++) {
        int64_t shape[3] = {3, 1 + rand() % 7, 5};
        size_t count = (size_t)(shape[0] * shape[1] * shape[2]);
        size_t isz = pf_npy_dtype_size(dts[t]);
        unsigned char *bytes = malloc(count * isz);
        for (size_t i = 0; i < count * isz; i++)
            bytes[i] = (unsigned char)rand();
        char path[300];
        snprintf(path, sizeof path, "%s/dt_%zu.npy", tmpdir, t);
        CHECK(pf_npy_write(path, dts[t], bytes, 3, shape) == 0);
        pf_npy a;
        CHECK(pf_npy_read(path, &a) == 0);
        CHECK(a.dtype == dts[t] && a.item_size == isz && a.count == count);
        CHECK(a.data && memcmp(a.data, bytes, count * isz) == 0);
        pf_npy_free(&a);
        free(bytes);
    }
}

/* Each dtype from a hand-built file in each format version, with values
 * whose conversions are known independently. */
static void test_hand_built(void)
{
    for (int major = 1; major <= 3; major++) {
        int32_t i4[7];
        int64_t i8[7];
        double f8[7];
        unsigned char u1[7], b1[7];
        for (int i = 0; i < 7; i++) {
            i4[i] = rand() % 2001 - 1000;
            i8[i] = (int64_t)(rand() % 2001 - 1000) * 8191; /* |v| < 2^24: exact in f32 */
            f8[i] = (rand() % 2001 - 1000) * 0.25;
            u1[i] = (unsigned char)rand();
            b1[i] = (unsigned char)(rand() & 1);
        }
        struct {
            const char *descr;
            const void *data;
            size_t isz;
            pf_npy_dtype dt;
        } cases[] = {
            {"<i4", i4, 4, PF_NPY_I32}, {"<i8", i8, 8, PF_NPY_I64}, {"<f8", f8, 8, PF_NPY_F64},
            {"|u1", u1, 1, PF_NPY_U8},  {"|b1", b1, 1, PF_NPY_BOOL},
        };
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            char dict[128];
            /* double quotes and odd spacing are legal Python too */
            snprintf(dict, sizeof dict, "{\"descr\":'%s' ,'shape':( 7 , ), 'fortran_order' : False}",
                     cases[c].descr);
            size_t size;
            unsigned char *img = build_npy(major, dict, cases[c].data, 7 * cases[c].isz, &size);
            pf_npy a;
            int rc = pf_npy_parse(img, size, &a);
            CHECK_MSG(rc == 0, "v%d %s: %s", major, cases[c].descr, pf_error_get());
            if (rc == 0) {
                CHECK(a.dtype == cases[c].dt && a.ndim == 1 && a.shape[0] == 7);
                float *f = NULL;
                int64_t *l = NULL;
                CHECK(pf_npy_to_f32(&a, &f) == 0);
                CHECK(pf_npy_to_i64(&a, &l) == 0 || cases[c].dt == PF_NPY_F64);
                for (int i = 0; i < 7; i++) {
                    double want = cases[c].dt == PF_NPY_I32   ? i4[i]
                                  : cases[c].dt == PF_NPY_I64 ? (double)i8[i]
                                  : cases[c].dt == PF_NPY_F64 ? f8[i]
                                  : cases[c].dt == PF_NPY_U8  ? u1[i]
                                                              : b1[i];
                    CHECK(f && fabs(f[i] - want) <= fabs(want) * 1e-6);
                    if (l && cases[c].dt != PF_NPY_F64)
                        CHECK(l[i] == (int64_t)want);
                }
                free(f);
                free(l);
                pf_npy_free(&a);
            }
            free(img);
        }
    }
    /* f16: 1.0, -2.5, 65504, smallest subnormal */
    uint16_t h[4] = {0x3c00, 0xc100, 0x7bff, 0x0001};
    size_t size;
    unsigned char *img =
        build_npy(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (2, 2), }", h, 8, &size);
    pf_npy a;
    float *f = NULL;
    CHECK(pf_npy_parse(img, size, &a) == 0 && pf_npy_to_f32(&a, &f) == 0);
    if (f) {
        CHECK(f[0] == 1.0f && f[1] == -2.5f && f[2] == 65504.0f && f[3] == ldexpf(1.0f, -24));
        free(f);
    }
    pf_npy_free(&a);
    free(img);
    /* scalar: shape () holds one element */
    double one = 3.5;
    img = build_npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", &one, 8, &size);
    CHECK(pf_npy_parse(img, size, &a) == 0 && a.ndim == 0 && a.count == 1);
    pf_npy_free(&a);
    free(img);
    /* zero-size dimension */
    img = build_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 9), }", NULL, 0,
                    &size);
    CHECK(pf_npy_parse(img, size, &a) == 0 && a.count == 0 && a.data != NULL);
    pf_npy_free(&a);
    free(img);
}

static void test_conversion_refusals(void)
{
    double v[2] = {1.0, 2.5};
    size_t size;
    unsigned char *img =
        build_npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", v, 16, &size);
    pf_npy a;
    int64_t *l = NULL;
    CHECK(pf_npy_parse(img, size, &a) == 0);
    CHECK(pf_npy_to_i64(&a, &l) == -1 && strstr(pf_error_get(), "element 1"));
    pf_npy_free(&a);
    free(img);
    int64_t big[1] = {((int64_t)1 << 40) + 1};
    img = build_npy(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", big, 8, &size);
    float *f = NULL;
    CHECK(pf_npy_parse(img, size, &a) == 0);
    CHECK(pf_npy_to_f32(&a, &f) == -1);
    pf_npy_free(&a);
    free(img);
}

/* Each malformed file fails with an error that names the problem. */
static void expect_fail(const unsigned char *img, size_t size, const char *needle)
{
    pf_npy a;
    pf_error_clear();
    int rc = pf_npy_parse(img, size, &a);
    CHECK_MSG(rc == -1 && strstr(pf_error_get(), needle), "want '%s', got rc %d '%s'", needle, rc,
              pf_error_get());
    if (rc == 0)
        pf_npy_free(&a);
}

static void expect_dict_fail(const char *dict, size_t data_len, const char *needle)
{
    unsigned char data[64] = {0};
    size_t size;
    unsigned char *img = build_npy(1, dict, data, data_len, &size);
    expect_fail(img, size, needle);
    free(img);
}

static void test_malformed(void)
{
    const char *good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    float data[6] = {1, 2, 3, 4, 5, 6};
    size_t size;
    unsigned char *img = build_npy(1, good, data, sizeof data, &size);

    expect_fail(img, 5, "bad magic");
    unsigned char *bad = malloc(size);
    memcpy(bad, img, size);
    bad[1] = 'X';
    expect_fail(bad, size, "bad magic");
    memcpy(bad, img, size);
    bad[6] = 4;
    expect_fail(bad, size, "version 4.0");
    memcpy(bad, img, size);
    bad[8] = 0xff, bad[9] = 0xff;
    expect_fail(bad, size, "truncated header");
    free(bad);
    expect_fail(img, size - 1, "data size mismatch");
    expect_fail(img, 40, "truncated header");
    free(img);

    float extra[8] = {0};
    img = build_npy(1, good, extra, sizeof extra, &size);
    expect_fail(img, size, "data size mismatch");
    free(img);

    expect_dict_fail("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 24,
                     "fortran_order");
    expect_dict_fail("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", 24,
                     "unsupported dtype");
    expect_dict_fail("{'descr': '<c8', 'fortran_order': False, 'shape': (3,), }", 24,
                     "unsupported dtype");
    expect_dict_fail("{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }", 24,
                     "negative");
    expect_dict_fail("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }",
                     24, "too large");
    expect_dict_fail(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 2), }", 24,
        "overflow");
    expect_dict_fail("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", 4,
                     "more than 8");
    expect_dict_fail("{'descr': '<f4', 'fortran_order': False}", 4, "missing 'shape'");
    expect_dict_fail("{'descr': '<f4', 'shape': (1,), 'shape': (1,), 'fortran_order': False}", 4,
                     "repeated");
    expect_dict_fail("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", 4,
                     "unexpected");
    expect_dict_fail("{'descr': '<f4', 'fortran_order': Nope, 'shape': (1,)}", 4, "True or False");
    expect_dict_fail("{'descr': '<f4', 'fortran_order': False, 'shape': (6)}", 24, "not a tuple");
    expect_dict_fail("{'descr': '<f4', 'fortran_order': False, 'shape': (6,)} junk", 24,
                     "trailing");
    expect_dict_fail("['descr', '<f4']", 24, "expected '{'");
    expect_dict_fail("{'descr: '<f4', 'fortran_order': False, 'shape': (1,)}", 4, "bad header");
    expect_dict_fail("{'descr': '<f4' 'fortran_order': False, 'shape': (1,)}", 4, "expected ','");
    /* found by tests/fuzz: a newline in a key made a two-line error message */
    expect_dict_fail("{'des\ncr': '<f4', 'fortran_order': False, 'shape': (1,)}", 4,
                     "control character");

    /* reading a file: a missing path and a directory fail cleanly too */
    pf_npy a;
    char path[300];
    snprintf(path, sizeof path, "%s/does-not-exist.npy", tmpdir);
    CHECK(pf_npy_read(path, &a) == -1 && strstr(pf_error_get(), "does-not-exist.npy"));
    CHECK(pf_npy_read(tmpdir, &a) == -1);
    /* the file path reader applies the size check too */
    img = build_npy(2, good, data, sizeof data - 4, &size);
    snprintf(path, sizeof path, "%s/short.npy", tmpdir);
    CHECK(write_file(path, img, size) == 0);
    CHECK(pf_npy_read(path, &a) == -1 && strstr(pf_error_get(), "data size mismatch"));
    free(img);
}

static void test_write_errors(void)
{
    float x = 1;
    int64_t neg[1] = {-1};
    char path[300];
    snprintf(path, sizeof path, "%s/neg.npy", tmpdir);
    CHECK(pf_npy_write_f32(path, &x, 1, neg) == -1);
    CHECK(pf_npy_write_f32("/nonexistent-dir/x.npy", &x, 0, NULL) == -1 &&
          strstr(pf_error_get(), "temporary"));
    /* a failed write leaves no temp files behind and an existing file intact */
    int64_t one[1] = {1};
    snprintf(path, sizeof path, "%s/keep.npy", tmpdir);
    CHECK(pf_npy_write_f32(path, &x, 1, one) == 0);
    CHECK(pf_npy_write_f32(path, &x, 9, one) == -1);
    pf_npy a;
    CHECK(pf_npy_read(path, &a) == 0 && a.count == 1);
    pf_npy_free(&a);
}

static void cleanup(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", tmpdir);
}

int main(void)
{
    pf_test_srand(); /* fresh inputs each run; PF_TEST_SEED=N replays one */
    snprintf(tmpdir, sizeof tmpdir, "/tmp/pf_test_npy.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_round_trip_f32();
    test_round_trip_all_dtypes();
    test_hand_built();
    test_conversion_refusals();
    test_malformed();
    test_write_errors();
    cleanup();
    return PF_TEST_RESULT();
}
