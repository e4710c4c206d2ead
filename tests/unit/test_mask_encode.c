/* Mask encoders: every storage decodes (by the kernel's reading rules) to
 * exactly pf_mask_allowed; byte counts match the encodings and independent
 * formulas; int32 indptr is refused exactly past INT32_MAX. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attention/layout.h"
#include "attention/mask_encode.h"
#include "attention/mask_rule.h"
#include "core/pf_error.h"
#include "pf_test.h"

static const pf_rule rules[] = {PF_RULE_CAUSAL, PF_RULE_GEMMA3, PF_RULE_GEMMA4,
                                PF_RULE_BIDIRECTIONAL};

static void test_names(void)
{
    for (int s = 0; s < 4; s++) {
        int back = -1;
        CHECK(pf_storage_parse(pf_storage_name(s), &back) == 0 && back == s);
    }
    int x;
    CHECK(pf_storage_parse("sparse", &x) == -1 && strstr(pf_error_get(), "sparse"));
    CHECK(PF_MASK_DENSE == 0 && PF_MASK_SPANS == 3);
}

static int64_t read_indptr(const pf_mask_enc *e, int r)
{
    return e->indptr_bytes == 4 ? ((int32_t *)e->indptr)[r] : ((int64_t *)e->indptr)[r];
}

/* Decode every pair of every request and compare with the table. */
static int check_encoding(const pf_layout *l, const pf_mask_spec *s, int storage, int ib)
{
    pf_mask_enc e;
    if (pf_mask_encode(l, storage, s, ib, &e) < 0) {
        CHECK_MSG(0, "encode %s: %s", pf_storage_name(storage), pf_error_get());
        return 0;
    }
    int ok = 1;
    for (int r = 0; r < l->n_req && ok; r++) {
        const pf_request *rq = &l->req[r];
        for (int64_t q = rq->prefix; q < rq->kv_len && ok; q++)
            for (int64_t k = 0; k < rq->kv_len; k++) {
                int want = pf_mask_allowed(l, r, q, k, s->rule, s->layer, s->window);
                int got = pf_mask_enc_get(&e, l, r, q, k);
                if (want != got) {
                    char *str = pf_layout_to_string(l);
                    CHECK_MSG(0, "%s %s/%s W=%d '%s' req %d q %lld k %lld: want %d got %d",
                              pf_storage_name(storage), pf_rule_name(s->rule),
                              pf_layer_name(s->layer), s->window, str, r, (long long)q,
                              (long long)k, want, got);
                    free(str);
                    ok = 0;
                    break;
                }
            }
    }
    /* sizes: the encoding is exactly what pf_mask_bytes counts */
    int64_t bytes = pf_mask_bytes(l, storage, s->rule, s->layer, s->window, ib);
    if (storage == PF_MASK_SPANS) {
        CHECK(e.group_ids_count == (size_t)l->total_kv && bytes == 4 * l->total_kv);
        CHECK(e.mask == NULL && e.indptr == NULL);
    } else {
        CHECK(bytes == (int64_t)e.mask_bytes + (l->n_req + 1) * ib);
        CHECK(read_indptr(&e, 0) == 0 && read_indptr(&e, l->n_req) == (int64_t)e.mask_bytes);
    }
    int c, sm, w;
    pf_mask_flags(s, &c, &sm, &w);
    CHECK(e.use_causal == c && e.use_same == sm && e.window == w);
    pf_mask_enc_free(&e);
    return ok;
}

static void test_round_trip(void)
{
    int n = 0;
    for (uint64_t seed = 1; seed <= 50; seed++) {
        pf_layout *l;
        if (pf_layout_gen_random(seed * 104729, 3, 70, &l) < 0) {
            CHECK(0);
            continue;
        }
        for (int ri = 0; ri < 4; ri++)
            for (int layer = 0; layer < 2; layer++) {
                if (rules[ri] == PF_RULE_BIDIRECTIONAL && layer == PF_LAYER_SLIDING)
                    continue;
                int W = layer ? 1 + (int)((seed * 31 + (uint64_t)ri) % 90) : 0; /* up to past the end */
                pf_mask_spec s = {rules[ri], (pf_layer)layer, W};
                for (int storage = 0; storage < 4; storage++)
                    n += check_encoding(l, &s, storage, (seed & 1) ? 4 : 8);
            }
        pf_layout_free(l);
    }
    CHECK(n == 50 * 7 * 4);
}

static void test_band(void)
{
    pf_layout *l;
    if (pf_layout_parse("t5,i7,t2,i3;t9|v2,i2,t1", &l) < 0) {
        CHECK(0);
        return;
    }
    pf_band b;
    pf_mask_spec s = {PF_RULE_GEMMA3, PF_LAYER_SLIDING, 10};
    CHECK(pf_mask_band(l, &s, &b) == 0);
    CHECK(b.left == 9 && b.right == 6 && b.past == 0 && b.stride == 2);
    s.window = 1000; /* wider than any request (longest 17): capped */
    CHECK(pf_mask_band(l, &s, &b) == 0 && b.left == 16 && b.right == 6 && b.past == 0);
    s.layer = PF_LAYER_FULL;
    CHECK(pf_mask_band(l, &s, &b) == 0);
    CHECK(b.left == 0 && b.right == 6 && b.past == 1 && b.stride == 1);
    s.rule = PF_RULE_GEMMA4; /* full gemma4 is causal only */
    CHECK(pf_mask_band(l, &s, &b) == 0 && b.right == 0 && b.left == 0 && b.past == 1);
    s.rule = PF_RULE_BIDIRECTIONAL; /* everything after q is visible */
    CHECK(pf_mask_band(l, &s, &b) == 0 && b.right == 16 && b.past == 1 && b.stride == 3);
    pf_layout_free(l);
}

/* The int32 refusal at the exact boundary, on offsets alone. */
static void test_int32_boundary(void)
{
    int64_t off[3] = {0, 1000, INT32_MAX};
    CHECK(pf_indptr_check(off, 2, 4, "dense mask") == 0);
    void *a = NULL;
    CHECK(pf_indptr_encode(off, 2, 4, "dense mask", &a) == 0);
    CHECK(a && ((int32_t *)a)[2] == INT32_MAX && ((int32_t *)a)[1] == 1000);
    free(a);
    off[2] = (int64_t)INT32_MAX + 1;
    CHECK(pf_indptr_check(off, 2, 4, "dense mask") == -1);
    CHECK_MSG(strcmp(pf_error_get(), "dense mask with int32 indptr: request 1 offset 2147483648 "
                                     "exceeds INT32_MAX (2147483647); use int64 indptr") == 0,
              "%s", pf_error_get());
    CHECK(pf_indptr_encode(off, 2, 4, "dense mask", &a) == -1 && a == NULL);
    CHECK(pf_indptr_check(off, 2, 8, "dense mask") == 0);
    CHECK(pf_indptr_encode(off, 2, 8, "dense mask", &a) == 0);
    CHECK(a && ((int64_t *)a)[2] == (int64_t)INT32_MAX + 1);
    free(a);
    CHECK(pf_indptr_check(off, 2, 2, "x") == -1);

    /* A real layout whose dense mask has exactly 2^31 elements: one request
     * of 32768 new tokens after a 32768-token prefix. Only offsets are
     * computed; nothing of 2 GiB is allocated. */
    pf_layout *l;
    if (pf_layout_parse("t32768|t32768", &l) == 0) {
        pf_mask_spec s = {PF_RULE_GEMMA3, PF_LAYER_FULL, 0};
        int64_t o[2];
        CHECK(pf_mask_offsets(l, PF_MASK_DENSE, &s, o) == 0 && o[1] == (int64_t)1 << 31);
        CHECK(pf_indptr_check(o, 1, 4, "dense mask") == -1);
        CHECK(strcmp(pf_error_get(), "dense mask with int32 indptr: request 0 offset 2147483648 "
                                     "exceeds INT32_MAX (2147483647); use int64 indptr") == 0);
        pf_mask_enc e;
        CHECK(pf_mask_encode(l, PF_MASK_DENSE, &s, 4, &e) == -1 && e.mask == NULL);
        CHECK(strstr(pf_error_get(), "INT32_MAX"));
        /* the bitmap of the same layout is 8x smaller and fits */
        CHECK(pf_mask_offsets(l, PF_MASK_BITMAP, &s, o) == 0 && o[1] == (int64_t)1 << 28);
        CHECK(pf_indptr_check(o, 1, 4, "bitmap mask") == 0);
        pf_layout_free(l);
    }
    /* Exactly INT32_MAX elements with real layouts: 2^31-2 = 32767 * 65538
     * (prefix 32771 + 32767 new tokens) plus a one-token request fits; one
     * more one-token request reaches 2^31 and is refused. */
    pf_layout *fit = NULL, *over = NULL;
    if (pf_layout_parse("t32771|t32767;t1", &fit) == 0 &&
        pf_layout_parse("t32771|t32767;t1;t1", &over) == 0) {
        pf_mask_spec s = {PF_RULE_CAUSAL, PF_LAYER_FULL, 0};
        int64_t o[4];
        CHECK(pf_mask_offsets(fit, PF_MASK_DENSE, &s, o) == 0 && o[2] == INT32_MAX);
        CHECK(pf_indptr_check(o, 2, 4, "dense mask") == 0);
        CHECK(pf_mask_offsets(over, PF_MASK_DENSE, &s, o) == 0 && o[3] == (int64_t)1 << 31);
        CHECK(pf_indptr_check(o, 3, 4, "dense mask") == -1);
        CHECK(strstr(pf_error_get(), "request 2 offset 2147483648 exceeds INT32_MAX"));
    } else {
        CHECK(0);
    }
    pf_layout_free(fit);
    pf_layout_free(over);

    /* qo/kv indptr encoding */
    if (pf_layout_parse("t3;t2|t5", &l) == 0) {
        void *qo, *kv;
        CHECK(pf_layout_indptr_encode(l, 4, &qo, &kv) == 0);
        CHECK(((int32_t *)qo)[2] == 8 && ((int32_t *)kv)[1] == 3 && ((int32_t *)kv)[2] == 10);
        free(qo);
        free(kv);
        CHECK(pf_layout_indptr_encode(l, 8, &qo, &kv) == 0);
        CHECK(((int64_t *)qo)[1] == 3 && ((int64_t *)kv)[2] == 10);
        free(qo);
        free(kv);
        pf_layout_free(l);
    }
}

/* One request of S tokens (the layout of `pftune masks --seq S`): dense
 * needs S*S <= INT32_MAX elements, bitmap a last bit index S*S - 1 <=
 * INT32_MAX (the kernel computes it in INDPTR_T), so both accept 46340
 * (2147395600) and refuse 46341 (2147488281), on full and sliding layers.
 * The encoders refuse before allocating anything. */
static void test_int32_request_length(void)
{
    static const int storages[] = {PF_MASK_DENSE, PF_MASK_BITMAP};
    static const pf_layer layers[] = {PF_LAYER_FULL, PF_LAYER_SLIDING};
    for (int64_t S = 46340; S <= 46341; S++) {
        pf_layout *l;
        if (pf_layout_gen_periodic(1, S, 256, 4096, &l) < 0) {
            CHECK_MSG(0, "%s", pf_error_get());
            continue;
        }
        for (int si = 0; si < 2; si++)
            for (int li = 0; li < 2; li++) {
                int st = storages[si];
                pf_mask_spec s = {PF_RULE_GEMMA3, layers[li], 1024};
                int64_t o[2];
                const char *what = st == PF_MASK_DENSE ? "dense mask" : "bitmap mask";
                CHECK(pf_mask_offsets(l, st, &s, o) == 0);
                int rc = pf_mask_indptr_check(l, st, o, 4, what);
                CHECK_MSG(rc == (S == 46340 ? 0 : -1), "%s %s S=%lld: rc %d", what,
                          pf_layer_name(layers[li]), (long long)S, rc);
                CHECK(pf_mask_indptr_check(l, st, o, 8, what) == 0);
                if (S == 46340)
                    continue;
                char want[200];
                if (st == PF_MASK_DENSE)
                    snprintf(want, sizeof want, "dense mask with int32 indptr: request 0 offset "
                                                "2147488281 exceeds INT32_MAX (2147483647); use "
                                                "int64 indptr");
                else
                    snprintf(want, sizeof want, "bitmap mask with int32 indptr: request 0 bit "
                                                "index 2147488280 (46341 x 46341 bits) exceeds "
                                                "INT32_MAX (2147483647); use int64 indptr");
                CHECK_MSG(strcmp(pf_error_get(), want) == 0, "%s", pf_error_get());
                pf_mask_enc e;
                CHECK(pf_mask_encode(l, st, &s, 4, &e) == -1 && e.mask == NULL);
                CHECK_MSG(strcmp(pf_error_get(), want) == 0, "encode: %s", pf_error_get());
            }
        pf_layout_free(l);
    }
    /* Non-square, exactly at the bit limit: 32768 new tokens after a prefix
     * of 32768 is 2^31 bits (last index INT32_MAX) and fits; one more prefix
     * token is refused although its 256 MiB of bytes fit easily. */
    pf_layout *fit = NULL, *over = NULL;
    if (pf_layout_parse("t32768|t32768", &fit) == 0 &&
        pf_layout_parse("t32769|t32768", &over) == 0) {
        pf_mask_spec s = {PF_RULE_CAUSAL, PF_LAYER_FULL, 0};
        int64_t o[2];
        CHECK(pf_mask_offsets(fit, PF_MASK_BITMAP, &s, o) == 0);
        CHECK(pf_mask_indptr_check(fit, PF_MASK_BITMAP, o, 4, "bitmap mask") == 0);
        CHECK(pf_mask_offsets(over, PF_MASK_BITMAP, &s, o) == 0 && o[1] < INT32_MAX);
        CHECK(pf_mask_indptr_check(over, PF_MASK_BITMAP, o, 4, "bitmap mask") == -1);
        CHECK(strstr(pf_error_get(), "request 0 bit index 2147516415 (32768 x 65537 bits)"));
        /* window indices stay within the request's bytes: offsets decide */
        CHECK(pf_mask_offsets(over, PF_MASK_WINDOW, &s, o) == 0);
        CHECK(pf_mask_indptr_check(over, PF_MASK_WINDOW, o, 4, "window mask") == 0);
    } else {
        CHECK(0);
    }
    pf_layout_free(fit);
    pf_layout_free(over);
}

/* DESIGN.md's 128K table from the byte counts alone (the magnitudes the
 * masks command prints). */
static void test_bytes_128k(void)
{
    pf_layout *l;
    if (pf_layout_gen_periodic(1, 131072, 256, 4096, &l) < 0) {
        CHECK(0);
        return;
    }
    const double MiB = 1024.0 * 1024.0, GiB = MiB * 1024.0;
    int64_t S = 131072;
    CHECK(pf_mask_bytes(l, PF_MASK_DENSE, PF_RULE_GEMMA3, PF_LAYER_FULL, 0, 8) == S * S + 16);
    CHECK(pf_mask_bytes(l, PF_MASK_BITMAP, PF_RULE_GEMMA3, PF_LAYER_FULL, 0, 8) == S * S / 8 + 16);
    int64_t w = pf_mask_bytes(l, PF_MASK_WINDOW, PF_RULE_GEMMA3, PF_LAYER_SLIDING, 1024, 8);
    CHECK(w == S * ((1023 + 255 + 1 + 7) / 8) + 16);
    CHECK(w > 19 * MiB && w < 21 * MiB);
    int64_t sp = pf_mask_bytes(l, PF_MASK_SPANS, PF_RULE_GEMMA3, PF_LAYER_SLIDING, 1024, 8);
    CHECK(sp == 4 * S && sp < MiB);
    CHECK(pf_mask_bytes(l, PF_MASK_DENSE, PF_RULE_GEMMA3, PF_LAYER_FULL, 0, 8) / GiB == 16.0 +
          16 / GiB);
    CHECK(pf_mask_bytes(l, 9, PF_RULE_GEMMA3, PF_LAYER_FULL, 0, 8) == -1);
    CHECK(pf_mask_bytes(l, PF_MASK_DENSE, PF_RULE_GEMMA3, PF_LAYER_SLIDING, 0, 8) == -1);
    CHECK(pf_mask_bytes(l, PF_MASK_DENSE, PF_RULE_GEMMA3, PF_LAYER_FULL, 0, 3) == -1);
    pf_layout_free(l);
}

int main(void)
{
    test_names();
    test_round_trip();
    test_band();
    test_int32_boundary();
    test_int32_request_length();
    test_bytes_128k();
    return PF_TEST_RESULT();
}
