/* The attention kernel on the emu backend vs the double-precision reference:
 * odd lengths, cached prefixes, GQA, every mask storage, TILE_SKIP 0/1,
 * int32/int64 indptrs, head dims 64 and 72, and the multi-warp splits
 * (WSN > 1) the large head dims use. Fresh random inputs each run (the seed
 * is printed). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attention/attention_run.h"
#include "attention/check_cases.h"
#include "device/device.h"
#include "attention/layout.h"
#include "attention/mask_rule.h"
#include "core/pf_error.h"
#include "pf_test.h"
#include "attention/reference.h"

typedef struct attn_case {
    const char *layout;
    pf_rule rule;
    pf_layer layer;
    int window;
    int hq, hkv, head_dim;
    const char *variant;
} attn_case;

static const attn_case cases[] = {
    {"t37,i20,t10", PF_RULE_GEMMA3, PF_LAYER_FULL, 0, 2, 1, 64, ""},
    {"t5,i9|t30,i17,t3;t1", PF_RULE_GEMMA3, PF_LAYER_SLIDING, 16, 2, 1, 64,
     "MASK_STORAGE=dense,TILE_SKIP=0,STAGES=1"},
    {"i13,t40,v7;t3,i5,t2", PF_RULE_GEMMA4, PF_LAYER_SLIDING, 9, 2, 2, 72,
     "MASK_STORAGE=bitmap,TILE_SKIP=1,INDPTR_T=int64"},
    {"t70,i33,t1,i4", PF_RULE_CAUSAL, PF_LAYER_FULL, 0, 1, 1, 64,
     "MASK_STORAGE=window,BLOCK_M=32,BLOCK_N=32,WARPS=2"},
    {"i19,t45;t8|t21", PF_RULE_GEMMA3, PF_LAYER_SLIDING, 12, 4, 2, 72,
     "MASK_STORAGE=window,TILE_SKIP=1,BLOCK_M=32,WARPS=4"},
    {"i50,t27", PF_RULE_BIDIRECTIONAL, PF_LAYER_FULL, 0, 2, 1, 72,
     "MASK_STORAGE=spans,TILE_SKIP=0,WARPS=8,BLOCK_N=32"},
    {"t11,i22,t33,i5", PF_RULE_GEMMA4, PF_LAYER_FULL, 0, 2, 1, 64,
     "MASK_STORAGE=spans,TILE_SKIP=1,BLOCK_M=128,BLOCK_N=32,WARPS=8,INDPTR_T=int64"},
    /* many EMPTY tiles skipped with the unpipelined load path */
    {"t200,i40,t90", PF_RULE_GEMMA3, PF_LAYER_SLIDING, 20, 2, 1, 64,
     "MASK_STORAGE=bitmap,TILE_SKIP=1,STAGES=1,BLOCK_N=32"},
    {"t9|i33,t61", PF_RULE_GEMMA4, PF_LAYER_SLIDING, 30, 2, 1, 128,
     "MASK_STORAGE=dense,TILE_SKIP=1,INDPTR_T=int64,WARPS=8"},
};

static float *random_array(size_t n, uint64_t *state)
{
    float *x = (float *)malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) {
        /* sum of uniforms: normal-ish, not zero-centred exactly */
        double s = 0;
        for (int j = 0; j < 3; j++) {
            *state = *state * 6364136223846793005ull + 1442695040888963407ull;
            s += (double)(*state >> 11) / 9007199254740992.0 - 0.5;
        }
        x[i] = (float)(s * 2.0);
    }
    pf_round_bf16_array(x, n);
    return x;
}

static void run_case(pf_device *dev, const attn_case *c, uint64_t seed)
{
    pf_layout *L = NULL;
    if (pf_layout_parse(c->layout, &L)) {
        CHECK_MSG(0, "layout %s: %s", c->layout, pf_error_get());
        return;
    }
    pf_attn_problem pb;
    memset(&pb, 0, sizeof pb);
    pb.layout = L;
    pb.mask.rule = c->rule;
    pb.mask.layer = c->layer;
    pb.mask.window = c->window;
    pb.hq = c->hq;
    pb.hkv = c->hkv;
    pb.head_dim = c->head_dim;
    pb.scale = 1.0f / sqrtf((float)c->head_dim);
    pf_attn_variant v;
    CHECK(pf_attn_variant_parse(c->variant, c->head_dim, "sm_90", &v) == 0);
    char vs[256];
    pf_attn_variant_to_string(&v, vs, sizeof vs);

    size_t nq = (size_t)L->total_q * c->hq * c->head_dim;
    size_t nkv = (size_t)L->total_kv * c->hkv * c->head_dim;
    size_t nl = (size_t)L->total_q * c->hq;
    uint64_t st = seed;
    float *q = random_array(nq, &st), *k = random_array(nkv, &st), *vv = random_array(nkv, &st);
    float *o = (float *)calloc(nq, sizeof *o), *ref = (float *)calloc(nq, sizeof *ref);
    float *lse = (float *)calloc(nl, sizeof *lse), *ref_lse = (float *)calloc(nl, sizeof *ref_lse);
    CHECK(pf_attention_reference(L, c->rule, c->layer, c->window, pb.scale, c->hq, c->hkv,
                                 c->head_dim, q, k, vv, ref, ref_lse) == 0);
    pf_attn_run_info info;
    int rc = pf_attn_run(dev, NULL, &pb, &v, q, k, vv, o, lse, &info);
    CHECK_MSG(rc == 0, "%s on %s: %s", vs, c->layout, pf_error_get());
    if (rc == 0) {
        pf_check_error oe, le;
        pf_check_compare(o, ref, nq, &oe);
        pf_check_compare(lse, ref_lse, nl, &le);
        printf("%-22s %-8s %-7s W=%-3d %d:%d D=%-3d %s: rel err %.2e, lse err %.2e, %.1f ms (%s)\n",
               c->layout, pf_rule_name(c->rule), pf_layer_name(c->layer), c->window, c->hq, c->hkv,
               c->head_dim, vs, oe.rel_frob, le.max_abs, info.kernel_ms, info.timer);
        CHECK_MSG(oe.nonfinite + le.nonfinite == 0, "%s on %s: %zu non-finite outputs", vs, c->layout,
                  oe.nonfinite + le.nonfinite);
        CHECK_MSG(oe.rel_frob < 1e-2, "%s on %s: relative error %.3e", vs, c->layout, oe.rel_frob);
        CHECK_MSG(le.max_abs < 2e-2, "%s on %s: LSE error %.3e", vs, c->layout, le.max_abs);
        CHECK(strcmp(info.timer, "emu-host") == 0);
        CHECK(info.grid.y == (unsigned)c->hq && info.block.x == 32u * (unsigned)v.warps);
        CHECK(info.mask_bytes > 0);
        if (v.tile_skip)
            CHECK(info.tiles_empty + info.tiles_full + info.tiles_partial > 0);
    }
    free(q);
    free(k);
    free(vv);
    free(o);
    free(ref);
    free(lse);
    free(ref_lse);
    pf_layout_free(L);
}

/* A variant that is not valid is refused with the validity reason, before
 * anything is compiled; so is a problem with a bad GQA ratio. */
static void test_refusals(pf_device *dev)
{
    pf_layout *L = NULL;
    CHECK(pf_layout_parse("t10", &L) == 0);
    pf_attn_problem pb = {L, {PF_RULE_CAUSAL, PF_LAYER_FULL, 0}, 0.125f, 3, 2, 64};
    pf_attn_variant v;
    pf_attn_variant_default(64, "sm_90", &v);
    float x[10 * 3 * 64] = {0}, o[10 * 3 * 64];
    CHECK(pf_attn_run(dev, NULL, &pb, &v, x, x, x, o, NULL, NULL) == -1);
    CHECK_MSG(strstr(pf_error_get(), "multiple") != NULL, "%s", pf_error_get());
    pb.hq = 2;
    pb.hkv = 1;
    v.block_m = 16;
    v.block_n = 16;
    v.warps = 8;
    CHECK(pf_attn_run(dev, NULL, &pb, &v, x, x, x, o, NULL, NULL) == -1);
    CHECK_MSG(strstr(pf_error_get(), "invalid variant") != NULL, "%s", pf_error_get());
    pf_layout_free(L);

    /* a dense mask of 50001^2 bytes does not fit int32 offsets: the
     * encoder's refusal comes back through the launcher, nothing runs */
    CHECK(pf_layout_parse("t50001", &L) == 0);
    pf_attn_problem big = {L, {PF_RULE_CAUSAL, PF_LAYER_FULL, 0}, 0.125f, 1, 1, 64};
    size_t n = (size_t)50001 * 64;
    float *bx = (float *)calloc(n, sizeof *bx), *bo = (float *)calloc(n, sizeof *bo);
    CHECK(pf_attn_variant_parse("MASK_STORAGE=dense,INDPTR_T=int32", 64, "sm_90", &v) == 0);
    CHECK(pf_attn_run(dev, NULL, &big, &v, bx, bx, bx, bo, NULL, NULL) == -1);
    printf("int32 refusal: %s\n", pf_error_get());
    CHECK_MSG(strstr(pf_error_get(), "INT32_MAX") != NULL, "%s", pf_error_get());
    free(bx);
    free(bo);
    pf_layout_free(L);
}

/* Useful FLOPs count the visible pairs: brute force over pf_mask_allowed. */
static void test_useful_flops(void)
{
    static const char *const layouts[] = {"t37,i20,t10;t5,i9|t30,i17,t3", "i13,t40,v7", "t9"};
    static const pf_mask_spec specs[] = {{PF_RULE_GEMMA3, PF_LAYER_FULL, 0},
                                         {PF_RULE_GEMMA3, PF_LAYER_SLIDING, 7},
                                         {PF_RULE_GEMMA4, PF_LAYER_SLIDING, 11},
                                         {PF_RULE_CAUSAL, PF_LAYER_FULL, 0},
                                         {PF_RULE_BIDIRECTIONAL, PF_LAYER_FULL, 0}};
    for (int li = 0; li < 3; li++)
        for (int si = 0; si < 5; si++) {
            pf_layout *L = NULL;
            CHECK(pf_layout_parse(layouts[li], &L) == 0);
            if (!L)
                continue;
            double pairs = 0;
            for (int r = 0; r < L->n_req; r++)
                for (int64_t i = 0; i < L->req[r].q_len; i++)
                    for (int64_t k = 0; k < L->req[r].kv_len; k++)
                        pairs += pf_mask_allowed(L, r, L->req[r].prefix + i, k, specs[si].rule,
                                                 specs[si].layer, specs[si].window);
            pf_attn_problem pb = {L, specs[si], 0.1f, 6, 3, 72};
            double f = pf_attn_useful_flops(&pb);
            CHECK_MSG(f == pairs * 4 * 72 * 6, "%s rule %d: %.0f vs %.0f", layouts[li], si, f,
                      pairs * 4 * 72 * 6);
            pf_layout_free(L);
        }
}

int main(void)
{
    test_useful_flops();
    pf_device *dev = NULL;
    if (pf_emu_open("sm_90", &dev)) {
        fprintf(stderr, "emu: %s\n", pf_error_get());
        return 1;
    }
    uint64_t seed = (uint64_t)time(NULL);
    printf("seed %llu\n", (unsigned long long)seed);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(dev, &cases[i], seed + i);
    test_refusals(dev);
    pf_device_close(dev);
    return PF_TEST_RESULT();
}
