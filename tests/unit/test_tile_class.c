/* Tile classes (O(1) interval reasoning) against brute force over
 * pf_mask_allowed, for random layouts, odd tile sizes and all rules. */
#include <stdlib.h>
#include <string.h>

#include "attention/layout.h"
#include "attention/mask_rule.h"
#include "core/pf_error.h"
#include "pf_test.h"
#include "attention/tile_class.h"

static int brute_class(const pf_layout *l, int r, const pf_mask_spec *s, int bm, int bn,
                       int64_t t, int64_t u)
{
    const pf_request *rq = &l->req[r];
    int64_t seen = 0, ok = 0;
    for (int64_t i = t * bm; i < (t + 1) * bm && i < rq->q_len; i++)
        for (int64_t k = u * bn; k < (u + 1) * bn && k < rq->kv_len; k++) {
            seen++;
            ok += pf_mask_allowed(l, r, rq->prefix + i, k, s->rule, s->layer, s->window);
        }
    return ok == 0 ? PF_TILE_EMPTY : ok == seen ? PF_TILE_FULL : PF_TILE_PARTIAL;
}

static void test_random(void)
{
    static const pf_rule rules[] = {PF_RULE_CAUSAL, PF_RULE_GEMMA3, PF_RULE_GEMMA4,
                                    PF_RULE_BIDIRECTIONAL};
    static const int sizes[][2] = {{1, 1}, {16, 16}, {3, 5}, {7, 2}, {64, 64}, {5, 13}, {4, 32}};
    int64_t count[3] = {0, 0, 0};
    for (uint64_t seed = 1; seed <= 60; seed++) {
        pf_layout *l;
        if (pf_layout_gen_random(seed * 2654435761u, 3, 150, &l) < 0) {
            CHECK(0);
            continue;
        }
        for (int ri = 0; ri < 4; ri++)
            for (int layer = 0; layer < 2; layer++) {
                if (rules[ri] == PF_RULE_BIDIRECTIONAL && layer)
                    continue;
                pf_mask_spec s = {rules[ri], (pf_layer)layer,
                                  layer ? 1 + (int)((seed * 17 + (uint64_t)ri) % 45) : 0};
                const int *bs = sizes[(seed + (uint64_t)ri) % 7];
                pf_tile_map m;
                if (pf_tile_classify(l, &s, bs[0], bs[1], &m) < 0) {
                    CHECK_MSG(0, "%s", pf_error_get());
                    continue;
                }
                int64_t n = 0;
                for (int r = 0; r < l->n_req; r++) {
                    const pf_request *rq = &l->req[r];
                    int64_t nq = (rq->q_len + bs[0] - 1) / bs[0];
                    int64_t nk = (rq->kv_len + bs[1] - 1) / bs[1];
                    CHECK(m.indptr[r] == n);
                    for (int64_t t = 0; t < nq; t++)
                        for (int64_t u = 0; u < nk; u++) {
                            int want = brute_class(l, r, &s, bs[0], bs[1], t, u);
                            int got = m.cls[m.indptr[r] + t * nk + u];
                            CHECK_MSG(want == got, "seed %llu %s/%s W=%d %dx%d req %d tile "
                                      "(%lld,%lld): want %d got %d",
                                      (unsigned long long)seed, pf_rule_name(s.rule),
                                      pf_layer_name(s.layer), s.window, bs[0], bs[1], r,
                                      (long long)t, (long long)u, want, got);
                            count[want]++;
                        }
                    n += nq * nk;
                }
                CHECK(m.indptr[l->n_req] == n && m.n_tiles == (size_t)n);
                CHECK(m.n_empty + m.n_full + m.n_partial == n);
                pf_tile_map_free(&m);
            }
        pf_layout_free(l);
    }
    /* all three classes were exercised */
    CHECK(count[0] > 1000 && count[1] > 1000 && count[2] > 1000);
    printf("tiles: %lld empty, %lld full, %lld partial\n", (long long)count[0],
           (long long)count[1], (long long)count[2]);
}

/* A large case stays fast (O(1) per tile): 128K tokens, 64x64 -> 4M tiles;
 * spot-check rows of tiles against brute force. */
static void test_large(void)
{
    pf_layout *l;
    if (pf_layout_gen_periodic(1, 131072, 256, 4096, &l) < 0) {
        CHECK(0);
        return;
    }
    pf_mask_spec s = {PF_RULE_GEMMA3, PF_LAYER_SLIDING, 1024};
    pf_tile_map m;
    CHECK(pf_tile_classify(l, &s, 64, 64, &m) == 0);
    CHECK(m.n_tiles == 2048 * 2048);
    /* a sliding window of 1024 keeps ~17 tiles per row: mostly empty */
    CHECK(m.n_empty > (int64_t)m.n_tiles * 9 / 10);
    uint64_t x = 12345;
    for (int i = 0; i < 40; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        int64_t t = (int64_t)(x >> 33) % 2048;
        for (int64_t u = t - 20 < 0 ? 0 : t - 20; u <= t + 5 && u < 2048; u++)
            CHECK(m.cls[t * 2048 + u] == brute_class(l, 0, &s, 64, 64, t, u));
    }
    pf_tile_map_free(&m);
    pf_layout_free(l);
}

static void test_errors(void)
{
    pf_layout *l;
    if (pf_layout_parse("t5", &l) < 0)
        return;
    pf_mask_spec s = {PF_RULE_CAUSAL, PF_LAYER_FULL, 0};
    pf_tile_map m;
    CHECK(pf_tile_classify(l, &s, 0, 16, &m) == -1 && m.cls == NULL);
    s.layer = PF_LAYER_SLIDING;
    CHECK(pf_tile_classify(l, &s, 16, 16, &m) == -1);
    pf_layout_free(l);
}

int main(void)
{
    test_random();
    test_large();
    test_errors();
    return PF_TEST_RESULT();
}
