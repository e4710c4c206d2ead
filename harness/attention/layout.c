/* The layout model: building a layout from per-token types (group ids,
 * group intervals, offsets, the prefix-cut check), freeing, comparing and
 * printing it in the string grammar. */
#include "attention/layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attention/layout_internal.h"
#include "core/pf_error.h"

static const char *type_name(int type)
{
    switch (type) {
    case PF_TOK_IMAGE: return "image";
    case PF_TOK_VIDEO: return "video";
    case PF_TOK_AUDIO: return "audio";
    default: return "text";
    }
}

void pf_layout_free(pf_layout *layout)
{
    if (!layout)
        return;
    if (layout->req) {
        for (int r = 0; r < layout->n_req; r++) {
            free(layout->req[r].types);
            free(layout->req[r].group);
            free(layout->req[r].group_begin);
            free(layout->req[r].group_end);
        }
    }
    free(layout->req);
    free(layout->qo_indptr);
    free(layout->kv_indptr);
    free(layout);
}

pf_layout *pf_layout_alloc(int n_req)
{
    pf_layout *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->n_req = n_req;
    l->req = calloc((size_t)n_req, sizeof(*l->req));
    l->qo_indptr = calloc((size_t)n_req + 1, sizeof(int64_t));
    l->kv_indptr = calloc((size_t)n_req + 1, sizeof(int64_t));
    if (!l->req || !l->qo_indptr || !l->kv_indptr) {
        pf_layout_free(l);
        return NULL;
    }
    return l;
}

int pf_request_init(pf_request *rq, int64_t kv_len, int64_t prefix)
{
    rq->kv_len = kv_len;
    rq->prefix = prefix;
    rq->q_len = kv_len - prefix;
    rq->types = malloc(kv_len > 0 ? (size_t)kv_len : 1);
    rq->group = malloc((kv_len > 0 ? (size_t)kv_len : 1) * sizeof(int32_t));
    if (!rq->types || !rq->group)
        return pf_error_set("layout: out of memory for %lld tokens", (long long)kv_len);
    return 0;
}

/* Groups (HF: new_group = vision & !prev_vision; group = cumsum - 1) and
 * their intervals; then the checks that need them. */
static int request_finish(pf_request *rq, int r)
{
    if (rq->kv_len <= 0)
        return pf_error_set("layout: request %d: empty request", r);
    if (rq->prefix < 0 || rq->prefix > rq->kv_len)
        return pf_error_set("layout: request %d: prefix %lld outside 0..%lld", r,
                            (long long)rq->prefix, (long long)rq->kv_len);
    if (rq->q_len <= 0)
        return pf_error_set("layout: request %d: no new tokens (prefix %lld covers all %lld tokens)",
                            r, (long long)rq->prefix, (long long)rq->kv_len);
    int32_t n = 0;
    int prev_vision = 0;
    for (int64_t i = 0; i < rq->kv_len; i++) {
        if (rq->types[i] > PF_TOK_AUDIO)
            return pf_error_set("layout: request %d: token %lld has type %d (expected 0..3)", r,
                                (long long)i, rq->types[i]);
        int vision = pf_token_is_vision(rq->types[i]);
        if (vision && !prev_vision) {
            if (n == INT32_MAX)
                return pf_error_set("layout: request %d: too many groups", r);
            n++;
        }
        rq->group[i] = vision ? n - 1 : -1;
        prev_vision = vision;
    }
    rq->n_groups = n;
    rq->group_begin = malloc((n > 0 ? (size_t)n : 1) * sizeof(int64_t));
    rq->group_end = malloc((n > 0 ? (size_t)n : 1) * sizeof(int64_t));
    if (!rq->group_begin || !rq->group_end)
        return pf_error_set("layout: out of memory");
    for (int64_t i = 0; i < rq->kv_len; i++) {
        int32_t g = rq->group[i];
        if (g < 0)
            continue;
        if (i == 0 || rq->group[i - 1] != g)
            rq->group_begin[g] = i;
        rq->group_end[g] = i + 1;
    }
    int64_t p = rq->prefix;
    if (p > 0 && rq->group[p - 1] >= 0 && rq->group[p - 1] == rq->group[p]) {
        int32_t g = rq->group[p];
        return pf_error_set("layout: request %d: cached prefix ends at position %lld inside %s "
                            "group %d (positions %lld..%lld)",
                            r, (long long)p, type_name(rq->types[p]), g,
                            (long long)rq->group_begin[g], (long long)rq->group_end[g] - 1);
    }
    return 0;
}

int pf_layout_finish(pf_layout *l)
{
    l->qo_indptr[0] = l->kv_indptr[0] = 0;
    l->max_group_len = 0;
    for (int r = 0; r < l->n_req; r++) {
        pf_request *rq = &l->req[r];
        if (request_finish(rq, r) < 0)
            return -1;
        for (int32_t g = 0; g < rq->n_groups; g++)
            if (rq->group_end[g] - rq->group_begin[g] > l->max_group_len)
                l->max_group_len = rq->group_end[g] - rq->group_begin[g];
        l->qo_indptr[r + 1] = l->qo_indptr[r] + rq->q_len;
        l->kv_indptr[r + 1] = l->kv_indptr[r] + rq->kv_len;
        if (l->kv_indptr[r + 1] > PF_LAYOUT_MAX_TOKENS)
            return pf_error_set("layout: more than %lld tokens in total",
                                (long long)PF_LAYOUT_MAX_TOKENS);
    }
    l->total_q = l->qo_indptr[l->n_req];
    l->total_kv = l->kv_indptr[l->n_req];
    return 0;
}

int pf_layout_from_types(int n_req, const int64_t *lens, const int64_t *prefix,
                         const int64_t *types, pf_layout **out)
{
    *out = NULL;
    if (n_req <= 0 || n_req > PF_LAYOUT_MAX_REQUESTS)
        return pf_error_set("layout: %d requests (expected 1..%d)", n_req, PF_LAYOUT_MAX_REQUESTS);
    int64_t total = 0;
    for (int r = 0; r < n_req; r++) {
        if (lens[r] <= 0)
            return pf_error_set("layout: request %d: empty request", r);
        if (lens[r] > PF_LAYOUT_MAX_TOKENS - total)
            return pf_error_set("layout: more than %lld tokens in total",
                                (long long)PF_LAYOUT_MAX_TOKENS);
        total += lens[r];
    }
    pf_layout *l = pf_layout_alloc(n_req);
    if (!l)
        return pf_error_set("layout: out of memory");
    int64_t off = 0;
    for (int r = 0; r < n_req; r++) {
        pf_request *rq = &l->req[r];
        int64_t p = prefix ? prefix[r] : 0;
        if (pf_request_init(rq, lens[r], 0) < 0)
            goto fail;
        rq->prefix = p;
        rq->q_len = lens[r] - p;
        for (int64_t i = 0; i < lens[r]; i++) {
            int64_t t = types[off + i];
            if (t < 0 || t > PF_TOK_AUDIO) {
                pf_error_set("layout: request %d: token %lld has type %lld (expected 0..3)", r,
                             (long long)i, (long long)t);
                goto fail;
            }
            rq->types[i] = (uint8_t)t;
        }
        off += lens[r];
    }
    if (pf_layout_finish(l) < 0)
        goto fail;
    *out = l;
    return 0;
fail:
    pf_layout_free(l);
    return -1;
}

int pf_layout_equal(const pf_layout *a, const pf_layout *b)
{
    if (a->n_req != b->n_req || a->total_q != b->total_q || a->total_kv != b->total_kv)
        return 0;
    for (int r = 0; r < a->n_req; r++) {
        const pf_request *x = &a->req[r], *y = &b->req[r];
        if (x->prefix != y->prefix || x->kv_len != y->kv_len ||
            memcmp(x->types, y->types, (size_t)x->kv_len) != 0)
            return 0;
    }
    return 1;
}

/* Growable string for pf_layout_to_string. */
typedef struct strbuf {
    char *s;
    size_t len, cap;
} strbuf;

static int sb_put(strbuf *b, const char *text)
{
    size_t n = strlen(text);
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s)
            return -1;
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, text, n + 1);
    b->len += n;
    return 0;
}

char *pf_layout_to_string(const pf_layout *layout)
{
    static const char kind[4] = {'t', 'i', 'v', 'a'};
    strbuf b = {0};
    if (sb_put(&b, "") < 0)
        return NULL;
    for (int r = 0; r < layout->n_req; r++) {
        const pf_request *rq = &layout->req[r];
        if (r > 0 && sb_put(&b, ";") < 0)
            goto oom;
        int64_t i = 0;
        while (i < rq->kv_len) {
            /* a run of one type, cut at the prefix boundary */
            int64_t end = i + 1;
            int64_t limit = i < rq->prefix ? rq->prefix : rq->kv_len;
            while (end < limit && rq->types[end] == rq->types[i])
                end++;
            char span[40];
            snprintf(span, sizeof(span), "%s%c%lld",
                     i == 0 ? "" : (i == rq->prefix ? "|" : ","), kind[rq->types[i] & 3],
                     (long long)(end - i));
            if (sb_put(&b, span) < 0)
                goto oom;
            i = end;
        }
    }
    return b.s;
oom:
    free(b.s);
    return NULL;
}

int pf_layout_from_spans(int n_req, const int *first, const pf_span *spans,
                         const int64_t *prefix, pf_layout **out)
{
    *out = NULL;
    pf_layout *l = pf_layout_alloc(n_req);
    if (!l)
        return pf_error_set("layout: out of memory");
    for (int r = 0; r < n_req; r++) {
        int64_t len = 0;
        for (int s = first[r]; s < first[r + 1]; s++)
            len += spans[s].count;
        if (pf_request_init(&l->req[r], len, prefix[r]) < 0)
            goto fail;
        int64_t at = 0;
        for (int s = first[r]; s < first[r + 1]; s++) {
            memset(l->req[r].types + at, spans[s].type, (size_t)spans[s].count);
            at += spans[s].count;
        }
    }
    if (pf_layout_finish(l) < 0)
        goto fail;
    *out = l;
    return 0;
fail:
    pf_layout_free(l);
    return -1;
}
