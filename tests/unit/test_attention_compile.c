/* Attention variants compile with NVRTC: every valid variant of every head
 * dim for sm_90, and for sm_80 a pairwise covering subset per head dim
 * (every pair of axis values that occurs among valid variants occurs) plus
 * the default (~1000 compiles, the README test command's longest test:
 * ~20 minutes under ASan on a 2-core machine; the JIT cache makes reruns
 * fast). PFTUNE_ATTN_COMPILE_FULL=1 compiles every valid variant for both
 * arches (~1600); PFTUNE_ATTN_COMPILE_QUICK=1 the subsets for both, for
 * quick local runs. Prints registers / spills / shared
 * memory per variant; fails when a default variant spills, or when the
 * dynamic + static shared memory of a variant exceeds the arch's limit. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attention/attn_variant.h"
#include "attention/covering.h"
#include "jit/jit.h"
#include "core/pf_error.h"
#include "pf_test.h"

#define N_FACTORS 7

static void factor_row(const pf_attn_variant *v, int *row)
{
    /* small value ids per axis */
    row[0] = __builtin_ctz((unsigned)v->block_m);
    row[1] = __builtin_ctz((unsigned)v->block_n);
    row[2] = __builtin_ctz((unsigned)v->warps);
    row[3] = v->stages;
    row[4] = v->mask_storage;
    row[5] = v->indptr64;
    row[6] = v->tile_skip;
}

/* Pairwise covering subset of vs (every pair of axis values that occurs
 * occurs in the subset); the default is kept too. Returns the new count. */
static int cover_subset(pf_attn_variant *vs, int n, const pf_attn_variant *dflt)
{
    int *values = (int *)malloc((size_t)n * N_FACTORS * sizeof *values);
    int pairs[N_FACTORS * (N_FACTORS - 1) / 2][2], np = 0;
    for (int i = 0; i < N_FACTORS; i++)
        for (int j = i + 1; j < N_FACTORS; j++) {
            pairs[np][0] = i;
            pairs[np][1] = j;
            np++;
        }
    for (int i = 0; i < n; i++)
        factor_row(&vs[i], values + (size_t)i * N_FACTORS);
    pf_cover_problem cp = {n, N_FACTORS, values, np, (const int(*)[2])pairs};
    int *sel = (int *)malloc((size_t)n * sizeof *sel);
    int k = pf_cover_select(&cp, sel, n);
    CHECK(k > 0);
    char why[256];
    CHECK_MSG(pf_cover_check(&cp, sel, k, why, sizeof why) == 1, "%s", why);
    pf_attn_variant *picked = (pf_attn_variant *)malloc((size_t)(k + 1) * sizeof *picked);
    int has_default = 0;
    for (int i = 0; i < k; i++) {
        picked[i] = vs[sel[i]];
        has_default |= pf_attn_variant_equal(&picked[i], dflt);
    }
    if (!has_default)
        picked[k++] = *dflt;
    memcpy(vs, picked, (size_t)k * sizeof *vs);
    free(picked);
    free(sel);
    free(values);
    return k;
}

static int compile_set(int head_dim, const char *arch, int all, int *spills_total)
{
    int n = pf_attn_variant_enumerate(head_dim, arch, NULL, 0);
    CHECK(n > 0);
    if (n <= 0)
        return 0;
    pf_attn_variant *vs = (pf_attn_variant *)malloc((size_t)(n + 1) * sizeof *vs);
    pf_attn_variant_enumerate(head_dim, arch, vs, n);
    pf_attn_variant dflt;
    pf_attn_variant_default(head_dim, arch, &dflt);
    if (!all)
        n = cover_subset(vs, n, &dflt);

    pf_variant *jvs = (pf_variant *)calloc((size_t)n, sizeof *jvs);
    pf_jit_result *res = (pf_jit_result *)calloc((size_t)n, sizeof *res);
    for (int i = 0; i < n; i++) {
        snprintf(jvs[i].source, sizeof jvs[i].source, "%s/attention.cu", pf_kernel_dir());
        snprintf(jvs[i].target, sizeof jvs[i].target, "%s", arch);
        CHECK(pf_attn_variant_defines(&vs[i], &jvs[i]) == 0);
    }
    CHECK_MSG(pf_jit_compile_many(jvs, n, 0, res) == 0, "%s", pf_error_get());
    size_t limit = pf_attn_arch_smem_limit(arch);
    for (int i = 0; i < n; i++) {
        char name[256];
        pf_attn_variant_to_string(&vs[i], name, sizeof name);
        const pf_resources *r = &res[i].res;
        size_t dyn = pf_attn_variant_smem_bytes(&vs[i]);
        int is_default = pf_attn_variant_equal(&vs[i], &dflt);
        printf("%s %-5s regs %3d spill %4d/%-4d stack %4d smem %6zu+%-4d %s%s\n", arch, "",
               r->registers, r->spill_stores, r->spill_loads, r->stack_frame, dyn, r->static_smem,
               name, is_default ? "  [default]" : "");
        CHECK_MSG(res[i].valid, "%s for %s failed to compile: %s", name, arch,
                  res[i].log ? res[i].log : "(no log)");
        if (!res[i].valid)
            continue;
        CHECK_MSG(r->registers > 0, "%s for %s: no register count", name, arch);
        CHECK_MSG(dyn + (size_t)r->static_smem <= limit, "%s for %s: smem %zu over %zu", name, arch,
                  dyn + (size_t)r->static_smem, limit);
        if (r->spill_stores || r->spill_loads)
            (*spills_total)++;
        if (is_default)
            CHECK_MSG(r->spill_stores == 0 && r->spill_loads == 0 && r->stack_frame == 0,
                      "default %s spills on %s: %d/%d bytes, stack %d", name, arch,
                      r->spill_stores, r->spill_loads, r->stack_frame);
    }
    for (int i = 0; i < n; i++)
        pf_jit_result_free(&res[i]);
    free(res);
    free(jvs);
    free(vs);
    return n;
}

int main(void)
{
    static const int dims[] = {64, 128, 72, 256, 512};
    static const char *const archs[] = {"sm_80", "sm_90"};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int total = 0;
    const char *quick_env = getenv("PFTUNE_ATTN_COMPILE_QUICK");
    const char *full_env = getenv("PFTUNE_ATTN_COMPILE_FULL");
    int quick = quick_env && atoi(quick_env) > 0, full = full_env && atoi(full_env) > 0;
    for (int a = 0; a < 2; a++)
        for (int d = 0; d < 5; d++) {
            /* sm_90 in full by default: the arch the kernels are tuned for */
            int every = full || (!quick && strcmp(archs[a], "sm_90") == 0);
            int spills = 0;
            int n = compile_set(dims[d], archs[a], every, &spills);
            printf("== HEAD_DIM=%d %s: %d variants compiled (%s), %d with spills\n", dims[d],
                   archs[a], n, every ? "all valid" : "pairwise covering subset + default", spills);
            total += n;
        }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%d compiles in %.1f s\n", total,
           (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    return PF_TEST_RESULT();
}
