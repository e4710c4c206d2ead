/* A profile's "workload" and the layout it gives at each sequence length
 * (pf_profile_layout): periodic images, a repeated one-request pattern,
 * explicit layouts per length, a layout file, or seeded random layouts. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attention/layout.h"
#include "tuner/profile_parts.h"

#define DEFAULT_IMAGE_EVERY 4096
#define DEFAULT_RANDOM_REQUESTS 4
#define MAX_RANDOM_REQUESTS 64

/* Sum of the decimal numbers in a layout string (saturating): for a valid
 * layout this is its total token count, known before anything is built. */
static int64_t tokens_bound(const char *s)
{
    int64_t sum = 0, v = 0;
    for (;; s++) {
        if (*s >= '0' && *s <= '9') {
            v = v < INT64_MAX / 20 ? v * 10 + (*s - '0') : INT64_MAX / 2;
            continue;
        }
        sum = sum < INT64_MAX / 2 - v ? sum + v : INT64_MAX / 2;
        v = 0;
        if (!*s)
            return sum;
    }
}

/* Every length times the requests fits one layout. */
static int batch_fits(const pf_pj *c, const pf_profile *p)
{
    for (int i = 0; i < p->n_seqs; i++)
        if (p->seq_lens[i] > PF_LAYOUT_MAX_TOKENS / p->requests)
            return pf_pj_fail(c, "seq_lens", i, "%" PRId64 " tokens x %d requests is over the "
                              "layout limit of %" PRId64 " tokens", p->seq_lens[i], p->requests,
                              PF_LAYOUT_MAX_TOKENS);
    return 0;
}

static int parse_images(const pf_pj *c, const json_t *v, pf_profile *p)
{
    static const char *const keys[] = {"tokens", "every", NULL};
    p->workload = PF_WORKLOAD_IMAGES;
    p->image_every = DEFAULT_IMAGE_EVERY; /* p->image_tokens: the model's */
    if (!v)
        return 0;
    if (pf_pj_object(c, v, "workload.images") || pf_pj_keys(c, v, "workload.images", keys))
        return -1;
    const json_t *x;
    if ((x = json_object_get(v, "tokens")) &&
        pf_pj_int(c, x, "workload.images.tokens", -1, 0, PF_LAYOUT_MAX_TOKENS, &p->image_tokens))
        return -1;
    if ((x = json_object_get(v, "every")) &&
        pf_pj_int(c, x, "workload.images.every", -1, 1, PF_LAYOUT_MAX_TOKENS, &p->image_every))
        return -1;
    return 0;
}

/* One request's pattern, repeated to fill every sequence length. */
static int parse_pattern(const pf_pj *c, const json_t *v, pf_profile *p)
{
    const char *key = "workload.layout";
    if (pf_pj_string(c, v, key, -1, p->layouts[0], sizeof p->layouts[0]))
        return -1;
    int64_t shortest = p->seq_lens[0];
    for (int i = 1; i < p->n_seqs; i++)
        shortest = p->seq_lens[i] < shortest ? p->seq_lens[i] : shortest;
    int64_t n = tokens_bound(p->layouts[0]);
    if (n > shortest)
        return pf_pj_fail(c, key, -1, "the pattern has %" PRId64 " tokens, more than seq len %" PRId64,
                          n, shortest);
    pf_layout *l;
    if (pf_layout_parse(p->layouts[0], &l))
        return pf_pj_fail_error(c, key, -1);
    int one = l->n_req == 1 && l->req[0].prefix == 0;
    pf_layout_free(l);
    if (!one)
        return pf_pj_fail(c, key, -1, "must be one request without a cached prefix (a pattern; "
                                      "\"layouts\" takes whole batches)");
    for (int i = 1; i < p->n_seqs; i++)
        memcpy(p->layouts[i], p->layouts[0], sizeof p->layouts[0]);
    p->workload = PF_WORKLOAD_LAYOUT;
    p->layout_repeat = 1;
    return 0;
}

/* {"8192": "t8000,i192", ...}: one whole batch per sequence length. */
static int parse_layouts(const pf_pj *c, const json_t *v, pf_profile *p)
{
    if (pf_pj_object(c, v, "workload.layouts"))
        return -1;
    int have[PF_PROFILE_MAX_SEQS] = {0};
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x) {
        char path[96];
        pf_pj_path(path, sizeof path, "workload.layouts", k);
        int i = 0;
        for (; i < p->n_seqs; i++) {
            char num[24];
            snprintf(num, sizeof num, "%" PRId64, p->seq_lens[i]);
            if (strcmp(num, k) == 0)
                break;
        }
        if (i == p->n_seqs)
            return pf_pj_fail(c, path, -1, "not one of \"seq_lens\" (keys are seq lens in decimal)");
        if (pf_pj_string(c, x, path, -1, p->layouts[i], sizeof p->layouts[i]))
            return -1;
        int64_t seq = p->seq_lens[i], reqs = 1;
        for (const char *s = p->layouts[i]; *s; s++)
            reqs += *s == ';';
        if (tokens_bound(p->layouts[i]) > reqs * seq)
            return pf_pj_fail(c, path, -1, "more tokens than %" PRId64 " requests of %" PRId64,
                              reqs, seq);
        pf_layout *l;
        if (pf_layout_parse(p->layouts[i], &l))
            return pf_pj_fail_error(c, path, -1);
        int bad = -1;
        for (int r = 0; r < l->n_req && bad < 0; r++)
            if (l->req[r].kv_len != seq)
                bad = r;
        int64_t got = bad >= 0 ? l->req[bad].kv_len : 0;
        pf_layout_free(l);
        if (bad >= 0)
            return pf_pj_fail(c, path, -1,
                              "request %d has %" PRId64 " tokens (prefix included), not %" PRId64,
                              bad, got, seq);
        have[i] = 1;
    }
    for (int i = 0; i < p->n_seqs; i++)
        if (!have[i])
            return pf_pj_fail(c, "workload.layouts", -1, "no layout for seq len %" PRId64,
                              p->seq_lens[i]);
    p->workload = PF_WORKLOAD_LAYOUT;
    return 0;
}

static int parse_file(const pf_pj *c, const json_t *v, pf_profile *p)
{
    const char *key = "workload.layout_file";
    char name[sizeof p->layout_file];
    if (pf_pj_string(c, v, key, -1, name, sizeof name))
        return -1;
    size_t n = strlen(name);
    if (!(n > 5 && strcmp(name + n - 5, ".json") == 0) && !(n > 4 && strcmp(name + n - 4, ".npy") == 0))
        return pf_pj_fail(c, key, -1, "must name a .json or .npy layout file");
    if (p->n_seqs != 1)
        return pf_pj_fail(c, key, -1, "give one seq len (the file's longest request); "
                                      "\"seq_lens\" has %d", p->n_seqs);
    int w = name[0] != '/' && c->base_dir
                ? snprintf(p->layout_file, sizeof p->layout_file, "%s/%s", c->base_dir, name)
                : snprintf(p->layout_file, sizeof p->layout_file, "%s", name);
    if (w < 0 || (size_t)w >= sizeof p->layout_file)
        return pf_pj_fail(c, key, -1, "the path is too long");
    p->workload = PF_WORKLOAD_FILE;
    return 0;
}

static int parse_random(const pf_pj *c, const json_t *v, pf_profile *p)
{
    static const char *const keys[] = {"max_requests", NULL};
    if (pf_pj_object(c, v, "workload.random") || pf_pj_keys(c, v, "workload.random", keys))
        return -1;
    p->requests = DEFAULT_RANDOM_REQUESTS;
    const json_t *x = json_object_get(v, "max_requests");
    if (x && pf_pj_int32(c, x, "workload.random.max_requests", -1, 1, MAX_RANDOM_REQUESTS,
                         &p->requests))
        return -1;
    p->workload = PF_WORKLOAD_RANDOM;
    return batch_fits(c, p);
}

int pf_profile_parse_workload(const pf_pj *c, const json_t *v, int requests_given, pf_profile *p)
{
    static const char *const keys[] = {"images", "layout", "layouts", "layout_file", "random",
                                       NULL};
    const char *kind = "images";
    if (v) {
        if (pf_pj_object(c, v, "workload") || pf_pj_keys(c, v, "workload", keys))
            return -1;
        if (json_object_size(v) != 1)
            return pf_pj_fail(c, "workload", -1,
                              "give exactly one of images, layout, layouts, layout_file, random");
        kind = json_object_iter_key(json_object_iter((json_t *)v));
    }
    int batch = !strcmp(kind, "images") || !strcmp(kind, "layout"); /* "requests" applies */
    if (requests_given && !batch)
        return pf_pj_fail(c, "requests", -1, "only for \"images\" and \"layout\" workloads "
                          "(\"%s\" brings its own requests)", kind);
    if (batch && batch_fits(c, p))
        return -1;
    const json_t *x = v ? json_object_get(v, kind) : NULL;
    if (!strcmp(kind, "images"))
        return parse_images(c, x, p);
    if (!strcmp(kind, "layout"))
        return parse_pattern(c, x, p);
    if (!strcmp(kind, "layouts"))
        return parse_layouts(c, x, p);
    if (!strcmp(kind, "layout_file"))
        return parse_file(c, x, p);
    return parse_random(c, x, p);
}

/* ---- building the layout of one sequence length ---- */

static int repeat_pattern(const pf_profile *p, int64_t seq, pf_layout **out)
{
    pf_layout *pat;
    if (pf_layout_parse(p->layouts[0], &pat))
        return -1;
    const pf_request *one = &pat->req[0];
    size_t n = (size_t)seq * (size_t)p->requests;
    int64_t *types = malloc(n * sizeof *types), *lens = malloc((size_t)p->requests * sizeof *lens);
    int rc = -1;
    if (!types || !lens) {
        pf_error_set("out of memory");
        goto done;
    }
    for (int r = 0; r < p->requests; r++) {
        lens[r] = seq;
        for (int64_t k = 0; k < seq; k++)
            types[(size_t)r * (size_t)seq + (size_t)k] = one->types[k % one->kv_len];
    }
    rc = pf_layout_from_types(p->requests, lens, NULL, types, out);
done:
    free(types);
    free(lens);
    pf_layout_free(pat);
    return rc;
}

static int load_file(const pf_profile *p, int64_t seq, pf_layout **out)
{
    if (pf_layout_load(p->layout_file, out))
        return -1;
    int64_t longest = 0;
    for (int r = 0; r < (*out)->n_req; r++)
        longest = (*out)->req[r].kv_len > longest ? (*out)->req[r].kv_len : longest;
    if (longest == seq)
        return 0;
    pf_layout_free(*out);
    *out = NULL;
    return pf_error_set("%s: the longest request has %" PRId64 " tokens; \"seq_lens\" says %" PRId64,
                        p->layout_file, longest, seq);
}

int pf_profile_layout(const pf_profile *p, int i, uint64_t seed, pf_layout **out)
{
    *out = NULL;
    if (i < 0 || i >= p->n_seqs)
        return pf_error_set("profile: workload %d of %d", i, p->n_seqs);
    int64_t seq = p->seq_lens[i];
    int rc;
    switch (p->workload) {
    case PF_WORKLOAD_IMAGES:
        rc = pf_layout_gen_periodic(p->requests, seq, p->image_tokens, p->image_every, out);
        break;
    case PF_WORKLOAD_LAYOUT:
        rc = p->layout_repeat ? repeat_pattern(p, seq, out) : pf_layout_parse(p->layouts[i], out);
        break;
    case PF_WORKLOAD_FILE:
        rc = load_file(p, seq, out);
        break;
    case PF_WORKLOAD_RANDOM: /* seeds differ per length, and stay fixed for a given one */
        rc = pf_layout_gen_random(seed + (uint64_t)i * 0x9E3779B97F4A7C15ull, p->requests, seq, out);
        break;
    default:
        rc = pf_error_set("unknown workload kind %d", (int)p->workload);
    }
    if (rc)
        return pf_error_prefix("profile: workload at seq len %" PRId64, seq);
    if (p->workload == PF_WORKLOAD_IMAGES || p->workload == PF_WORKLOAD_LAYOUT)
        for (int r = 0; r < (*out)->n_req; r++)
            if ((*out)->req[r].kv_len != seq) {
                int64_t got = (*out)->req[r].kv_len;
                pf_layout_free(*out);
                *out = NULL;
                return pf_error_set("profile: workload at seq len %" PRId64 ": request %d has %"
                                    PRId64 " tokens", seq, r, got);
            }
    return 0;
}
