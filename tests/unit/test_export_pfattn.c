/* The exported pfattn runtime's builders against pftune's encoders, linked
 * into one program: byte-identical group ids, masks (dense, bitmap, window
 * band), indptrs and tile classes on seeded random multimodal layouts for
 * every rule and layer, and the same int32 refusal messages (bitmap bit
 * index and offsets) on layouts too large to encode. The runtime re-
 * implements the encoders because the package must not depend on pftune;
 * this test is what keeps the two copies one behaviour. */
#include <stdlib.h>
#include <string.h>

#include "pf_test.h"

#include "../../pfattn/pfattn_layout.c"
#include "../../pfattn/pfattn_masks.c"

#include "attention/layout.h"
#include "attention/mask_encode.h"
#include "attention/tile_class.h"
#include "core/pf_error.h"

/* The same requests as a pfattn layout. */
static pfattn_layout *mirror(const pf_layout *l)
{
    int64_t *lens = malloc((size_t)l->n_req * 8), *prefix = malloc((size_t)l->n_req * 8);
    int64_t *types = malloc(((size_t)l->total_kv + 1) * 8);
    for (int r = 0, o = 0; r < l->n_req; r++) {
        lens[r] = l->req[r].kv_len;
        prefix[r] = l->req[r].prefix;
        for (int64_t i = 0; i < lens[r]; i++)
            types[o++] = l->req[r].types[i];
    }
    pfattn_layout *p = NULL;
    int rc = pfattn_layout_create(l->n_req, lens, prefix, types, &p);
    CHECK_MSG(rc == PFATTN_OK, "pfattn layout: %s", pfattn_last_error());
    free(lens);
    free(prefix);
    free(types);
    return p;
}

static void compare_spec(const pf_layout *l, const pfattn_layout *p, pf_mask_spec spec)
{
    int rule = (int)spec.rule, layer = (int)spec.layer, w = spec.window;
    size_t ni = (size_t)l->n_req + 1;
    for (int st = PF_MASK_DENSE; st <= PF_MASK_WINDOW; st++)
        for (int ib = 4; ib <= 8; ib += 4) {
            pf_mask_enc enc;
            int a = pf_mask_encode(l, st, &spec, ib, &enc);
            int64_t bytes = 0;
            CHECK(pfattn_mask_size(p, st, rule, layer, w, &bytes) == PFATTN_OK);
            unsigned char *m = malloc((size_t)bytes + 1);
            int64_t ind[ni];
            int b = pfattn_mask_encode(p, st, rule, layer, w, ib, m, ind);
            CHECK_MSG((a == 0) == (b == PFATTN_OK), "storage %d: pftune %d pfattn %d", st, a, b);
            if (a == 0 && b == PFATTN_OK) {
                CHECK(enc.mask_bytes == (size_t)bytes && memcmp(enc.mask, m, (size_t)bytes) == 0);
                CHECK(memcmp(enc.indptr, ind, ni * (size_t)ib) == 0);
                if (st == PF_MASK_WINDOW) {
                    pfattn_band pb;
                    CHECK(pfattn_mask_band(p, rule, layer, w, &pb) == PFATTN_OK);
                    CHECK(pb.left == enc.band.left && pb.right == enc.band.right &&
                          pb.stride == enc.band.stride && pb.past == enc.band.past);
                }
                pf_mask_enc_free(&enc);
            }
            free(m);
        }
    static const int tiles[][2] = {{16, 16}, {16, 32}, {64, 32}, {32, 64}, {128, 64}};
    for (size_t t = 0; t < sizeof tiles / sizeof tiles[0]; t++) {
        pf_tile_map map;
        CHECK(pf_tile_classify(l, &spec, tiles[t][0], tiles[t][1], &map) == 0);
        int64_t bytes = 0, ind[ni];
        CHECK(pfattn_tile_size(p, tiles[t][0], tiles[t][1], &bytes) == PFATTN_OK);
        unsigned char *cls = malloc((size_t)bytes + 1);
        CHECK(pfattn_tile_classes(p, rule, layer, w, tiles[t][0], tiles[t][1], 8, cls, ind) ==
              PFATTN_OK);
        CHECK_MSG(map.n_tiles == (size_t)bytes && memcmp(map.cls, cls, (size_t)bytes) == 0 &&
                      memcmp(map.indptr, ind, ni * 8) == 0,
                  "tile classes %dx%d rule %d layer %d W %d", tiles[t][0], tiles[t][1], rule,
                  layer, w);
        free(cls);
        pf_tile_map_free(&map);
    }
}

static void compare_layout(const pf_layout *l, int window)
{
    pfattn_layout *p = mirror(l);
    if (!p)
        return;
    size_t ni = (size_t)l->n_req + 1;
    int64_t qo[ni], kv[ni];
    int32_t *g = malloc(((size_t)l->total_kv + 1) * 4);
    CHECK(pfattn_indptr(p, 8, qo, kv) == PFATTN_OK);
    CHECK(memcmp(qo, l->qo_indptr, ni * 8) == 0 && memcmp(kv, l->kv_indptr, ni * 8) == 0);
    CHECK(pfattn_group_ids(p, g) == PFATTN_OK);
    for (int r = 0; r < l->n_req; r++)
        CHECK(memcmp(g + l->kv_indptr[r], l->req[r].group, (size_t)l->req[r].kv_len * 4) == 0);
    free(g);
    for (int rule = PF_RULE_CAUSAL; rule <= PF_RULE_BIDIRECTIONAL; rule++)
        for (int layer = PF_LAYER_FULL; layer <= PF_LAYER_SLIDING; layer++)
            if (!(rule == PF_RULE_BIDIRECTIONAL && layer == PF_LAYER_SLIDING))
                compare_spec(l, p, (pf_mask_spec){(pf_rule)rule, (pf_layer)layer, window});
    pfattn_layout_free(p);
}

/* pftune's int32 decision for a storage and tile size (the launcher's
 * order), as "ok" or its message. */
static void pftune_int32(const pf_layout *l, int st, const pf_mask_spec *spec, int bm, int bn,
                         char *out, size_t size)
{
    int64_t *off = malloc(((size_t)l->n_req + 1) * 8);
    char what[32];
    snprintf(what, sizeof what, "%s mask", pf_storage_name(st));
    int ok = pf_indptr_check(l->qo_indptr, l->n_req, 4, "qo indptr") == 0 &&
             pf_indptr_check(l->kv_indptr, l->n_req, 4, "kv indptr") == 0 &&
             (st == PF_MASK_SPANS || (pf_mask_offsets(l, st, spec, off) == 0 &&
                                      pf_mask_indptr_check(l, st, off, 4, what) == 0)) &&
             pf_tile_offsets(l, bm, bn, off) == 0 && pf_indptr_check(off, l->n_req, 4, "tile classes") == 0;
    snprintf(out, size, "%s", ok ? "ok" : pf_error_get());
    free(off);
}

static void compare_int32(const char *text)
{
    pf_layout *l;
    CHECK(pf_layout_parse(text, &l) == 0);
    pfattn_layout *p = mirror(l);
    for (int st = PF_MASK_DENSE; p && st <= PF_MASK_SPANS; st++)
        for (int layer = PF_LAYER_FULL; layer <= PF_LAYER_SLIDING; layer++) {
            pf_mask_spec spec = {PF_RULE_GEMMA3, (pf_layer)layer, 1024};
            char want[PF_ERROR_MAX];
            pftune_int32(l, st, &spec, 16, 16, want, sizeof want);
            int rc = pfattn_int32_check(p, st, PF_RULE_GEMMA3, layer, 1024, 16, 16);
            const char *got = rc == PFATTN_OK ? "ok" : pfattn_last_error();
            CHECK_MSG(strcmp(want, got) == 0, "%s %s: pftune '%s' pfattn '%s'", text,
                      pf_storage_name(st), want, got);
            CHECK(rc == PFATTN_OK || rc == PFATTN_ERR_OVERFLOW);
        }
    pfattn_layout_free(p);
    pf_layout_free(l);
}

int main(void)
{
    for (uint64_t seed = 1; seed <= 120; seed++) {
        pf_layout *l;
        CHECK(pf_layout_gen_random(seed, 4, 150, &l) == 0);
        compare_layout(l, (int)(seed % 60) + 1);
        pf_layout_free(l);
    }
    /* bitmap bit index (46341^2 - 1), dense offsets, tile offsets at 16x16 */
    compare_int32("t46340");
    compare_int32("t46341");
    compare_int32("t20000,i300,t30000");
    compare_int32("t10;t1000|t46000");
    /* layouts pftune refuses are refused too */
    int64_t lens[1] = {4}, prefix[1] = {2}, types[4] = {0, 1, 1, 0}, bad[4] = {0, 7, 0, 0};
    pfattn_layout *p = NULL;
    CHECK(pfattn_layout_create(1, lens, prefix, types, &p) == PFATTN_ERR_INVALID && !p);
    CHECK(strstr(pfattn_last_error(), "inside vision group") != NULL);
    CHECK(pfattn_layout_create(1, lens, NULL, bad, &p) == PFATTN_ERR_INVALID);
    CHECK(strstr(pfattn_last_error(), "has type 7") != NULL);
    return PF_TEST_RESULT();
}
