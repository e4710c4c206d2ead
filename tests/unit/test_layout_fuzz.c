/* Deterministic fuzzing of the layout parsers (run under ASan in the
 * sanitizer build): ~50k random and mutated strings, JSON texts and .npy
 * images must
 * either parse or fail with a one-line "layout: " message, and accepted
 * layouts must round-trip through pf_layout_to_string. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "attention/layout.h"
#include "core/npy.h"
#include "core/pf_error.h"
#include "pf_test.h"

static uint64_t rng = 0x1234567;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int pick(int n)
{
    return (int)(next() % (uint64_t)n);
}

/* Counts of 7+ digits are valid but allocate millions of tokens: skip. */
static int has_long_number(const char *s)
{
    int run = 0;
    for (; *s; s++) {
        run = isdigit((unsigned char)*s) ? run + 1 : 0;
        if (run > 6)
            return 1;
    }
    return 0;
}

static int accepted, rejected;

static void feed(const char *text, int json)
{
    if (has_long_number(text))
        return;
    pf_layout *l = NULL;
    int rc = json ? pf_layout_from_json_text(text, &l) : pf_layout_parse(text, &l);
    if (rc != 0) {
        rejected++;
        const char *e = pf_error_get();
        CHECK_MSG(l == NULL && strncmp(e, "layout: ", 8) == 0 && !strchr(e, '\n'),
                  "input '%s': error '%s'", text, e);
        return;
    }
    accepted++;
    char *s = pf_layout_to_string(l);
    pf_layout *back = NULL;
    int ok = s && pf_layout_parse(s, &back) == 0 && pf_layout_equal(l, back);
    if (!ok)
        CHECK_MSG(0, "input '%s' -> '%s' does not round-trip", text, s ? s : "(null)");
    pf_layout_free(back);
    free(s);
    pf_layout_free(l);
}

/* Mutate `in` into `out` (bounded): insert, delete, replace, duplicate. */
static void mutate(const char *in, char *out, size_t cap, const char *alphabet)
{
    size_t n = strlen(in) < cap - 1 ? strlen(in) : cap - 1;
    memcpy(out, in, n);
    out[n] = '\0';
    int edits = 1 + pick(4);
    size_t na = strlen(alphabet);
    for (int e = 0; e < edits; e++) {
        n = strlen(out);
        size_t at = n ? (size_t)pick((int)n + 1) : 0;
        switch (pick(5)) {
        case 0: /* insert */
            if (n + 1 < cap) {
                memmove(out + at + 1, out + at, n - at + 1);
                out[at] = alphabet[pick((int)na)];
            }
            break;
        case 1: /* delete */
            if (at < n)
                memmove(out + at, out + at + 1, n - at);
            break;
        case 2: /* replace */
            if (at < n)
                out[at] = alphabet[pick((int)na)];
            break;
        case 3: /* random byte */
            if (at < n)
                out[at] = (char)(1 + pick(255));
            break;
        default: /* duplicate a chunk */
            if (at < n) {
                size_t len = 1 + (size_t)pick(8);
                if (at + len > n)
                    len = n - at;
                if (n + len < cap) /* shifting the tail leaves the chunk twice */
                    memmove(out + at + len, out + at, n - at + 1);
            }
            break;
        }
    }
}

static void fuzz_strings(int rounds)
{
    static const char alphabet[] = "tivativa0123456789,,;;|| x-";
    char buf[256], mut[256];
    for (int i = 0; i < rounds; i++) {
        if (pick(3) == 0) { /* random text */
            int n = pick(40);
            for (int j = 0; j < n; j++)
                buf[j] = alphabet[pick((int)sizeof(alphabet) - 1)];
            buf[n] = '\0';
            feed(buf, 0);
            continue;
        }
        pf_layout *l;
        if (pf_layout_gen_random(next(), 3, 60, &l) < 0)
            continue;
        char *s = pf_layout_to_string(l);
        pf_layout_free(l);
        if (!s)
            continue;
        feed(s, 0);
        mutate(s, mut, sizeof(mut), alphabet);
        feed(mut, 0);
        free(s);
    }
}

static void fuzz_json(int rounds)
{
    static const char *seeds[] = {
        "{\"requests\": [{\"prefix\": 2, \"spans\": [[\"t\",3],[\"i\",4]]}]}",
        "{\"requests\": [{\"token_types\": [0,1,1,2,3,0]}, {\"prefix\": 1, \"token_types\": [0,0]}]}",
        "{\"requests\": [{\"spans\": [[\"v\",2],[\"a\",1]]}, {\"spans\": [[\"t\",1]]}]}",
    };
    static const char alphabet[] = "{}[]\",:0123456789tivaprefixspans -";
    char mut[512];
    for (int i = 0; i < rounds; i++) {
        const char *seed = seeds[pick(3)];
        mutate(seed, mut, sizeof(mut), alphabet);
        feed(mut, 1);
    }
}

/* A .npy v1.0 image of int64 token types with the given shape. */
static size_t make_npy(unsigned char *buf, size_t cap, const char *shape, const int64_t *data,
                       size_t count)
{
    char header[128];
    int n = snprintf(header, sizeof(header),
                     "{'descr': '<i8', 'fortran_order': False, 'shape': %s, }", shape);
    size_t total = 10 + (size_t)n + 1;
    total = (total + 63) / 64 * 64;
    if (total + count * 8 > cap)
        return 0;
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (unsigned char)((total - 10) & 0xff);
    buf[9] = (unsigned char)((total - 10) >> 8);
    memset(buf + 10, ' ', total - 10);
    memcpy(buf + 10, header, (size_t)n);
    buf[total - 1] = '\n';
    memcpy(buf + total, data, count * 8);
    return total + count * 8;
}

static void fuzz_npy(int rounds)
{
    unsigned char img[1024], mut[1100];
    int64_t types[24];
    int parsed = 0;
    for (int i = 0; i < rounds; i++) {
        for (int j = 0; j < 24; j++)
            types[j] = pick(5) == 0 ? pick(3) + 1 : 0;
        int batch = 1 + pick(3), seq = 1 + pick(24 / batch);
        char shape[32];
        if (pick(2))
            snprintf(shape, sizeof(shape), "(%d, %d)", batch, seq);
        else
            snprintf(shape, sizeof(shape), "(%d,)", batch * seq);
        size_t n = make_npy(img, sizeof(img), shape, types, (size_t)(batch * seq));
        memcpy(mut, img, n);
        int edits = pick(4); /* 0 edits: the valid image itself */
        for (int e = 0; e < edits && n > 0; e++) {
            size_t at = (size_t)pick((int)n);
            switch (pick(4)) {
            case 0: mut[at] = (unsigned char)pick(256); break;
            case 1: mut[at] = (unsigned char)"0123456789(),' -"[pick(16)]; break;
            case 2: n = at; break;                      /* truncate */
            default: if (n < sizeof(mut)) mut[n++] = (unsigned char)pick(256); break;
            }
        }
        pf_npy a;
        if (pf_npy_parse(mut, n, &a) < 0)
            continue;
        parsed++;
        pf_layout *l = NULL;
        if (pf_layout_from_npy(&a, &l) == 0) {
            accepted++;
            char *s = pf_layout_to_string(l);
            pf_layout *back = NULL;
            CHECK(s && pf_layout_parse(s, &back) == 0 && pf_layout_equal(l, back));
            pf_layout_free(back);
            free(s);
            pf_layout_free(l);
        } else {
            rejected++;
            CHECK(strncmp(pf_error_get(), "layout: ", 8) == 0);
        }
        pf_npy_free(&a);
    }
    CHECK(parsed > rounds / 5);
}

int main(void)
{
    fuzz_strings(40000);
    fuzz_json(12000);
    fuzz_npy(4000);
    printf("fuzz: %d accepted, %d rejected\n", accepted, rejected);
    CHECK(accepted > 1000 && rejected > 1000);
    return PF_TEST_RESULT();
}
