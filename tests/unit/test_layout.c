/* Layout model: grammar, HF grouping, prefixes, errors, JSON/.npy, round
 * trips and generators. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attention/layout.h"
#include "core/npy.h"
#include "core/pf_error.h"
#include "pf_test.h"

static int parse_ok(const char *spec, pf_layout **l)
{
    int rc = pf_layout_parse(spec, l);
    if (rc != 0)
        fprintf(stderr, "unexpected parse error for '%s': %s\n", spec, pf_error_get());
    return rc == 0;
}

/* Expect a parse error containing `needle`. */
static void expect_error(const char *spec, const char *needle)
{
    pf_layout *l = NULL;
    int rc = pf_layout_parse(spec, &l);
    CHECK_MSG(rc == -1 && l == NULL, "'%s' was accepted", spec);
    CHECK_MSG(strstr(pf_error_get(), needle) != NULL, "'%s': got '%s', want '%s'", spec,
              pf_error_get(), needle);
    CHECK(strchr(pf_error_get(), '\n') == NULL);
}

/* Independent HF grouping over a type array, for comparison. */
static void hf_groups(const uint8_t *types, int64_t n, int32_t *group)
{
    int32_t cum = 0;
    for (int64_t i = 0; i < n; i++) {
        int vis = types[i] == 1 || types[i] == 2;
        int prev = i > 0 && (types[i - 1] == 1 || types[i - 1] == 2);
        cum += vis && !prev;
        group[i] = vis ? cum - 1 : -1;
    }
}

static void test_basic(void)
{
    pf_layout *l;
    if (!parse_ok("t20,i256,t30;t100|t40,i64,t5", &l))
        return;
    CHECK(l->n_req == 2);
    CHECK(l->req[0].prefix == 0 && l->req[0].q_len == 306 && l->req[0].kv_len == 306);
    CHECK(l->req[1].prefix == 100 && l->req[1].q_len == 109 && l->req[1].kv_len == 209);
    CHECK(l->total_q == 415 && l->total_kv == 515);
    CHECK(l->qo_indptr[0] == 0 && l->qo_indptr[1] == 306 && l->qo_indptr[2] == 415);
    CHECK(l->kv_indptr[1] == 306 && l->kv_indptr[2] == 515);
    CHECK(l->req[0].group[19] == -1 && l->req[0].group[20] == 0 && l->req[0].group[275] == 0 &&
          l->req[0].group[276] == -1);
    CHECK(l->req[0].n_groups == 1 && l->req[0].group_begin[0] == 20 &&
          l->req[0].group_end[0] == 276);
    CHECK(l->req[1].n_groups == 1 && l->req[1].group_begin[0] == 140);
    CHECK(l->max_group_len == 256);
    /* equality notices a moved prefix, a changed type and a changed length */
    static const char *other[] = {"t20,i256,t30;t99|t41,i64,t5", "t20,i256,t30;t100|t40,v64,t5",
                                  "t20,i256,t30;t100|t40,i64,t6", "t20,i256,t30"};
    for (int i = 0; i < 4; i++) {
        pf_layout *o;
        if (parse_ok(other[i], &o)) {
            CHECK(!pf_layout_equal(l, o));
            pf_layout_free(o);
        }
    }
    /* the array constructor checks its inputs */
    int64_t lens[2] = {3, 2}, pre[2] = {0, 2}, types[5] = {0, 1, 1, 0, 0};
    pf_layout *a;
    CHECK(pf_layout_from_types(2, lens, pre, types, &a) == -1 && strstr(pf_error_get(), "no new"));
    pre[1] = 1;
    CHECK(pf_layout_from_types(2, lens, pre, types, &a) == 0 && a->total_q == 4);
    pf_layout_free(a);
    pre[0] = 2; /* cuts the image group at positions 1..2 */
    CHECK(pf_layout_from_types(2, lens, pre, types, &a) == -1 &&
          strstr(pf_error_get(), "request 0: cached prefix ends at position 2 inside image group 0 "
                                 "(positions 1..2)"));
    types[4] = -1;
    pre[0] = 0;
    CHECK(pf_layout_from_types(2, lens, pre, types, &a) == -1 && strstr(pf_error_get(), "0..3"));
    lens[1] = 0;
    CHECK(pf_layout_from_types(2, lens, NULL, types, &a) == -1 && strstr(pf_error_get(), "empty"));
    CHECK(pf_layout_from_types(0, lens, NULL, types, &a) == -1);
    pf_layout_free(l);
}

static void test_grouping(void)
{
    pf_layout *l;
    /* HF: adjacent vision spans are ONE group (image+image, image+video). */
    if (parse_ok("i4,i4,t1,i3,v2,a2,i1,t1,v5", &l)) {
        const pf_request *r = &l->req[0];
        CHECK(r->n_groups == 4);
        CHECK(r->group[0] == 0 && r->group[7] == 0 && r->group_end[0] == 8);
        CHECK(r->group[8] == -1);
        CHECK(r->group[9] == 1 && r->group[13] == 1 && r->group_end[1] == 14);
        CHECK(r->group[14] == -1 && r->group[15] == -1); /* audio is not vision */
        CHECK(r->group[16] == 2 && r->group_begin[2] == 16 && r->group_end[2] == 17);
        CHECK(r->group[18] == 3 && r->group_end[3] == 23);
        CHECK(l->max_group_len == 8);
        pf_layout_free(l);
    }
    /* Groups are numbered per request. */
    if (parse_ok("i2;t1,v3", &l)) {
        CHECK(l->req[1].group[1] == 0 && l->req[1].n_groups == 1);
        pf_layout_free(l);
    }
    /* Random layouts agree with the independent HF grouping. */
    for (uint64_t seed = 1; seed <= 200; seed++) {
        if (pf_layout_gen_random(seed, 4, 97, &l) < 0) {
            CHECK(0);
            continue;
        }
        for (int r = 0; r < l->n_req; r++) {
            int32_t *g = malloc((size_t)l->req[r].kv_len * sizeof(*g));
            hf_groups(l->req[r].types, l->req[r].kv_len, g);
            CHECK(memcmp(g, l->req[r].group, (size_t)l->req[r].kv_len * sizeof(*g)) == 0);
            for (int32_t k = 0; k < l->req[r].n_groups; k++)
                CHECK(g[l->req[r].group_begin[k]] == k && g[l->req[r].group_end[k] - 1] == k);
            free(g);
        }
        pf_layout_free(l);
    }
}

static void test_prefix(void)
{
    pf_layout *l;
    /* a prefix may end right before or right after a group */
    if (parse_ok("t30|i40,t5", &l)) {
        CHECK(l->req[0].prefix == 30 && l->req[0].q_len == 45);
        pf_layout_free(l);
    }
    if (parse_ok(" t30 , i40 | t5 ", &l)) {
        CHECK(l->req[0].prefix == 70 && l->req[0].q_len == 5);
        pf_layout_free(l);
    }
    if (parse_ok("|t3", &l)) {
        CHECK(l->req[0].prefix == 0);
        pf_layout_free(l);
    }
    /* ... but not inside one (i20|i20 is one group of 40 tokens) */
    expect_error("t5;t30,i10|i30,t1",
                 "layout: request 1: cached prefix ends at position 40 inside image group 0 "
                 "(positions 30..69)");
    expect_error("i3|v2", "inside video group 0 (positions 0..4)");
    expect_error("t5|", "request 0: no new tokens");
    expect_error("t5|;t1", "request 0: no new tokens");
    expect_error("t5|t1|t2", "second '|'");
}

static void test_errors(void)
{
    expect_error("t1;t2;x5", "layout: request 2: span 'x5' at offset 6: unknown span kind 'x' "
                             "(expected t, i, v, a)");
    expect_error("t20,i256,t30;t100|t40,x5",
                 "layout: request 1: span 'x5' at offset 22: unknown span kind 'x'");
    expect_error("t0", "request 0: span 't0' at offset 0: count must be positive");
    expect_error("t-3", "negative count");
    expect_error("t", "missing count");
    expect_error("i12x", "unexpected 'x' after count");
    expect_error("t99999999999999999999999", "count too large");
    expect_error("t200000000,t200000000", "tokens in total");
    expect_error("", "empty layout");
    expect_error("   ", "empty layout");
    expect_error("t5;;t5", "request 1 at offset 3: empty request");
    expect_error("t5;", "request 1");
    expect_error("t5,,t5", "empty span");
    expect_error("t5,|t5", "'|'");
    expect_error("t\x01", "missing count");
}

static void check_round_trip(const pf_layout *l)
{
    char *s = pf_layout_to_string(l);
    CHECK(s != NULL);
    if (!s)
        return;
    pf_layout *back = NULL;
    CHECK_MSG(pf_layout_parse(s, &back) == 0, "'%s': %s", s, pf_error_get());
    if (back) {
        CHECK_MSG(pf_layout_equal(l, back), "round trip of '%s'", s);
        char *s2 = pf_layout_to_string(back);
        CHECK(s2 && strcmp(s, s2) == 0);
        free(s2);
        pf_layout_free(back);
    }
    free(s);
}

static void test_round_trip(void)
{
    pf_layout *l;
    if (parse_ok("t100|t40,i4,i4,v2,a1;t1", &l)) {
        char *s = pf_layout_to_string(l);
        CHECK(s && strcmp(s, "t100|t40,i8,v2,a1;t1") == 0);
        free(s);
        check_round_trip(l);
        pf_layout_free(l);
    }
    int n_prefix = 0, n_one = 0;
    for (uint64_t seed = 1000; seed < 1400; seed++) {
        if (pf_layout_gen_random(seed, 5, 300, &l) < 0) {
            CHECK(0);
            continue;
        }
        check_round_trip(l);
        for (int r = 0; r < l->n_req; r++) {
            n_prefix += l->req[r].prefix > 0;
            n_one += l->req[r].kv_len == 1;
        }
        pf_layout_free(l);
    }
    CHECK(n_prefix > 50 && n_one > 10); /* the generator covers its edge cases */
}

static void test_json(void)
{
    pf_layout *l = NULL, *ref = NULL;
    const char *text = "{\"requests\": [{\"prefix\": 20, \"spans\": [[\"t\",20],[\"i\",256],"
                       "[\"t\",3]]}, {\"token_types\": [0,0,1,2,3,0]}]}";
    CHECK_MSG(pf_layout_from_json_text(text, &l) == 0, "%s", pf_error_get());
    CHECK(pf_layout_parse("t20|i256,t3;t2,i1,v1,a1,t1", &ref) == 0);
    if (l && ref)
        CHECK(pf_layout_equal(l, ref));
    pf_layout_free(l);
    pf_layout_free(ref);
    static const char *bad[] = {
        "{}", "{\"requests\": []}", "{\"requests\": [{}]}", "[1]", "{\"requests\": [3]}",
        "{\"requests\": [{\"spans\": [[\"x\", 3]]}]}",
        "{\"requests\": [{\"spans\": [[\"t\", 0]]}]}",
        "{\"requests\": [{\"spans\": [[\"t\", 3]], \"prefix\": 3}]}",
        "{\"requests\": [{\"spans\": [[\"t\", 3]], \"prefix\": -1}]}",
        "{\"requests\": [{\"token_types\": [0, 4]}]}",
        "{\"requests\": [{\"token_types\": []}]}",
        "{\"requests\": [{\"token_types\": [1, 1], \"prefix\": 1}]}",
        "{\"requests\": [{\"spans\": [[\"t\", 3]], \"token_types\": [0]}]}",
        "{\"requests\": [{\"spans\": [[\"t\", 200000000], [\"t\", 200000000]]}]}", "{"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        l = NULL;
        CHECK_MSG(pf_layout_from_json_text(bad[i], &l) == -1 && !l, "accepted %s", bad[i]);
        CHECK(strncmp(pf_error_get(), "layout: ", 8) == 0);
    }
}

static void test_files(void)
{
    char dir[] = "/tmp/pf_test_layout_XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0);
        return;
    }
    char path[256];
    /* 2-D [2, 7] int32 token types = two requests of 7 tokens */
    int32_t types[14] = {0, 1, 1, 0, 2, 2, 3, 1, 0, 0, 0, 0, 0, 1};
    int64_t shape[2] = {2, 7};
    snprintf(path, sizeof(path), "%s/types.npy", dir);
    CHECK(pf_npy_write(path, PF_NPY_I32, types, 2, shape) == 0);
    pf_layout *l = NULL, *ref = NULL;
    CHECK_MSG(pf_layout_load(path, &l) == 0, "%s", pf_error_get());
    CHECK(pf_layout_parse("t1,i2,t1,v2,a1;i1,t5,i1", &ref) == 0);
    if (l && ref)
        CHECK(pf_layout_equal(l, ref));
    pf_layout_free(l);
    /* 1-D with a bad value */
    types[3] = 7;
    CHECK(pf_npy_write(path, PF_NPY_I32, types, 1, shape + 1) == 0);
    CHECK(pf_layout_load(path, &l) == -1 && strstr(pf_error_get(), "expected 0..3"));
    /* JSON file */
    snprintf(path, sizeof(path), "%s/layout.json", dir);
    FILE *f = fopen(path, "w");
    fputs("{\"requests\": [{\"spans\": [[\"t\",1],[\"i\",2],[\"t\",1],[\"v\",2],[\"a\",1]]},"
          "{\"token_types\": [1,0,0,0,0,0,1]}]}", f);
    fclose(f);
    CHECK_MSG(pf_layout_load(path, &l) == 0, "%s", pf_error_get());
    if (l && ref)
        CHECK(pf_layout_equal(l, ref));
    pf_layout_free(l);
    pf_layout_free(ref);
    CHECK(pf_layout_load("/nonexistent/x.json", &l) == -1);
    CHECK(pf_layout_load("layout.txt", &l) == -1 && strstr(pf_error_get(), "unknown file type"));
    unlink(path);
    snprintf(path, sizeof(path), "%s/types.npy", dir);
    unlink(path);
    rmdir(dir);
}

static void test_generators(void)
{
    pf_layout *l;
    /* periodic: images of m tokens after every k text tokens, up to S */
    int64_t sizes[][3] = {{131072, 256, 4096}, {1000, 7, 13}, {5, 9, 2}, {301, 0, 1}, {30, 10, 10}};
    for (size_t c = 0; c < sizeof(sizes) / sizeof(sizes[0]); c++) {
        int64_t S = sizes[c][0], m = sizes[c][1], k = sizes[c][2];
        if (pf_layout_gen_periodic(3, S, m, k, &l) < 0) {
            CHECK(0);
            continue;
        }
        CHECK(l->n_req == 3 && l->total_kv == 3 * S && l->total_q == 3 * S);
        /* independent simulation of the period */
        int64_t pos = 0, groups = 0;
        while (pos < S) {
            pos += m > 0 && k < S - pos ? k : S - pos;
            if (m > 0 && pos + m <= S) {
                for (int64_t i = pos; i < pos + m; i++)
                    CHECK(l->req[2].types[i] == PF_TOK_IMAGE);
                pos += m;
                groups++;
            }
        }
        int64_t vision = 0;
        for (int64_t i = 0; i < S; i++)
            vision += l->req[1].types[i] == PF_TOK_IMAGE;
        CHECK(vision == groups * m);
        CHECK(l->req[0].n_groups == (m > 0 && m < k + 1 ? groups : l->req[0].n_groups));
        pf_layout_free(l);
    }
    CHECK(pf_layout_gen_periodic(1, 131072, 256, 4096, &l) == 0);
    if (l) {
        CHECK(l->req[0].n_groups == 30); /* floor(131072 / 4352) */
        pf_layout_free(l);
    }
    CHECK(pf_layout_gen_periodic(0, 10, 1, 1, &l) == -1);
    CHECK(pf_layout_gen_periodic(1, 0, 1, 1, &l) == -1);
    CHECK(pf_layout_gen_periodic(1, 10, 3, 0, &l) == -1);
    /* random: deterministic in seed, prefixes never cut a group */
    pf_layout *a, *b;
    CHECK(pf_layout_gen_random(42, 6, 500, &a) == 0 && pf_layout_gen_random(42, 6, 500, &b) == 0);
    CHECK(pf_layout_equal(a, b));
    pf_layout_free(a);
    pf_layout_free(b);
    int starts = 0, ends = 0, one_gap = 0;
    for (uint64_t seed = 0; seed < 300; seed++) {
        if (pf_layout_gen_random(seed, 3, 64, &l) < 0) {
            CHECK(0);
            continue;
        }
        for (int r = 0; r < l->n_req; r++) {
            const pf_request *q = &l->req[r];
            int64_t p = q->prefix;
            CHECK(q->q_len >= 1 && q->kv_len == p + q->q_len);
            CHECK(p == 0 || q->group[p - 1] < 0 || q->group[p - 1] != q->group[p]);
            starts += q->group[0] >= 0;
            ends += q->group[q->kv_len - 1] >= 0;
            for (int64_t i = 1; i + 1 < q->kv_len; i++)
                one_gap += q->group[i] < 0 && q->group[i - 1] >= 0 && q->group[i + 1] >= 0;
        }
        pf_layout_free(l);
    }
    CHECK(starts > 30 && ends > 30 && one_gap > 30);
}

int main(void)
{
    test_basic();
    test_grouping();
    test_prefix();
    test_errors();
    test_round_trip();
    test_json();
    test_files();
    test_generators();
    return PF_TEST_RESULT();
}
