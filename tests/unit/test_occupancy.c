/* Theoretical occupancy against hand-computed values (cuda_occupancy.h's
 * rules: 256-register warp units over 4 sub-partitions, 1 KiB reserved and
 * 128-byte units of shared memory per block). */
#include <string.h>

#include "analyze/occupancy.h"
#include "device/arch.h"
#include "pf_test.h"

int main(void)
{
    const pf_arch *a80 = pf_arch_lookup("sm_80"), *a86 = pf_arch_lookup("sm_86"),
                  *a90 = pf_arch_lookup("sm_90");
    CHECK(a80 && a86 && a90);
    if (!a80 || !a86 || !a90)
        return PF_TEST_RESULT();
    pf_occupancy o;
    /* 255 regs x 128 threads: 8160 -> 8192 per warp, 16384 / 8192 = 2 warps
     * per sub-partition, 8 per SM = 2 blocks of 4 warps */
    CHECK(pf_occupancy_compute(a80, 255, 128, 0, &o) == 0);
    CHECK(o.regs_per_warp == 8192 && o.by_regs == 2 && o.blocks == 2 && o.warps == 8);
    CHECK(strcmp(o.limiter, "registers") == 0 && o.fraction == 8.0 / 64);
    CHECK(o.smem_per_block == 1024 && o.by_smem == 164);
    /* 100 KiB on sm_86 is over its 99 KiB opt-in: it cannot launch */
    CHECK(pf_occupancy_compute(a86, 64, 128, 100 * 1024, &o) == 0);
    CHECK(o.blocks == 0 && strcmp(o.limiter, "shared memory") == 0 && strstr(o.why, "opt-in"));
    /* 99 KiB fits once (99 + 1 reserved = 100 KiB per SM) */
    CHECK(pf_occupancy_compute(a86, 64, 128, 99 * 1024, &o) == 0 && o.blocks == 1 &&
          o.by_smem == 1 && strcmp(o.limiter, "shared memory") == 0);
    /* 48 KiB: 49 KiB each, 2 on sm_86's 100 KiB; 100 KiB on sm_80 / sm_90:
     * 101 KiB each, 1 of 164 KiB, 2 of 228 KiB */
    CHECK(pf_occupancy_compute(a86, 64, 128, 48 * 1024, &o) == 0 && o.by_smem == 2);
    CHECK(pf_occupancy_compute(a80, 64, 128, 100 * 1024, &o) == 0 && o.by_smem == 1);
    CHECK(pf_occupancy_compute(a90, 64, 128, 100 * 1024, &o) == 0 && o.by_smem == 2 &&
          o.blocks == 2 && o.warps == 8);
    /* rounding to 128 bytes: 46080 + 1024 = 47104 exactly; +1 byte -> 47232 */
    CHECK(pf_occupancy_compute(a80, 32, 128, 46080, &o) == 0 && o.smem_per_block == 47104);
    CHECK(pf_occupancy_compute(a80, 32, 128, 46081, &o) == 0 && o.smem_per_block == 47232);
    /* tiny kernels hit the warp / block limits: 32 regs x 64 threads on
     * sm_86: warps 48/2 = 24 but 16 blocks at most */
    CHECK(pf_occupancy_compute(a86, 32, 64, 0, &o) == 0 && o.by_warps == 24 &&
          o.by_blocks == 16 && o.blocks == 16 && strcmp(o.limiter, "blocks") == 0);
    CHECK(pf_occupancy_compute(a80, 32, 1024, 0, &o) == 0 && o.blocks == 2 &&
          strcmp(o.limiter, "registers") == 0 && o.by_warps == 2); /* ties: registers first */
    /* 1024 threads x 255 registers does not fit 64K registers */
    CHECK(pf_occupancy_compute(a80, 255, 1024, 0, &o) == 0 && o.blocks == 0 &&
          strstr(o.why, "per block"));
    CHECK(pf_occupancy_compute(a80, 0, 128, 0, &o) == -1);
    return PF_TEST_RESULT();
}
