/* Deterministic-budget mutation test of the .npy parser: 20k random byte
 * flips, byte overwrites, header edits and truncations of valid files. The
 * parser must never crash (run under ASan/UBSan in the sanitizer build), and
 * whatever it accepts must be self-consistent. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/npy.h"
#include "core/pf_error.h"
#include "pf_test.h"

#define ITERATIONS 20000

static unsigned char *valid_image(int major, const char *dict, size_t data_len, size_t *size)
{
    size_t pre = major == 1 ? 10 : 12;
    size_t text = strlen(dict) + 1;
    size_t header = (pre + text + 63) / 64 * 64;
    size_t hlen = header - pre;
    unsigned char *b = malloc(header + data_len);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (unsigned char)major;
    b[7] = 0;
    for (size_t i = 0; i < pre - 8; i++)
        b[8 + i] = (unsigned char)(hlen >> (8 * i));
    memcpy(b + pre, dict, strlen(dict));
    memset(b + pre + strlen(dict), ' ', hlen - strlen(dict) - 1);
    b[header - 1] = '\n';
    for (size_t i = 0; i < data_len; i++)
        b[header + i] = (unsigned char)rand();
    *size = header + data_len;
    return b;
}

/* Characters that steer mutations into the parser's interesting paths. */
static const char interesting[] = "{}()[],:'\" -0123456789TrueFalse<|>fiub\n\\\x93\xff";

static size_t mutate(unsigned char *b, size_t size, size_t header_end)
{
    int kind = rand() % 6;
    size_t pos = (size_t)rand() % size;
    if (kind <= 1 && header_end)
        pos = (size_t)rand() % header_end; /* most mutations hit the header */
    switch (kind) {
    case 0:
        b[pos] ^= (unsigned char)(1u << (rand() % 8));
        break;
    case 1:
        b[pos] = (unsigned char)interesting[rand() % (sizeof interesting - 1)];
        break;
    case 2:
        b[pos] = (unsigned char)rand();
        break;
    case 3:
        return pos; /* truncate */
    case 4:
        b[8 + rand() % 2] = (unsigned char)rand(); /* header length field */
        break;
    default: { /* drop 1..4 bytes at the end */
        size_t drop = 1 + (size_t)(rand() % 4);
        return drop < size ? size - drop : 0;
    }
    }
    return size;
}

int main(void)
{
    pf_test_srand(); /* fresh inputs each run; PF_TEST_SEED=N replays one */
    const char *dicts[] = {
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 5), }",
        "{'descr': '<i8', 'fortran_order': False, 'shape': (7,), }",
        "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3, 4), }",
        "{'descr': '<f2', 'fortran_order': False, 'shape': (), }",
        "{'descr': '|b1', 'fortran_order': False, 'shape': (0, 4), }",
    };
    const size_t data_lens[] = {60, 56, 24, 2, 0};
    int accepted = 0, rejected = 0, bad_accept = 0;
    for (int it = 0; it < ITERATIONS; it++) {
        int d = rand() % 5, major = 1 + rand() % 3;
        size_t size;
        unsigned char *img = valid_image(major, dicts[d], data_lens[d], &size);
        size_t header_end = size - data_lens[d];
        int rounds = 1 + rand() % 3;
        for (int r = 0; r < rounds && size > 0; r++)
            size = mutate(img, size, header_end < size ? header_end : size);
        /* Copy to an exactly sized buffer so ASan sees any overread. */
        unsigned char *exact = malloc(size ? size : 1);
        memcpy(exact, img, size);
        pf_npy a;
        if (pf_npy_parse(exact, size, &a) == 0) {
            accepted++;
            size_t product = 1;
            for (int i = 0; i < a.ndim; i++)
                product *= (size_t)a.shape[i];
            if (a.ndim < 0 || a.ndim > PF_NPY_MAX_DIMS || product != a.count ||
                a.count * a.item_size > size || !a.data)
                bad_accept++;
            float *f = NULL;
            if (pf_npy_to_f32(&a, &f) == 0)
                free(f);
            int64_t *l = NULL;
            if (pf_npy_to_i64(&a, &l) == 0)
                free(l);
            pf_npy_free(&a);
        } else {
            rejected++;
            CHECK(pf_error_get()[0] != '\0');
        }
        free(exact);
        free(img);
    }
    printf("accepted %d, rejected %d\n", accepted, rejected);
    CHECK(bad_accept == 0);
    /* Both outcomes must occur, or the mutations are not exercising the parser. */
    CHECK(accepted > 0 && rejected > ITERATIONS / 4);
    return PF_TEST_RESULT();
}
