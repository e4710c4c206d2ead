/* Layout generators: periodic (benchmarks, `pftune masks --seq`) and random
 * (tests: odd sizes and the edge cases masks get wrong). */
#include <stdlib.h>
#include <string.h>

#include "attention/layout.h"
#include "attention/layout_internal.h"
#include "core/pf_error.h"

int pf_layout_gen_periodic(int n_req, int64_t seq_len, int64_t img_tokens, int64_t every,
                           pf_layout **out)
{
    *out = NULL;
    if (n_req <= 0 || n_req > PF_LAYOUT_MAX_REQUESTS)
        return pf_error_set("layout: %d requests (expected 1..%d)", n_req, PF_LAYOUT_MAX_REQUESTS);
    if (seq_len <= 0 || seq_len > PF_LAYOUT_MAX_TOKENS / n_req)
        return pf_error_set("layout: sequence length %lld outside 1..%lld", (long long)seq_len,
                            (long long)(PF_LAYOUT_MAX_TOKENS / n_req));
    if (img_tokens < 0 || (img_tokens > 0 && every <= 0))
        return pf_error_set("layout: periodic images need image tokens >= 0 and a period > 0");
    /* One request's spans, shared by all requests (built as spans, so a
     * long sequence costs no per-token scratch). */
    int64_t max_spans = img_tokens > 0 ? 2 * (seq_len / every + 1) : 1;
    if (max_spans > (int64_t)1 << 26)
        return pf_error_set("layout: period %lld is too short for %lld tokens", (long long)every,
                            (long long)seq_len);
    pf_span *one = malloc((size_t)max_spans * sizeof(*one));
    int n = 0;
    if (!one)
        return pf_error_set("layout: out of memory");
    for (int64_t pos = 0; pos < seq_len;) {
        int64_t text = img_tokens > 0 && every < seq_len - pos ? every : seq_len - pos;
        one[n++] = (pf_span){PF_TOK_TEXT, text};
        pos += text;
        if (img_tokens > 0 && pos + img_tokens <= seq_len) {
            one[n++] = (pf_span){PF_TOK_IMAGE, img_tokens};
            pos += img_tokens;
        }
    }
    pf_span *spans = malloc((size_t)n * (size_t)n_req * sizeof(*spans));
    int *first = malloc(((size_t)n_req + 1) * sizeof(*first));
    int64_t *prefix = calloc((size_t)n_req, sizeof(*prefix));
    int rc = -1;
    if (!spans || !first || !prefix || (int64_t)n * n_req > INT32_MAX) {
        pf_error_set("layout: out of memory");
        goto done;
    }
    for (int r = 0; r <= n_req; r++)
        first[r] = r * n;
    for (int r = 0; r < n_req; r++)
        memcpy(spans + (size_t)r * (size_t)n, one, (size_t)n * sizeof(*one));
    rc = pf_layout_from_spans(n_req, first, spans, prefix, out);
done:
    free(one);
    free(spans);
    free(first);
    free(prefix);
    return rc;
}

static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull); /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int64_t uniform(uint64_t *s, int64_t lo, int64_t hi) /* inclusive */
{
    return lo + (int64_t)(next_u64(s) % (uint64_t)(hi - lo + 1));
}

static void fill(int64_t *t, int64_t *pos, int64_t len, int64_t n, int type)
{
    for (int64_t i = 0; i < n && *pos < len; i++)
        t[(*pos)++] = type;
}

/* One request's token types: random spans plus edge-case patterns. */
static void random_request(uint64_t *s, int64_t *t, int64_t len)
{
    int64_t pos = 0;
    int64_t max_span = len / 3 > 1 ? len / 3 : 1;
    if (next_u64(s) % 3 == 0) /* vision at the very start */
        fill(t, &pos, len, uniform(s, 1, max_span), PF_TOK_IMAGE);
    while (pos < len) {
        int pick = (int)(next_u64(s) % 10);
        int64_t n = uniform(s, 1, max_span);
        if (pick < 4) {
            fill(t, &pos, len, n, PF_TOK_TEXT);
        } else if (pick < 6) {
            fill(t, &pos, len, n, PF_TOK_IMAGE);
        } else if (pick == 6) {
            fill(t, &pos, len, n, PF_TOK_VIDEO);
        } else if (pick == 7) {
            fill(t, &pos, len, n, PF_TOK_AUDIO);
        } else if (pick == 8) { /* two images separated by one text token */
            fill(t, &pos, len, uniform(s, 1, max_span), PF_TOK_IMAGE);
            fill(t, &pos, len, 1, PF_TOK_TEXT);
            fill(t, &pos, len, uniform(s, 1, max_span), PF_TOK_IMAGE);
        } else { /* adjacent image and video spans: one group */
            fill(t, &pos, len, uniform(s, 1, max_span), PF_TOK_IMAGE);
            fill(t, &pos, len, uniform(s, 1, max_span), PF_TOK_VIDEO);
        }
    }
    if (next_u64(s) % 3 == 0) { /* vision at the very end */
        int64_t n = uniform(s, 1, max_span);
        for (int64_t i = len - n; i < len; i++)
            t[i] = PF_TOK_IMAGE;
    }
}

/* A random cached prefix that never ends inside a vision group. */
static int64_t random_prefix(uint64_t *s, const int64_t *t, int64_t len)
{
    if (len < 2 || next_u64(s) % 2 == 0)
        return 0;
    int64_t p = uniform(s, 1, len - 1);
    while (p > 0 && pf_token_is_vision((int)t[p - 1]) && pf_token_is_vision((int)t[p]))
        p--;
    return p;
}

int pf_layout_gen_random(uint64_t seed, int max_req, int64_t max_len, pf_layout **out)
{
    *out = NULL;
    if (max_req <= 0 || max_len <= 0 || max_req > PF_LAYOUT_MAX_REQUESTS ||
        max_len > PF_LAYOUT_MAX_TOKENS / max_req)
        return pf_error_set("layout: bad random layout bounds (%d requests, %lld tokens)", max_req,
                            (long long)max_len);
    uint64_t s = seed;
    int n = (int)uniform(&s, 1, max_req);
    int64_t *lens = malloc((size_t)n * sizeof(*lens));
    int64_t *prefix = malloc((size_t)n * sizeof(*prefix));
    int64_t *types = malloc((size_t)n * (size_t)max_len * sizeof(*types));
    int rc = -1;
    if (!lens || !prefix || !types) {
        pf_error_set("layout: out of memory");
        goto done;
    }
    int64_t off = 0;
    for (int r = 0; r < n; r++) {
        int shape = (int)(next_u64(&s) % 8);
        lens[r] = shape == 0 ? 1 : uniform(&s, 1, max_len);
        if (shape == 1 && lens[r] > 1 && lens[r] % 2 == 0)
            lens[r]--; /* odd */
        random_request(&s, types + off, lens[r]);
        prefix[r] = random_prefix(&s, types + off, lens[r]);
        off += lens[r];
    }
    rc = pf_layout_from_types(n, lens, prefix, types, out);
done:
    free(lens);
    free(prefix);
    free(types);
    return rc;
}
