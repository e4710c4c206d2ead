/* Variant axes: parse / print round trip, partial specs, errors, validity
 * reasons, enumeration properties. */
#include <stdlib.h>
#include <string.h>

#include "kernels/attention_params.h"
#include "attention/attn_variant.h"
#include "core/pf_error.h"
#include "pf_test.h"

static const int head_dims[] = {64, 72, 128, 256, 512};
static const char *const archs[] = {"sm_80", "sm_90"};

static void test_defaults_round_trip(void)
{
    for (int a = 0; a < 2; a++)
        for (int i = 0; i < 5; i++) {
            pf_attn_variant v, w;
            char why[256], text[256];
            CHECK(pf_attn_variant_default(head_dims[i], archs[a], &v) == 0);
            CHECK(v.head_dim == head_dims[i]);
            CHECK_MSG(pf_attn_variant_valid(&v, archs[a], why, sizeof why), "D=%d %s: %s",
                      head_dims[i], archs[a], why);
            pf_attn_variant_to_string(&v, text, sizeof text);
            /* parsing the text form with another default head dim must still
             * give v back: HEAD_DIM in the text wins */
            CHECK(pf_attn_variant_parse(text, 64, archs[a], &w) == 0);
            CHECK_MSG(pf_attn_variant_equal(&v, &w), "%s", text);
        }
    pf_attn_variant v;
    CHECK(pf_attn_variant_default(100, "sm_90", &v) == -1);
    CHECK(strstr(pf_error_get(), "100") != NULL);
    CHECK(pf_attn_variant_default(64, "sm_75", &v) == -1);
}

static void test_parse_partial_and_errors(void)
{
    pf_attn_variant d, v;
    CHECK(pf_attn_variant_default(128, "sm_90", &d) == 0);
    CHECK(pf_attn_variant_parse(" block_n = 32 , Mask_Storage=BITMAP,indptr_t=int64", 128, "sm_90",
                                &v) == 0);
    CHECK(v.block_n == 32 && v.mask_storage == PF_MASK_BITMAP && v.indptr64 == 1);
    CHECK(v.block_m == d.block_m && v.warps == d.warps && v.stages == d.stages &&
          v.tile_skip == d.tile_skip && v.head_dim == 128);
    CHECK(pf_attn_variant_parse("", 72, "sm_80", &v) == 0);
    CHECK(v.head_dim == 72);
    CHECK(pf_attn_variant_parse("MASK_STORAGE=window,TILE_SKIP=0,INDPTR_T=int", 64, NULL, &v) == 0);
    CHECK(v.mask_storage == PF_MASK_WINDOW && v.tile_skip == 0 && v.indptr64 == 0);

    CHECK(pf_attn_variant_parse("BLOCK_Q=64", 64, "sm_90", &v) == -1);
    CHECK(strstr(pf_error_get(), "BLOCK_Q") && strstr(pf_error_get(), "BLOCK_M, BLOCK_N"));
    CHECK(pf_attn_variant_parse("MASK_STORAGE=csr", 64, "sm_90", &v) == -1);
    CHECK(strstr(pf_error_get(), "csr") && strstr(pf_error_get(), "spans"));
    CHECK(pf_attn_variant_parse("WARPS=four", 64, "sm_90", &v) == -1);
    CHECK(strstr(pf_error_get(), "WARPS") != NULL);
    CHECK(pf_attn_variant_parse("WARPS", 64, "sm_90", &v) == -1);
    CHECK(pf_attn_variant_parse("INDPTR_T=int16", 64, "sm_90", &v) == -1);
}

static void test_reasons(void)
{
    pf_attn_variant v;
    char why[256];
    /* 16 rows and 8 warps: one row group, the 16 keys split 8 ways */
    CHECK(pf_attn_variant_parse("BLOCK_M=16,BLOCK_N=16,WARPS=8", 64, "sm_90", &v) == 0);
    CHECK(!pf_attn_variant_valid(&v, "sm_90", why, sizeof why));
    CHECK_MSG(strstr(why, "keys per warp") != NULL, "%s", why);
    /* 72 pads to 80: four column slices of 20 are not n8 tiles */
    CHECK(pf_attn_variant_parse("BLOCK_M=16,BLOCK_N=64,WARPS=4", 72, "sm_90", &v) == 0);
    CHECK(!pf_attn_variant_valid(&v, "sm_90", why, sizeof why));
    CHECK_MSG(strstr(why, "80") && strstr(why, "columns"), "%s", why);
    /* same split at D=64 is fine */
    v.head_dim = 64;
    CHECK_MSG(pf_attn_variant_valid(&v, "sm_90", why, sizeof why), "%s", why);
    /* D=256 with double-buffered 64-key tiles fits sm_90 but not sm_80 */
    CHECK(pf_attn_variant_parse("BLOCK_M=64,BLOCK_N=64,WARPS=8,STAGES=2", 256, "sm_90", &v) == 0);
    CHECK_MSG(pf_attn_variant_valid(&v, "sm_90", why, sizeof why), "%s", why);
    CHECK(!pf_attn_variant_valid(&v, "sm_80", why, sizeof why));
    CHECK_MSG(strstr(why, "shared memory") && strstr(why, "sm_80") && strstr(why, "163 KiB"), "%s",
              why);
    /* accumulator budget */
    CHECK(pf_attn_variant_parse("BLOCK_M=128,BLOCK_N=64,WARPS=2", 512, NULL, &v) == 0);
    CHECK(!pf_attn_variant_valid(&v, NULL, why, sizeof why));
    CHECK_MSG(strstr(why, "spill") != NULL, "%s", why);
    /* axis values */
    CHECK(pf_attn_variant_parse("BLOCK_M=48", 64, NULL, &v) == 0);
    CHECK(!pf_attn_variant_valid(&v, NULL, why, sizeof why) && strstr(why, "BLOCK_M=48"));
    CHECK(pf_attn_variant_parse("STAGES=3", 64, NULL, &v) == 0);
    CHECK(!pf_attn_variant_valid(&v, NULL, why, sizeof why) && strstr(why, "STAGES"));
    CHECK(pf_attn_variant_parse("", 64, NULL, &v) == 0);
    CHECK(!pf_attn_variant_valid(&v, "sm_70", why, sizeof why) && strstr(why, "sm_70"));
    CHECK(pf_attn_variant_valid(&v, "sm_90", NULL, 0) == 1);
}

static void test_warp_rows(void)
{
    pf_attn_variant v, w;
    char why[256], text[256];
    int wsm, wsn;
    /* 32 rows per warp at 128 x 8 warps: a 4 x 2 grid, text round trip */
    CHECK(pf_attn_variant_parse("BLOCK_M=128,BLOCK_N=64,WARPS=8,STAGES=2,WARP_ROWS=32", 256,
                                "sm_90", &v) == 0);
    CHECK(v.warp_rows == 32);
    CHECK_MSG(pf_attn_variant_valid(&v, "sm_90", why, sizeof why), "%s", why);
    pf_attn_variant_warp_grid(&v, &wsm, &wsn);
    CHECK(wsm == 4 && wsn == 2 && pf_attn_variant_derived_rows(&v) == 16);
    pf_attn_variant_to_string(&v, text, sizeof text);
    CHECK_MSG(strstr(text, ",WARP_ROWS=32") != NULL, "%s", text);
    CHECK(pf_attn_variant_parse(text, 64, "sm_90", &w) == 0 && pf_attn_variant_equal(&v, &w));
    /* the grid brings P staging and row reductions: more shared memory, and
     * double buffering no longer fits sm_80 */
    w.warp_rows = 0;
    CHECK(pf_attn_variant_smem_bytes(&v) > pf_attn_variant_smem_bytes(&w));
    CHECK(!pf_attn_variant_equal(&v, &w));
    CHECK(!pf_attn_variant_valid(&v, "sm_80", why, sizeof why) && strstr(why, "shared memory"));
    /* the D=256 default sets 32; a new shape without WARP_ROWS gets the
     * derived grid, other keys keep the default's */
    CHECK(pf_attn_variant_parse("BLOCK_M=64", 256, "sm_90", &w) == 0 && w.warp_rows == 0);
    CHECK(pf_attn_variant_valid(&w, "sm_90", NULL, 0));
    CHECK(pf_attn_variant_parse("STAGES=1", 256, "sm_90", &w) == 0 && w.warp_rows == 32);
    /* auto and unset leave the text alone */
    CHECK(pf_attn_variant_parse("WARP_ROWS=auto", 128, "sm_90", &w) == 0 && w.warp_rows == 0);
    pf_attn_variant_to_string(&w, text, sizeof text);
    CHECK(strstr(text, "WARP_ROWS") == NULL);
    /* the derived value is refused (one text per kernel), and so are rows
     * that do not tile BLOCK_M or WARPS */
    v.warp_rows = 16;
    CHECK(!pf_attn_variant_valid(&v, "sm_90", why, sizeof why) && strstr(why, "auto"));
    v.warp_rows = 48;
    CHECK(!pf_attn_variant_valid(&v, "sm_90", why, sizeof why) && strstr(why, "multiple of 16"));
    CHECK(pf_attn_variant_parse("BLOCK_M=64,WARPS=2,WARP_ROWS=16", 64, NULL, &v) == 0);
    CHECK(!pf_attn_variant_valid(&v, NULL, why, sizeof why) && strstr(why, "row groups"));
    CHECK(pf_attn_variant_parse("WARP_ROWS=many", 64, NULL, &v) == -1);
    CHECK(strstr(pf_error_get(), "WARP_ROWS") != NULL);
}

/* Independent restatement of the rules for random points of the space. */
static int expect_valid(const pf_attn_variant *v, const char *arch)
{
    int m_tiles = v->block_m / 16;
    int wsm = m_tiles < v->warps ? m_tiles : v->warps;
    int wr = v->warp_rows;
    if (wr) { /* set: whole 16-row tiles dividing BLOCK_M and WARPS, not the derived value */
        if (wr % 16 || wr > v->block_m || v->block_m % wr || v->warps % (v->block_m / wr) ||
            wr == v->block_m / wsm)
            return 0;
        wsm = v->block_m / wr;
    }
    int wsn = v->warps / wsm;
    int dpad = (v->head_dim + 15) & ~15;
    if (v->block_n / wsn < 8 || (dpad / wsn) % 8)
        return 0;
    int per_thread = v->block_m * (v->block_n + dpad) / (32 * v->warps);
    if (per_thread > (dpad > 256 ? PF_ATTN_MAX_ACC_FLOATS_512 : PF_ATTN_MAX_ACC_FLOATS))
        return 0;
    /* Q, or at D=512 with split rows the larger partial-S buffer laid over it */
    long q = 2L * v->block_m * (dpad + 8);
    long spart = wsn > 1 && dpad >= 512 ? 4L * wsn * v->block_m * (v->block_n + 8) : 0;
    /* mask words (double-buffered at 2 stages) and, one word per thread,
     * each word's two row offsets */
    long words = (v->block_n < 32 ? 1L : v->block_n / 32) * v->block_m;
    long bits = 4L * words * (v->stages == 2 ? 2 : 1) +
                (words <= 32L * v->warps ? 2L * words * (v->indptr64 ? 8 : 4) : 0);
    long smem = (spart > q ? spart : q) + 4L * v->stages * v->block_n * (dpad + 8) +
                (wsn > 1 ? 2L * v->block_m * (v->block_n + 8) + 4L * wsn * v->block_m : 0) +
                (v->mask_storage == PF_MASK_SPANS ? 8L * v->block_m : bits);
    return smem <= (strcmp(arch, "sm_80") == 0 ? 163 : 227) * 1024L;
}

/* Every point of a grid over the axes (and beyond them: warps 1/2, WARP_ROWS
 * 48/64, BLOCK_N 16/128) against the independent model above: small
 * enough to walk whole, so a disagreement near a limit cannot hide behind
 * a random draw. */
static void test_all_points(void)
{
    static const int bm[] = {16, 32, 64, 128}, ws[] = {1, 2, 4, 8}, wrs[] = {0, 16, 32, 64, 48};
    int n = 0;
    for (int a = 0; a < 2; a++)
        for (int d = 0; d < 5; d++)
            for (int i = 0; i < 4 * 4 * 4 * 2 * 4 * 2 * 2 * 5; i++) {
                int r = i;
                pf_attn_variant v;
                memset(&v, 0, sizeof v);
                v.block_m = bm[r % 4], r /= 4;
                v.block_n = bm[r % 4], r /= 4;
                v.warps = ws[r % 4], r /= 4;
                v.stages = 1 + r % 2, r /= 2;
                v.mask_storage = r % 4, r /= 4;
                v.indptr64 = r % 2, r /= 2;
                v.tile_skip = r % 2, r /= 2;
                v.warp_rows = wrs[r % 5];
                v.head_dim = head_dims[d];
                char why[256], text[256];
                why[0] = 0;
                int got = pf_attn_variant_valid(&v, archs[a], why, sizeof why);
                pf_attn_variant_to_string(&v, text, sizeof text);
                CHECK_MSG(got == expect_valid(&v, archs[a]), "%s on %s: valid=%d (%s)", text, archs[a], got,
                          why);
                CHECK(got || why[0]);
                if (got)
                    CHECK(pf_attn_variant_smem_bytes(&v) <= pf_attn_arch_smem_limit(archs[a]));
                n++;
            }
    printf("%d grid points against the model\n", n);
}

static void test_enumerate(void)
{
    for (int a = 0; a < 2; a++)
        for (int i = 0; i < 5; i++) {
            int n = pf_attn_variant_enumerate(head_dims[i], archs[a], NULL, 0);
            CHECK_MSG(n > 0, "D=%d %s", head_dims[i], archs[a]);
            if (n <= 0)
                continue;
            pf_attn_variant *vs = (pf_attn_variant *)calloc((size_t)n, sizeof *vs);
            CHECK(pf_attn_variant_enumerate(head_dims[i], archs[a], vs, n) == n);
            int seen_storage[4] = {0}, seen_ip[2] = {0}, seen_ts[2] = {0}, has_default = 0;
            pf_attn_variant d;
            pf_attn_variant_default(head_dims[i], archs[a], &d);
            for (int j = 0; j < n; j++) {
                CHECK(pf_attn_variant_valid(&vs[j], archs[a], NULL, 0));
                CHECK(vs[j].head_dim == head_dims[i]);
                seen_storage[vs[j].mask_storage]++;
                seen_ip[vs[j].indptr64]++;
                seen_ts[vs[j].tile_skip]++;
                has_default |= pf_attn_variant_equal(&vs[j], &d);
                for (int k = 0; k < j; k++)
                    CHECK(!pf_attn_variant_equal(&vs[j], &vs[k]));
            }
            for (int s = 0; s < 4; s++)
                CHECK(seen_storage[s] == n / 4);
            /* WARP_ROWS is swept only where it changes the grid and pays:
             * D=128 and above */
            int n_wr = 0;
            for (int j = 0; j < n; j++)
                n_wr += vs[j].warp_rows != 0;
            CHECK_MSG(head_dims[i] == 256 || head_dims[i] == 128 ? n_wr > 0 : n_wr == 0,
                      "D=%d %s: %d with WARP_ROWS",
                      head_dims[i], archs[a], n_wr);
            CHECK(seen_ip[0] == n / 2 && seen_ts[1] == n / 2);
            CHECK_MSG(has_default, "default of D=%d %s not enumerated", head_dims[i], archs[a]);
            printf("D=%d %s: %d valid variants (%d with WARP_ROWS)\n", head_dims[i], archs[a], n,
                   n_wr);
            free(vs);
        }
}

static void test_defines(void)
{
    pf_attn_variant v;
    pf_variant jv;
    memset(&jv, 0, sizeof jv);
    CHECK(pf_attn_variant_parse("INDPTR_T=int64,MASK_STORAGE=window", 72, "sm_80", &v) == 0);
    CHECK(pf_attn_variant_defines(&v, &jv) == 0);
    int found = 0;
    for (int i = 0; i < jv.n_defines; i++) {
        if (!strcmp(jv.defines[i].name, "INDPTR_T"))
            found += !strcmp(jv.defines[i].value, "long long");
        if (!strcmp(jv.defines[i].name, "MASK_STORAGE"))
            found += atoi(jv.defines[i].value) == PF_MASK_WINDOW;
        if (!strcmp(jv.defines[i].name, "HEAD_DIM"))
            found += atoi(jv.defines[i].value) == 72;
    }
    CHECK(found == 3);
    CHECK(jv.n_defines == 8); /* no WARP_ROWS: the derived grid */
    memset(&jv, 0, sizeof jv);
    CHECK(pf_attn_variant_parse("BLOCK_M=64,BLOCK_N=64,WARPS=4,WARP_ROWS=32", 256, NULL, &v) == 0);
    CHECK(pf_attn_variant_defines(&v, &jv) == 0);
    CHECK(jv.n_defines == 9);
    found = 0;
    for (int i = 0; i < jv.n_defines; i++)
        found += !strcmp(jv.defines[i].name, "WARP_ROWS") && !strcmp(jv.defines[i].value, "32");
    CHECK(found == 1);
}

int main(void)
{
    test_defaults_round_trip();
    test_parse_partial_and_errors();
    test_reasons();
    test_warp_rows();
    test_all_points();
    test_enumerate();
    test_defines();
    return PF_TEST_RESULT();
}
