/* Tile classification for TILE_SKIP: each BLOCK_M x BLOCK_N tile of a
 * request's (query row, key position) matrix is EMPTY (no allowed pair),
 * FULL (every in-range pair allowed) or PARTIAL (kernels/attention_params.h).
 *
 * Request r has ceil(q_len/BLOCK_M) query tiles (tile t: query rows
 * [t*BLOCK_M, (t+1)*BLOCK_M), positions prefix + row) and
 * ceil(kv_len/BLOCK_N) key tiles (tile u: key positions [u*BLOCK_N, ...));
 * classes are row-major over (t, u), one byte each, request r starting at
 * byte indptr[r]. Rows/columns past the request's end are ignored.
 *
 * Each tile is classified in O(1) from the per-row key interval of
 * pf_mask_row_interval (lo and hi are nondecreasing in q); the tests compare
 * it with brute force over pf_mask_allowed. */
#ifndef PF_TILE_CLASS_H
#define PF_TILE_CLASS_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/attention_params.h"
#include "attention/layout.h"
#include "attention/mask_rule.h"

typedef struct pf_tile_map {
    int block_m, block_n;
    unsigned char *cls;  /* PF_TILE_* per tile */
    size_t n_tiles;
    int64_t *indptr;     /* [n_req+1] byte offsets (host int64; encode with
                            pf_indptr_encode for the kernel) */
    int64_t n_empty, n_full, n_partial;
} pf_tile_map;

/* Tile offsets only (offsets[0..n_req], nothing allocated). */
int pf_tile_offsets(const pf_layout *layout, int block_m, int block_n, int64_t *offsets);

/* Class of one tile (qtile t, ktile u) of request req. */
int pf_tile_class_one(const pf_layout *layout, int req, const pf_mask_spec *spec, int block_m,
                      int block_n, int64_t qtile, int64_t ktile);

int pf_tile_classify(const pf_layout *layout, const pf_mask_spec *spec, int block_m,
                     int block_n, pf_tile_map *out);
void pf_tile_map_free(pf_tile_map *map);

#endif
