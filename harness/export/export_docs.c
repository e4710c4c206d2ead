/* The descriptive half of an exported package: per-device configs named the
 * way engines name theirs, manifest.json (everything in machine form) and
 * README.md (how to build and call it, where every number came from). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attention/mask_encode.h"
#include "attention/mask_rule.h"
#include "core/json_doc.h"
#include "core/pf_error.h"
#include "export/export_internal.h"

static json_t *kernel_config(const pf_export_kernel *k)
{
    const pf_attn_variant *v = &k->v;
    json_t *o = json_pack("{s:i, s:i, s:i, s:i, s:s, s:s, s:i, s:i, s:s}", "BLOCK_M", v->block_m,
                          "BLOCK_N", v->block_n, "num_warps", v->warps, "num_stages", v->stages,
                          "MASK_STORAGE", pf_storage_name(v->mask_storage), "INDPTR_T",
                          v->indptr64 ? "int64" : "int32", "TILE_SKIP", v->tile_skip, "HEAD_DIM",
                          v->head_dim, "kernel", k->name);
    /* only where set: the derived grid's configs keep their keys */
    if (o && v->warp_rows)
        json_object_set_new(o, "WARP_ROWS", json_integer(v->warp_rows));
    return o;
}

static int write_json(const pf_export_ctx *c, const json_t *doc, const char *rel)
{
    char *text = pf_json_doc_text(doc);
    if (!text)
        return -1;
    int rc = pf_export_write(c->root, rel, text, strlen(text));
    free(text);
    return rc;
}

/* One file per (head dim, layer, rule): bucket -> configuration, the
 * entries' buckets merged in order (the first one of a length wins, as in
 * pfattn_select). */
static int write_configs(const pf_export_ctx *c)
{
    const pf_export_plan *p = c->plan;
    char slug[160];
    pf_export_device_slug(p->device, slug, sizeof slug);
    for (int e = 0; e < p->n_entries; e++) {
        const pf_export_entry *en = &p->entries[e];
        int first = 1;
        for (int x = 0; x < e; x++)
            first &= !(p->entries[x].head_dim == en->head_dim &&
                       p->entries[x].layer == en->layer && p->entries[x].rule == en->rule);
        if (!first)
            continue;
        json_t *doc = json_object();
        for (int x = e; x < p->n_entries; x++) {
            const pf_export_entry *o = &p->entries[x];
            if (o->head_dim != en->head_dim || o->layer != en->layer || o->rule != en->rule)
                continue;
            for (int b = 0; b < o->n_buckets; b++) {
                char key[32];
                snprintf(key, sizeof key, "%lld", (long long)o->buckets[b].seq_len);
                if (!json_object_get(doc, key))
                    json_object_set_new(doc, key, kernel_config(&p->kernels[o->buckets[b].kernel]));
            }
        }
        char rel[400];
        snprintf(rel, sizeof rel, "configs/device_name=%s,dtype=bf16,head_dim=%d,layer=%s,rule=%s.json",
                 slug, en->head_dim, pf_layer_name((pf_layer)en->layer),
                 pf_rule_name((pf_rule)en->rule));
        int rc = write_json(c, doc, rel);
        json_decref(doc);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static json_t *number_or_null(double x)
{
    return x >= 0 ? json_real(x) : json_null();
}

static int write_manifest(const pf_export_ctx *c)
{
    const pf_export_plan *p = c->plan;
    json_t *doc = pf_json_doc_new("pfattn.manifest", 1);
    json_t *archs = json_array(), *kernels = json_array(), *entries = json_array();
    for (int a = 0; a < c->n_archs; a++)
        json_array_append_new(archs, json_string(c->archs[a]));
    for (int k = 0; k < p->n_kernels; k++) {
        json_t *kj = kernel_config(&p->kernels[k]);
        json_object_set_new(kj, "variant", json_string(p->kernels[k].variant));
        json_object_set_new(kj, "threads", json_integer(pf_attn_variant_threads(&p->kernels[k].v)));
        json_object_set_new(kj, "smem_bytes",
                            json_integer((json_int_t)pf_attn_variant_smem_bytes(&p->kernels[k].v)));
        json_t *per = json_object();
        for (int a = 0; a < c->n_archs; a++) {
            int i = k * c->n_archs + a;
            json_object_set_new(per, c->archs[a],
                                json_pack("{s:i, s:i, s:I, s:I}", "registers", c->res[i].registers,
                                          "spill_bytes", c->res[i].spill_stores + c->res[i].spill_loads,
                                          "cubin_bytes", (json_int_t)c->cubin_bytes[i],
                                          "ptx_bytes", (json_int_t)c->ptx_bytes[i]));
        }
        json_object_set_new(kj, "archs", per);
        json_array_append_new(kernels, kj);
    }
    for (int e = 0; e < p->n_entries; e++) {
        const pf_export_entry *en = &p->entries[e];
        json_t *bs = json_array();
        for (int b = 0; b < en->n_buckets; b++) {
            const pf_export_bucket *bk = &en->buckets[b];
            json_array_append_new(bs, json_pack("{s:I, s:s, s:o, s:o, s:s}", "seq_len",
                                                (json_int_t)bk->seq_len, "kernel",
                                                p->kernels[bk->kernel].name, "median_ms",
                                                number_or_null(bk->median_ms), "useful_tflops",
                                                number_or_null(bk->useful_tflops), "timer",
                                                bk->timer));
        }
        json_array_append_new(entries,
                              json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:o}", "model",
                                        en->model, "layer", pf_layer_name((pf_layer)en->layer),
                                        "rule", pf_rule_name((pf_rule)en->rule), "head_dim",
                                        en->head_dim, "window", en->window, "hq", en->hq, "hkv",
                                        en->hkv, "buckets", bs));
    }
    json_object_set_new(doc, "device", json_string(p->device));
    json_object_set_new(doc, "tuned_arch", json_string(p->arch));
    json_object_set_new(doc, "backend", json_string(p->backend));
    json_object_set_new(doc, "host_timed", json_boolean(p->host_timed));
    json_object_set_new(doc, "archs", archs);
    json_object_set_new(doc, "kernels", kernels);
    json_object_set_new(doc, "entries", entries);
    int rc = write_json(c, doc, "manifest.json");
    json_decref(doc);
    return rc;
}

static void readme_tables(const pf_export_ctx *c, FILE *f)
{
    const pf_export_plan *p = c->plan;
    fprintf(f, "# pfattn: tuned masked prefill attention\n\n"
               "Masked prefill attention for multimodal Gemma models (text causal, the tokens\n"
               "of one image see each other, optional sliding window), with the kernel\n"
               "configuration chosen per sequence length by an autotuning sweep.\n\n");
    if (p->host_timed)
        fprintf(f, "> **Warning: these choices came from host (CPU emulator) timings, not GPU\n"
                   "> measurements.** Every kernel passed the tuner's check against a reference\n"
                   "> before it was timed, but which configuration is fastest was not measured on\n"
                   "> a GPU: re-tune on the target GPU before relying on these choices for speed.\n\n");
    fprintf(f, "## Tuned on\n\n- device: `%s`%s%s%s\n- compiled for: ", p->device,
            p->arch[0] ? " (limits of " : "", p->arch, p->arch[0] ? ")" : "");
    for (int a = 0; a < c->n_archs; a++)
        fprintf(f, "%s`%s`", a ? ", " : "", c->archs[a]);
    fprintf(f, " (cubin + PTX each)\n\n| model | layer | rule | head dim | window | heads q:kv | "
               "seq len bucket | kernel | median ms | timer |\n|---|---|---|---|---|---|---|---|---|---|\n");
    for (int e = 0; e < p->n_entries; e++) {
        const pf_export_entry *en = &p->entries[e];
        for (int b = 0; b < en->n_buckets; b++) {
            const pf_export_bucket *bk = &en->buckets[b];
            fprintf(f, "| %s | %s | %s | %d | %d | %d:%d | %lld | `%s` | ",
                    en->model[0] ? en->model : "-", pf_layer_name((pf_layer)en->layer),
                    pf_rule_name((pf_rule)en->rule), en->head_dim, en->window, en->hq, en->hkv,
                    (long long)bk->seq_len, p->kernels[bk->kernel].name);
            if (bk->median_ms >= 0)
                fprintf(f, "%.4g", bk->median_ms);
            else
                fprintf(f, "-");
            fprintf(f, " | %s |\n", bk->timer);
        }
    }
    fprintf(f, "\nKernels (`kernels/NAME.cu` defines the variant and includes `attention.cu`):\n\n"
               "| kernel | variant | threads | dynamic smem |\n|---|---|---|---|\n");
    for (int k = 0; k < p->n_kernels; k++)
        fprintf(f, "| `%s` | `%s` | %d | %zu B |\n", p->kernels[k].name, p->kernels[k].variant,
                pf_attn_variant_threads(&p->kernels[k].v),
                pf_attn_variant_smem_bytes(&p->kernels[k].v));
    fputc('\n', f);
}

int pf_export_docs(pf_export_ctx *c)
{
    if (write_configs(c) < 0 || write_manifest(c) < 0)
        return -1;
    char *buf;
    size_t len;
    FILE *f = pf_export_text_open(&buf, &len);
    if (!f)
        return -1;
    readme_tables(c, f);
    /* The static part (building, calling, metadata layout) is a real
     * markdown file of the source tree, appended after the tables. */
    char path[1200];
    snprintf(path, sizeof path, "%s/pfattn/README-usage.md", PF_SOURCE_DIR);
    FILE *u = fopen(path, "r");
    if (!u) {
        fclose(f);
        free(buf);
        return pf_error_set("cannot read %s", path);
    }
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, u)) > 0)
        fwrite(chunk, 1, n, f);
    fclose(u);
    return pf_export_text_write(f, &buf, &len, c->root, "README.md");
}
