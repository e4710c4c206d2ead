/* EMPTY / FULL / PARTIAL per BLOCK_M x BLOCK_N tile, in O(1) per tile: the
 * keys of query q form an interval [lo(q), hi(q)] with lo and hi
 * nondecreasing in q (pf_mask_row_interval), so a tile's extreme rows
 * decide it. */
#include "attention/tile_class.h"

#include <stdlib.h>

#include "core/pf_error.h"

static int64_t ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

int pf_tile_offsets(const pf_layout *layout, int block_m, int block_n, int64_t *offsets)
{
    if (block_m <= 0 || block_n <= 0)
        return pf_error_set("tile sizes must be positive (got %d x %d)", block_m, block_n);
    offsets[0] = 0;
    for (int r = 0; r < layout->n_req; r++)
        offsets[r + 1] = offsets[r] + ceil_div(layout->req[r].q_len, block_m) *
                                          ceil_div(layout->req[r].kv_len, block_n);
    return 0;
}

int pf_tile_class_one(const pf_layout *layout, int req, const pf_mask_spec *spec, int block_m,
                      int block_n, int64_t qtile, int64_t ktile)
{
    const pf_request *rq = &layout->req[req];
    int64_t q0 = rq->prefix + qtile * block_m;
    int64_t q1 = rq->prefix + (qtile * block_m + block_m < rq->q_len ? qtile * block_m + block_m
                                                                     : rq->q_len) - 1;
    int64_t k0 = ktile * block_n;
    int64_t k1 = (k0 + block_n < rq->kv_len ? k0 + block_n : rq->kv_len) - 1;
    int64_t lo0, hi0, lo1, hi1;
    pf_mask_row_interval(layout, req, q0, spec, &lo0, &hi0);
    pf_mask_row_interval(layout, req, q1, spec, &lo1, &hi1);
    if (lo1 <= k0 && hi0 >= k1)
        return PF_TILE_FULL;
    /* Rows whose interval starts by k1 are a prefix [q0, qs] of the tile;
     * of those, the last reaches furthest right. */
    int64_t qs = q1;
    if (spec->layer == PF_LAYER_SLIDING && k1 + spec->window - 1 < qs)
        qs = k1 + spec->window - 1; /* lo(q) = q-W+1 <= k1 */
    if (qs < q0)
        return PF_TILE_EMPTY;
    int64_t lo, hi;
    pf_mask_row_interval(layout, req, qs, spec, &lo, &hi);
    return lo <= k1 && hi >= k0 ? PF_TILE_PARTIAL : PF_TILE_EMPTY;
}

int pf_tile_classify(const pf_layout *layout, const pf_mask_spec *spec, int block_m,
                     int block_n, pf_tile_map *out)
{
    *out = (pf_tile_map){.block_m = block_m, .block_n = block_n};
    if (pf_mask_spec_check(spec) < 0)
        return -1;
    out->indptr = malloc(((size_t)layout->n_req + 1) * sizeof(int64_t));
    if (!out->indptr)
        return pf_error_set("tile classes: out of memory");
    if (pf_tile_offsets(layout, block_m, block_n, out->indptr) < 0)
        goto fail;
    out->n_tiles = (size_t)out->indptr[layout->n_req];
    out->cls = malloc(out->n_tiles + 1);
    if (!out->cls) {
        pf_error_set("tile classes: cannot allocate %zu bytes", out->n_tiles);
        goto fail;
    }
    for (int r = 0; r < layout->n_req; r++) {
        const pf_request *rq = &layout->req[r];
        int64_t nq = ceil_div(rq->q_len, block_m), nk = ceil_div(rq->kv_len, block_n);
        unsigned char *c = out->cls + out->indptr[r];
        for (int64_t t = 0; t < nq; t++)
            for (int64_t u = 0; u < nk; u++) {
                int cls = pf_tile_class_one(layout, r, spec, block_m, block_n, t, u);
                c[t * nk + u] = (unsigned char)cls;
                out->n_empty += cls == PF_TILE_EMPTY;
                out->n_full += cls == PF_TILE_FULL;
                out->n_partial += cls == PF_TILE_PARTIAL;
            }
    }
    return 0;
fail:
    pf_tile_map_free(out);
    return -1;
}

void pf_tile_map_free(pf_tile_map *map)
{
    free(map->cls);
    free(map->indptr);
    map->cls = NULL;
    map->indptr = NULL;
}
