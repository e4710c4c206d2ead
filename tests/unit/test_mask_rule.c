/* The rule: hand-checked table cells, the kernel flag formula and the row
 * interval form agree with the literal table over random layouts. */
#include <stdlib.h>
#include <string.h>

#include "attention/layout.h"
#include "attention/mask_rule.h"
#include "core/pf_error.h"
#include "pf_test.h"

static const pf_rule rules[] = {PF_RULE_CAUSAL, PF_RULE_GEMMA3, PF_RULE_GEMMA4,
                                PF_RULE_BIDIRECTIONAL};

static void test_names(void)
{
    for (int i = 0; i < 4; i++) {
        pf_rule r;
        CHECK(pf_rule_parse(pf_rule_name(rules[i]), &r) == 0 && r == rules[i]);
    }
    pf_rule r;
    pf_layer y;
    CHECK(pf_rule_parse("gemma5", &r) == -1 && strstr(pf_error_get(), "gemma5"));
    CHECK(pf_layer_parse("sliding", &y) == 0 && y == PF_LAYER_SLIDING);
    CHECK(pf_layer_parse("full", &y) == 0 && y == PF_LAYER_FULL);
    CHECK(pf_layer_parse("local", &y) == -1);
    CHECK(strcmp(pf_layer_name(PF_LAYER_SLIDING), "sliding") == 0);
}

static void test_spec_check(void)
{
    pf_mask_spec s = {PF_RULE_GEMMA3, PF_LAYER_SLIDING, 0};
    CHECK(pf_mask_spec_check(&s) == -1 && strstr(pf_error_get(), "window"));
    s.window = -4;
    CHECK(pf_mask_spec_check(&s) == -1);
    s.window = 1;
    CHECK(pf_mask_spec_check(&s) == 0);
    s.rule = PF_RULE_BIDIRECTIONAL;
    CHECK(pf_mask_spec_check(&s) == -1 && strstr(pf_error_get(), "bidirectional"));
    s.layer = PF_LAYER_FULL;
    s.window = 0;
    CHECK(pf_mask_spec_check(&s) == 0);
    s.rule = (pf_rule)9;
    CHECK(pf_mask_spec_check(&s) == -1);
}

/* "t2,i3,t1": positions 0,1 text, 2..4 image group 0, 5 text. Cells worked
 * out by hand from the DESIGN.md table. */
static void test_hand_cells(void)
{
    pf_layout *l;
    if (pf_layout_parse("t2,i3,t1", &l) < 0) {
        CHECK(0);
        return;
    }
    /* image token 2 looking ahead at image token 4 (same group, k > q) */
    CHECK(pf_mask_allowed(l, 0, 2, 4, PF_RULE_CAUSAL, PF_LAYER_FULL, 0) == 0);
    CHECK(pf_mask_allowed(l, 0, 2, 4, PF_RULE_GEMMA3, PF_LAYER_FULL, 0) == 1);
    CHECK(pf_mask_allowed(l, 0, 2, 4, PF_RULE_GEMMA4, PF_LAYER_FULL, 0) == 0);
    CHECK(pf_mask_allowed(l, 0, 2, 4, PF_RULE_GEMMA4, PF_LAYER_SLIDING, 2) == 1);
    CHECK(pf_mask_allowed(l, 0, 2, 4, PF_RULE_BIDIRECTIONAL, PF_LAYER_FULL, 0) == 1);
    /* text token 1 looking ahead: only bidirectional */
    CHECK(pf_mask_allowed(l, 0, 1, 2, PF_RULE_GEMMA3, PF_LAYER_FULL, 0) == 0);
    CHECK(pf_mask_allowed(l, 0, 1, 5, PF_RULE_BIDIRECTIONAL, PF_LAYER_FULL, 0) == 1);
    /* window: W=2 means q sees itself and one previous token */
    CHECK(pf_mask_allowed(l, 0, 5, 4, PF_RULE_CAUSAL, PF_LAYER_SLIDING, 2) == 1);
    CHECK(pf_mask_allowed(l, 0, 5, 3, PF_RULE_CAUSAL, PF_LAYER_SLIDING, 2) == 0);
    CHECK(pf_mask_allowed(l, 0, 5, 5, PF_RULE_CAUSAL, PF_LAYER_SLIDING, 1) == 1);
    CHECK(pf_mask_allowed(l, 0, 5, 4, PF_RULE_CAUSAL, PF_LAYER_SLIDING, 1) == 0);
    /* the window also cuts same-group keys in the past: 4 -> 2 with W=2 */
    CHECK(pf_mask_allowed(l, 0, 4, 2, PF_RULE_GEMMA3, PF_LAYER_SLIDING, 2) == 0);
    CHECK(pf_mask_allowed(l, 0, 4, 2, PF_RULE_GEMMA3, PF_LAYER_FULL, 0) == 1);
    pf_layout_free(l);
}

static void test_flags(void)
{
    struct { pf_rule rule; pf_layer layer; int causal, same; } want[] = {
        {PF_RULE_CAUSAL, PF_LAYER_FULL, 1, 0},   {PF_RULE_CAUSAL, PF_LAYER_SLIDING, 1, 0},
        {PF_RULE_GEMMA3, PF_LAYER_FULL, 1, 1},   {PF_RULE_GEMMA3, PF_LAYER_SLIDING, 1, 1},
        {PF_RULE_GEMMA4, PF_LAYER_FULL, 1, 0},   {PF_RULE_GEMMA4, PF_LAYER_SLIDING, 1, 1},
        {PF_RULE_BIDIRECTIONAL, PF_LAYER_FULL, 0, 0}};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        pf_mask_spec s = {want[i].rule, want[i].layer, 7};
        int c, sm, w;
        pf_mask_flags(&s, &c, &sm, &w);
        CHECK(c == want[i].causal && sm == want[i].same);
        CHECK(w == (want[i].layer == PF_LAYER_SLIDING ? 7 : 0));
    }
}

/* Over random layouts: flags formula == table; row interval == table. */
static void test_agreement(void)
{
    long pairs = 0, allowed = 0;
    for (uint64_t seed = 1; seed <= 60; seed++) {
        pf_layout *l;
        if (pf_layout_gen_random(seed * 7919, 3, 80, &l) < 0) {
            CHECK(0);
            continue;
        }
        for (int ri = 0; ri < 4; ri++)
            for (int layer = 0; layer < 2; layer++) {
                if (rules[ri] == PF_RULE_BIDIRECTIONAL && layer == PF_LAYER_SLIDING)
                    continue;
                int W = layer == PF_LAYER_SLIDING ? 1 + (int)((seed * 13 + ri) % 40) : 0;
                pf_mask_spec s = {rules[ri], (pf_layer)layer, W};
                int c, sm, w;
                pf_mask_flags(&s, &c, &sm, &w);
                for (int r = 0; r < l->n_req; r++) {
                    const pf_request *rq = &l->req[r];
                    int64_t prev_lo = -1, prev_hi = -1;
                    for (int64_t q = rq->prefix; q < rq->kv_len; q++) {
                        int64_t lo, hi;
                        pf_mask_row_interval(l, r, q, &s, &lo, &hi);
                        CHECK(lo >= prev_lo && hi >= prev_hi && lo <= q && q <= hi &&
                              hi < rq->kv_len);
                        prev_lo = lo;
                        prev_hi = hi;
                        for (int64_t k = 0; k < rq->kv_len; k++) {
                            int t = pf_mask_allowed(l, r, q, k, s.rule, s.layer, W);
                            int f = pf_mask_allowed_flags(c, sm, w, q, k, rq->group[q],
                                                          rq->group[k]);
                            int iv = k >= lo && k <= hi;
                            if (t != f || t != iv) {
                                CHECK_MSG(0, "seed %llu %s/%s W=%d req %d q %lld k %lld: "
                                          "table %d flags %d interval %d",
                                          (unsigned long long)seed, pf_rule_name(s.rule),
                                          pf_layer_name(s.layer), W, r, (long long)q,
                                          (long long)k, t, f, iv);
                                pf_layout_free(l);
                                return;
                            }
                            pairs++;
                            allowed += t;
                        }
                    }
                }
            }
        pf_layout_free(l);
    }
    CHECK(pairs > 100000 && allowed > pairs / 10 && allowed < pairs);
    printf("%ld pairs agree (%ld allowed)\n", pairs, allowed);
}

int main(void)
{
    test_names();
    test_spec_check();
    test_hand_cells();
    test_flags();
    test_agreement();
    return PF_TEST_RESULT();
}
