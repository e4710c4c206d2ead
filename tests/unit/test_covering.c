/* Covering subsets on synthetic axes with random constraints: the greedy
 * selection must contain every value and every required pair that some
 * valid item has (checked here by brute force, independently of
 * pf_cover_check), and be much smaller than the full set when it can. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attention/covering.h"
#include "pf_test.h"

typedef struct constraint_ctx {
    int n_axes;
    /* forbidden (axis a value x) together with (axis b value y) */
    int n_forbidden;
    int forbidden[16][4];
} constraint_ctx;

static int valid_combo(const int *idx, void *p)
{
    const constraint_ctx *c = p;
    for (int i = 0; i < c->n_forbidden; i++) {
        const int *f = c->forbidden[i];
        if (idx[f[0]] == f[1] && idx[f[2]] == f[3])
            return 0;
    }
    return 1;
}

static uint64_t rng_state;
static int rnd(int n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (int)((rng_state >> 33) % (uint64_t)n);
}

/* Brute force: does sel cover every (factor,value) and pair combo in rows? */
static int brute_covered(const int *rows, int n_rows, int n_f, const int (*pairs)[2], int n_pairs,
                         const int *sel, int n_sel)
{
    for (int i = 0; i < n_rows; i++) {
        const int *r = rows + i * n_f;
        for (int f = 0; f < n_f; f++) {
            int found = 0;
            for (int s = 0; s < n_sel && !found; s++)
                found = rows[sel[s] * n_f + f] == r[f];
            if (!found)
                return 0;
        }
        for (int j = 0; j < n_pairs; j++) {
            int a = pairs[j][0], b = pairs[j][1], found = 0;
            for (int s = 0; s < n_sel && !found; s++)
                found = rows[sel[s] * n_f + a] == r[a] && rows[sel[s] * n_f + b] == r[b];
            if (!found)
                return 0;
        }
    }
    return 1;
}

static void test_random_axes(int trial)
{
    int n_axes = 3 + rnd(4);
    int sizes[8];
    for (int a = 0; a < n_axes; a++)
        sizes[a] = 2 + rnd(4);
    constraint_ctx c = {.n_axes = n_axes, .n_forbidden = rnd(8)};
    for (int i = 0; i < c.n_forbidden; i++) {
        int a = rnd(n_axes), b = (a + 1 + rnd(n_axes - 1)) % n_axes;
        c.forbidden[i][0] = a;
        c.forbidden[i][1] = rnd(sizes[a]);
        c.forbidden[i][2] = b;
        c.forbidden[i][3] = rnd(sizes[b]);
    }
    int *rows = NULL;
    int n = pf_cover_enumerate(sizes, n_axes, valid_combo, &c, &rows);
    CHECK(n >= 0);
    if (n <= 0) {
        free(rows);
        return;
    }
    /* every enumerated row is valid, and the count matches a direct count */
    long product = 1;
    for (int a = 0; a < n_axes; a++)
        product *= sizes[a];
    int direct = 0;
    for (long k = 0; k < product; k++) {
        int idx[8];
        long rest = k;
        for (int a = n_axes - 1; a >= 0; a--) {
            idx[a] = (int)(rest % sizes[a]);
            rest /= sizes[a];
        }
        direct += valid_combo(idx, &c);
    }
    CHECK_MSG(direct == n, "trial %d: enumerate kept %d, direct count %d", trial, n, direct);

    int pairs[4][2];
    int n_pairs = 1 + rnd(3);
    for (int j = 0; j < n_pairs; j++) {
        pairs[j][0] = rnd(n_axes);
        pairs[j][1] = (pairs[j][0] + 1 + rnd(n_axes - 1)) % n_axes;
    }
    pf_cover_problem p = {n, n_axes, rows, n_pairs, (const int(*)[2])pairs};
    int *sel = malloc(sizeof(int) * (size_t)n);
    int k = pf_cover_select(&p, sel, n);
    CHECK(k > 0 && k <= n);
    char why[256] = "";
    CHECK_MSG(pf_cover_check(&p, sel, k, why, sizeof why) == 1, "trial %d: %s", trial, why);
    CHECK_MSG(brute_covered(rows, n, n_axes, (const int(*)[2])pairs, n_pairs, sel, k),
              "trial %d: brute force finds a gap", trial);
    /* no item selected twice */
    for (int i = 0; i < k; i++)
        for (int j = i + 1; j < k; j++)
            CHECK(sel[i] != sel[j]);
    /* with no constraints the greedy set is far below the full product:
     * at most (sum over pairs of |a||b|) + max axis size */
    if (c.n_forbidden == 0) {
        int bound = 0;
        for (int j = 0; j < n_pairs; j++)
            bound += sizes[pairs[j][0]] * sizes[pairs[j][1]];
        for (int a = 0; a < n_axes; a++)
            bound += sizes[a];
        CHECK_MSG(k <= bound, "trial %d: %d items > bound %d", trial, k, bound);
    }
    /* pf_cover_check agrees with brute force on a truncated selection */
    for (int m = 1; m < k; m++)
        CHECK(pf_cover_check(&p, sel, m, why, sizeof why) ==
              brute_covered(rows, n, n_axes, (const int(*)[2])pairs, n_pairs, sel, m));
    free(sel);
    free(rows);
}

/* A hand-checkable case: axes 3 x 4 with the pair (0,1) required needs
 * exactly 12 items; without pairs, 4 items. */
static void test_exact_sizes(void)
{
    int sizes[3] = {3, 4, 2};
    int *rows = NULL;
    int n = pf_cover_enumerate(sizes, 3, NULL, NULL, &rows);
    CHECK(n == 24);
    int sel[24];
    int pairs[1][2] = {{0, 1}};
    pf_cover_problem with_pair = {n, 3, rows, 1, (const int(*)[2])pairs};
    CHECK(pf_cover_select(&with_pair, sel, 24) == 12);
    pf_cover_problem no_pair = {n, 3, rows, 0, NULL};
    CHECK(pf_cover_select(&no_pair, sel, 24) == 4);
    /* too little room is an error, not a truncated answer */
    CHECK(pf_cover_select(&with_pair, sel, 5) == -1);
    /* a selection missing a value is reported */
    int one[1] = {0};
    char why[128] = "";
    CHECK(pf_cover_check(&no_pair, one, 1, why, sizeof why) == 0);
    CHECK(strstr(why, "never selected") != NULL);
    free(rows);
}

/* Factor tables from key=value strings, with a compound factor. */
static void test_keyvals(void)
{
    const char *items[] = {
        "BLOCK_M=64,BLOCK_N=64,MASK_STORAGE=spans",
        "BLOCK_M=64,BLOCK_N=32,MASK_STORAGE=dense",
        "BLOCK_M=128,BLOCK_N=64,MASK_STORAGE=spans",
        "BLOCK_M=64,BLOCK_N=64,MASK_STORAGE=dense",
        "BLOCK_M=128,BLOCK_N=64,MASK_STORAGE=dense",
        "BLOCK_M=64,BLOCK_N=32,MASK_STORAGE=spans",
    };
    const char *compounds[] = {"BLOCK_M+BLOCK_N"};
    pf_cover_table t;
    CHECK(pf_cover_table_from_keyvals(items, 6, compounds, 1, &t) == 0);
    CHECK(t.n_factors == 4);
    int fm = pf_cover_table_factor(&t, "MASK_STORAGE");
    int fb = pf_cover_table_factor(&t, "BLOCK_M+BLOCK_N");
    CHECK(fm >= 0 && fb >= 0);
    CHECK(t.n_value_names[fb] == 3);
    CHECK(t.n_value_names[fm] == 2);
    CHECK(pf_cover_table_factor(&t, "NOPE") == -1);
    int pairs[1][2] = {{fm, fb}};
    pf_cover_problem p = {t.n_items, t.n_factors, t.values, 1, (const int(*)[2])pairs};
    int sel[6];
    int k = pf_cover_select(&p, sel, 6);
    CHECK(k == 6); /* 2 storages x 3 shapes, all present */
    pf_cover_table_free(&t);

    const char *bad[] = {"BLOCK_M64"};
    CHECK(pf_cover_table_from_keyvals(bad, 1, NULL, 0, &t) == -1);
}

int main(void)
{
    rng_state = (uint64_t)time(NULL) ^ ((uint64_t)clock() << 20);
    printf("seed %llu\n", (unsigned long long)rng_state);
    for (int trial = 0; trial < 200; trial++)
        test_random_axes(trial);
    test_exact_sizes();
    test_keyvals();
    return PF_TEST_RESULT();
}
