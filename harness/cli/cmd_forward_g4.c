/* `pftune forward` for Gemma-4 (cmd_forward.c parses the command line and
 * dispatches here on a gemma4-* preset or a checkpoint of model_type
 * gemma4): the prefill on a device from a preset (synthetic weights) or an
 * HF checkpoint, on a text layout with seeded ids or on HF-style .npy
 * inputs; OUT/logits.npy and OUT/forward.json (the Gemma-3 schema plus the
 * MoE split of each layer: routing, expert GEMMs, combine). --attn and
 * --tuned set each layer kind's variant for its own head dim (full layers:
 * global_head_dim). The mask audit compares with and without
 * mm_token_type_ids. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/forward_args.h"
#include "cli/forward_common.h"
#include "core/json_doc.h"
#include "core/npy.h"
#include "core/pf_error.h"
#include "core/version.h"
#include "device/arch.h"
#include "device/device.h"
#include "models/gemma4_forward.h"
#include "models/gemma4_inputs_layout.h"
#include "models/gemma4_weight_set.h"
#include "models/mask_audit.h"
#include "tuner/results.h"

#define CMD "forward"

static int load_config(const fwd_args *a, pf_g4_config *c)
{
    if (pf_forward_is_dir(a->model))
        return pf_g4_config_load(a->model, c) ? pf_cli_fail_error(CMD) : 0;
    if (pf_g4_config_preset(a->model, c))
        return pf_cli_fail(CMD, "--model %s: %s (or give an HF model directory)", a->model,
                           pf_error_get());
    return 0;
}

/* The attention sites: full layers at global_head_dim, sliding layers at
 * head_dim, the vision tower; tuned entries under rule gemma4. */
static pf_forward_kinds kinds_of(const pf_g4_config *c, pf_g4_forward_opts *fo)
{
    pf_forward_kinds k = {{c->text.global_head_dim, c->text.head_dim,
                           c->has_vision ? c->vision.head_dim : 0},
                          {&fo->attn_full, &fo->attn_sliding, &fo->attn_vision},
                          "gemma4"};
    return k;
}

static json_t *report_json(const fwd_args *a, const pf_g4_config *c, const pf_g4_inputs *in,
                           const pf_device_props *pr, const pf_g4_forward_report *r, int timed)
{
    json_t *d = pf_forward_json_head(a, "gemma4", pr, in->tokens, in->batch, in->n_images,
                                     in->mm_token_type_ids && !a->no_token_types, r->variant_full,
                                     r->variant_sliding, c->has_vision ? r->variant_vision : NULL,
                                     timed, r->timer);
    json_object_set_new(d, "videos", json_integer(in->n_videos));
    json_object_set_new(d, "video_frames", json_integer(in->n_frames));
    if (timed) {
        json_t *ph = json_object();
        json_object_set_new(ph, "vision_tower_ms", json_real(r->vision_ms));
        json_object_set_new(ph, "embedding_ms", json_real(r->embed_ms));
        if (c->text.ple_dim) /* E2B/E4B: the per-layer inputs, before the layers */
            json_object_set_new(ph, "per_layer_inputs_ms", json_real(r->ple_ms));
        json_object_set_new(ph, "head_ms", json_real(r->head_ms));
        json_t *layers = json_array();
        double attn = 0, gemm = 0, other = 0, route = 0, experts = 0, comb = 0;
        for (int l = 0; l < c->text.layers; l++) {
            const pf_g4_layer_times *t = &r->layers[l];
            json_t *o = pf_forward_json_layer(l, c->text.layer_full[l], t->attention_ms,
                                              t->gemm_ms, t->other_ms);
            if (c->text.moe) {
                json_object_set_new(o, "moe_routing_ms", json_real(t->moe_routing_ms));
                json_object_set_new(o, "moe_experts_ms", json_real(t->moe_experts_ms));
                json_object_set_new(o, "moe_combine_ms", json_real(t->moe_combine_ms));
            }
            json_array_append_new(layers, o);
            attn += t->attention_ms, gemm += t->gemm_ms, other += t->other_ms;
            route += t->moe_routing_ms, experts += t->moe_experts_ms, comb += t->moe_combine_ms;
        }
        json_object_set_new(ph, "layers_attention_ms", json_real(attn));
        json_object_set_new(ph, "layers_gemm_ms", json_real(gemm));
        json_object_set_new(ph, "layers_other_ms", json_real(other));
        if (c->text.moe) {
            json_object_set_new(ph, "layers_moe_routing_ms", json_real(route));
            json_object_set_new(ph, "layers_moe_experts_ms", json_real(experts));
            json_object_set_new(ph, "layers_moe_combine_ms", json_real(comb));
        }
        json_object_set_new(d, "phases", ph);
        json_object_set_new(d, "layers", layers);
        json_object_set_new(d, "total_ms", json_real(r->total_ms));
        json_object_set_new(d, "tokens_per_second",
                            json_real(r->total_ms > 0 ? in->tokens / (r->total_ms / 1e3) : 0));
    }
    pf_forward_json_memory(d, r->peak_bytes, r->weight_bytes, r->activation_bytes, r->mask_bytes);
    return d;
}

static void print_summary(const pf_g4_config *c, const pf_g4_inputs *in,
                          const pf_g4_forward_report *r, int timed)
{
    printf("tokens %d in %d request(s), %d image(s), %d video(s) of %d frame(s)\n", in->tokens,
           in->batch, in->n_images, in->n_videos, in->n_frames);
    printf("attention full    %s\n", r->variant_full);
    printf("attention sliding %s\n", r->variant_sliding);
    if (timed) {
        double attn = 0, gemm = 0, other = 0, route = 0, experts = 0, comb = 0;
        for (int l = 0; l < c->text.layers; l++) {
            const pf_g4_layer_times *t = &r->layers[l];
            attn += t->attention_ms, gemm += t->gemm_ms, other += t->other_ms;
            route += t->moe_routing_ms, experts += t->moe_experts_ms, comb += t->moe_combine_ms;
        }
        printf("time [%s] total %.3f ms (%.1f tokens/s): vision %.3f, embedding %.3f, layers "
               "attention %.3f / gemm %.3f / other %.3f",
               r->timer, r->total_ms, r->total_ms > 0 ? in->tokens / (r->total_ms / 1e3) : 0,
               r->vision_ms, r->embed_ms, attn, gemm, other);
        if (c->text.moe)
            printf(" / moe routing %.3f / experts %.3f / combine %.3f", route, experts, comb);
        if (c->text.ple_dim)
            printf(", per-layer inputs %.3f", r->ple_ms);
        printf(", head %.3f ms\n", r->head_ms);
    }
    printf("memory peak %.2f MiB: weights %.2f, activations %.2f, mask metadata %.3f MiB\n",
           r->peak_bytes / 1048576.0, r->weight_bytes / 1048576.0, r->activation_bytes / 1048576.0,
           r->mask_bytes / 1048576.0);
}

/* The same prefill without mm_token_type_ids (plain causal/sliding masks),
 * compared per position; vision = types 1 and 2. */
static int run_audit(pf_device *dev, const pf_g4_config *c, const pf_weight_set *w,
                     const pf_g4_inputs *in, pf_g4_forward_opts fo, const float *good,
                     pf_mask_audit *audit)
{
    float *wrong = malloc((size_t)in->tokens * c->text.vocab * sizeof *wrong);
    int32_t *vision = calloc((size_t)in->tokens, sizeof *vision);
    if (!wrong || !vision) {
        free(wrong);
        free(vision);
        return pf_cli_fail(CMD, "out of memory for the mask audit");
    }
    for (int t = 0; t < in->tokens; t++)
        vision[t] = in->mm_token_type_ids[t] == PF_G4_MM_IMAGE ||
                    in->mm_token_type_ids[t] == PF_G4_MM_VIDEO;
    fo.ignore_mm_types = 1;
    fo.time_phases = 0;
    fo.all_logits = 1;
    printf("mask audit: running again with plain causal/sliding masks\n");
    fflush(stdout);
    int rc = pf_g4_forward(dev, c, w, in, &fo, wrong, NULL) ||
             pf_mask_audit_run(good, wrong, in->tokens, c->text.vocab, vision, audit);
    free(wrong);
    free(vision);
    return rc ? pf_cli_fail_error(CMD) : 0;
}

int cmd_forward_g4(const fwd_args *a)
{
    pf_g4_config c;
    pf_weight_set w = {0};
    pf_g4_inputs in = {0};
    pf_device *dev = NULL;
    float *logits = NULL;
    pf_g4_forward_report *rep = calloc(1, sizeof *rep);
    json_t *doc = NULL;
    pf_mask_audit audit = {0};
    int rc;
    if (!rep)
        return pf_cli_fail(CMD, "out of memory");
    if ((rc = load_config(a, &c)) || (!a->dry_run && (rc = pf_forward_prepare_out(a->out))))
        goto done;
    if (a->layout ? pf_g4_inputs_from_layout(&c, a->layout, (uint64_t)a->seed, &in)
                  : pf_g4_inputs_load(&c, a->inputs, &in)) {
        rc = pf_cli_fail(CMD, "%s", pf_error_get());
        goto done;
    }
    if (pf_g4_inputs_check(&c, &in, a->inputs)) {
        rc = pf_cli_fail(CMD, "%s", pf_error_get());
        goto done;
    }
    if (a->mask_audit && !in.mm_token_type_ids) {
        rc = pf_cli_fail(CMD, "--mask-audit: the inputs have no mm_token_type_ids");
        goto done;
    }
    if (pf_device_open(a->device, &dev) < 0) {
        rc = pf_cli_fail(CMD, "--device %s: %s", a->device, pf_error_get());
        goto done;
    }
    pf_device_props pr;
    memset(&pr, 0, sizeof pr);
    pf_g4_forward_opts fo;
    if (pf_dev_props(dev, &pr) || pf_g4_forward_defaults(dev, &c, &fo)) {
        rc = pf_cli_fail_error(CMD);
        goto done;
    }
    /* a preset's weights: a lazy synthetic set, drawn on the device */
    if (pf_forward_is_dir(a->model) ? pf_g4_weight_set_load(&c, a->model, &w)
                         : pf_g4_weight_set_synth_lazy(&c, (uint64_t)a->weights_seed, &w)) {
        rc = pf_cli_fail_error(CMD);
        goto done;
    }
    pf_forward_kinds kinds = kinds_of(&c, &fo);
    int64_t seq = 0;
    for (int r = 0; r < in.batch; r++)
        seq = in.req_len[r] > seq ? in.req_len[r] : seq;
    if ((rc = pf_forward_apply_attn(a, dev, &kinds)) ||
        (a->tuned && (rc = pf_forward_apply_tuned(a, dev, &kinds, seq))))
        goto done;
    if (a->dry_run) {
        char full[256], sliding[256];
        pf_attn_variant_to_string(&fo.attn_full, full, sizeof full);
        pf_attn_variant_to_string(&fo.attn_sliding, sliding, sizeof sliding);
        int img_tok = 0;
        for (int i = 0; in.mm_token_type_ids && i < in.tokens; i++)
            img_tok += in.mm_token_type_ids[i] != 0;
        pf_forward_dry_run_print(a->model, in.tokens, in.batch, in.n_images, img_tok, &w, full,
                                 sliding);
        if (in.n_frames) /* the image tokens above include the video tokens */
            printf("forward: dry run: %d video(s) of %d frame(s) in all\n", in.n_videos,
                   in.n_frames);
        rc = 0;
        goto done;
    }
    fo.all_logits = a->all_logits || a->mask_audit;
    fo.ignore_mm_types = a->no_token_types;
    fo.time_phases = !a->no_time;
    pf_forward_measure_opts(a, &pr, &fo.measure);
    size_t V = (size_t)c.text.vocab;
    size_t rows = a->all_logits ? (size_t)in.tokens : (size_t)in.batch;
    size_t run_rows = fo.all_logits ? (size_t)in.tokens : rows;
    logits = malloc(run_rows * V * sizeof *logits);
    if (!logits) {
        rc = pf_cli_fail(CMD, "out of memory for the logits");
        goto done;
    }
    printf("model %s on %s [%s backend]\n", a->model, pr.name, pr.backend);
    fflush(stdout);
    if (pf_g4_forward(dev, &c, &w, &in, &fo, logits, rep)) {
        rc = pf_cli_fail_error(CMD);
        goto done;
    }
    if (a->mask_audit && (rc = run_audit(dev, &c, &w, &in, fo, logits, &audit)))
        goto done;
    if (run_rows != rows)
        pf_forward_keep_last_rows(logits, V, in.req_len, in.batch);
    doc = report_json(a, &c, &in, &pr, rep, fo.time_phases);
    if (a->mask_audit)
        json_object_set_new(doc, "mask_audit", pf_mask_audit_json(&audit));
    if ((rc = pf_forward_write(a->out, logits, rows, V, doc)))
        goto done;
    print_summary(&c, &in, rep, fo.time_phases);
    if (a->mask_audit)
        pf_mask_audit_print(&audit);
    printf("wrote %s/logits.npy [%zu, %zu] and %s/forward.json\n", a->out, rows, V, a->out);
    rc = 0;
done:
    json_decref(doc);
    pf_mask_audit_free(&audit);
    free(logits);
    free(rep);
    pf_g4_inputs_free(&in);
    pf_weight_set_free(&w);
    if (dev)
        pf_device_close(dev);
    return rc;
}
