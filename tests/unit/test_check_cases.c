/* The check-case catalogue holds the hard cases it promises (checked from
 * the parsed layouts, not from the case names), covers every rule/layer
 * combination and GQA ratio, and its inputs are deterministic, bf16-exact,
 * normal-ish and seed-dependent. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attention/check_cases.h"
#include "pf_test.h"
#include "core/pf_error.h"
#include "attention/reference.h"

typedef struct features {
    int image_at_start, image_at_end, one_text_between, long_image_in_window;
    int one_token_request, prefix, prefix_one_token, odd_length;
    int crosses_tile[4]; /* 16, 32, 64, 128 */
} features;

static void scan_layout(const pf_layout *l, const pf_mask_spec *m, features *f)
{
    static const int tiles[4] = {16, 32, 64, 128};
    for (int r = 0; r < l->n_req; r++) {
        const pf_request *q = &l->req[r];
        if (pf_token_is_vision(q->types[0]))
            f->image_at_start = 1;
        if (pf_token_is_vision(q->types[q->kv_len - 1]))
            f->image_at_end = 1;
        for (int64_t p = 1; p + 1 < q->kv_len; p++)
            if (!pf_token_is_vision(q->types[p]) && pf_token_is_vision(q->types[p - 1]) &&
                pf_token_is_vision(q->types[p + 1]))
                f->one_text_between = 1;
        if (q->q_len == 1)
            f->one_token_request = 1;
        if (q->prefix > 0)
            f->prefix = 1;
        if (q->prefix > 0 && q->q_len == 1)
            f->prefix_one_token = 1;
        if (q->q_len % 16 != 0 && q->kv_len % 16 != 0)
            f->odd_length = 1;
        /* vision runs, found directly from the types */
        for (int64_t b = 0; b < q->kv_len;) {
            if (!pf_token_is_vision(q->types[b])) {
                b++;
                continue;
            }
            int64_t e = b;
            while (e < q->kv_len && pf_token_is_vision(q->types[e]))
                e++;
            if (m->layer == PF_LAYER_SLIDING && e - b > m->window)
                f->long_image_in_window = 1;
            for (int t = 0; t < 4; t++)
                if (b % tiles[t] != 0 && b / tiles[t] != (e - 1) / tiles[t])
                    f->crosses_tile[t] = 1;
            b = e;
        }
    }
}

static void test_catalogue(uint64_t seed)
{
    int n = pf_check_case_count();
    CHECK(n > PF_CHECK_RULE_CASES);
    int combo_seen[4][2] = {{0}};
    int ratio_seen[17] = {0};
    features f = {0};
    for (int i = 0; i < n; i++) {
        pf_check_inputs in;
        int rc = pf_check_inputs_make(i, 64, seed, &in);
        CHECK_MSG(rc == 0, "case %d: %s", i, pf_error_get());
        if (rc)
            continue;
        CHECK(in.hq > 0 && in.hkv > 0 && in.hq % in.hkv == 0);
        CHECK(pf_mask_spec_check(&in.mask) == 0);
        if (in.spec->layout) {
            /* the fixed cases: what the catalogue promises */
            CHECK(in.spec->rule != NULL);
            ratio_seen[in.hq / in.hkv] = 1;
            if (i < PF_CHECK_RULE_CASES)
                combo_seen[in.mask.rule][in.mask.layer] = 1;
            scan_layout(in.layout, &in.mask, &f);
        }
        /* small enough for the emulator */
        CHECK_MSG(in.layout->total_kv * in.hq <= 4000, "case %d: %lld kv rows x %d heads", i,
                  (long long)in.layout->total_kv, in.hq);
        char desc[512];
        pf_check_inputs_describe(&in, desc, sizeof desc);
        CHECK(strstr(desc, in.layout_text) != NULL);
        pf_check_inputs_free(&in);
    }
    CHECK(combo_seen[PF_RULE_GEMMA3][PF_LAYER_FULL] && combo_seen[PF_RULE_GEMMA3][PF_LAYER_SLIDING]);
    CHECK(combo_seen[PF_RULE_GEMMA4][PF_LAYER_FULL] && combo_seen[PF_RULE_GEMMA4][PF_LAYER_SLIDING]);
    CHECK(combo_seen[PF_RULE_CAUSAL][PF_LAYER_FULL]);
    CHECK(combo_seen[PF_RULE_BIDIRECTIONAL][PF_LAYER_FULL]);
    for (int r = 1; r <= 16; r *= 2)
        CHECK_MSG(ratio_seen[r], "GQA ratio %d missing", r);
    CHECK(f.image_at_start);
    CHECK(f.image_at_end);
    CHECK(f.one_text_between);
    CHECK(f.long_image_in_window);
    CHECK(f.one_token_request);
    CHECK(f.prefix);
    CHECK(f.prefix_one_token);
    CHECK(f.odd_length);
    for (int t = 0; t < 4; t++)
        CHECK_MSG(f.crosses_tile[t], "no vision span crosses a %d-tile edge", 16 << t);
    CHECK(pf_check_inputs_make(n, 64, seed, &(pf_check_inputs){0}) == -1);
}

static double max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

static void test_inputs(uint64_t seed)
{
    for (int i = 0; i < pf_check_case_count(); i++) {
        pf_check_inputs a, b, c;
        if (pf_check_inputs_make(i, 72, seed, &a) < 0)
            continue; /* reported by test_catalogue */
        CHECK(pf_check_inputs_make(i, 72, seed, &b) == 0);
        CHECK(pf_check_inputs_make(i, 72, seed + 1, &c) == 0);
        size_t nq = (size_t)a.layout->total_q * a.hq * 72;
        size_t nkv = (size_t)a.layout->total_kv * a.hkv * 72;
        /* deterministic in the seed */
        CHECK(strcmp(a.layout_text, b.layout_text) == 0);
        CHECK(max_abs_diff(a.q, b.q, nq) == 0 && max_abs_diff(a.k, b.k, nkv) == 0 &&
              max_abs_diff(a.v, b.v, nkv) == 0);
        /* a different seed gives different numbers (same sizes for fixed cases) */
        if (a.spec->layout)
            CHECK(max_abs_diff(a.q, c.q, nq) > 0.1);
        /* bf16-exact: rounding again changes nothing */
        float *copy = malloc(sizeof(float) * nkv);
        memcpy(copy, a.k, sizeof(float) * nkv);
        pf_round_bf16_array(copy, nkv);
        CHECK(max_abs_diff(copy, a.k, nkv) == 0);
        free(copy);
        /* q, k, v differ from each other, and look like N(0,1) */
        double sum = 0, sq = 0;
        for (size_t j = 0; j < nkv; j++) {
            sum += a.v[j];
            sq += (double)a.v[j] * a.v[j];
        }
        double mean = sum / nkv, var = sq / nkv - mean * mean;
        CHECK_MSG(fabs(mean) < 0.2 && var > 0.7 && var < 1.3, "case %d: mean %g var %g", i, mean,
                  var);
        CHECK(max_abs_diff(a.k, a.v, nkv) > 0.1);
        CHECK(fabs(a.scale - 1.0 / sqrt(72.0)) < 1e-12);
        pf_check_inputs_free(&a);
        pf_check_inputs_free(&b);
        pf_check_inputs_free(&c);
    }
}

/* Over many seeds the random case reaches every rule/layer and ratio. */
static void test_random_case(uint64_t seed)
{
    int last = pf_check_case_count() - 1;
    CHECK(pf_check_case_get(last)->layout == NULL);
    int combos[4][2] = {{0}}, ratios[17] = {0};
    for (int s = 0; s < 200; s++) {
        pf_check_inputs in;
        if (pf_check_inputs_make(last, 64, seed + (uint64_t)s * 7919, &in) < 0) {
            CHECK_MSG(0, "random case seed %d: %s", s, pf_error_get());
            continue;
        }
        combos[in.mask.rule][in.mask.layer] = 1;
        /* small enough for the emulator, whatever the seed */
        CHECK_MSG(in.layout->total_kv * in.hq <= 4000 && in.hq <= 16,
                  "random case seed %d: %lld kv rows x %d heads", s,
                  (long long)in.layout->total_kv, in.hq);
        if (in.hq / in.hkv <= 16)
            ratios[in.hq / in.hkv] = 1;
        pf_check_inputs_free(&in);
    }
    for (int r = 0; r < 4; r++)
        CHECK(combos[r][PF_LAYER_FULL]);
    CHECK(combos[PF_RULE_CAUSAL][PF_LAYER_SLIDING] && combos[PF_RULE_GEMMA3][PF_LAYER_SLIDING] &&
          combos[PF_RULE_GEMMA4][PF_LAYER_SLIDING]);
    for (int r = 1; r <= 16; r *= 2)
        CHECK(ratios[r]);
}

static void test_normal_fill(uint64_t seed)
{
    enum { N = 20001 };
    static float x[N], y[N];
    pf_check_fill_normal(seed, x, N);
    pf_check_fill_normal(seed, y, N);
    CHECK(max_abs_diff(x, y, N) == 0);
    double sum = 0, sq = 0;
    int beyond2 = 0;
    for (int i = 0; i < N; i++) {
        sum += x[i];
        sq += (double)x[i] * x[i];
        beyond2 += fabs(x[i]) > 2;
    }
    CHECK(fabs(sum / N) < 0.05);
    CHECK(fabs(sq / N - 1) < 0.05);
    /* normal: ~4.6% beyond 2 sigma (sum of 4 uniforms: ~3.9%) */
    CHECK(beyond2 > N / 50 && beyond2 < N / 15);
    CHECK(pf_check_mix(seed, 1) != pf_check_mix(seed, 2));
}

/* pf_check_compare against a direct computation, NaN/Inf detection, and the
 * pass criterion on both sides of the tolerance. */
static void test_compare(uint64_t seed)
{
    enum { N = 999 };
    static float want[N], got[N];
    pf_check_fill_normal(seed ^ 0x55, want, N);
    pf_check_fill_normal(seed ^ 0xaa, got, N);
    for (int i = 0; i < N; i++)
        got[i] = want[i] + 0.001f * got[i];
    double num = 0, den = 0, mx = 0;
    for (int i = 0; i < N; i++) {
        double d = (double)got[i] - want[i];
        num += d * d;
        den += (double)want[i] * want[i];
        mx = fmax(mx, fabs(d));
    }
    pf_check_error e;
    pf_check_compare(got, want, N, &e);
    CHECK(fabs(e.rel_frob - sqrt(num / den)) < 1e-12);
    CHECK(e.max_abs == mx);
    CHECK(e.nonfinite == 0);
    CHECK(pf_check_error_ok(&e));
    /* scale the error past the tolerance */
    for (int i = 0; i < N; i++)
        got[i] = want[i] + 20 * (got[i] - want[i]);
    pf_check_compare(got, want, N, &e);
    CHECK(e.rel_frob > PF_CHECK_TOLERANCE && !pf_check_error_ok(&e));
    /* one NaN and one Inf fail even with a tiny error */
    memcpy(got, want, sizeof got);
    got[N / 3] = NAN;
    got[N / 2] = INFINITY;
    pf_check_compare(got, want, N, &e);
    CHECK(e.nonfinite == 2 && e.first_bad == N / 3 && !pf_check_error_ok(&e));
    memcpy(got, want, sizeof got);
    pf_check_compare(got, want, N, &e);
    CHECK(e.rel_frob == 0 && pf_check_error_ok(&e));
}

int main(void)
{
    uint64_t seed = (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)clock();
    printf("seed %llu\n", (unsigned long long)seed);
    test_catalogue(seed);
    test_inputs(seed);
    test_random_case(seed);
    test_normal_fill(seed);
    test_compare(seed);
    return PF_TEST_RESULT();
}
