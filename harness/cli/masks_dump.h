/* `pftune masks --dump DIR`: the encoders' bytes of one layout, one file
 * per array, so another implementation (the exported pfattn runtime) can be
 * compared byte for byte with `cmp`/`diff -r`. Format (raw little-endian):
 *   qo_indptr.i64 kv_indptr.i64, qo_indptr.i32 kv_indptr.i32 (or .i32.err:
 *   the refusal), group_ids.i32; per layer L (full, sliding; no sliding for
 *   bidirectional): L.band ("left right stride past"), L.S.mask and
 *   L.S.indptr.i64 (+ .i32 or .i32.err) for S in dense, bitmap, window,
 *   L.tiles.MxN.cls and L.tiles.MxN.indptr.i64 per tile size, and
 *   L.int32.S.MxN: "ok" or the int32 refusal for S in all four storages. */
#ifndef PF_MASKS_DUMP_H
#define PF_MASKS_DUMP_H

#include "attention/layout.h"
#include "attention/mask_rule.h"

#define PF_MASKS_DUMP_MAX_TILES 8

int pf_masks_dump(const char *dir, const pf_layout *l, pf_rule rule, int window,
                  const int (*tiles)[2], int n_tiles);

#endif
