/* The verification case catalogue and its deterministic inputs (see
 * check_cases.h). Sizes stay small (a few hundred tokens x heads per case)
 * because the emu backend runs every CUDA thread as a fiber. */
#include "attention/check_cases.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attention/attention_run.h"
#include "attention/attn_variant.h"
#include "device/device.h"
#include "core/pf_error.h"
#include "attention/reference.h"

/* Lengths are odd or at least not multiples of 16, so no tile size divides
 * them; spans start and end inside tiles of 16..128. */
static const pf_check_case cases[] = {
    {"tile-edges", "image at the very start and end, two images one text token apart, spans "
                   "crossing tile edges",
     "i23,t17,i41,t9;t5,i30,t2,i3,t1,i19", 2, 2, "gemma3", "full", 0},
    {"long-image-window", "image longer than the window, one-token requests",
     "t11,i57,t20;t1;i1", 4, 2, "gemma3", "sliding", 24},
    {"prefix-full", "cached prefixes ending at an image, one new token after a prefix",
     "t100,i40|t7,i15,t3;t50|t1", 4, 1, "gemma4", "full", 0},
    {"prefix-sliding", "cached prefixes with a window, images on both sides of the cut",
     "t21,i40,t1|i9,t1,i9,t6;i3,t1,i2|t1", 8, 1, "gemma4", "sliding", 33},
    {"gqa16-causal", "16 query heads per kv head, images ignored by the causal rule",
     "t19,i12,t14;t1;t5", 16, 1, "causal", "full", 0},
    {"vision-tower", "bidirectional attention over whole images (odd head count)",
     "i65;i7,t2", 3, 3, "bidirectional", "full", 0},
    {"random", "seeded random layout, rule, window and GQA ratio", NULL, 0, 0, NULL, NULL, 0},
};

int pf_check_case_count(void)
{
    return (int)(sizeof cases / sizeof cases[0]);
}

const pf_check_case *pf_check_case_get(int i)
{
    return i >= 0 && i < pf_check_case_count() ? &cases[i] : NULL;
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t pf_check_mix(uint64_t seed, uint64_t salt)
{
    uint64_t s = seed ^ (salt * 0xd1b54a32d192ed03ULL);
    return splitmix64(&s);
}

void pf_check_fill_normal(uint64_t seed, float *x, size_t n)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        /* sum of 4 uniforms: mean 2, variance 1/3 -> rescale to N(0,1)-ish */
        double u = 0;
        for (int j = 0; j < 4; j++)
            u += (double)(splitmix64(&s) >> 11) * 0x1.0p-53;
        x[i] = (float)((u - 2.0) * 1.7320508075688772);
    }
}

/* The random case: layout, rule/layer (causal sliding too), window, heads. */
static int make_random_case(uint64_t seed, pf_check_inputs *in)
{
    uint64_t s = pf_check_mix(seed, 0x7261);
    if (pf_layout_gen_random(splitmix64(&s), 3, 64, &in->layout) < 0)
        return -1;
    static const pf_mask_spec combos[] = {
        {PF_RULE_CAUSAL, PF_LAYER_FULL, 0},  {PF_RULE_CAUSAL, PF_LAYER_SLIDING, 0},
        {PF_RULE_GEMMA3, PF_LAYER_FULL, 0},  {PF_RULE_GEMMA3, PF_LAYER_SLIDING, 0},
        {PF_RULE_GEMMA4, PF_LAYER_FULL, 0},  {PF_RULE_GEMMA4, PF_LAYER_SLIDING, 0},
        {PF_RULE_BIDIRECTIONAL, PF_LAYER_FULL, 0},
    };
    in->mask = combos[splitmix64(&s) % (sizeof combos / sizeof combos[0])];
    in->mask.window = in->mask.layer == PF_LAYER_SLIDING ? 2 + (int)(splitmix64(&s) % 40) : 0;
    /* 16 query heads only over a short layout: heads multiply emu time */
    static const int ratios[] = {1, 2, 4, 8, 16};
    int ratio = ratios[splitmix64(&s) % (in->layout->total_kv <= 64 ? 5 : 4)];
    in->hkv = ratio >= 8 ? 1 : 1 + (int)(splitmix64(&s) % 2);
    in->hq = in->hkv * ratio;
    return 0;
}

static int make_fixed_case(const pf_check_case *c, pf_check_inputs *in)
{
    if (pf_layout_parse(c->layout, &in->layout) < 0)
        return pf_error_prefix("case %s", c->name);
    if (pf_rule_parse(c->rule, &in->mask.rule) < 0 || pf_layer_parse(c->layer, &in->mask.layer) < 0)
        return pf_error_prefix("case %s", c->name);
    in->mask.window = in->mask.layer == PF_LAYER_SLIDING ? c->window : 0;
    in->hq = c->hq;
    in->hkv = c->hkv;
    return 0;
}

int pf_check_inputs_make(int case_index, int head_dim, uint64_t seed, pf_check_inputs *in)
{
    memset(in, 0, sizeof *in);
    const pf_check_case *c = pf_check_case_get(case_index);
    if (!c)
        return pf_error_set("no check case %d (there are %d)", case_index, pf_check_case_count());
    if (head_dim <= 0)
        return pf_error_set("head dim %d must be positive", head_dim);
    in->index = case_index;
    in->spec = c;
    in->head_dim = head_dim;
    in->scale = 1.0 / sqrt((double)head_dim);
    in->seed = pf_check_mix(seed, (uint64_t)case_index + 1);
    if ((c->layout ? make_fixed_case(c, in) : make_random_case(in->seed, in)) < 0)
        goto fail;
    if (pf_mask_spec_check(&in->mask) < 0) {
        pf_error_prefix("case %s", c->name);
        goto fail;
    }
    if (!(in->layout_text = pf_layout_to_string(in->layout))) {
        pf_error_set("case %s: cannot format layout", c->name);
        goto fail;
    }
    size_t nq = (size_t)in->layout->total_q * (size_t)in->hq * (size_t)head_dim;
    size_t nkv = (size_t)in->layout->total_kv * (size_t)in->hkv * (size_t)head_dim;
    in->q = malloc(sizeof(float) * nq);
    in->k = malloc(sizeof(float) * nkv);
    in->v = malloc(sizeof(float) * nkv);
    if (!in->q || !in->k || !in->v) {
        pf_error_set("case %s: out of memory", c->name);
        goto fail;
    }
    pf_check_fill_normal(pf_check_mix(in->seed, 'q'), in->q, nq);
    pf_check_fill_normal(pf_check_mix(in->seed, 'k'), in->k, nkv);
    pf_check_fill_normal(pf_check_mix(in->seed, 'v'), in->v, nkv);
    /* the kernel reads bf16; the reference sees the same rounded values */
    pf_round_bf16_array(in->q, nq);
    pf_round_bf16_array(in->k, nkv);
    pf_round_bf16_array(in->v, nkv);
    return 0;
fail:
    pf_check_inputs_free(in);
    return -1;
}

void pf_check_inputs_free(pf_check_inputs *in)
{
    if (in->layout)
        pf_layout_free(in->layout);
    free(in->layout_text);
    free(in->q);
    free(in->k);
    free(in->v);
    memset(in, 0, sizeof *in);
}

void pf_check_inputs_describe(const pf_check_inputs *in, char *out, size_t n)
{
    char window[32] = "";
    if (in->mask.layer == PF_LAYER_SLIDING)
        snprintf(window, sizeof window, " W=%d", in->mask.window);
    snprintf(out, n, "%s %s%s, heads %d:%d, layout %s", pf_rule_name(in->mask.rule),
             pf_layer_name(in->mask.layer), window, in->hq, in->hkv,
             in->layout_text ? in->layout_text : "?");
}

void pf_check_compare(const float *got, const float *want, size_t n, pf_check_error *e)
{
    memset(e, 0, sizeof *e);
    double diff2 = 0, ref2 = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(got[i])) {
            if (!e->nonfinite++)
                e->first_bad = i;
            continue;
        }
        double d = (double)got[i] - (double)want[i];
        e->max_abs = fmax(e->max_abs, fabs(d));
        diff2 += d * d;
        ref2 += (double)want[i] * want[i];
    }
    e->rel_frob = e->nonfinite ? INFINITY : ref2 > 0 ? sqrt(diff2 / ref2) : sqrt(diff2);
}

int pf_check_error_ok(const pf_check_error *e)
{
    return e->nonfinite == 0 && e->rel_frob < PF_CHECK_TOLERANCE;
}

static pf_check_prepared *prepare_case(int case_index, int head_dim, uint64_t seed)
{
    pf_check_prepared *pc = calloc(1, sizeof *pc);
    if (!pc) {
        pf_error_set("out of memory");
        return NULL;
    }
    if (pf_check_inputs_make(case_index, head_dim, seed, &pc->in) < 0) {
        free(pc);
        return NULL;
    }
    pf_check_inputs *in = &pc->in;
    size_t rows = (size_t)in->layout->total_q * (size_t)in->hq;
    pc->ref_o = malloc(sizeof(float) * rows * (size_t)head_dim);
    pc->ref_lse = malloc(sizeof(float) * rows);
    if (!pc->ref_o || !pc->ref_lse) {
        pf_error_set("out of memory");
        goto fail;
    }
    if (pf_attention_reference(in->layout, in->mask.rule, in->mask.layer, in->mask.window,
                               in->scale, in->hq, in->hkv, head_dim, in->q, in->k, in->v,
                               pc->ref_o, pc->ref_lse) < 0) {
        pf_error_prefix("case %s: reference", in->spec->name);
        goto fail;
    }
    char what[900];
    pf_check_inputs_describe(in, what, sizeof what);
    snprintf(pc->desc, sizeof pc->desc, "case %.60s (%.900s)", in->spec->name, what);
    return pc;
fail:
    pf_check_inputs_free(&pc->in);
    free(pc->ref_o);
    free(pc->ref_lse);
    free(pc);
    return NULL;
}

const pf_check_prepared *pf_check_case_cache_get(pf_check_case_cache *cache, int case_index,
                                                 int head_dim, uint64_t seed)
{
    for (int i = 0; i < cache->n; i++) {
        pf_check_prepared *pc = cache->entries[i];
        if (pc->in.index == case_index && pc->in.head_dim == head_dim)
            return pc;
    }
    pf_check_prepared *pc = prepare_case(case_index, head_dim, seed);
    if (!pc)
        return NULL;
    pf_check_prepared **grown =
        realloc(cache->entries, sizeof *grown * (size_t)(cache->n + 1));
    if (!grown) {
        pf_check_inputs_free(&pc->in);
        free(pc->ref_o);
        free(pc->ref_lse);
        free(pc);
        pf_error_set("out of memory");
        return NULL;
    }
    cache->entries = grown;
    cache->entries[cache->n++] = pc;
    return pc;
}

void pf_check_case_cache_free(pf_check_case_cache *cache)
{
    for (int i = 0; i < cache->n; i++) {
        pf_check_inputs_free(&cache->entries[i]->in);
        free(cache->entries[i]->ref_o);
        free(cache->entries[i]->ref_lse);
        free(cache->entries[i]);
    }
    free(cache->entries);
    memset(cache, 0, sizeof *cache);
}

static double lse_difference(const float *got, const float *want, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(got[i]))
            return INFINITY;
        m = fmax(m, fabs((double)got[i] - want[i]));
    }
    return m;
}

int pf_check_run_case(pf_device *dev, const char *arch, const pf_attn_variant *v,
                      const pf_check_prepared *pc, pf_check_case_result *out)
{
    memset(out, 0, sizeof *out);
    const pf_check_inputs *in = &pc->in;
    size_t rows = (size_t)in->layout->total_q * (size_t)in->hq;
    size_t n = rows * (size_t)in->head_dim;
    float *o = malloc(sizeof(float) * n), *lse = malloc(sizeof(float) * rows);
    if (!o || !lse) {
        free(o);
        free(lse);
        return pf_error_set("out of memory");
    }
    pf_attn_problem pb = {in->layout, in->mask, (float)in->scale, in->hq, in->hkv, in->head_dim};
    pf_attn_run_info info;
    memset(&info, 0, sizeof info);
    if (pf_attn_run(dev, arch, &pb, v, in->q, in->k, in->v, o, lse, &info) < 0) {
        snprintf(out->message, sizeof out->message, "%.1000s: %.500s", pc->desc, pf_error_get());
        out->status = PF_STATUS_RUNTIME_FAILED;
        out->err.rel_frob = NAN;
        out->lse_err = NAN;
    } else {
        out->kernel_ms = info.kernel_ms;
        snprintf(out->timer, sizeof out->timer, "%s", info.timer);
        pf_check_compare(o, pc->ref_o, n, &out->err);
        out->lse_err = lse_difference(lse, pc->ref_lse, rows);
        out->ok = pf_check_error_ok(&out->err) && out->lse_err < PF_CHECK_LSE_TOLERANCE;
        out->status = out->ok ? PF_STATUS_OK : PF_STATUS_VERIFY_FAILED;
        if (out->err.nonfinite) {
            size_t e = out->err.first_bad, d = (size_t)in->head_dim;
            snprintf(out->message, sizeof out->message,
                     "%.1000s: %zu NaN/Inf outputs, first at row %zu head %zu col %zu", pc->desc,
                     out->err.nonfinite, e / d / (size_t)in->hq, e / d % (size_t)in->hq, e % d);
        } else if (!pf_check_error_ok(&out->err)) {
            snprintf(out->message, sizeof out->message,
                     "%.1000s: relative Frobenius error %.3e >= %.0e (max abs %.3e)", pc->desc,
                     out->err.rel_frob, PF_CHECK_TOLERANCE, out->err.max_abs);
        } else if (!out->ok) {
            snprintf(out->message, sizeof out->message, "%.1000s: LSE differs from the reference by %.3e",
                     pc->desc, out->lse_err);
        }
    }
    free(o);
    free(lse);
    return 0;
}
