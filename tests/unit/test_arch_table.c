/* The arch table: the published limits, lookups by cc and by name agree,
 * unknown names are refused; the attention defaults are valid and fit every
 * arch (the 99 KiB ones pick smaller ones that run right on emu:sm_86); an
 * emu device mimics its arch's limits. */
#include <stdio.h>
#include <string.h>

#include "attention/attn_variant.h"
#include "attention/check_cases.h"
#include "core/pf_error.h"
#include "device/arch.h"
#include "device/device.h"
#include "pf_test.h"

#define KIB 1024u

static const int head_dims[] = {64, 72, 128, 256, 512};

static void test_published_limits(void)
{
    static const struct {
        const char *name;
        unsigned optin_kib, per_sm_kib;
        int threads_sm, blocks_sm;
    } want[] = {
        {"sm_80", 163, 164, 2048, 32}, {"sm_86", 99, 100, 1536, 16},
        {"sm_89", 99, 100, 1536, 24},  {"sm_90", 227, 228, 2048, 32},
        {"sm_100", 227, 228, 2048, 32}, {"sm_120", 99, 100, 1536, 24},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const pf_arch *a = pf_arch_lookup(want[i].name);
        CHECK_MSG(a != NULL, "%s: %s", want[i].name, pf_error_get());
        if (!a)
            continue;
        CHECK_MSG(a->smem_per_block_optin == want[i].optin_kib * KIB, "%s opt-in %zu",
                  a->name, a->smem_per_block_optin);
        CHECK(a->smem_per_sm == want[i].per_sm_kib * KIB);
        CHECK(a->smem_per_block == 48 * KIB);
        CHECK(a->max_threads_per_sm == want[i].threads_sm);
        CHECK(a->max_warps_per_sm * 32 == a->max_threads_per_sm);
        CHECK(a->max_blocks_per_sm == want[i].blocks_sm);
        CHECK(a->regs_per_sm == 65536 && a->max_regs_per_thread == 255);
        CHECK(a->max_threads_per_block == 1024);
        CHECK(a->sm_count > 0 && a->l2_bytes > 0 && a->part[0]);
    }
    CHECK(pf_arch_max_smem_optin() == 227 * KIB);
}

static void test_lookups(void)
{
    int n;
    const pf_arch *t = pf_arch_table(&n);
    CHECK(n >= 6);
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "sm_%d%d", t[i].cc_major, t[i].cc_minor);
        CHECK_MSG(strcmp(name, t[i].name) == 0, "%s vs %s", name, t[i].name);
        CHECK(pf_arch_lookup(t[i].name) == &t[i]);
        CHECK(pf_arch_lookup_cc(t[i].cc_major, t[i].cc_minor) == &t[i]);
        CHECK(pf_arch_lookup_nearest(t[i].cc_major, t[i].cc_minor) == &t[i]);
        if (i > 0)
            CHECK(t[i].cc_major * 10 + t[i].cc_minor > t[i - 1].cc_major * 10 + t[i - 1].cc_minor);
    }
    static const char *const bad[] = {"sm_75", "sm_8", "sm_86a", "emu", "", "SM_90"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(pf_arch_lookup(bad[i]) == NULL);
        CHECK_MSG(strstr(pf_error_get(), "unknown arch") && strstr(pf_error_get(), "sm_86") &&
                      strstr(pf_error_get(), "sm_120"),
                  "%s", pf_error_get());
    }
    CHECK(pf_arch_lookup_cc(7, 5) == NULL && pf_arch_lookup_cc(8, 7) == NULL);
    /* a newer part keeps the limits of the arch it extends */
    CHECK(strcmp(pf_arch_lookup_nearest(8, 7)->name, "sm_86") == 0);
    CHECK(strcmp(pf_arch_lookup_nearest(10, 3)->name, "sm_100") == 0);
    CHECK(strcmp(pf_arch_lookup_nearest(12, 1)->name, "sm_120") == 0);
    CHECK(pf_arch_lookup_nearest(7, 5) == NULL && strstr(pf_error_get(), "7.5"));
}

/* Every arch: the defaults are valid, fit, and are part of the sweep. */
static void test_attention_defaults(void)
{
    int n;
    const pf_arch *t = pf_arch_table(&n);
    for (int i = 0; i < n; i++)
        for (size_t d = 0; d < sizeof head_dims / sizeof head_dims[0]; d++) {
            pf_attn_variant v;
            char why[256] = "", text[256];
            CHECK(pf_attn_variant_default(head_dims[d], t[i].name, &v) == 0);
            pf_attn_variant_to_string(&v, text, sizeof text);
            CHECK_MSG(pf_attn_variant_valid(&v, t[i].name, why, sizeof why), "%s on %s: %s", text,
                      t[i].name, why);
            CHECK_MSG(pf_attn_variant_smem_bytes(&v) <= t[i].smem_per_block_optin, "%s on %s",
                      text, t[i].name);
            CHECK(pf_attn_arch_smem_limit(t[i].name) == t[i].smem_per_block_optin);
            int count = pf_attn_variant_enumerate(head_dims[d], t[i].name, NULL, 0);
            pf_attn_variant all[1024];
            CHECK(count > 0 && count <= 1024);
            pf_attn_variant_enumerate(head_dims[d], t[i].name, all, 1024);
            int found = 0;
            for (int j = 0; j < count && j < 1024; j++)
                found |= pf_attn_variant_equal(&all[j], &v);
            CHECK_MSG(found, "default %s of %s not enumerated", text, t[i].name);
            printf("%-6s D=%-3d default %s (%zu bytes), %d variants\n", t[i].name, head_dims[d],
                   text, pf_attn_variant_smem_bytes(&v), count);
        }
    /* sm_80 and sm_90: 32 rows per warp at D <= 256 (at 128 and 256 with
     * the columns split over 2 warps: WARP_ROWS=32), the old 512 ones */
    pf_attn_variant v;
    pf_attn_variant_default(512, "sm_80", &v);
    CHECK(v.block_m == 32 && v.block_n == 32 && v.warps == 8 && v.stages == 1);
    pf_attn_variant_default(512, "sm_90", &v);
    CHECK(v.block_m == 32 && v.block_n == 32 && v.warps == 8 && v.stages == 2);
    pf_attn_variant_default(256, "sm_80", &v);
    CHECK(v.block_m == 128 && v.block_n == 64 && v.warps == 8 && v.stages == 1 &&
          v.warp_rows == 32);
    pf_attn_variant_default(256, "sm_90", &v);
    CHECK(v.block_m == 128 && v.block_n == 64 && v.warps == 8 && v.stages == 2 &&
          v.warp_rows == 32);
    /* D=128: 64 rows, 2 x 2 warps of 32 rows (Q kept in registers) */
    pf_attn_variant_default(128, "sm_90", &v);
    CHECK(v.block_m == 64 && v.block_n == 32 && v.warps == 4 && v.stages == 2 && v.warp_rows == 32);
    pf_attn_variant_default(128, "sm_80", &v);
    CHECK(v.block_m == 64 && v.block_n == 32 && v.warps == 4 && v.stages == 2 && v.warp_rows == 32);
    /* D=64/72: 128 rows, a warp per 32 rows */
    pf_attn_variant_default(64, "sm_80", &v);
    CHECK(v.block_m == 128 && v.block_n == 32 && v.warps == 4 && v.stages == 2 && v.warp_rows == 0);
    pf_attn_variant_default(72, "sm_90", &v);
    CHECK(v.block_m == 128 && v.block_n == 32 && v.warps == 4 && v.stages == 2 && v.warp_rows == 0);
    /* unknown arch names are refused, listing the known ones */
    CHECK(pf_attn_variant_default(64, "sm_87", &v) == -1);
    CHECK_MSG(strstr(pf_error_get(), "sm_87") && strstr(pf_error_get(), "sm_89"), "%s",
              pf_error_get());
    char why[256];
    CHECK(!pf_attn_variant_valid(&v, "sm_70", why, sizeof why) && strstr(why, "sm_120"));
}

/* emu:sm_86 reports the table's limits, and the default variants of the
 * large head dims (smaller than on sm_80/sm_90) compute the right thing. */
static void test_emu_sm86(void)
{
    pf_device *dev = NULL;
    CHECK(pf_device_open("emu:sm_75", &dev) == -1 && strstr(pf_error_get(), "sm_86"));
    CHECK_MSG(pf_device_open("emu:sm_86", &dev) == 0, "%s", pf_error_get());
    if (!dev)
        return;
    pf_device_props p;
    CHECK(pf_dev_props(dev, &p) == 0);
    CHECK(p.kind == PF_BACKEND_EMU && p.caps.host_timers && !p.caps.cupti);
    CHECK(p.cc_major == 8 && p.cc_minor == 6 && strstr(p.name, "sm_86"));
    CHECK(p.smem_per_block_optin == 99 * KIB && p.smem_per_sm == 100 * KIB);
    CHECK(p.smem_per_block == 48 * KIB && p.max_threads_per_block == 1024);
    char arch[16];
    CHECK(pf_device_arch(dev, arch, sizeof arch) == 0 && strcmp(arch, "sm_86") == 0);

    pf_check_case_cache cache = {0};
    static const int big[] = {256, 512};
    for (int i = 0; i < 2; i++) {
        pf_attn_variant v;
        CHECK(pf_attn_variant_default(big[i], arch, &v) == 0);
        const pf_check_prepared *pc = pf_check_case_cache_get(&cache, 0, big[i], 1234);
        CHECK_MSG(pc != NULL, "%s", pf_error_get());
        if (!pc)
            continue;
        pf_check_case_result r;
        CHECK(pf_check_run_case(dev, arch, &v, pc, &r) == 0);
        CHECK_MSG(r.ok, "D=%d default on emu:sm_86: %s", big[i], r.message);
        printf("emu:sm_86 D=%d default: rel err %.2e, lse err %.2e\n", big[i], r.err.rel_frob,
               r.lse_err);
    }
    pf_check_case_cache_free(&cache);
    pf_device_close(dev);
}

int main(void)
{
    test_published_limits();
    test_lookups();
    test_attention_defaults();
    test_emu_sm86();
    return PF_TEST_RESULT();
}
