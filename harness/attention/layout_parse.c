/* The layout string grammar (see layout.h): "t20,i256;t100|t40,i64,t5". */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "attention/layout.h"
#include "attention/layout_internal.h"
#include "core/pf_error.h"

typedef struct parser {
    const char *spec;
    size_t pos;
    int req;            /* current request index */
    pf_span *spans;
    int n_spans, cap_spans;
    int *first;         /* [n_req+1] */
    int64_t *prefix;    /* [n_req] */
    int cap_req;
    int64_t total;
} parser;

static int is_sep(char c)
{
    return c == ',' || c == ';' || c == '|' || c == '\0';
}

static void skip_space(parser *p)
{
    while (p->spec[p->pos] == ' ' || p->spec[p->pos] == '\t' || p->spec[p->pos] == '\n')
        p->pos++;
}

/* The span text at `start` for messages: up to the next separator, trimmed,
 * non-printable bytes shown as '?', at most 24 characters. */
static void span_text(const char *spec, size_t start, char *out, size_t out_size)
{
    size_t n = 0, end = start;
    while (!is_sep(spec[end]))
        end++;
    while (end > start && isspace((unsigned char)spec[end - 1]))
        end--;
    for (size_t i = start; i < end && n + 4 < out_size && n < 24; i++)
        out[n++] = isprint((unsigned char)spec[i]) ? spec[i] : '?';
    if (end - start > 24 && n + 4 < out_size) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}

#define SPAN_ERROR(p, start, ...)                                                          \
    do {                                                                               \
        char text_[32];                                                                \
        span_text((p)->spec, (start), text_, sizeof(text_));                           \
        pf_error_set(__VA_ARGS__);                                                     \
        return pf_error_prefix("layout: request %d: span '%s' at offset %zu", (p)->req, \
                               text_, (start));                                        \
    } while (0)

static int push_span(parser *p, int type, int64_t count)
{
    if (p->n_spans == p->cap_spans) {
        int cap = p->cap_spans ? p->cap_spans * 2 : 16;
        pf_span *s = realloc(p->spans, (size_t)cap * sizeof(*s));
        if (!s)
            return pf_error_set("layout: out of memory");
        p->spans = s;
        p->cap_spans = cap;
    }
    p->spans[p->n_spans].type = type;
    p->spans[p->n_spans].count = count;
    p->n_spans++;
    return 0;
}

static int push_request(parser *p, int64_t prefix)
{
    if (p->req >= PF_LAYOUT_MAX_REQUESTS)
        return pf_error_set("layout: more than %d requests", PF_LAYOUT_MAX_REQUESTS);
    if (p->req + 2 > p->cap_req) {
        int cap = p->cap_req ? p->cap_req * 2 : 8;
        int *f = realloc(p->first, (size_t)cap * sizeof(*f));
        if (f)
            p->first = f;
        int64_t *pr = realloc(p->prefix, (size_t)cap * sizeof(*pr));
        if (pr)
            p->prefix = pr;
        if (!f || !pr)
            return pf_error_set("layout: out of memory");
        p->cap_req = cap;
    }
    p->prefix[p->req] = prefix;
    p->first[p->req + 1] = p->n_spans;
    return 0;
}

/* One span "<kind><count>" at p->pos. */
static int parse_span(parser *p, int64_t *req_tokens)
{
    size_t start = p->pos;
    char c = p->spec[p->pos];
    if (is_sep(c))
        return pf_error_set("layout: request %d: empty span at offset %zu", p->req, start);
    static const char kinds[] = "tiva";
    const char *k = strchr(kinds, c);
    if (!k)
        SPAN_ERROR(p, start, "unknown span kind '%c' (expected t, i, v, a)",
                   isprint((unsigned char)c) ? c : '?');
    p->pos++;
    skip_space(p);
    if (p->spec[p->pos] == '-')
        SPAN_ERROR(p, start, "negative count");
    if (!isdigit((unsigned char)p->spec[p->pos]))
        SPAN_ERROR(p, start, "missing count");
    int64_t count = 0;
    while (isdigit((unsigned char)p->spec[p->pos])) {
        count = count * 10 + (p->spec[p->pos] - '0');
        if (count > PF_LAYOUT_MAX_TOKENS)
            SPAN_ERROR(p, start, "count too large (at most %lld tokens)",
                       (long long)PF_LAYOUT_MAX_TOKENS);
        p->pos++;
    }
    skip_space(p);
    if (!is_sep(p->spec[p->pos]))
        SPAN_ERROR(p, start, "unexpected '%c' after count",
                   isprint((unsigned char)p->spec[p->pos]) ? p->spec[p->pos] : '?');
    if (count == 0)
        SPAN_ERROR(p, start, "count must be positive");
    if (count > PF_LAYOUT_MAX_TOKENS - p->total)
        SPAN_ERROR(p, start, "layout exceeds %lld tokens in total",
                   (long long)PF_LAYOUT_MAX_TOKENS);
    p->total += count;
    *req_tokens += count;
    return push_span(p, (int)(k - kinds), count);
}

/* One request: spans separated by ',' with at most one '|'. */
static int parse_request(parser *p)
{
    size_t start = p->pos;
    int64_t tokens = 0, prefix = 0;
    int have_bar = 0, n = 0;
    skip_space(p);
    if (p->spec[p->pos] == ';' || p->spec[p->pos] == '\0')
        return pf_error_set("layout: request %d at offset %zu: empty request", p->req, start);
    for (;;) {
        skip_space(p);
        if (p->spec[p->pos] == '|') {
            if (have_bar)
                return pf_error_set("layout: request %d: second '|' at offset %zu", p->req,
                                    p->pos);
            have_bar = 1;
            prefix = tokens;
            p->pos++;
            skip_space(p);
            if (p->spec[p->pos] == ';' || p->spec[p->pos] == '\0')
                return pf_error_set("layout: request %d: no new tokens after '|' at offset %zu",
                                    p->req, p->pos - 1);
        }
        if (parse_span(p, &tokens) < 0)
            return -1;
        n++;
        char c = p->spec[p->pos];
        if (c == ',') {
            p->pos++;
            skip_space(p);
            if (p->spec[p->pos] == '|')
                return pf_error_set("layout: request %d: '|' at offset %zu must replace the ','",
                                    p->req, p->pos);
        } else if (c != '|') {
            break;
        }
    }
    if (have_bar && prefix == tokens)
        return pf_error_set("layout: request %d: no new tokens after '|'", p->req);
    return push_request(p, prefix);
}

int pf_layout_parse(const char *spec, pf_layout **out)
{
    *out = NULL;
    parser p = {.spec = spec};
    int rc = -1;
    size_t n = 0;
    while (spec[n] == ' ' || spec[n] == '\t' || spec[n] == '\n')
        n++;
    if (spec[n] == '\0') {
        pf_error_set("layout: empty layout");
        goto done;
    }
    if (push_request(&p, 0) < 0) /* sizes first[] */
        goto done;
    p.first[0] = 0;
    for (;;) {
        if (parse_request(&p) < 0)
            goto done;
        p.req++;
        if (p.spec[p.pos] == '\0')
            break;
        p.pos++; /* ';' */
    }
    rc = pf_layout_from_spans(p.req, p.first, p.spans, p.prefix, out);
done:
    free(p.spans);
    free(p.first);
    free(p.prefix);
    return rc;
}
