/* The attention kernel on a real GPU vs the double-precision reference:
 * every head dim, every mask storage with TILE_SKIP 0/1 on the default tile
 * shape over all rules and layers, then a spread of enumerated tile shapes.
 * Layouts of a few hundred to ~1K tokens with odd lengths, cached prefixes
 * and GQA 2, so the cp.async pipeline runs over many k tiles. Needs a GPU:
 * without one it fails (GPU suite only). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/attention_params.h"
#include "attention/attention_run.h"
#include "attention/check_cases.h"
#include "cuda_test_util.h"
#include "device/arch.h"
#include "attention/layout.h"
#include "attention/mask_rule.h"
#include "pf_test.h"
#include "attention/reference.h"

typedef struct gpu_case {
    const char *layout;
    pf_mask_spec spec;
} gpu_case;

static const gpu_case cases[] = {
    {"t300,i256,t211;t5,i7|t77,i31,t2", {PF_RULE_GEMMA3, PF_LAYER_FULL, 0}},
    {"t300,i256,t211;t5,i7|t77,i31,t2", {PF_RULE_GEMMA3, PF_LAYER_SLIDING, 128}},
    {"i40,t333,v50,t1,i9;t129", {PF_RULE_GEMMA4, PF_LAYER_SLIDING, 100}},
    {"t40|t555", {PF_RULE_CAUSAL, PF_LAYER_FULL, 0}},
    {"i257,t30", {PF_RULE_BIDIRECTIONAL, PF_LAYER_FULL, 0}},
};

static uint64_t rng_state;

static float *random_inputs(size_t n)
{
    float *x = (float *)malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) {
        rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (float)((double)(rng_state >> 11) / 9007199254740992.0 * 4.0 - 2.0);
    }
    pf_round_bf16_array(x, n);
    return x;
}

static void run(pf_device *dev, const gpu_case *c, const pf_attn_variant *v)
{
    pf_layout *L = NULL;
    if (pf_layout_parse(c->layout, &L)) {
        CHECK_MSG(0, "%s: %s", c->layout, pf_error_get());
        return;
    }
    int hq = 4, hkv = 2, d = v->head_dim;
    pf_attn_problem pb = {L, c->spec, 1.0f / sqrtf((float)d), hq, hkv, d};
    size_t nq = (size_t)L->total_q * hq * d, nkv = (size_t)L->total_kv * hkv * d;
    float *q = random_inputs(nq), *k = random_inputs(nkv), *vv = random_inputs(nkv);
    float *o = (float *)malloc(nq * sizeof *o), *ref = (float *)malloc(nq * sizeof *ref);
    float *lse = (float *)malloc((size_t)L->total_q * hq * sizeof *lse);
    float *ref_lse = (float *)malloc((size_t)L->total_q * hq * sizeof *ref_lse);
    pf_attention_reference(L, c->spec.rule, c->spec.layer, c->spec.window, pb.scale, hq, hkv, d,
                           q, k, vv, ref, ref_lse);
    char vs[256];
    pf_attn_variant_to_string(v, vs, sizeof vs);
    pf_attn_run_info info;
    int rc = pf_attn_run(dev, NULL, &pb, v, q, k, vv, o, lse, &info);
    CHECK_MSG(rc == 0, "%s %s: %s", vs, c->layout, pf_error_get());
    if (rc == 0) {
        pf_check_error oe, le;
        pf_check_compare(o, ref, nq, &oe);
        pf_check_compare(lse, ref_lse, (size_t)L->total_q * hq, &le);
        printf("%-32s %-13s %-7s %s: err %.2e lse %.2e %.3f ms (%s) regs %d\n", c->layout,
               pf_rule_name(c->spec.rule), pf_layer_name(c->spec.layer), vs, oe.rel_frob, le.max_abs,
               info.kernel_ms, info.timer, info.res.registers);
        CHECK_MSG(oe.nonfinite + le.nonfinite == 0 && oe.rel_frob < 1e-2 && le.max_abs < 2e-2,
                  "%s on %s (%s %s): err %.3e, lse %.3e, %zu non-finite", vs, c->layout,
                  pf_rule_name(c->spec.rule), pf_layer_name(c->spec.layer), oe.rel_frob, le.max_abs,
                  oe.nonfinite + le.nonfinite);
        CHECK(strcmp(info.timer, "cuda-events") == 0);
    }
    free(q);
    free(k);
    free(vv);
    free(o);
    free(ref);
    free(lse);
    free(ref_lse);
    pf_layout_free(L);
}

int main(void)
{
    pf_device *dev = cuda_test_open();
    pf_device_props pr;
    pf_dev_props(dev, &pr);
    char arch[16];
    if (pf_device_arch(dev, arch, sizeof arch)) {
        fprintf(stderr, "FAIL: %s\n", pf_error_get());
        return 1;
    }
    printf("device %s (%s)\n", pr.name, arch);
    rng_state = (uint64_t)time(NULL);
    printf("seed %llu\n", (unsigned long long)rng_state);
    static const int dims[] = {64, 72, 128, 256, 512};
    for (int di = 0; di < 5; di++) {
        pf_attn_variant v;
        pf_attn_variant_default(dims[di], arch, &v);
        for (int st = PF_MASK_DENSE; st <= PF_MASK_SPANS; st++)
            for (int ts = 0; ts < 2; ts++)
                for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
                    v.mask_storage = st;
                    v.tile_skip = ts;
                    v.indptr64 = (st + ts + (int)c) % 2;
                    run(dev, &cases[c], &v);
                }
        /* a spread of the enumerated tile shapes (about 16 per head dim) */
        int n = pf_attn_variant_enumerate(dims[di], arch, NULL, 0);
        pf_attn_variant *vs = (pf_attn_variant *)malloc((size_t)n * sizeof *vs);
        pf_attn_variant_enumerate(dims[di], arch, vs, n);
        int stride = n / 16 > 1 ? n / 16 : 1;
        for (int i = 0; i < n; i += stride)
            run(dev, &cases[(size_t)(i / stride) % (sizeof cases / sizeof cases[0])], &vs[i]);
        free(vs);
    }
    pf_device_close(dev);
    return PF_TEST_RESULT();
}
