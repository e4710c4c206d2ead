/* libFuzzer target for the layout parsers (string grammar and JSON).
 * Not part of the default build; with clang:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iharness -Ikernels \
 *     tests/fuzz/fuzz_layout.c harness/layout*.c harness/core/npy.c harness/core/pf_error.c \
 *     -ljansson -o fuzz_layout && ./fuzz_layout -max_len=512
 * The first input byte picks the parser (string, JSON, .npy image). Accepted layouts must round-trip
 * through pf_layout_to_string. Inputs with counts of 7+ digits are skipped:
 * they are valid but allocate up to PF_LAYOUT_MAX_TOKENS tokens. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attention/layout.h"
#include "core/npy.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    pf_layout *l = NULL;
    if (data[0] % 3 == 2) { /* .npy image: the data must match the shape, so no huge sizes */
        pf_npy a;
        if (pf_npy_parse(data + 1, size - 1, &a) == 0) {
            if (pf_layout_from_npy(&a, &l) == 0) {
                char *s = pf_layout_to_string(l);
                pf_layout *back = NULL;
                if (!s || pf_layout_parse(s, &back) != 0 || !pf_layout_equal(l, back))
                    abort();
                pf_layout_free(back);
                free(s);
                pf_layout_free(l);
            }
            pf_npy_free(&a);
        }
        return 0;
    }
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    if (has_long_number(text)) {
        free(text);
        return 0;
    }
    int rc = (data[0] % 3 == 1) ? pf_layout_from_json_text(text, &l) : pf_layout_parse(text, &l);
    if (rc == 0) {
        char *s = pf_layout_to_string(l);
        pf_layout *back = NULL;
        if (!s || pf_layout_parse(s, &back) != 0 || !pf_layout_equal(l, back))
            abort();
        pf_layout_free(back);
        free(s);
        pf_layout_free(l);
    }
    free(text);
    return 0;
}
