/* Shared parts of `pftune forward` (forward_common.h). */
#include "cli/forward_common.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/json_doc.h"
#include "core/npy.h"
#include "core/pf_error.h"
#include "core/version.h"
#include "device/arch.h"
#include "models/weight_set.h"
#include "tuner/results.h"

#define CMD "forward"

int pf_forward_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int pf_forward_is_gemma4(const char *model)
{
    if (!pf_forward_is_dir(model))
        return strncmp(model, "gemma4-", 7) == 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", model);
    json_t *doc = json_load_file(path, 0, NULL);
    const char *mt = json_string_value(json_object_get(doc, "model_type"));
    int g4 = mt && (strcmp(mt, "gemma4") == 0 || strcmp(mt, "gemma4_text") == 0);
    json_decref(doc);
    return g4;
}

int pf_forward_prepare_out(const char *out)
{
    if (mkdir(out, 0755) != 0 && errno != EEXIST)
        return pf_cli_fail(CMD, "--out %s: %s", out, strerror(errno));
    if (!pf_forward_is_dir(out))
        return pf_cli_fail(CMD, "--out %s: exists and is not a directory", out);
    return 0;
}

void pf_forward_measure_opts(const fwd_args *a, const pf_device_props *pr, pf_measure_opts *m)
{
    long samples = a->samples > 0 ? a->samples : pr->kind == PF_BACKEND_EMU ? 3 : 10;
    m->warmup = (int)a->warmup;
    m->min_samples = m->max_samples = (int)samples;
    m->flush_l2 = 0;
}

void pf_forward_keep_last_rows(float *logits, size_t vocab, const int *req_len, int batch)
{
    size_t end = 0;
    for (int r = 0; r < batch; r++) {
        end += (size_t)req_len[r];
        memmove(logits + (size_t)r * vocab, logits + (end - 1) * vocab, vocab * sizeof *logits);
    }
}

json_t *pf_forward_json_head(const fwd_args *a, const char *family, const pf_device_props *pr,
                             int tokens, int requests, int images, int token_types,
                             const char *full, const char *sliding, const char *vision,
                             int timed, const char *timer)
{
    json_t *d = pf_json_doc_new("pftune.forward", 1);
    json_object_set_new(d, "pftune_version", json_string(pf_version_full()));
    json_object_set_new(d, "model", json_string(a->model));
    json_object_set_new(d, "model_family", json_string(family));
    json_object_set_new(d, "weights",
                        json_string(pf_forward_is_dir(a->model) ? "checkpoint" : "synthetic"));
    json_object_set_new(d, "device", json_string(pr->name));
    json_object_set_new(d, "backend", json_string(pr->backend));
    json_object_set_new(d, "tokens", json_integer(tokens));
    json_object_set_new(d, "requests", json_integer(requests));
    json_object_set_new(d, "images", json_integer(images));
    json_object_set_new(d, "token_types", json_boolean(token_types));
    json_t *var = json_object();
    json_object_set_new(var, "full", json_string(full));
    json_object_set_new(var, "sliding", json_string(sliding));
    if (vision)
        json_object_set_new(var, "vision", json_string(vision));
    json_object_set_new(d, "attention_variants", var);
    json_object_set_new(d, "timed", json_boolean(timed));
    if (timed)
        json_object_set_new(d, "timer", json_string(timer));
    return d;
}

json_t *pf_forward_json_layer(int layer, int full, double attention_ms, double gemm_ms,
                              double other_ms)
{
    json_t *o = json_object();
    json_object_set_new(o, "layer", json_integer(layer));
    json_object_set_new(o, "kind", json_string(full ? "full" : "sliding"));
    json_object_set_new(o, "attention_ms", json_real(attention_ms));
    json_object_set_new(o, "gemm_ms", json_real(gemm_ms));
    json_object_set_new(o, "other_ms", json_real(other_ms));
    return o;
}

void pf_forward_json_memory(json_t *doc, size_t peak, size_t weights, size_t activations,
                            size_t mask)
{
    json_t *mem = json_object();
    json_object_set_new(mem, "peak_bytes", json_integer((json_int_t)peak));
    json_object_set_new(mem, "weights_bytes", json_integer((json_int_t)weights));
    json_object_set_new(mem, "activations_bytes", json_integer((json_int_t)activations));
    json_object_set_new(mem, "mask_metadata_bytes", json_integer((json_int_t)mask));
    json_object_set_new(mem, "mask_share", json_real(peak ? (double)mask / peak : 0));
    json_object_set_new(mem, "scope", json_string("pftune's own device buffers (weights, "
                                                  "activations, attention metadata)"));
    json_object_set_new(doc, "memory", mem);
}

int pf_forward_write(const char *out, const float *logits, size_t rows, size_t vocab,
                     const json_t *doc)
{
    char path[4096];
    int64_t shape[2] = {(int64_t)rows, (int64_t)vocab};
    snprintf(path, sizeof path, "%s/logits.npy", out);
    if (pf_npy_write_f32(path, logits, 2, shape))
        return pf_cli_fail_error(CMD);
    snprintf(path, sizeof path, "%s/forward.json", out);
    if (pf_json_doc_write(doc, path))
        return pf_cli_fail_error(CMD);
    return 0;
}

int pf_forward_apply_attn(const fwd_args *a, pf_device *dev, const pf_forward_kinds *k)
{
    char arch[16];
    if (a->n_attn && pf_device_arch(dev, arch, sizeof arch))
        return pf_cli_fail_error(CMD);
    for (int i = 0; i < a->n_attn; i++) {
        const char *s = a->attn[i];
        int kinds = 3; /* bit 0 full, 1 sliding, 2 vision */
        if (strncmp(s, "full:", 5) == 0)
            kinds = 1, s += 5;
        else if (strncmp(s, "sliding:", 8) == 0)
            kinds = 2, s += 8;
        else if (strncmp(s, "vision:", 7) == 0)
            kinds = 4, s += 7;
        if (kinds == 4 && !k->head_dim[2])
            return pf_cli_usage_error(CMD, "--attn vision:...: the model has no vision tower");
        for (int j = 0; j < 3; j++) {
            if (!(kinds & (1 << j)))
                continue;
            pf_attn_variant v;
            char why[256];
            if (pf_attn_variant_parse(s, k->head_dim[j], arch, &v))
                return pf_cli_usage_error(CMD, "--attn '%s' (head dim %d): %s", a->attn[i],
                                          k->head_dim[j], pf_error_get());
            if (!pf_attn_variant_valid(&v, arch, why, sizeof why))
                return pf_cli_usage_error(CMD, "--attn '%s' (head dim %d): %s", a->attn[i],
                                          k->head_dim[j], why);
            *k->dst[j] = v;
        }
    }
    return 0;
}

int pf_forward_apply_tuned(const fwd_args *a, pf_device *dev, const pf_forward_kinds *k,
                           int64_t seq)
{
    json_error_t err;
    json_t *doc = json_load_file(a->tuned, 0, &err);
    if (!doc)
        return pf_cli_fail(CMD, "--tuned %s: line %d: %s", a->tuned, err.line, err.text);
    char arch[16];
    int rc = pf_device_arch(dev, arch, sizeof arch) ? pf_cli_fail_error(CMD) : 0;
    const char *kinds[2] = {"full", "sliding"};
    for (int j = 0; j < 2 && !rc; j++) {
        char text[256];
        if (pf_tuned_lookup(doc, NULL, kinds[j], k->head_dim[j], k->rule, seq, text, sizeof text,
                            NULL, NULL, 0) ||
            pf_attn_variant_parse(text, k->head_dim[j], arch, k->dst[j]))
            rc = pf_cli_fail(CMD, "--tuned %s: %s layers (head dim %d): %s", a->tuned, kinds[j],
                             k->head_dim[j], pf_error_get());
    }
    json_decref(doc);
    return rc;
}

void pf_forward_dry_run_print(const char *model, int tokens, int batch, int images,
                              int image_tokens, const void *weights, const char *full,
                              const char *sliding)
{
    const pf_weight_set *w = weights;
    double bytes = 0;
    for (int i = 0; i < w->n; i++)
        bytes += (double)w->specs[i].count * 2;
    printf("forward: dry run ok: %s, %d tokens in %d request%s, %d image%s (%d image tokens), "
           "weights %.2f GB in %d tensors (%s), full %s, sliding %s\n",
           model, tokens, batch, batch == 1 ? "" : "s", images, images == 1 ? "" : "s",
           image_tokens, bytes / 1e9, w->n,
           w->synth && !w->data[0] ? "synthetic, drawn on the device"
           : w->synth              ? "synthetic"
                                   : "checkpoint",
           full, sliding);
}
