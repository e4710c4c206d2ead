/* results.json and tuned.json (see results.h). */
#include "tuner/results.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_doc.h"
#include "core/pf_error.h"

#define RESULTS_SCHEMA "pftune.results/1"
#define TUNED_SCHEMA "pftune.tuned/1"

int pf_results_write(const char *path, const json_t *meta, const pf_record *recs, int n)
{
    json_t *doc = pf_json_doc_new("pftune.results", 1);
    json_t *arr = json_array();
    if (!doc || !arr) {
        json_decref(doc);
        json_decref(arr);
        return pf_error_set("out of memory");
    }
    json_object_set_new(doc, "meta", json_deep_copy(meta));
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, pf_record_to_json(&recs[i]));
    json_object_set_new(doc, "records", arr);
    int rc = pf_json_doc_write(doc, path);
    json_decref(doc);
    return rc;
}

void pf_results_free(pf_results *r)
{
    for (int i = 0; i < r->n; i++)
        pf_record_free(&r->recs[i]);
    free(r->recs);
    json_decref(r->meta);
    memset(r, 0, sizeof *r);
}

int pf_results_read(const char *path, pf_results *out)
{
    memset(out, 0, sizeof *out);
    json_error_t err;
    json_t *doc = json_load_file(path, 0, &err);
    if (!doc)
        return pf_error_set("%s: %s (line %d)", path, err.text, err.line);
    const char *schema = json_string_value(json_object_get(doc, "schema"));
    const json_t *recs = json_object_get(doc, "records");
    int rc = 0;
    if (!schema || strcmp(schema, RESULTS_SCHEMA) != 0)
        rc = pf_error_set("%s: schema '%s' is not %s", path, schema ? schema : "missing",
                          RESULTS_SCHEMA);
    else if (!json_is_array(recs) || !json_is_object(json_object_get(doc, "meta")))
        rc = pf_error_set("%s: needs \"meta\" (object) and \"records\" (array)", path);
    size_t n = rc ? 0 : json_array_size(recs);
    if (!rc && !(out->recs = calloc(n ? n : 1, sizeof *out->recs)))
        rc = pf_error_set("out of memory");
    for (size_t i = 0; i < n && !rc; i++) {
        if (pf_record_from_json(json_array_get(recs, i), &out->recs[i]))
            rc = pf_error_prefix("%s: records[%zu]", path, i);
        else
            out->n++;
    }
    if (!rc)
        out->meta = json_incref(json_object_get(doc, "meta"));
    json_decref(doc);
    if (rc)
        pf_results_free(out);
    return rc;
}

/* ---- tuned.json ---- */

static int same_shape(const json_t *a, const json_t *b)
{
    const char *keys[] = {"model", "layer", "head_dim", "rule", "window", "hq", "hkv"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!json_equal(json_object_get(a, keys[i]), json_object_get(b, keys[i])))
            return 0;
    return 1;
}

static const pf_record *best_for(const pf_results *r, const char *desc)
{
    const pf_record *best = NULL;
    for (int i = 0; i < r->n; i++) {
        const pf_record *x = &r->recs[i];
        if (x->status != PF_STATUS_OK || x->time.samples < 1 || strcmp(x->problem, desc) != 0)
            continue;
        if (!best || x->time.median_ms < best->time.median_ms)
            best = x;
    }
    return best;
}

json_t *pf_tuned_from_results(const pf_results *r)
{
    json_t *doc = pf_json_doc_new("pftune.tuned", 1);
    json_t *entries = json_array();
    const json_t *meta = r->meta;
    const json_t *problems = json_object_get(meta, "problems");
    json_t *dev = json_object_get(json_object_get(meta, "device"), "name");
    json_object_set(doc, "device", dev ? dev : json_string("unknown"));
    json_object_set(doc, "arch", json_object_get(meta, "arch") ? json_object_get(meta, "arch")
                                                                : json_null());
    json_object_set(doc, "backend", json_object_get(meta, "backend")
                                        ? json_object_get(meta, "backend")
                                        : json_null());
    size_t i;
    json_t *pb;
    json_array_foreach(problems, i, pb)
    {
        const char *desc = json_string_value(json_object_get(pb, "desc"));
        const pf_record *best = desc ? best_for(r, desc) : NULL;
        if (!best)
            continue; /* nothing ok for this problem: no bucket */
        json_t *entry = NULL;
        size_t k;
        json_t *e;
        json_array_foreach(entries, k, e) if (same_shape(e, pb)) entry = e;
        if (!entry) {
            entry = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:[]}", "model",
                              json_object_get(pb, "model"), "layer", json_object_get(pb, "layer"),
                              "head_dim", json_object_get(pb, "head_dim"), "rule",
                              json_object_get(pb, "rule"), "window",
                              json_object_get(pb, "window"), "hq", json_object_get(pb, "hq"),
                              "hkv", json_object_get(pb, "hkv"), "buckets");
            if (!entry)
                continue;
            json_array_append_new(entries, entry);
        }
        json_t *bucket = json_pack("{s:O, s:s, s:f, s:s}", "seq_len",
                                   json_object_get(pb, "seq_len"), "variant", best->variant,
                                   "median_ms", best->time.median_ms, "timer", best->time.timer);
        double tf = pf_record_tflops(best);
        json_object_set_new(bucket, "useful_tflops", tf > 0 ? json_real(tf) : json_null());
        if (strcmp(best->time.timer, "emu-host") == 0 || strcmp(best->time.timer, "host") == 0)
            json_object_set_new(bucket, "note",
                                json_string("chosen from host timings (not GPU numbers): "
                                            "re-tune on the target GPU before relying on it"));
        json_array_append_new(json_object_get(entry, "buckets"), bucket);
    }
    json_object_set_new(doc, "entries", entries);
    return doc;
}

static int str_match(const json_t *v, const char *want)
{
    return !want || !*want || (json_is_string(v) && strcmp(json_string_value(v), want) == 0);
}

int pf_tuned_lookup(const json_t *tuned, const char *model, const char *layer, int head_dim,
                    const char *rule, int64_t seq_len, char *variant, size_t variant_size,
                    int64_t *bucket, char *timer, size_t timer_size)
{
    const char *schema = json_string_value(json_object_get(tuned, "schema"));
    if (!schema || strcmp(schema, TUNED_SCHEMA) != 0)
        return pf_error_set("not a tuned configuration (schema '%s', want %s)",
                            schema ? schema : "missing", TUNED_SCHEMA);
    const json_t *best = NULL;
    int64_t best_dist = -1, best_len = 0;
    int shapes = 0;
    size_t i, k;
    json_t *e, *b;
    json_array_foreach(json_object_get(tuned, "entries"), i, e)
    {
        if (!str_match(json_object_get(e, "model"), model) ||
            !str_match(json_object_get(e, "layer"), layer) ||
            !str_match(json_object_get(e, "rule"), rule) ||
            (head_dim && json_integer_value(json_object_get(e, "head_dim")) != head_dim))
            continue;
        shapes++;
        json_array_foreach(json_object_get(e, "buckets"), k, b)
        {
            int64_t len = json_integer_value(json_object_get(b, "seq_len"));
            int64_t dist = len > seq_len ? len - seq_len : seq_len - len;
            if (best_dist < 0 || dist < best_dist || (dist == best_dist && len > best_len)) {
                best = b;
                best_dist = dist;
                best_len = len;
            }
        }
    }
    if (!best)
        return pf_error_set("no tuned entry for model %s, layer %s, head dim %d, rule %s (%d "
                            "matching shapes; see the file's \"entries\")",
                            model && *model ? model : "any", layer && *layer ? layer : "any",
                            head_dim, rule && *rule ? rule : "any", shapes);
    snprintf(variant, variant_size, "%s", json_string_value(json_object_get(best, "variant")));
    if (bucket)
        *bucket = best_len;
    if (timer) {
        const char *t = json_string_value(json_object_get(best, "timer"));
        snprintf(timer, timer_size, "%s", t ? t : "");
    }
    return 0;
}
