/* The emulated mma.m16n8k16 (harness/device/emu/emu_warp_math.c) against a plain
 * matrix product. Fragments are distributed to lanes by this file's own
 * reading of the PTX ISA tables ("Matrix Fragments for mma.m16n8k16 with
 * floating point type"), element index i -> (row, col):
 *   A: row = g + 8 * ((i >> 1) & 1), col = 2t + (i & 1) + 8 * (i >= 4)
 *   B: row = 2t + (i & 1) + 8 * (i >= 2), col = g
 *   C: row = g + 8 * (i >= 2),           col = 2t + (i & 1)
 * with g = lane >> 2, t = lane % 4, element i in register i / 2, half i % 2.
 * A wrong layout in either place scrambles the product. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device/emu/emu_warp_math.h"
#include "kernels/pf_numeric.h"
#include "pf_test.h"

static double uniform(void) { return (double)(pf_test_rng() >> 11) / 9007199254740992.0; }

static uint16_t to16(pf_mma_type ty, float f) { return ty == PF_MMA_BF16 ? pf_f32_to_bf16(f) : pf_f32_to_f16(f); }
static float from16(pf_mma_type ty, uint16_t h) { return ty == PF_MMA_BF16 ? pf_bf16_to_f32(h) : pf_f16_to_f32(h); }

static void set_half(uint32_t *reg, int which, uint16_t v)
{
    int shift = which ? 16 : 0;
    *reg = (*reg & ~(0xffffu << shift)) | ((uint32_t)v << shift);
}

static void distribute(const uint16_t A[16][16], const uint16_t B[16][8], const float C[16][8],
                       uint32_t a[32][4], uint32_t b[32][2], float c[32][4])
{
    memset(a, 0, sizeof(uint32_t) * 32 * 4);
    memset(b, 0, sizeof(uint32_t) * 32 * 2);
    for (int lane = 0; lane < 32; lane++) {
        int g = lane >> 2, t = lane % 4;
        for (int i = 0; i < 8; i++)
            set_half(&a[lane][i / 2], i % 2, A[g + 8 * ((i >> 1) & 1)][2 * t + (i & 1) + 8 * (i >= 4)]);
        for (int i = 0; i < 4; i++)
            set_half(&b[lane][i / 2], i % 2, B[2 * t + (i & 1) + 8 * (i >= 2)][g]);
        for (int i = 0; i < 4; i++)
            c[lane][i] = C[g + 8 * (i >= 2)][2 * t + (i & 1)];
    }
}

static void gather(const float d[32][4], float D[16][8])
{
    for (int lane = 0; lane < 32; lane++)
        for (int i = 0; i < 4; i++)
            D[(lane >> 2) + 8 * (i >= 2)][2 * (lane % 4) + (i & 1)] = d[lane][i];
}

/* integer_valued: small integers, every sum exact -> bit-exact comparison.
 * Otherwise random magnitudes and a tolerance from the fp32 summation bound. */
static void run_case(pf_mma_type ty, int integer_valued, int alias, int *bad)
{
    uint16_t A[16][16], B[16][8];
    float C[16][8];
    double scale_a = ldexp(1.0, (int)(pf_test_rng() % 9) - 4), scale_b = ldexp(1.0, (int)(pf_test_rng() % 9) - 4);
    for (int m = 0; m < 16; m++)
        for (int k = 0; k < 16; k++)
            A[m][k] = to16(ty, integer_valued ? (float)((int)(pf_test_rng() % 17) - 8)
                                              : (float)((uniform() * 2 - 1) * scale_a));
    for (int k = 0; k < 16; k++)
        for (int n = 0; n < 8; n++)
            B[k][n] = to16(ty, integer_valued ? (float)((int)(pf_test_rng() % 17) - 8)
                                              : (float)((uniform() * 2 - 1) * scale_b));
    for (int m = 0; m < 16; m++)
        for (int n = 0; n < 8; n++)
            C[m][n] = integer_valued ? (float)((int)(pf_test_rng() % 201) - 100) : (float)(uniform() * 4 - 2);

    uint32_t a[32][4], b[32][2];
    float c[32][4], dbuf[32][4], D[16][8];
    distribute(A, B, C, a, b, c);
    float (*d)[4] = alias ? c : dbuf;
    pf_warp_mma_m16n8k16(ty, d, (const uint32_t(*)[4])a, (const uint32_t(*)[2])b, (const float(*)[4])c);
    gather((const float(*)[4])d, D);

    for (int m = 0; m < 16; m++)
        for (int n = 0; n < 8; n++) {
            double ref = C[m][n], mag = fabs(C[m][n]);
            for (int k = 0; k < 16; k++) {
                double p = (double)from16(ty, A[m][k]) * (double)from16(ty, B[k][n]);
                ref += p;
                mag += fabs(p);
            }
            double tol = integer_valued ? 0.0 : 17 * ldexp(mag, -24);
            if (fabs(D[m][n] - ref) > tol && (*bad)++ < 5)
                fprintf(stderr, "type %d int %d alias %d: D[%d][%d] = %.9g, reference %.9g\n", ty,
                        integer_valued, alias, m, n, D[m][n], ref);
        }
}

/* The collective adapter: lanes' wires in, lanes' d out. */
static void test_adapter(void)
{
    uint16_t A[16][16], B[16][8];
    float C[16][8], D1[16][8], D2[16][8];
    for (int m = 0; m < 16; m++)
        for (int k = 0; k < 16; k++)
            A[m][k] = pf_f32_to_bf16((float)(uniform() - 0.5));
    for (int k = 0; k < 16; k++)
        for (int n = 0; n < 8; n++)
            B[k][n] = pf_f32_to_bf16((float)(uniform() - 0.5));
    for (int m = 0; m < 16; m++)
        for (int n = 0; n < 8; n++)
            C[m][n] = (float)uniform();
    uint32_t a[32][4], b[32][2];
    float c[32][4], d[32][4], out[32][4];
    distribute(A, B, C, a, b, c);
    pf_warp_mma_m16n8k16(PF_MMA_BF16, d, (const uint32_t(*)[4])a, (const uint32_t(*)[2])b, (const float(*)[4])c);
    gather((const float(*)[4])d, D1);

    pf_emu_mma_wire wires[32];
    const void *ins[32];
    void *outs[32];
    for (int lane = 0; lane < 32; lane++) {
        memcpy(wires[lane].a, a[lane], sizeof wires[lane].a);
        memcpy(wires[lane].b, b[lane], sizeof wires[lane].b);
        memcpy(wires[lane].c, c[lane], sizeof wires[lane].c);
        ins[lane] = &wires[lane];
        outs[lane] = out[lane];
    }
    pf_emu_mma_bf16_collective(NULL, ins, outs);
    gather((const float(*)[4])out, D2);
    CHECK(memcmp(D1, D2, sizeof D1) == 0);
}

int main(void)
{
    pf_test_seed();
    pf_mma_type types[] = {PF_MMA_BF16, PF_MMA_F16};
    for (int ti = 0; ti < 2; ti++)
        for (int integer_valued = 0; integer_valued < 2; integer_valued++)
            for (int alias = 0; alias < 2; alias++) {
                int bad = 0;
                for (int rep = 0; rep < 200; rep++)
                    run_case(types[ti], integer_valued, alias, &bad);
                CHECK_MSG(bad == 0, "type %d integer %d alias %d: %d wrong elements", ti, integer_valued,
                          alias, bad);
            }
    test_adapter();
    return PF_TEST_RESULT();
}
