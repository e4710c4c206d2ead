/* nvbench JSON and CSV forms of a results file (see export.h). */
#include "report/export.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/atomic_file.h"
#include "core/pf_error.h"

static json_t *summary(const char *tag, const char *name, const char *hint, const char *desc,
                       const char *type, const char *value)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:[{s:s, s:s, s:s}]}", "tag", tag, "name", name,
                     "hint", hint, "description", desc, "data", "name", "value", "type", type,
                     "value", value);
}

/* The next KEY=VALUE item of a variant string; 0 at the end. */
static int next_kv(const char **s, char key[64], char val[64])
{
    while (*s && **s) {
        const char *end = strchr(*s, ','), *eq = strchr(*s, '=');
        size_t len = end ? (size_t)(end - *s) : strlen(*s);
        const char *item = *s;
        *s = end ? end + 1 : NULL;
        if (eq && eq < item + len) {
            snprintf(key, 64, "%.*s", (int)(eq - item), item);
            snprintf(val, 64, "%.*s", (int)(item + len - eq - 1), eq + 1);
            return 1;
        }
    }
    return 0;
}

static json_t *state_json(const pf_rdata *d, const pf_rpoint *p)
{
    char name[600] = "Device=0", v[64], desc[256];
    json_t *axis_values = json_array(), *sums = json_array();
    const char *s = p->rec.variant;
    char key[64], val[64];
    while (next_kv(&s, key, val)) {
        json_array_append_new(axis_values, json_pack("{s:s, s:s, s:s}", "name", key, "type",
                                                     "string", "value", val));
        snprintf(name + strlen(name), sizeof name - strlen(name), " %s=%s", key, val);
    }
    const pf_measure_summary *t = &p->rec.time;
    snprintf(desc, sizeof desc, "timer %s%s", t->timer,
             d->host_timers ? ": host timing, not a GPU number" : "");
    snprintf(v, sizeof v, "%.17g", t->mean_ms * 1e-3);
    json_array_append_new(sums, summary("nv/cold/time/gpu/mean", "GPU Time", "duration", desc,
                                        "float64", v));
    snprintf(v, sizeof v, "%.17g", t->stdrel);
    json_array_append_new(sums, summary("nv/cold/time/gpu/stdev/relative", "Noise", "percentage",
                                        desc, "float64", v));
    snprintf(v, sizeof v, "%d", t->samples);
    json_array_append_new(sums, summary("nv/cold/sample_size", "Samples", "sample_size",
                                        "Number of timed runs.", "int64", v));
    snprintf(v, sizeof v, "%.17g", t->median_ms * 1e-3);
    json_array_append_new(sums, summary("pftune/median", "Median", "duration", desc, "float64", v));
    json_array_append_new(sums, summary("pftune/timer", "Timer", "", "pftune's timer label",
                                        "string", t->timer));
    return json_pack("{s:s, s:i, s:i, s:o, s:o, s:b}", "name", name, "device", 0,
                     "type_config_index", 0, "axis_values", axis_values, "summaries", sums,
                     "is_skipped", 0);
}

/* String axes of a problem: every KEY with its values, in order seen. */
static json_t *axes_json(const pf_rdata *d, const char *problem)
{
    json_t *axes = json_array();
    for (int i = 0; i < d->n; i++) {
        if (strcmp(d->pts[i].rec.problem, problem) || !pf_rpoint_timed(&d->pts[i]))
            continue;
        const char *s = d->pts[i].rec.variant;
        char key[64], val[64];
        while (next_kv(&s, key, val)) {
            json_t *ax = NULL, *x, *y;
            size_t k;
            json_array_foreach(axes, k, x) {
                if (!strcmp(json_string_value(json_object_get(x, "name")), key))
                    ax = x;
            }
            if (!ax) {
                ax = json_pack("{s:s, s:s, s:s, s:[]}", "name", key, "type", "string", "flags",
                               "", "values");
                json_array_append_new(axes, ax);
            }
            json_t *vals = json_object_get(ax, "values");
            int seen = 0;
            json_array_foreach(vals, k, y) {
                seen |= !strcmp(json_string_value(json_object_get(y, "value")), val);
            }
            if (!seen)
                json_array_append_new(vals, json_pack("{s:s, s:s, s:s}", "input_string", val,
                                                      "description", "", "value", val));
        }
    }
    return axes;
}

int pf_export_nvbench(const pf_rdata *d, const char *path)
{
    int *first, n;
    if (pf_rdata_problems(d, &first, &n))
        return -1;
    json_t *root = json_pack(
        "{s:{s:{s:{s:i, s:i, s:i, s:s}}, s:s}, s:[{s:i, s:s, s:s}], s:[]}", "meta", "version",
        "json", "major", 1, "minor", 0, "patch", 0, "string", "1.0.0", "generator",
        "pftune report --nvbench", "devices", "id", 0, "name", d->device, "arch", d->arch,
        "benchmarks");
    json_t *benches = json_object_get(root, "benchmarks");
    for (int k = 0; k < n; k++) {
        const char *prob = d->pts[first[k]].rec.problem;
        json_t *states = json_array();
        for (int i = 0; i < d->n; i++)
            if (!strcmp(d->pts[i].rec.problem, prob) && pf_rpoint_timed(&d->pts[i]))
                json_array_append_new(states, state_json(d, &d->pts[i]));
        json_array_append_new(benches, json_pack("{s:i, s:s, s:[i], s:o, s:o}", "index", k,
                                                 "name", prob, "devices", 0, "axes",
                                                 axes_json(d, prob), "states", states));
    }
    free(first);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!text)
        return pf_error_set("cannot serialize the nvbench JSON");
    int rc = pf_atomic_write(path, text, strlen(text), 0644);
    free(text);
    return rc;
}

/* A CSV field: quoted when it holds a comma, quote or newline. */
static void csv_str(FILE *f, const char *s, int last)
{
    if (strpbrk(s, ",\"\n")) {
        fputc('"', f);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', f);
            fputc(*s, f);
        }
        fputc('"', f);
    } else {
        fputs(s, f);
    }
    fputc(last ? '\n' : ',', f);
}

int pf_export_csv(const pf_rdata *d, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return pf_error_set("out of memory");
    fputs("status,problem,variant,device,backend,arch,layer,head_dim,seq_len,storage,block_m,"
          "block_n,warps,warp_rows,stages,tile_skip,indptr,timer,samples,median_ms,q1_ms,q3_ms,min_ms,"
          "max_ms,mean_ms,stdev_ms,useful_tflops,metadata_bytes,registers,spill_bytes,"
          "smem_bytes,error,message\n", f);
    for (int i = 0; i < d->n; i++) {
        const pf_rpoint *p = &d->pts[i];
        const pf_record *r = &p->rec;
        csv_str(f, pf_status_name(r->status), 0);
        csv_str(f, r->problem, 0);
        csv_str(f, r->variant, 0);
        csv_str(f, r->device, 0);
        csv_str(f, r->backend, 0);
        csv_str(f, r->arch, 0);
        csv_str(f, p->layer, 0);
        fprintf(f, "%d,%" PRId64 ",", p->head_dim, p->seq_len);
        csv_str(f, p->storage, 0);
        fprintf(f, "%d,%d,%d,%d,%d,%d,", p->block_m, p->block_n, p->warps, p->warp_rows, p->stages,
                p->tile_skip);
        csv_str(f, p->indptr, 0);
        if (r->time.samples > 0) {
            const pf_measure_summary *t = &r->time;
            csv_str(f, t->timer, 0);
            fprintf(f, "%d,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,", t->samples, t->median_ms,
                    t->q1_ms, t->q3_ms, t->min_ms, t->max_ms, t->mean_ms, t->stdev_ms);
            double tf = r->useful_flops > 0 ? r->useful_flops / (t->median_ms * 1e-3) / 1e12 : 0;
            if (tf > 0)
                fprintf(f, "%.9g,", tf);
            else
                fputs(",", f);
        } else {
            fputs(",,,,,,,,,,", f);
        }
        if (r->metadata_bytes >= 0)
            fprintf(f, "%" PRId64, r->metadata_bytes);
        fputc(',', f);
        if (r->registers >= 0)
            fprintf(f, "%d", r->registers);
        fputc(',', f);
        if (r->spill_bytes >= 0)
            fprintf(f, "%d", r->spill_bytes);
        fputc(',', f);
        if (r->smem_bytes >= 0)
            fprintf(f, "%d", r->smem_bytes);
        fputc(',', f);
        if (r->error == r->error)
            fprintf(f, "%.6g", r->error);
        fputc(',', f);
        csv_str(f, r->message, 1);
    }
    fclose(f);
    int rc = pf_atomic_write(path, text, len, 0644);
    free(text);
    return rc;
}
