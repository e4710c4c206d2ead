/* The dump of `pftune masks --dump DIR` (masks_dump.h). Mask arrays are
 * allocated, so this is for test-sized layouts. */
#include "cli/masks_dump.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "attention/mask_encode.h"
#include "attention/tile_class.h"
#include "core/pf_error.h"

static int put(const char *dir, const char *name, const void *data, size_t n)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0)
        return pf_error_set("cannot write %s: %s", path, strerror(errno));
    return 0;
}

static int put_text(const char *dir, const char *name, const char *text)
{
    char line[PF_ERROR_MAX + 2];
    snprintf(line, sizeof line, "%s\n", text);
    return put(dir, name, line, strlen(line));
}

/* offsets as int64 (name.i64) and int32 (name.i32, or name.i32.err). */
static int put_indptr(const char *dir, const char *name, const int64_t *offsets, int n_req,
                      const char *what)
{
    char file[256];
    snprintf(file, sizeof file, "%s.i64", name);
    if (put(dir, file, offsets, ((size_t)n_req + 1) * 8) < 0)
        return -1;
    void *a = NULL;
    if (pf_indptr_encode(offsets, n_req, 4, what, &a) < 0) {
        snprintf(file, sizeof file, "%s.i32.err", name);
        return put_text(dir, file, pf_error_get());
    }
    snprintf(file, sizeof file, "%s.i32", name);
    int rc = put(dir, file, a, ((size_t)n_req + 1) * 4);
    free(a);
    return rc;
}

static int dump_mask(const char *dir, const pf_layout *l, const pf_mask_spec *spec, int storage,
                     const char *layer)
{
    pf_mask_enc enc;
    char file[256];
    if (pf_mask_encode(l, storage, spec, 8, &enc) < 0)
        return -1;
    snprintf(file, sizeof file, "%s.%s.mask", layer, pf_storage_name(storage));
    int rc = put(dir, file, enc.mask, enc.mask_bytes);
    int64_t *off = malloc(((size_t)l->n_req + 1) * sizeof *off);
    char what[32];
    snprintf(what, sizeof what, "%s mask", pf_storage_name(storage));
    snprintf(file, sizeof file, "%s.%s.indptr", layer, pf_storage_name(storage));
    if (!rc && !off)
        rc = pf_error_set("out of memory");
    if (!rc) {
        memcpy(off, enc.indptr, ((size_t)l->n_req + 1) * 8);
        rc = put_indptr(dir, file, off, l->n_req, what);
    }
    free(off);
    pf_mask_enc_free(&enc);
    return rc;
}

/* What an int32 variant of this storage and tile size would be refused
 * for, in the launcher's order: qo, kv, mask, tile classes. */
static int dump_int32(const char *dir, const pf_layout *l, const pf_mask_spec *spec, int storage,
                      const int tile[2], const char *layer)
{
    int64_t *off = malloc(((size_t)l->n_req + 1) * sizeof *off);
    if (!off)
        return pf_error_set("out of memory");
    char what[32], file[256];
    snprintf(what, sizeof what, "%s mask", pf_storage_name(storage));
    int ok = pf_indptr_check(l->qo_indptr, l->n_req, 4, "qo indptr") == 0 &&
             pf_indptr_check(l->kv_indptr, l->n_req, 4, "kv indptr") == 0 &&
             (storage == PF_MASK_SPANS ||
              (pf_mask_offsets(l, storage, spec, off) == 0 &&
               pf_mask_indptr_check(l, storage, off, 4, what) == 0)) &&
             pf_tile_offsets(l, tile[0], tile[1], off) == 0 &&
             pf_indptr_check(off, l->n_req, 4, "tile classes") == 0;
    free(off);
    snprintf(file, sizeof file, "%s.int32.%s.%dx%d", layer, pf_storage_name(storage), tile[0],
             tile[1]);
    return put_text(dir, file, ok ? "ok" : pf_error_get());
}

static int dump_layer(const char *dir, const pf_layout *l, const pf_mask_spec *spec,
                      const int (*tiles)[2], int n_tiles)
{
    const char *layer = pf_layer_name(spec->layer);
    char file[256], text[128];
    pf_band b;
    if (pf_mask_band(l, spec, &b) < 0)
        return -1;
    snprintf(text, sizeof text, "%d %d %d %d", b.left, b.right, b.stride, b.past);
    snprintf(file, sizeof file, "%s.band", layer);
    if (put_text(dir, file, text) < 0)
        return -1;
    for (int s = PF_MASK_DENSE; s <= PF_MASK_WINDOW; s++)
        if (dump_mask(dir, l, spec, s, layer) < 0)
            return -1;
    for (int t = 0; t < n_tiles; t++) {
        pf_tile_map map;
        if (pf_tile_classify(l, spec, tiles[t][0], tiles[t][1], &map) < 0)
            return -1;
        snprintf(file, sizeof file, "%s.tiles.%dx%d.cls", layer, tiles[t][0], tiles[t][1]);
        int rc = put(dir, file, map.cls, map.n_tiles);
        snprintf(file, sizeof file, "%s.tiles.%dx%d.indptr.i64", layer, tiles[t][0], tiles[t][1]);
        if (!rc)
            rc = put(dir, file, map.indptr, ((size_t)l->n_req + 1) * 8);
        pf_tile_map_free(&map);
        for (int s = PF_MASK_DENSE; !rc && s <= PF_MASK_SPANS; s++)
            rc = dump_int32(dir, l, spec, s, tiles[t], layer);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int pf_masks_dump(const char *dir, const pf_layout *l, pf_rule rule, int window,
                  const int (*tiles)[2], int n_tiles)
{
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return pf_error_set("cannot create %s: %s", dir, strerror(errno));
    if (put_indptr(dir, "qo_indptr", l->qo_indptr, l->n_req, "qo indptr") < 0 ||
        put_indptr(dir, "kv_indptr", l->kv_indptr, l->n_req, "kv indptr") < 0)
        return -1;
    int32_t *g = malloc(((size_t)l->total_kv + 1) * sizeof *g);
    if (!g)
        return pf_error_set("out of memory");
    for (int r = 0; r < l->n_req; r++)
        memcpy(g + l->kv_indptr[r], l->req[r].group, (size_t)l->req[r].kv_len * sizeof *g);
    int rc = put(dir, "group_ids.i32", g, (size_t)l->total_kv * sizeof *g);
    free(g);
    for (int layer = PF_LAYER_FULL; !rc && layer <= PF_LAYER_SLIDING; layer++) {
        if (rule == PF_RULE_BIDIRECTIONAL && layer == PF_LAYER_SLIDING)
            break;
        pf_mask_spec spec = {rule, (pf_layer)layer, window};
        rc = dump_layer(dir, l, &spec, tiles, n_tiles);
    }
    return rc;
}
