/* One point evaluated on a device (see evaluate.h). */
#include "tuner/evaluate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attention/attention_run.h"
#include "attention/check_cases.h"
#include "attention/reference.h"
#include "core/pf_error.h"
#include "jit/jit.h"
#include "jit/jit_load.h"

/* Sliding windows in verification layouts: short enough that the band
 * matters at a few hundred tokens (the kernel takes W at run time). */
#define VERIFY_WINDOW_MAX 37
#define VERIFY_MAX_REQUESTS 3
#define VERIFY_MAX_LEN 160

static void record_base(const pf_tune_problem *pb, const pf_tune_point *pt, const char *arch,
                        pf_record *r)
{
    pf_record_init(r);
    snprintf(r->family, sizeof r->family, "attention");
    snprintf(r->variant, sizeof r->variant, "%s", pt->text);
    snprintf(r->problem, sizeof r->problem, "%s", pb->desc);
    snprintf(r->arch, sizeof r->arch, "%s", arch);
    r->registers = pt->info.registers;
    r->spill_bytes = pt->info.spill_bytes;
    r->smem_bytes = pt->info.smem_bytes;
    r->metadata_bytes = pt->info.metadata_bytes >= 0 ? (int64_t)pt->info.metadata_bytes : -1;
}

void pf_tune_pruned_record(const pf_tune_problem *pb, const pf_tune_point *pt, const char *arch,
                           pf_record *out)
{
    record_base(pb, pt, arch, out);
    out->status = pt->status;
    snprintf(out->message, sizeof out->message, "%s", pt->why);
}

static pf_status fail(pf_record *r, pf_status st)
{
    r->status = st;
    snprintf(r->message, sizeof r->message, "%s", pf_error_get());
    return st;
}

/* The gate: the variant against the double-precision reference on a random
 * multimodal layout with the problem's rule, layer kind and heads. */
static pf_status verify(pf_device *dev, const char *arch, const pf_tune_problem *pb,
                        const pf_attn_variant *v, uint64_t seed, pf_record *r)
{
    pf_layout *L = NULL;
    if (pf_layout_gen_random(seed, VERIFY_MAX_REQUESTS, VERIFY_MAX_LEN, &L))
        return fail(r, PF_STATUS_RUNTIME_FAILED);
    pf_mask_spec mask = pb->mask;
    if (mask.layer == PF_LAYER_SLIDING && mask.window > VERIFY_WINDOW_MAX)
        mask.window = VERIFY_WINDOW_MAX;
    size_t nq = (size_t)L->total_q * pb->hq * pb->head_dim;
    size_t nkv = (size_t)L->total_kv * pb->hkv * pb->head_dim;
    size_t rows = (size_t)L->total_q * pb->hq;
    float *q = malloc(nq * sizeof *q), *k = malloc(nkv * sizeof *k), *vv = malloc(nkv * sizeof *vv);
    float *o = malloc(nq * sizeof *o), *ref = malloc(nq * sizeof *ref);
    float *lse = malloc(rows * sizeof *lse), *ref_lse = malloc(rows * sizeof *ref_lse);
    pf_status st = PF_STATUS_OK;
    if (!q || !k || !vv || !o || !ref || !lse || !ref_lse) {
        pf_error_set("out of memory for the verification inputs");
        st = fail(r, PF_STATUS_RUNTIME_FAILED);
        goto done;
    }
    pf_check_fill_normal(pf_check_mix(seed, 1), q, nq);
    pf_check_fill_normal(pf_check_mix(seed, 2), k, nkv);
    pf_check_fill_normal(pf_check_mix(seed, 3), vv, nkv);
    pf_round_bf16_array(q, nq);
    pf_round_bf16_array(k, nkv);
    pf_round_bf16_array(vv, nkv);
    if (pf_attention_reference(L, mask.rule, mask.layer, mask.window, pb->scale, pb->hq, pb->hkv,
                               pb->head_dim, q, k, vv, ref, ref_lse)) {
        st = fail(r, PF_STATUS_RUNTIME_FAILED);
        goto done;
    }
    pf_attn_problem ap = {L, mask, pb->scale, pb->hq, pb->hkv, pb->head_dim};
    if (pf_attn_run(dev, arch, &ap, v, q, k, vv, o, lse, NULL)) {
        st = fail(r, PF_STATUS_RUNTIME_FAILED);
        goto done;
    }
    pf_check_error e;
    pf_check_compare(o, ref, nq, &e);
    double lse_err = 0;
    for (size_t i = 0; i < rows; i++)
        lse_err = isfinite(lse[i]) ? fmax(lse_err, fabs((double)lse[i] - ref_lse[i])) : INFINITY;
    r->error = e.rel_frob;
    if (!pf_check_error_ok(&e) || !(lse_err < PF_CHECK_LSE_TOLERANCE)) {
        char *lt = pf_layout_to_string(L);
        pf_error_set("verification failed on layout %.200s (seed %llu): relative error %.3e, "
                     "%zu non-finite, LSE error %.3e",
                     lt ? lt : "?", (unsigned long long)seed, e.rel_frob, e.nonfinite, lse_err);
        free(lt);
        st = fail(r, PF_STATUS_VERIFY_FAILED);
    }
done:
    free(q), free(k), free(vv), free(o), free(ref), free(lse), free(ref_lse);
    pf_layout_free(L);
    return st;
}

/* Compile for the device first, so a compile failure is told apart from a
 * failure at run time (the launcher then finds the kernel in the cache). */
static pf_status compile_for(pf_device *dev, const pf_attn_variant *v, pf_record *r)
{
    pf_variant jv;
    memset(&jv, 0, sizeof jv);
    snprintf(jv.source, sizeof jv.source, "%s/attention.cu", pf_kernel_dir());
    if (pf_jit_device_target(dev, jv.target, sizeof jv.target) || pf_attn_variant_defines(v, &jv))
        return fail(r, PF_STATUS_RUNTIME_FAILED);
    pf_jit_result jr;
    if (pf_jit_compile(&jv, &jr))
        return fail(r, PF_STATUS_COMPILE_FAILED);
    pf_status st = PF_STATUS_OK;
    if (!jr.valid) {
        char line[240] = "";
        if (jr.log)
            snprintf(line, sizeof line, "%.*s", (int)strcspn(jr.log, "\n"), jr.log);
        pf_error_set("does not compile for %s: %s", jv.target, line);
        st = fail(r, PF_STATUS_COMPILE_FAILED);
    }
    pf_jit_result_free(&jr);
    return st;
}

pf_status pf_tune_evaluate(pf_device *dev, const char *arch, const pf_profile *p,
                           const pf_tune_problem *pb, const pf_tune_point *pt, int verify_first,
                           uint64_t seed, pf_tune_result *out)
{
    pf_record *r = &out->rec;
    record_base(pb, pt, arch, r);
    pf_device_props props;
    if (pf_dev_props(dev, &props) == 0) {
        snprintf(r->device, sizeof r->device, "%.127s", props.name);
        snprintf(r->backend, sizeof r->backend, "%s", props.backend);
    }
    pf_status st = compile_for(dev, &pt->v, r);
    if (st == PF_STATUS_OK && verify_first)
        st = verify(dev, arch, pb, &pt->v, seed, r);
    if (st != PF_STATUS_OK)
        return st;

    pf_attn_problem ap = {pb->layout, pb->mask, pb->scale, pb->hq, pb->hkv, pb->head_dim};
    r->useful_flops = pf_attn_useful_flops(&ap);
    pf_attn_prepared *prep = NULL;
    pf_attn_run_info info;
    if (pf_attn_prepare(dev, arch, &ap, &pt->v, NULL, NULL, NULL, seed, 0, &prep, &info))
        return fail(r, PF_STATUS_RUNTIME_FAILED);
    r->metadata_bytes = info.mask_bytes + info.tile_class_bytes;
    pf_measure_opts mo;
    pf_measure_defaults(&mo);
    mo.warmup = p->warmup;
    mo.min_samples = p->min_samples;
    mo.max_samples = p->max_samples < PF_RECORD_MAX_SAMPLES ? p->max_samples
                                                            : PF_RECORD_MAX_SAMPLES;
    if (mo.min_samples > mo.max_samples)
        mo.min_samples = mo.max_samples;
    mo.stdrel = p->stdrel;
    mo.max_seconds = p->max_seconds;
    mo.flush_l2 = p->flush_l2;
    mo.use_cupti = 1;
    if (pf_attn_measure(prep, &mo, &r->time, out->samples))
        st = fail(r, PF_STATUS_RUNTIME_FAILED);
    pf_attn_release(prep);
    return st;
}
