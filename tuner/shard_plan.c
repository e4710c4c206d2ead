/* Greedy longest-processing-time shard assignment (see shard_plan.h): a
 * min-heap of shards by (load, index), items taken largest cost first. */
#include "tuner/shard_plan.h"

#include <math.h>
#include <stdlib.h>

#include "core/pf_error.h"

typedef struct bin {
    uint64_t load;
    int index;
} bin;

static int item_order(const void *a, const void *b)
{
    const pf_shard_item *x = *(pf_shard_item *const *)a, *y = *(pf_shard_item *const *)b;
    if (x->cost != y->cost)
        return x->cost > y->cost ? -1 : 1;
    return (x->key > y->key) - (x->key < y->key);
}

static int bin_less(const bin *a, const bin *b)
{
    return a->load < b->load || (a->load == b->load && a->index < b->index);
}

static void sift_down(bin *h, int n, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && bin_less(&h[l], &h[m]))
            m = l;
        if (r < n && bin_less(&h[r], &h[m]))
            m = r;
        if (m == i)
            return;
        bin t = h[i];
        h[i] = h[m], h[m] = t;
        i = m;
    }
}

int pf_shard_assign(pf_shard_item *items, int n, int n_shards)
{
    if (n_shards < 1)
        return pf_error_set("shards: want at least one, got %d", n_shards);
    if (n <= 0)
        return 0;
    pf_shard_item **order = malloc(sizeof *order * (size_t)n);
    bin *heap = malloc(sizeof *heap * (size_t)n_shards);
    if (!order || !heap) {
        free(order), free(heap);
        return pf_error_set("out of memory");
    }
    for (int k = 0; k < n; k++)
        order[k] = &items[k];
    qsort(order, (size_t)n, sizeof *order, item_order);
    /* all loads 0, indices ascending: already a heap */
    for (int s = 0; s < n_shards; s++)
        heap[s] = (bin){0, s};
    for (int k = 0; k < n; k++) {
        order[k]->shard = heap[0].index;
        heap[0].load += order[k]->cost;
        sift_down(heap, n_shards, 0);
    }
    free(order), free(heap);
    return 0;
}

uint64_t pf_shard_cost(double useful_flops)
{
    if (!(useful_flops > 0))
        return 1;
    double m = floor(useful_flops / 1e6);
    return (m < 1e15 ? (uint64_t)m : (uint64_t)1e15) + 1;
}
