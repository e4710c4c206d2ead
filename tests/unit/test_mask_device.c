/* Device mask encoders (kernels/mask_build.cu via harness/attention/mask_device.c) on
 * the emu backend: for random layouts (prefixes, odd sizes, one-token
 * requests), every rule x layer, int32/int64 indptr and storage dense /
 * bitmap / window, the bytes copied back equal pf_mask_encode's exactly,
 * padding bits included; the output is poisoned first so an unwritten byte
 * shows. Tile classes equal pf_tile_classify's. Refusals match the host
 * path's messages. The kernel also compiles with NVRTC for sm_80/sm_90. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/device.h"
#include "jit/jit.h"
#include "attention/layout.h"
#include "attention/mask_device.h"
#include "attention/mask_encode.h"
#include "core/pf_error.h"
#include "pf_test.h"
#include "attention/tile_class.h"

static pf_device *dev;
static unsigned rng = 12345;

static unsigned next_rand(void)
{
    rng = rng * 1103515245u + 12345u;
    return rng >> 8;
}

/* Copy a device buffer back (NULL on failure, recorded as a CHECK). */
static unsigned char *download(pf_dptr p, size_t n)
{
    unsigned char *h = malloc(n + 1);
    CHECK(h != NULL);
    if (h && pf_dev_copy_dtoh(dev, h, p, n, NULL)) {
        CHECK_MSG(0, "copy back: %s", pf_error_get());
        free(h);
        return NULL;
    }
    return h;
}

static void describe(char *buf, size_t n, const pf_layout *L, int storage,
                     const pf_mask_spec *s, int ib)
{
    char *ls = pf_layout_to_string(L);
    snprintf(buf, n, "%s %s/%s W=%d int%d layout %.200s", pf_storage_name(storage),
             pf_rule_name(s->rule), pf_layer_name(s->layer), s->window, ib * 8, ls ? ls : "?");
    free(ls);
}

static void check_mask(const pf_layout *L, int storage, const pf_mask_spec *spec, int ib,
                       const pf_mask_device_opts *o)
{
    char what[512];
    describe(what, sizeof what, L, storage, spec, ib);
    pf_mask_enc enc;
    if (pf_mask_encode(L, storage, spec, ib, &enc)) {
        CHECK_MSG(0, "host %s: %s", what, pf_error_get());
        return;
    }
    pf_mask_dev dm;
    if (pf_mask_encode_device(dev, L, storage, spec, ib, o, &dm)) {
        CHECK_MSG(0, "device %s: %s", what, pf_error_get());
        pf_mask_enc_free(&enc);
        return;
    }
    CHECK_MSG(dm.mask_bytes == enc.mask_bytes, "%s: %zu vs %zu bytes", what, dm.mask_bytes,
              enc.mask_bytes);
    CHECK_MSG(memcmp(&dm.band, &enc.band, sizeof enc.band) == 0, "%s: band differs", what);
    CHECK_MSG(dm.use_causal == enc.use_causal && dm.use_same == enc.use_same &&
                  dm.window == enc.window,
              "%s: flags differ", what);
    size_t ind_bytes = ((size_t)L->n_req + 1) * (size_t)ib;
    unsigned char *ind = download(dm.indptr, ind_bytes);
    if (ind)
        CHECK_MSG(memcmp(ind, enc.indptr, ind_bytes) == 0, "%s: indptr differs", what);
    if (dm.mask_bytes == enc.mask_bytes) {
        unsigned char *m = download(dm.mask, dm.mask_bytes);
        if (m && memcmp(m, enc.mask, enc.mask_bytes) != 0) {
            size_t i = 0;
            while (m[i] == enc.mask[i])
                i++;
            CHECK_MSG(0, "%s: byte %zu of %zu is 0x%02x, host 0x%02x", what, i, enc.mask_bytes,
                      m[i], enc.mask[i]);
        } else {
            CHECK(m != NULL);
        }
        free(m);
    }
    free(ind);
    CHECK(pf_mask_dev_free(dev, &dm) == 0);
    pf_mask_enc_free(&enc);
}

static void check_tiles(const pf_layout *L, const pf_mask_spec *spec, int bm, int bn, int ib,
                        const pf_mask_device_opts *o)
{
    char what[512];
    describe(what, sizeof what, L, 0, spec, ib);
    pf_tile_map map;
    if (pf_tile_classify(L, spec, bm, bn, &map)) {
        CHECK_MSG(0, "host tiles %s: %s", what, pf_error_get());
        return;
    }
    pf_tile_dev td;
    if (pf_tile_classify_device(dev, L, spec, bm, bn, ib, o, &td)) {
        CHECK_MSG(0, "device tiles %s: %s", what, pf_error_get());
        pf_tile_map_free(&map);
        return;
    }
    CHECK_MSG(td.n_tiles == map.n_tiles, "tiles %s: %zu vs %zu", what, td.n_tiles, map.n_tiles);
    if (td.n_tiles == map.n_tiles) {
        unsigned char *c = download(td.cls, td.n_tiles);
        CHECK_MSG(c && memcmp(c, map.cls, map.n_tiles) == 0, "tiles %dx%d %s differ", bm, bn,
                  what);
        free(c);
    }
    void *hind = NULL;
    CHECK(pf_indptr_encode(map.indptr, L->n_req, ib, "tile classes", &hind) == 0);
    size_t ind_bytes = ((size_t)L->n_req + 1) * (size_t)ib;
    unsigned char *ind = download(td.indptr, ind_bytes);
    CHECK_MSG(hind && ind && memcmp(ind, hind, ind_bytes) == 0, "tiles %s: indptr differs", what);
    free(ind);
    free(hind);
    CHECK(pf_tile_dev_free(dev, &td) == 0);
    pf_tile_map_free(&map);
}

static const pf_mask_spec specs[] = {
    {PF_RULE_CAUSAL, PF_LAYER_FULL, 0},        {PF_RULE_CAUSAL, PF_LAYER_SLIDING, 0},
    {PF_RULE_GEMMA3, PF_LAYER_FULL, 0},        {PF_RULE_GEMMA3, PF_LAYER_SLIDING, 0},
    {PF_RULE_GEMMA4, PF_LAYER_FULL, 0},        {PF_RULE_GEMMA4, PF_LAYER_SLIDING, 0},
    {PF_RULE_BIDIRECTIONAL, PF_LAYER_FULL, 0},
};
#define N_SPECS ((int)(sizeof specs / sizeof specs[0]))

static void random_opts(pf_mask_device_opts *o)
{
    static const int threads[] = {0, 32, 64, 96};
    static const int rows[] = {0, 1, 3, 7};
    pf_mask_device_opts_init(o);
    o->poison = 0xA5;
    o->threads = threads[next_rand() % 4];
    o->rows_per_work = rows[next_rand() % 4];
}

static void test_random_layouts(int n_layouts)
{
    static const int windows[] = {1, 2, 5, 16, 37, 100000};
    for (int li = 0; li < n_layouts; li++) {
        pf_layout *L = NULL;
        if (pf_layout_gen_random(1000 + (uint64_t)li, 1 + li % 5, li % 4 == 0 ? 500 : 120, &L)) {
            CHECK_MSG(0, "layout: %s", pf_error_get());
            continue;
        }
        for (int si = 0; si < N_SPECS; si++) {
            pf_mask_spec s = specs[si];
            if (s.layer == PF_LAYER_SLIDING)
                s.window = windows[next_rand() % 6];
            for (int ib = 4; ib <= 8; ib += 4)
                for (int st = PF_MASK_DENSE; st <= PF_MASK_WINDOW; st++) {
                    pf_mask_device_opts o;
                    random_opts(&o);
                    check_mask(L, st, &s, ib, &o);
                }
            pf_mask_device_opts o;
            random_opts(&o);
            static const int bms[] = {16, 32, 64}, bns[] = {16, 32, 64};
            check_tiles(L, &s, bms[next_rand() % 3], bns[next_rand() % 3], 4 + 4 * (li & 1), &o);
        }
        pf_layout_free(L);
    }
}

/* Fixed layouts with the corners: kv_len < 8 (bitmap bytes span rows),
 * groups at both ends, a prefix, and a long group wider than a window. */
static void test_fixed_layouts(void)
{
    const char *layouts[] = {"t1", "i1", "i3;t2;v1,t1", "i7,t1,i9|t3,i5,t2", "t5|i40,t3,v8",
                             "i64,t1,i63;t20|t1,i30"};
    for (size_t li = 0; li < sizeof layouts / sizeof layouts[0]; li++) {
        pf_layout *L = NULL;
        if (pf_layout_parse(layouts[li], &L)) {
            CHECK_MSG(0, "%s: %s", layouts[li], pf_error_get());
            continue;
        }
        for (int si = 0; si < N_SPECS; si++) {
            pf_mask_spec s = specs[si];
            if (s.layer == PF_LAYER_SLIDING)
                s.window = 1 + (int)(li * 7 % 13);
            for (int st = PF_MASK_DENSE; st <= PF_MASK_WINDOW; st++) {
                pf_mask_device_opts o;
                random_opts(&o);
                check_mask(L, st, &s, 8, &o);
            }
            check_tiles(L, &s, 16, 16, 4, NULL);
        }
        pf_layout_free(L);
    }
}

/* Inputs already on the device are used as given (no upload). */
static void test_device_inputs(void)
{
    pf_layout *L = NULL;
    if (pf_layout_parse("t9,i12,t4|t2,i6,t7;i5,t3", &L)) {
        CHECK_MSG(0, "%s", pf_error_get());
        return;
    }
    int32_t *g = malloc((size_t)L->total_kv * sizeof *g);
    for (int r = 0; r < L->n_req; r++)
        memcpy(g + L->kv_indptr[r], L->req[r].group, (size_t)L->req[r].kv_len * sizeof *g);
    void *qo = NULL, *kv = NULL;
    CHECK(pf_layout_indptr_encode(L, 8, &qo, &kv) == 0);
    pf_mask_device_opts o;
    pf_mask_device_opts_init(&o);
    o.poison = 0x5A;
    size_t n = ((size_t)L->n_req + 1) * 8;
    CHECK(pf_dev_alloc(dev, (size_t)L->total_kv * sizeof *g, "test groups", &o.group_ids) == 0);
    CHECK(pf_dev_alloc(dev, n, "test qo", &o.qo_indptr) == 0);
    CHECK(pf_dev_alloc(dev, n, "test kv", &o.kv_indptr) == 0);
    CHECK(pf_dev_copy_htod(dev, o.group_ids, g, (size_t)L->total_kv * sizeof *g, NULL) == 0);
    CHECK(pf_dev_copy_htod(dev, o.qo_indptr, qo, n, NULL) == 0);
    CHECK(pf_dev_copy_htod(dev, o.kv_indptr, kv, n, NULL) == 0);
    pf_mask_spec s = {PF_RULE_GEMMA4, PF_LAYER_SLIDING, 6};
    for (int st = PF_MASK_DENSE; st <= PF_MASK_WINDOW; st++)
        check_mask(L, st, &s, 8, &o);
    check_tiles(L, &s, 16, 32, 8, &o);
    CHECK(pf_dev_free(dev, o.group_ids) == 0);
    CHECK(pf_dev_free(dev, o.qo_indptr) == 0);
    CHECK(pf_dev_free(dev, o.kv_indptr) == 0);
    free(g);
    free(qo);
    free(kv);
    pf_layout_free(L);
}

/* Refusals: same int32 message as the host encoder, decided before any
 * allocation (the dense mask here would be 2.7 GB); spans; bad spec. */
static void test_refusals(void)
{
    pf_layout *L = NULL;
    if (pf_layout_parse("t10;t52000", &L)) {
        CHECK_MSG(0, "%s", pf_error_get());
        return;
    }
    pf_mask_spec s = {PF_RULE_CAUSAL, PF_LAYER_FULL, 0};
    pf_mask_enc enc;
    CHECK(pf_mask_encode(L, PF_MASK_DENSE, &s, 4, &enc) == -1);
    char host_msg[PF_ERROR_MAX];
    snprintf(host_msg, sizeof host_msg, "%s", pf_error_get());
    pf_mask_dev dm;
    CHECK(pf_mask_encode_device(dev, L, PF_MASK_DENSE, &s, 4, NULL, &dm) == -1);
    CHECK_MSG(strcmp(pf_error_get(), host_msg) == 0, "device '%s' vs host '%s'", pf_error_get(),
              host_msg);
    CHECK(strstr(host_msg, "INT32_MAX") != NULL);
    CHECK(dm.mask == 0 && dm.indptr == 0);
    pf_layout_free(L);
    /* bitmap: the bit index, not the bytes, passes INT32_MAX first */
    if (pf_layout_parse("t46341", &L)) {
        CHECK_MSG(0, "%s", pf_error_get());
        return;
    }
    CHECK(pf_mask_encode(L, PF_MASK_BITMAP, &s, 4, &enc) == -1);
    snprintf(host_msg, sizeof host_msg, "%s", pf_error_get());
    CHECK(pf_mask_encode_device(dev, L, PF_MASK_BITMAP, &s, 4, NULL, &dm) == -1);
    CHECK_MSG(strcmp(pf_error_get(), host_msg) == 0, "device '%s' vs host '%s'", pf_error_get(),
              host_msg);
    CHECK(strstr(host_msg, "bit index 2147488280") != NULL);
    CHECK(dm.mask == 0 && dm.indptr == 0);
    CHECK(pf_mask_encode_device(dev, L, PF_MASK_SPANS, &s, 8, NULL, &dm) == -1);
    CHECK(strstr(pf_error_get(), "spans") != NULL);
    pf_mask_spec bad = {PF_RULE_BIDIRECTIONAL, PF_LAYER_SLIDING, 4};
    CHECK(pf_mask_encode_device(dev, L, PF_MASK_BITMAP, &bad, 8, NULL, &dm) == -1);
    CHECK(pf_mask_encode_device(dev, L, PF_MASK_BITMAP, &s, 3, NULL, &dm) == -1);
    pf_layout_free(L);
}

static void test_nvrtc(const char *target, const char *storage_def, const char *value,
                       const char *indptr)
{
    pf_variant v;
    pf_jit_result r;
    memset(&v, 0, sizeof v);
    snprintf(v.source, sizeof v.source, "%s/mask_build.cu", pf_kernel_dir());
    snprintf(v.target, sizeof v.target, "%s", target);
    CHECK(pf_variant_add_define(&v, "INDPTR_T", indptr) == 0);
    CHECK(pf_variant_add_define(&v, storage_def, value) == 0);
    if (pf_jit_compile(&v, &r) != 0) {
        CHECK_MSG(0, "%s %s=%s: %s", target, storage_def, value, pf_error_get());
        return;
    }
    CHECK_MSG(r.valid, "%s %s=%s %s: %s", target, storage_def, value, indptr, r.log ? r.log : "");
    CHECK_MSG(!r.valid || r.res.registers > 0, "%s %s=%s: %d registers", target, storage_def,
              value, r.res.registers);
    pf_jit_result_free(&r);
}

int main(void)
{
    CHECK_MSG(pf_emu_open("sm_90", &dev) == 0, "%s", pf_error_get());
    if (!dev)
        return PF_TEST_RESULT();
    test_fixed_layouts();
    test_device_inputs();
    test_refusals();
    const char *n = getenv("PFTUNE_MASK_DEVICE_LAYOUTS"); /* more for a soak run */
    test_random_layouts(n ? atoi(n) : 80);
    const char *targets[] = {"sm_80", "sm_90"};
    for (int t = 0; t < 2; t++) {
        const char *idx = t ? "long long" : "int";
        test_nvrtc(targets[t], "MASK_STORAGE", "0", idx);
        test_nvrtc(targets[t], "MASK_STORAGE", "1", idx);
        test_nvrtc(targets[t], "MASK_STORAGE", "2", idx);
        test_nvrtc(targets[t], "TILE_BUILD", "1", idx);
    }
    pf_device_close(dev);
    return PF_TEST_RESULT();
}
