/* Device mask encoders (kernels/mask_build.cu) on a real GPU: dense, bitmap
 * and window bytes and tile classes equal the host encoders' for layouts of
 * a few thousand tokens (images of 256, cached prefixes, odd lengths), every
 * rule x layer, int32/int64 indptr, poisoned output. Prints the device
 * encode time of a 32K-token bitmap next to the host's (informational).
 * Needs a GPU: without one it fails (GPU suite only). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cuda_test_util.h"
#include "attention/layout.h"
#include "attention/mask_device.h"
#include "attention/mask_encode.h"
#include "pf_test.h"
#include "attention/tile_class.h"

static pf_device *dev;

static int same_bytes(pf_dptr d, const void *host, size_t n)
{
    unsigned char *h = (unsigned char *)malloc(n + 1);
    int ok = h && pf_dev_copy_dtoh(dev, h, d, n, NULL) == 0 && memcmp(h, host, n) == 0;
    free(h);
    return ok;
}

static void check(const char *layout, const pf_mask_spec *s)
{
    pf_layout *L = NULL;
    if (pf_layout_parse(layout, &L)) {
        CHECK_MSG(0, "%s: %s", layout, pf_error_get());
        return;
    }
    pf_mask_device_opts o;
    pf_mask_device_opts_init(&o);
    o.poison = 0xA5;
    for (int ib = 4; ib <= 8; ib += 4)
        for (int st = PF_MASK_DENSE; st <= PF_MASK_WINDOW; st++) {
            pf_mask_enc enc;
            pf_mask_dev dm;
            if (pf_mask_encode(L, st, s, ib, &enc)) {
                CHECK_MSG(0, "host: %s", pf_error_get());
                continue;
            }
            int rc = pf_mask_encode_device(dev, L, st, s, ib, &o, &dm);
            CHECK_MSG(rc == 0, "device: %s", pf_error_get());
            if (rc == 0) {
                CHECK_MSG(dm.mask_bytes == enc.mask_bytes &&
                              same_bytes(dm.mask, enc.mask, enc.mask_bytes) &&
                              same_bytes(dm.indptr, enc.indptr, ((size_t)L->n_req + 1) * ib),
                          "%s %s/%s W=%d int%d: device bytes differ", pf_storage_name(st),
                          pf_rule_name(s->rule), pf_layer_name(s->layer), s->window, ib * 8);
                CHECK(pf_mask_dev_free(dev, &dm) == 0);
            }
            pf_mask_enc_free(&enc);
        }
    pf_tile_map map;
    pf_tile_dev td;
    if (pf_tile_classify(L, s, 64, 64, &map) == 0) {
        int rc = pf_tile_classify_device(dev, L, s, 64, 64, 8, &o, &td);
        CHECK_MSG(rc == 0, "device tiles: %s", pf_error_get());
        if (rc == 0) {
            CHECK_MSG(td.n_tiles == map.n_tiles && same_bytes(td.cls, map.cls, map.n_tiles),
                      "%s/%s: tile classes differ", pf_rule_name(s->rule), pf_layer_name(s->layer));
            CHECK(pf_tile_dev_free(dev, &td) == 0);
        }
        pf_tile_map_free(&map);
    }
    pf_layout_free(L);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void timing(void)
{
    pf_layout *L = NULL;
    if (pf_layout_gen_periodic(1, 32768, 256, 700, &L)) {
        CHECK_MSG(0, "%s", pf_error_get());
        return;
    }
    pf_mask_spec s = {PF_RULE_GEMMA3, PF_LAYER_FULL, 0};
    pf_mask_dev dm;
    CHECK(pf_mask_encode_device(dev, L, PF_MASK_BITMAP, &s, 8, NULL, &dm) == 0); /* compile */
    CHECK(pf_mask_dev_free(dev, &dm) == 0);
    double t0 = now_ms();
    int rc = pf_mask_encode_device(dev, L, PF_MASK_BITMAP, &s, 8, NULL, &dm);
    double t1 = now_ms();
    pf_mask_enc enc;
    int hrc = pf_mask_encode(L, PF_MASK_BITMAP, &s, 8, &enc);
    double t2 = now_ms();
    CHECK(rc == 0 && hrc == 0);
    if (rc == 0 && hrc == 0) {
        CHECK(same_bytes(dm.mask, enc.mask, enc.mask_bytes));
        printf("32K-token bitmap (%zu bytes): device encode %.1f ms (with JIT cache hit and "
               "uploads), host encode %.1f ms\n",
               enc.mask_bytes, t1 - t0, t2 - t1);
    }
    if (rc == 0)
        CHECK(pf_mask_dev_free(dev, &dm) == 0);
    if (hrc == 0)
        pf_mask_enc_free(&enc);
    pf_layout_free(L);
}

int main(void)
{
    dev = cuda_test_open();
    static const pf_mask_spec specs[] = {
        {PF_RULE_CAUSAL, PF_LAYER_FULL, 0},   {PF_RULE_CAUSAL, PF_LAYER_SLIDING, 512},
        {PF_RULE_GEMMA3, PF_LAYER_FULL, 0},   {PF_RULE_GEMMA3, PF_LAYER_SLIDING, 1024},
        {PF_RULE_GEMMA4, PF_LAYER_FULL, 0},   {PF_RULE_GEMMA4, PF_LAYER_SLIDING, 100},
        {PF_RULE_BIDIRECTIONAL, PF_LAYER_FULL, 0},
    };
    const char *layouts[] = {"t300,i256,t211,i256,t1999;t5,i7|t77,i31,t2",
                             "t1000,i256|t17,i256,t3001,v280,t9;t1;i3,t1,i5"};
    for (int li = 0; li < 2; li++)
        for (size_t si = 0; si < sizeof specs / sizeof specs[0]; si++)
            check(layouts[li], &specs[si]);
    timing();
    pf_device_close(dev);
    return PF_TEST_RESULT();
}
