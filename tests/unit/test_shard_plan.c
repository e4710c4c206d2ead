/* Shard plans (tuner/shard_plan.h): every point gets one shard in range;
 * the plan does not depend on the order the items come in; the loads of
 * any two shards differ by at most the largest item (the greedy rule's
 * bound), so a few very long points are spread one per shard instead of
 * landing together; bad shard counts are refused. */
#include "core/pf_error.h"
#include "pf_test.h"
#include "tuner/shard_plan.h"

#define N_ITEMS 600

static void loads(const pf_shard_item *it, int n, int shards, uint64_t *load)
{
    memset(load, 0, sizeof *load * (size_t)shards);
    for (int k = 0; k < n; k++)
        load[it[k].shard] += it[k].cost;
}

/* A sweep like a long-context profile: 8 problems of 128K points costing
 * ~65536x a 512-token point, then many short problems. */
static void long_context(void)
{
    enum { SHARDS = 4 };
    pf_shard_item it[8 * 6 + 40 * 12];
    int n = 0;
    for (int p = 0; p < 8; p++)
        for (int c = 0; c < 6; c++)
            it[n++] = (pf_shard_item){pf_shard_cost(65536.0 * 1e9), 1000u * (uint64_t)p + (uint64_t)c, -1};
    for (int p = 0; p < 40; p++)
        for (int c = 0; c < 12; c++)
            it[n++] = (pf_shard_item){pf_shard_cost(1e9 * (1 + p % 3)), 99000u + 100u * (uint64_t)p + (uint64_t)c, -1};
    CHECK(pf_shard_assign(it, n, SHARDS) == 0);
    int big[SHARDS] = {0}, small[SHARDS] = {0};
    for (int k = 0; k < n; k++) {
        CHECK(it[k].shard >= 0 && it[k].shard < SHARDS);
        (k < 48 ? big : small)[it[k].shard]++;
    }
    for (int s = 0; s < SHARDS; s++) {
        CHECK_MSG(big[s] == 12, "shard %d has %d of the 48 long points", s, big[s]);
        CHECK_MSG(small[s] >= 110 && small[s] <= 130, "shard %d has %d short points", s, small[s]);
    }
}

static void shuffle(pf_shard_item *it, int n)
{
    for (int k = n - 1; k > 0; k--) {
        int j = (int)(pf_test_rng() % (uint64_t)(k + 1));
        pf_shard_item t = it[k];
        it[k] = it[j], it[j] = t;
    }
}

static int by_key(const void *a, const void *b)
{
    uint64_t x = ((const pf_shard_item *)a)->key, y = ((const pf_shard_item *)b)->key;
    return (x > y) - (x < y);
}

static void random_plans(void)
{
    static pf_shard_item a[N_ITEMS], b[N_ITEMS];
    for (int round = 0; round < 50; round++) {
        int n = 1 + (int)(pf_test_rng() % N_ITEMS), shards = 1 + (int)(pf_test_rng() % 9);
        uint64_t max_cost = 0;
        for (int k = 0; k < n; k++) {
            /* costs with many ties, as points of one problem have */
            uint64_t cost = 1 + (pf_test_rng() % 7) * (pf_test_rng() % 1000);
            a[k] = (pf_shard_item){cost, pf_test_rng() | 1, -1};
            max_cost = cost > max_cost ? cost : max_cost;
        }
        memcpy(b, a, sizeof *a * (size_t)n);
        shuffle(b, n);
        CHECK(pf_shard_assign(a, n, shards) == 0);
        CHECK(pf_shard_assign(b, n, shards) == 0);
        qsort(a, (size_t)n, sizeof *a, by_key);
        qsort(b, (size_t)n, sizeof *b, by_key);
        int same = 1;
        for (int k = 0; k < n; k++)
            same &= a[k].shard == b[k].shard && a[k].shard >= 0 && a[k].shard < shards;
        CHECK_MSG(same, "round %d: the plan depends on the input order", round);
        uint64_t load[9], lo = UINT64_MAX, hi = 0;
        loads(a, n, shards, load);
        for (int s = 0; s < shards; s++)
            lo = load[s] < lo ? load[s] : lo, hi = load[s] > hi ? load[s] : hi;
        CHECK_MSG(hi - lo <= max_cost, "round %d: loads %llu..%llu, largest item %llu", round,
                  (unsigned long long)lo, (unsigned long long)hi, (unsigned long long)max_cost);
    }
}

static void edges(void)
{
    pf_shard_item one = {5, 1, -1};
    CHECK(pf_shard_assign(&one, 1, 1) == 0 && one.shard == 0);
    CHECK(pf_shard_assign(NULL, 0, 3) == 0);
    CHECK(pf_shard_assign(&one, 1, 0) == -1 && strstr(pf_error_get(), "shards"));
    CHECK(pf_shard_cost(0) == 1 && pf_shard_cost(-1) == 1);
    CHECK(pf_shard_cost(2.5e6) == 3);
    CHECK(pf_shard_cost(1e300) > pf_shard_cost(1e15));
}

int main(void)
{
    pf_test_seed();
    long_context();
    random_plans();
    edges();
    return PF_TEST_RESULT();
}
