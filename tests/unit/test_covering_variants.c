/* The covering subset of the real attention variant enumeration: checked by
 * brute force on the variant structs (not on the text tables the selection
 * used): every axis value and every (storage, block shape) pair of the valid
 * set is in the subset, the subset is valid and smaller than the whole. */
#include <stdio.h>
#include <stdlib.h>

#include "attention/attn_variant.h"
#include "attention/covering.h"
#include "core/pf_error.h"
#include "pf_test.h"

/* The axis values of a variant, in a fixed order. */
static void axes(const pf_attn_variant *v, int out[9])
{
    out[0] = v->block_m;
    out[1] = v->block_n;
    out[2] = v->warps;
    out[3] = v->stages;
    out[4] = v->mask_storage;
    out[5] = v->indptr64;
    out[6] = v->tile_skip;
    out[7] = v->head_dim;
    out[8] = v->warp_rows;
}

static void check_dim(int d, const char *arch)
{
    int n = pf_attn_variant_enumerate(d, arch, NULL, 0);
    CHECK_MSG(n > 0, "D=%d %s: %s", d, arch, pf_error_get());
    if (n <= 0)
        return;
    pf_attn_variant *all = malloc(sizeof *all * (size_t)n), *sub = malloc(sizeof *sub * (size_t)n);
    CHECK(pf_attn_variant_enumerate(d, arch, all, n) == n);
    int k = pf_attn_cover_variants(all, n, sub);
    CHECK_MSG(k > 0 && k <= n, "D=%d %s: cover returned %d of %d", d, arch, k, n);
    if (k <= 0)
        goto out;
    for (int i = 0; i < k; i++) {
        CHECK(pf_attn_variant_valid(&sub[i], arch, NULL, 0));
        for (int j = i + 1; j < k; j++)
            CHECK(!pf_attn_variant_equal(&sub[i], &sub[j]));
    }
    int missing_value = 0, missing_pair = 0;
    for (int i = 0; i < n; i++) {
        int a[9];
        axes(&all[i], a);
        for (int f = 0; f < 9; f++) {
            int found = 0;
            for (int j = 0; j < k && !found; j++) {
                int b[9];
                axes(&sub[j], b);
                found = a[f] == b[f];
            }
            missing_value += !found;
        }
        int found = 0;
        for (int j = 0; j < k && !found; j++)
            found = sub[j].mask_storage == all[i].mask_storage &&
                    sub[j].block_m == all[i].block_m && sub[j].block_n == all[i].block_n;
        missing_pair += !found;
    }
    CHECK_MSG(missing_value == 0, "D=%d %s: %d axis values missing", d, arch, missing_value);
    CHECK_MSG(missing_pair == 0, "D=%d %s: %d (storage, block shape) pairs missing", d, arch,
              missing_pair);
    /* it is a subset worth having: at most half of the whole when the whole
     * is large */
    if (n >= 40)
        CHECK_MSG(k * 2 <= n, "D=%d %s: subset %d of %d", d, arch, k, n);
    printf("D=%d %s: %d valid variants, covering subset %d\n", d, arch, n, k);
out:
    free(all);
    free(sub);
}

int main(void)
{
    static const int dims[] = {64, 72, 128, 256, 512};
    for (int i = 0; i < 5; i++) {
        check_dim(dims[i], "sm_80");
        check_dim(dims[i], "sm_90");
    }
    return PF_TEST_RESULT();
}
