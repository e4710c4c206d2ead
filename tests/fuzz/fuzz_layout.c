/* libFuzzer target for the layout loaders (harness/attention/layout*.c).
 * The first input byte picks the parser (mod 3): 0 the string grammar,
 * 1 JSON, 2 a .npy image of token types. Rejected inputs must leave a
 * one-line "layout: " message; accepted layouts must round-trip through
 * pf_layout_to_string. Built and run by tests/fuzz/CMakeLists.txt. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attention/layout.h"
#include "core/npy.h"
#include "core/pf_error.h"

/* Valid layouts of millions of tokens are legal but slow and large under
 * ASan, so skip texts whose numbers could add up to more than 2^16 tokens.
 * A number above PF_LAYOUT_MAX_TOKENS is always refused before anything is
 * allocated (as a count, a prefix or an unused JSON value), so those still
 * run: they exercise the overflow checks. */
static int too_many_tokens(const char *s)
{
    int64_t sum = 0;
    while (*s) {
        if (!isdigit((unsigned char)*s)) {
            s++;
            continue;
        }
        int64_t v = 0;
        for (; isdigit((unsigned char)*s); s++)
            if (v <= PF_LAYOUT_MAX_TOKENS)
                v = v * 10 + (*s - '0');
        if (v <= PF_LAYOUT_MAX_TOKENS)
            sum += v;
        if (sum > ((int64_t)1 << 16))
            return 1;
    }
    return 0;
}

static void check(int rc, pf_layout *l)
{
    if (rc != 0) {
        const char *e = pf_error_get();
        if (l || strncmp(e, "layout: ", 8) != 0 || strchr(e, '\n'))
            abort();
        return;
    }
    char *s = pf_layout_to_string(l);
    pf_layout *back = NULL;
    if (!s || pf_layout_parse(s, &back) != 0 || !pf_layout_equal(l, back))
        abort();
    pf_layout_free(back);
    free(s);
    pf_layout_free(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    pf_layout *l = NULL;
    pf_error_clear();
    if (data[0] % 3 == 2) { /* the data must fill the shape: no huge layouts */
        pf_npy a;
        if (pf_npy_parse(data + 1, size - 1, &a) == 0) {
            check(pf_layout_from_npy(&a, &l), l);
            pf_npy_free(&a);
        }
        return 0;
    }
    char *text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    if (!too_many_tokens(text))
        check(data[0] % 3 == 1 ? pf_layout_from_json_text(text, &l) : pf_layout_parse(text, &l), l);
    free(text);
    return 0;
}
