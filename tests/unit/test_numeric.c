/* bf16 / fp16 conversions (kernels/pf_numeric.h) against an independent
 * reference: the nearest representable value found by binary search over a
 * table of every positive 16-bit value (decoded with ldexp in double), ties
 * to the even bit pattern, Inf treated as the next power of two (the IEEE
 * rule with an unbounded exponent). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/pf_numeric.h"
#include "pf_test.h"

typedef struct fmt16 {
    const char *name;
    int exp_bits, man_bits; /* bf16: 8/7, f16: 5/10 */
    double table[0x8000];   /* positive patterns 0 .. inf_pattern */
    unsigned inf_pattern;
} fmt16;

static fmt16 bf16_fmt = {"bf16", 8, 7, {0}, 0};
static fmt16 f16_fmt = {"f16", 5, 10, {0}, 0};


static float f32_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Decode a 16-bit pattern with double arithmetic (exponent field 0 ->
 * subnormal; all-ones -> Inf/NaN). */
static double decode(const fmt16 *F, unsigned h)
{
    int bias = (1 << (F->exp_bits - 1)) - 1;
    unsigned e = (h >> F->man_bits) & ((1u << F->exp_bits) - 1);
    unsigned m = h & ((1u << F->man_bits) - 1);
    double sign = (h >> 15) ? -1.0 : 1.0;
    if (e == (1u << F->exp_bits) - 1)
        return m ? NAN : sign * INFINITY;
    if (e == 0)
        return sign * ldexp((double)m, 1 - bias - F->man_bits);
    return sign * ldexp(1.0 + ldexp((double)m, -F->man_bits), (int)e - bias);
}

static void build_table(fmt16 *F)
{
    F->inf_pattern = ((1u << F->exp_bits) - 1) << F->man_bits;
    for (unsigned h = 0; h < F->inf_pattern; h++)
        F->table[h] = decode(F, h);
    int bias = (1 << (F->exp_bits - 1)) - 1;
    F->table[F->inf_pattern] = ldexp(1.0, bias + 1); /* "Inf" as 2^(emax+1) */
}

/* Reference round-to-nearest-even of a float into the 16-bit format. */
static unsigned ref_round(const fmt16 *F, float f)
{
    if (isnan(f))
        return 0x7fff;
    unsigned sign = signbit(f) ? 0x8000u : 0;
    double x = fabs((double)f);
    if (isinf(f) || x >= F->table[F->inf_pattern])
        return sign | F->inf_pattern;
    unsigned lo = 0, hi = F->inf_pattern; /* table[lo] <= x < table[hi] */
    while (hi - lo > 1) {
        unsigned mid = (lo + hi) / 2;
        if (F->table[mid] <= x)
            lo = mid;
        else
            hi = mid;
    }
    double dlo = x - F->table[lo], dhi = F->table[hi] - x;
    unsigned pick = dlo < dhi ? lo : dhi < dlo ? hi : ((lo & 1) ? hi : lo);
    return sign | pick;
}

static unsigned to16(const fmt16 *F, float f)
{
    return F == &bf16_fmt ? pf_f32_to_bf16(f) : pf_f32_to_f16(f);
}

static float from16(const fmt16 *F, unsigned h)
{
    return F == &bf16_fmt ? pf_bf16_to_f32((pf_bf16)h) : pf_f16_to_f32((pf_f16)h);
}

/* NaN in, NaN out (any NaN pattern); otherwise the exact pattern. */
static int same_result(const fmt16 *F, unsigned got, unsigned want)
{
    if (want == 0x7fff)
        return (got & 0x7fff) > F->inf_pattern;
    return got == want;
}

static int n_mismatch;
static void check_one(const fmt16 *F, float f)
{
    unsigned got = to16(F, f), want = ref_round(F, f);
    if (!same_result(F, got, want) && n_mismatch++ < 10)
        fprintf(stderr, "%s(%a [0x%08x]) = 0x%04x, reference 0x%04x\n", F->name, (double)f,
                (unsigned)pf_f32_bits(f), got, want);
}

/* Decoding is exact: every pattern, against the ldexp decoder. */
static void test_decode_exhaustive(const fmt16 *F)
{
    int bad = 0;
    for (unsigned h = 0; h < 0x10000; h++) {
        double want = decode(F, h);
        float got = from16(F, h);
        if (isnan(want) ? !isnan(got) : ((double)got != want || !!signbit(got) != !!signbit(want)))
            bad++;
    }
    CHECK_MSG(bad == 0, "%s decode: %d patterns wrong", F->name, bad);
}

/* Every finite value survives a round trip; every NaN stays NaN. */
static void test_round_trip(const fmt16 *F)
{
    int bad = 0;
    for (unsigned h = 0; h < 0x10000; h++) {
        unsigned back = to16(F, from16(F, h));
        int is_nan = (h & 0x7fff) > F->inf_pattern;
        if (is_nan ? !((back & 0x7fff) > F->inf_pattern) : back != h)
            bad++;
    }
    CHECK_MSG(bad == 0, "%s round trip: %d patterns wrong", F->name, bad);
}

/* Edge values: midpoints between neighbours (exact ties and one fp32 ulp
 * either side), the largest finite value, overflow, zeros, Inf, NaNs. */
static void test_edges(const fmt16 *F)
{
    n_mismatch = 0;
    for (unsigned h = 0; h < F->inf_pattern; h++) {
        double mid = (F->table[h] + F->table[h + 1]) / 2; /* exact in double */
        float m = (float)mid;
        if ((double)m != mid)
            continue; /* tie not representable in fp32 (deep f16 subnormals are) */
        for (int s = 0; s < 2; s++) {
            float v = s ? -m : m;
            check_one(F, v);
            check_one(F, nextafterf(v, 0.0f));
            check_one(F, nextafterf(v, s ? -INFINITY : INFINITY));
            /* the tie itself goes to the even pattern */
            unsigned even = (h & 1) ? h + 1 : h;
            if ((to16(F, v) & 0x7fff) != even && n_mismatch++ < 10)
                fprintf(stderr, "%s: tie above 0x%04x not to even\n", F->name, h);
        }
    }
    float max_finite = (float)F->table[F->inf_pattern - 1];
    CHECK(to16(F, max_finite) == F->inf_pattern - 1);
    CHECK(to16(F, -max_finite) == (0x8000u | (F->inf_pattern - 1)));
    CHECK(isinf(from16(F, to16(F, max_finite * 1.5f))));
    float neg_big = from16(F, to16(F, -max_finite * 1.5f));
    CHECK(isinf(neg_big) && neg_big < 0);
    CHECK(to16(F, INFINITY) == F->inf_pattern);
    CHECK(to16(F, -INFINITY) == (0x8000u | F->inf_pattern));
    CHECK(to16(F, 0.0f) == 0 && to16(F, -0.0f) == 0x8000u);
    CHECK(signbit(from16(F, to16(F, -0.0f))));
    /* NaNs with assorted payloads (quiet and signalling, both signs) */
    uint32_t nans[] = {0x7fc00000u, 0x7f800001u, 0xffc00001u, 0x7fbfffffu, 0xff800100u, 0x7fffffffu};
    for (size_t i = 0; i < sizeof nans / sizeof nans[0]; i++) {
        float back = from16(F, to16(F, f32_of(nans[i])));
        CHECK_MSG(isnan(back), "%s NaN 0x%08x lost", F->name, (unsigned)nans[i]);
    }
    /* fp32 subnormals and tiny values */
    for (uint32_t u = 1; u < 0x00800000u; u = u * 3 + 1)
        check_one(F, f32_of(u));
    CHECK_MSG(n_mismatch == 0, "%s edges: %d mismatches", F->name, n_mismatch);
}

/* Random fp32 bit patterns over the whole range plus values concentrated in
 * the format's own exponent range. */
static void test_random(const fmt16 *F, int n)
{
    n_mismatch = 0;
    for (int i = 0; i < n; i++) {
        uint32_t u = (uint32_t)pf_test_rng();
        check_one(F, f32_of(u));
        /* a random value near a random representable one */
        unsigned h = (unsigned)(pf_test_rng() % (F->inf_pattern + 1));
        float near = (float)F->table[h];
        float v = near * (1.0f + (float)((double)(int32_t)(uint32_t)pf_test_rng() / 4294967296.0) / 64.0f);
        check_one(F, (pf_test_rng() & 1) ? v : -v);
    }
    CHECK_MSG(n_mismatch == 0, "%s random: %d mismatches", F->name, n_mismatch);
}

static void test_pack(void)
{
    int bad = 0;
    for (int i = 0; i < 100000; i++) {
        float lo = f32_of((uint32_t)pf_test_rng()), hi = f32_of((uint32_t)pf_test_rng());
        uint32_t pb = pf_pack_bf16x2(lo, hi), ph = pf_pack_f16x2(lo, hi);
        if (!same_result(&bf16_fmt, pb & 0xffff, ref_round(&bf16_fmt, lo)) ||
            !same_result(&bf16_fmt, pb >> 16, ref_round(&bf16_fmt, hi)) ||
            !same_result(&f16_fmt, ph & 0xffff, ref_round(&f16_fmt, lo)) ||
            !same_result(&f16_fmt, ph >> 16, ref_round(&f16_fmt, hi)))
            bad++;
    }
    CHECK_MSG(bad == 0, "pack: %d wrong", bad);
}

/* pf_round_*: the value of the nearest 16-bit number, as f32. */
static void test_round_helpers(void)
{
    int bad = 0;
    for (int i = 0; i < 100000; i++) {
        float x = f32_of((uint32_t)pf_test_rng());
        float rb = pf_round_bf16(x), rh = pf_round_f16(x);
        if (isnan(x)) {
            bad += !isnan(rb) + !isnan(rh);
            continue;
        }
        double wb = decode(&bf16_fmt, ref_round(&bf16_fmt, x));
        double wh = decode(&f16_fmt, ref_round(&f16_fmt, x));
        bad += (double)rb != wb || !!signbit(rb) != !!signbit(wb);
        bad += (double)rh != wh || !!signbit(rh) != !!signbit(wh);
    }
    CHECK_MSG(bad == 0, "round helpers: %d wrong", bad);
}

int main(void)
{
    pf_test_seed();
    build_table(&bf16_fmt);
    build_table(&f16_fmt);
    /* the reference itself: table endpoints are the known format limits */
    CHECK(bf16_fmt.table[bf16_fmt.inf_pattern - 1] == ldexp(255.0, 120)); /* (2-2^-7)*2^127 */
    CHECK(f16_fmt.table[f16_fmt.inf_pattern - 1] == 65504.0);
    CHECK(f16_fmt.table[1] == ldexp(1.0, -24));
    fmt16 *fmts[] = {&bf16_fmt, &f16_fmt};
    for (int i = 0; i < 2; i++) {
        test_decode_exhaustive(fmts[i]);
        test_round_trip(fmts[i]);
        test_edges(fmts[i]);
        test_random(fmts[i], 2000000);
    }
    test_pack();
    test_round_helpers();
    return PF_TEST_RESULT();
}
