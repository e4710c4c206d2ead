/* `pftune forward`: the Gemma-3 multimodal prefill on a device, from a
 * preset (synthetic weights) or an HF model directory, on a layout with
 * seeded inputs or on HF-style .npy inputs. Gemma-4 models (presets
 * gemma4-*, checkpoints of model_type gemma4) go to cmd_forward_g4.c. Writes OUT/logits.npy and
 * OUT/forward.json (per-phase times through the measure layer, peak device
 * memory with the mask metadata's share). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/forward_args.h"
#include "cli/forward_common.h"
#include "core/json_doc.h"
#include "core/npy.h"
#include "core/pf_error.h"
#include "core/version.h"
#include "device/arch.h"
#include "device/device.h"
#include "models/gemma3_forward.h"
#include "models/gemma3_inputs_load.h"
#include "models/mask_audit.h"
#include "tuner/results.h"

#define CMD "forward"

enum {
    OPT_MODEL, OPT_LAYOUT, OPT_SEED, OPT_INPUTS, OPT_ATTN, OPT_TUNED, OPT_ALL_LOGITS, OPT_DEVICE,
    OPT_OUT, OPT_WEIGHTS_SEED, OPT_NO_TIME, OPT_SAMPLES, OPT_WARMUP, OPT_NO_TOKEN_TYPES,
    OPT_MASK_AUDIT, OPT_DRY_RUN,
};

static const pf_cli_opt opts[] = {
    [OPT_MODEL] = {"model", 'm', "PRESET|DIR", "a preset (synthetic weights) or an HF model directory"},
    [OPT_LAYOUT] = {"layout", 0, "SPEC", "requests, e.g. 't8,i16,t8;t40' (i spans: whole images; "
                                         "Gemma-4: vFxN a video of F frames of N tokens)"},
    [OPT_SEED] = {"seed", 0, "N", "seed of the --layout token ids and pixels (default 1)"},
    [OPT_INPUTS] = {"inputs", 0, "DIR",
                    "input_ids.npy, token_type_ids.npy, pixel_values.npy (Gemma-4: "
                    "mm_token_type_ids.npy, pixel_values.npy, image_position_ids.npy, "
                    "pixel_values_videos.npy, video_position_ids.npy, num_frames_per_video.npy)"},
    [OPT_ATTN] = {"attn", 0, "[KIND:]KEY=VAL,...",
                  "attention variant for text layers, or KIND full|sliding|vision only (repeatable)"},
    [OPT_TUNED] = {"tuned", 0, "FILE", "take each layer kind's variant from a tuned.json"},
    [OPT_ALL_LOGITS] = {"all-logits", 0, NULL, "logits of every position (default: each request's last)"},
    [OPT_DEVICE] = {"device", 0, "DEV", "auto (default), cuda, cuda:N or emu"},
    [OPT_OUT] = {"out", 'o', "DIR", "write DIR/logits.npy and DIR/forward.json"},
    [OPT_WEIGHTS_SEED] = {"weights-seed", 0, "N", "seed of a preset's synthetic weights (default 0)"},
    [OPT_NO_TIME] = {"no-time", 0, NULL, "run once, without the per-phase timing"},
    [OPT_SAMPLES] = {"samples", 0, "N", "timed runs per phase (default 10 on cuda, 3 on emu)"},
    [OPT_WARMUP] = {"warmup", 0, "N", "untimed runs before each phase's samples (default 1)"},
    [OPT_NO_TOKEN_TYPES] = {"no-token-types", 0, NULL,
                            "ignore token_type_ids (Gemma-4: mm_token_type_ids): plain "
                            "causal/sliding masks (HF without them)"},
    [OPT_MASK_AUDIT] = {"mask-audit", 0, NULL,
                        "run again with plain causal/sliding masks; report per-position KL and "
                        "argmax log-prob change (vision vs text)"},
    [OPT_DRY_RUN] = {"dry-run", 0, NULL,
                     "check the model, inputs and variants, print the plan, run nothing "
                     "(--out not needed)"},
    {0},
};

static int parse_args(int argc, char **argv, fwd_args *a)
{
    memset(a, 0, sizeof *a);
    a->device = "auto";
    a->seed = 1;
    a->samples = -1;
    a->warmup = 1;
    pf_cli c;
    pf_cli_init(&c, CMD, argc, argv, opts,
                "pftune forward --model PRESET|DIR (--layout SPEC [--seed N] | --inputs DIR) "
                "--out DIR [options]",
                "Run a Gemma-3 prefill (vision tower, projector, language model) or a Gemma-4\n"
                "one (presets gemma4-*, or a checkpoint of model_type gemma4) with the\n"
                "attention family, and write the logits and the per-phase times. A preset runs\n"
                "with seeded synthetic weights; a directory is an HF checkpoint (config.json and\n"
                "model.safetensors or its shard index). Times come from the measure layer and\n"
                "are labelled by their timer (emu-host on emu: host time, not a GPU number).\n"
                "Exit 2: bad command line; 1: bad model, inputs or a failed run.");
    c.examples = "  pftune forward --model gemma3-tiny --layout 't8,i16,t8' --device emu --out o\n"
                 "  pftune forward --model ./gemma3-hf --inputs ./prompt --all-logits --out o\n"
                 "  pftune forward --model gemma3-4b --layout 't4000,i256,t3936' --tuned tuned.json "
                 "--out o\n"
                 "  pftune forward --model gemma4-tiny --layout 't40;t17' --device emu --out o\n";
    const char *val;
    int o;
    while ((o = pf_cli_next(&c, &val)) != PF_CLI_DONE) {
        switch (o) {
        case PF_CLI_HELP: return 0;
        case PF_CLI_ERROR: return 2;
        case PF_CLI_ARG: return pf_cli_usage_error(CMD, "unexpected argument '%s'", val);
        case OPT_MODEL: a->model = val; break;
        case OPT_LAYOUT: a->layout = val; break;
        case OPT_INPUTS: a->inputs = val; break;
        case OPT_TUNED: a->tuned = val; break;
        case OPT_DEVICE: a->device = val; break;
        case OPT_OUT: a->out = val; break;
        case OPT_ALL_LOGITS: a->all_logits = 1; break;
        case OPT_NO_TIME: a->no_time = 1; break;
        case OPT_NO_TOKEN_TYPES: a->no_token_types = 1; break;
        case OPT_MASK_AUDIT: a->mask_audit = 1; break;
        case OPT_DRY_RUN: a->dry_run = 1; break;
        case OPT_ATTN:
            if (a->n_attn == 8)
                return pf_cli_usage_error(CMD, "--attn given more than 8 times");
            a->attn[a->n_attn++] = val;
            break;
        case OPT_SEED:
            if (pf_cli_parse_long(CMD, "--seed", val, 0, __LONG_MAX__, &a->seed) < 0)
                return 2;
            break;
        case OPT_WEIGHTS_SEED:
            if (pf_cli_parse_long(CMD, "--weights-seed", val, 0, __LONG_MAX__, &a->weights_seed) < 0)
                return 2;
            break;
        case OPT_SAMPLES:
            if (pf_cli_parse_long(CMD, "--samples", val, 1, 100000, &a->samples) < 0)
                return 2;
            break;
        case OPT_WARMUP:
            if (pf_cli_parse_long(CMD, "--warmup", val, 0, 100000, &a->warmup) < 0)
                return 2;
            break;
        }
    }
    if (!a->model)
        return pf_cli_usage_error(CMD, "missing --model PRESET|DIR");
    if (!a->layout == !a->inputs)
        return pf_cli_usage_error(CMD, "give exactly one of --layout SPEC and --inputs DIR");
    if (!a->out && !a->dry_run)
        return pf_cli_usage_error(CMD, "missing --out DIR");
    if (a->tuned && a->n_attn)
        return pf_cli_usage_error(CMD, "--tuned and --attn are exclusive");
    if (a->mask_audit && a->no_token_types)
        return pf_cli_usage_error(CMD, "--mask-audit compares with and without token types; "
                                       "drop --no-token-types");
    return -1;
}

/* The config: a directory is a checkpoint, anything else a preset. */
static int load_config(const fwd_args *a, pf_g3_config *c)
{
    if (pf_forward_is_dir(a->model))
        return pf_g3_config_load(a->model, c) ? pf_cli_fail_error(CMD) : 0;
    if (pf_g3_config_preset(a->model, c))
        return pf_cli_fail(CMD, "--model %s: %s (or give an HF model directory)", a->model,
                           pf_error_get());
    return 0;
}

/* The weights: the checkpoint's, or a preset's seeded synthetic ones (a lazy
 * set: the forward draws them on the device, no host arrays). */
static int load_weights(const fwd_args *a, const pf_g3_config *c, pf_weight_set *w)
{
    int rc = pf_forward_is_dir(a->model) ? pf_g3_weight_set_load(c, a->model, w)
                              : pf_g3_weight_set_synth_lazy(c, (uint64_t)a->weights_seed, w);
    return rc ? pf_cli_fail_error(CMD) : 0;
}

/* The attention sites at the head dims the family runs (padded where the
 * model's has no kernel); tuned entries under rule gemma3. */
static pf_forward_kinds kinds_of(const pf_g3_config *c, pf_g3_forward_opts *fo)
{
    int hd = pf_g3_attn_head_dim(c->text.head_dim);
    pf_forward_kinds k = {{hd, hd, c->has_vision ? pf_g3_attn_head_dim(c->vision.hidden /
                                                                         c->vision.heads)
                                                 : 0},
                          {&fo->attn_full, &fo->attn_sliding, &fo->attn_vision},
                          "gemma3"};
    return k;
}

static json_t *report_json(const fwd_args *a, const pf_g3_config *c, const pf_g3_inputs *in,
                           const pf_device_props *pr, const pf_g3_forward_report *r, int timed)
{
    json_t *d = pf_forward_json_head(a, "gemma3", pr, in->tokens, in->batch, in->n_images,
                                     in->token_type_ids && !a->no_token_types, r->variant_full,
                                     r->variant_sliding, c->has_vision ? r->variant_vision : NULL,
                                     timed, r->timer);
    if (timed) {
        json_t *ph = json_object();
        json_object_set_new(ph, "vision_tower_ms", json_real(r->vision_ms));
        json_object_set_new(ph, "projector_ms", json_real(r->projector_ms));
        json_object_set_new(ph, "embedding_ms", json_real(r->embed_ms));
        json_object_set_new(ph, "head_ms", json_real(r->head_ms));
        json_t *layers = json_array();
        double attn = 0, gemm = 0, other = 0;
        for (int l = 0; l < c->text.layers; l++) {
            const pf_g3_layer_times *t = &r->layers[l];
            json_array_append_new(layers, pf_forward_json_layer(l, c->text.layer_full[l],
                                                                t->attention_ms, t->gemm_ms,
                                                                t->other_ms));
            attn += t->attention_ms, gemm += t->gemm_ms, other += t->other_ms;
        }
        json_object_set_new(ph, "layers_attention_ms", json_real(attn));
        json_object_set_new(ph, "layers_gemm_ms", json_real(gemm));
        json_object_set_new(ph, "layers_other_ms", json_real(other));
        json_object_set_new(d, "phases", ph);
        json_object_set_new(d, "layers", layers);
        json_object_set_new(d, "total_ms", json_real(r->total_ms));
        json_object_set_new(d, "tokens_per_second",
                            json_real(r->total_ms > 0 ? in->tokens / (r->total_ms / 1e3) : 0));
    }
    pf_forward_json_memory(d, r->peak_bytes, r->weight_bytes, r->activation_bytes, r->mask_bytes);
    return d;
}

static void print_summary(const pf_g3_config *c, const pf_g3_inputs *in,
                          const pf_g3_forward_report *r, int timed)
{
    printf("tokens %d in %d request(s), %d image(s)\n", in->tokens, in->batch, in->n_images);
    printf("attention full    %s\n", r->variant_full);
    printf("attention sliding %s\n", r->variant_sliding);
    if (c->has_vision)
        printf("attention vision  %s\n", r->variant_vision);
    if (timed) {
        double attn = 0, gemm = 0, other = 0;
        for (int l = 0; l < c->text.layers; l++)
            attn += r->layers[l].attention_ms, gemm += r->layers[l].gemm_ms,
                other += r->layers[l].other_ms;
        printf("time [%s] total %.3f ms (%.1f tokens/s): vision %.3f, projector %.3f, "
               "embedding %.3f, layers attention %.3f / gemm %.3f / other %.3f, head %.3f ms\n",
               r->timer, r->total_ms, r->total_ms > 0 ? in->tokens / (r->total_ms / 1e3) : 0,
               r->vision_ms, r->projector_ms, r->embed_ms, attn, gemm, other, r->head_ms);
    }
    printf("memory peak %.2f MiB: weights %.2f, activations %.2f, mask metadata %.3f MiB\n",
           r->peak_bytes / 1048576.0, r->weight_bytes / 1048576.0, r->activation_bytes / 1048576.0,
           r->mask_bytes / 1048576.0);
}

/* The same prefill with plain causal/sliding masks, compared per position. */
static int run_audit(pf_device *dev, const pf_g3_config *c, const pf_weight_set *w,
                     const pf_g3_inputs *in, pf_g3_forward_opts fo, const float *good,
                     pf_mask_audit *audit)
{
    float *wrong = malloc((size_t)in->tokens * c->text.vocab * sizeof *wrong);
    if (!wrong)
        return pf_cli_fail(CMD, "out of memory for the mask audit");
    fo.ignore_token_types = 1;
    fo.time_phases = 0;
    fo.all_logits = 1;
    printf("mask audit: running again with plain causal/sliding masks\n");
    fflush(stdout);
    int rc = pf_g3_forward(dev, c, w, in, &fo, wrong, NULL) ||
             pf_mask_audit_run(good, wrong, in->tokens, c->text.vocab, in->token_type_ids, audit);
    free(wrong);
    return rc ? pf_cli_fail_error(CMD) : 0;
}

int cmd_forward(int argc, char **argv)
{
    fwd_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
    if (pf_forward_is_gemma4(a.model))
        return cmd_forward_g4(&a);
    pf_g3_config c;
    pf_weight_set w = {0};
    pf_g3_inputs in = {0};
    pf_device *dev = NULL;
    float *logits = NULL;
    pf_g3_forward_report *rep = calloc(1, sizeof *rep);
    json_t *doc = NULL;
    pf_mask_audit audit = {0};
    if (!rep)
        return pf_cli_fail(CMD, "out of memory");
    if ((rc = load_config(&a, &c)))
        goto done;
    /* the output folder first: a long run must not fail at its end */
    if (a.out && (rc = pf_forward_prepare_out(a.out)))
        goto done;

    if ((a.layout ? pf_g3_inputs_from_layout(&c, a.layout, (uint64_t)a.seed, &in)
                  : pf_g3_inputs_load(&c, a.inputs, &in)) ||
        pf_g3_inputs_check(&c, &in)) {
        rc = pf_cli_fail(CMD, "%s", pf_error_get());
        goto done;
    }
    if (pf_device_open(a.device, &dev) < 0) {
        rc = pf_cli_fail(CMD, "--device %s: %s", a.device, pf_error_get());
        goto done;
    }
    pf_device_props pr;
    memset(&pr, 0, sizeof pr);
    pf_g3_forward_opts fo;
    if (pf_dev_props(dev, &pr) || pf_g3_forward_defaults(dev, &c, &fo)) {
        rc = pf_cli_fail_error(CMD);
        goto done;
    }
    if ((rc = load_weights(&a, &c, &w)))
        goto done;
    pf_forward_kinds kinds = kinds_of(&c, &fo);
    int64_t seq = 0;
    for (int r = 0; r < in.batch; r++)
        seq = in.req_len[r] > seq ? in.req_len[r] : seq;
    if ((rc = pf_forward_apply_attn(&a, dev, &kinds)) ||
        (a.tuned && (rc = pf_forward_apply_tuned(&a, dev, &kinds, seq))))
        goto done;
    if (a.mask_audit && !in.token_type_ids) {
        rc = pf_cli_fail(CMD, "--mask-audit: the inputs have no token_type_ids (a multimodal "
                              "model and image tokens are needed)");
        goto done;
    }
    if (a.dry_run) {
        char full[256], sliding[256];
        pf_attn_variant_to_string(&fo.attn_full, full, sizeof full);
        pf_attn_variant_to_string(&fo.attn_sliding, sliding, sizeof sliding);
        pf_forward_dry_run_print(a.model, in.tokens, in.batch, in.n_images,
                                 in.n_images * c.mm_tokens_per_image, &w, full, sliding);
        rc = 0;
        goto done;
    }
    fo.all_logits = a.all_logits || a.mask_audit;
    fo.ignore_token_types = a.no_token_types;
    fo.time_phases = !a.no_time;
    fo.progress = isatty(STDERR_FILENO);
    pf_forward_measure_opts(&a, &pr, &fo.measure);
    size_t rows = a.all_logits ? (size_t)in.tokens : (size_t)in.batch;
    size_t run_rows = fo.all_logits ? (size_t)in.tokens : rows;
    logits = malloc(run_rows * (size_t)c.text.vocab * sizeof *logits);
    if (!logits) {
        rc = pf_cli_fail(CMD, "out of memory for the logits");
        goto done;
    }
    printf("model %s on %s [%s backend]\n", a.model, pr.name, pr.backend);
    fflush(stdout);
    if (pf_g3_forward(dev, &c, &w, &in, &fo, logits, rep)) {
        rc = pf_cli_fail_error(CMD);
        goto done;
    }
    if (a.mask_audit && (rc = run_audit(dev, &c, &w, &in, fo, logits, &audit)))
        goto done;
    if (run_rows != rows)
        pf_forward_keep_last_rows(logits, (size_t)c.text.vocab, in.req_len, in.batch);
    doc = report_json(&a, &c, &in, &pr, rep, fo.time_phases);
    if (a.mask_audit)
        json_object_set_new(doc, "mask_audit", pf_mask_audit_json(&audit));
    if ((rc = pf_forward_write(a.out, logits, rows, (size_t)c.text.vocab, doc)))
        goto done;
    print_summary(&c, &in, rep, fo.time_phases);
    if (a.mask_audit)
        pf_mask_audit_print(&audit);
    printf("wrote %s/logits.npy [%zu, %d] and %s/forward.json\n", a.out, rows, c.text.vocab, a.out);
    rc = 0;
done:
    json_decref(doc);
    pf_mask_audit_free(&audit);
    free(logits);
    free(rep);
    pf_g3_inputs_free(&in);
    pf_weight_set_free(&w);
    if (dev)
        pf_device_close(dev);
    return rc;
}
