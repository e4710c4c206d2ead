/* The emulated ldmatrix (harness/device/emu/emu_warp_math.c): x1/x2/x4, with and
 * without .trans, from random tiles with padded row strides and shuffled
 * row addresses. Expected values are derived element-first from the PTX ISA
 * figure: element (r, c) of an 8x8 fragment sits in lane 4r + c/2, half c%2;
 * .trans delivers the transposed matrix in that same fragment. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device/emu/emu_warp_math.h"
#include "kernels/pf_numeric.h"
#include "pf_test.h"


static uint16_t half_of(uint32_t reg, int which) { return (uint16_t)(which ? reg >> 16 : reg & 0xffff); }

/* One case: num_mats matrices from a tile of 8*num_mats shuffled rows. */
static void run_case(int num_mats, int trans, int *bad)
{
    int stride = 8 * (1 + (int)(pf_test_rng() % 6)) + 8 * (int)(pf_test_rng() % 2); /* elements, 16-byte rows */
    int rows = 8 * num_mats + (int)(pf_test_rng() % 5);
    uint16_t *tile = malloc(sizeof(uint16_t) * (size_t)(rows * stride));
    for (int i = 0; i < rows * stride; i++)
        tile[i] = (uint16_t)pf_test_rng();
    /* matrix j, row r comes from tile row src_row[j][r], column col0[j] */
    int src_row[4][8], col0[4];
    const void *addr[32];
    for (int i = 0; i < 32; i++)
        addr[i] = NULL; /* unused lanes must not be read */
    for (int j = 0; j < num_mats; j++) {
        col0[j] = 8 * (int)(pf_test_rng() % (unsigned)(stride / 8));
        for (int r = 0; r < 8; r++) {
            src_row[j][r] = (int)(pf_test_rng() % (unsigned)rows);
            addr[8 * j + r] = tile + src_row[j][r] * stride + col0[j];
        }
    }
    uint32_t out[32][4];
    memset(out, 0xa5, sizeof out);
    pf_warp_ldmatrix(num_mats, trans, out, addr);
    for (int j = 0; j < num_mats; j++)
        for (int r = 0; r < 8; r++)
            for (int c = 0; c < 8; c++) {
                int lane = 4 * r + c / 2;
                int mr = trans ? c : r, mc = trans ? r : c;
                uint16_t want = tile[src_row[j][mr] * stride + col0[j] + mc];
                if (half_of(out[lane][j], c % 2) != want && (*bad)++ < 5)
                    fprintf(stderr, "x%d trans %d: matrix %d (%d,%d) wrong\n", num_mats, trans, j, r, c);
            }
    /* registers past num_mats are untouched */
    for (int lane = 0; lane < 32; lane++)
        for (int j = num_mats; j < 4; j++)
            if (out[lane][j] != 0xa5a5a5a5u && (*bad)++ < 5)
                fprintf(stderr, "x%d: register %d written\n", num_mats, j);
    free(tile);
}

/* The way kernels use it: x4 of a row-major 16x16 A tile gives the mma A
 * fragment, x2.trans of a row-major [k][n] 16x8 B tile gives the B
 * fragment (PTX mma.m16n8k16 layout, written here as index formulas). */
static void test_mma_fragments(void)
{
    int stride = 24; /* padded: 16 + 8 */
    uint16_t A[16 * 24], B[16 * 24];
    for (int i = 0; i < 16 * 24; i++) {
        A[i] = pf_f32_to_bf16((float)(pf_test_rng() % 1000));
        B[i] = pf_f32_to_bf16((float)(pf_test_rng() % 1000));
    }
    const void *addr_a[32], *addr_b[32];
    for (int lane = 0; lane < 32; lane++) {
        addr_a[lane] = A + (lane % 16) * stride + (lane / 16) * 8;
        addr_b[lane] = lane < 16 ? (const void *)(B + lane * stride) : NULL;
    }
    uint32_t ra[32][4], rb[32][4];
    pf_warp_ldmatrix(4, 0, ra, addr_a);
    pf_warp_ldmatrix(2, 1, rb, addr_b);
    int bad = 0;
    for (int lane = 0; lane < 32; lane++) {
        int g = lane >> 2, t = lane & 3;
        for (int reg = 0; reg < 4; reg++)
            for (int h = 0; h < 2; h++)
                bad += half_of(ra[lane][reg], h) != A[(g + 8 * (reg & 1)) * stride + 2 * t + h + 8 * (reg >> 1)];
        for (int reg = 0; reg < 2; reg++)
            for (int h = 0; h < 2; h++)
                bad += half_of(rb[lane][reg], h) != B[(2 * t + h + 8 * reg) * stride + g];
    }
    CHECK_MSG(bad == 0, "mma fragments via ldmatrix: %d wrong", bad);
}

/* The collective adapter reads each lane's wire and writes num_mats words. */
static void test_adapter(void)
{
    uint16_t tile[32 * 8];
    for (int i = 0; i < 32 * 8; i++)
        tile[i] = (uint16_t)pf_test_rng();
    pf_emu_ldmatrix_wire wires[32];
    const void *ins[32], *addr[32];
    void *outs[32];
    uint32_t got[32][4], want[32][4];
    memset(got, 0, sizeof got);
    for (int lane = 0; lane < 32; lane++) {
        addr[lane] = tile + 8 * (31 - lane);
        wires[lane].row_addr = addr[lane];
        wires[lane].num_mats = 4;
        wires[lane].trans = 1;
        ins[lane] = &wires[lane];
        outs[lane] = got[lane];
    }
    pf_emu_ldmatrix_collective(NULL, ins, outs);
    pf_warp_ldmatrix(4, 1, want, addr);
    CHECK(memcmp(got, want, sizeof got) == 0);
}

int main(void)
{
    pf_test_seed();
    int mats[] = {1, 2, 4};
    for (int mi = 0; mi < 3; mi++)
        for (int trans = 0; trans < 2; trans++) {
            int bad = 0;
            for (int rep = 0; rep < 300; rep++)
                run_case(mats[mi], trans, &bad);
            CHECK_MSG(bad == 0, "x%d trans %d: %d wrong", mats[mi], trans, bad);
        }
    test_mma_fragments();
    test_adapter();
    return PF_TEST_RESULT();
}
