/* Reading and checking results files for reports (see rdata.h). */
#include "report/rdata.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attention/attn_variant.h"
#include "core/pf_error.h"

int pf_rdata_resolve(const char *path, char *out, size_t size)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return pf_error_set("%s: cannot open: %s", path, strerror(errno));
    int n = S_ISDIR(st.st_mode) ? snprintf(out, size, "%s/results.json", path)
                                : snprintf(out, size, "%s", path);
    if (n < 0 || (size_t)n >= size)
        return pf_error_set("%s: path too long", path);
    return 0;
}

void pf_variant_get(const char *variant, const char *key, char *out, size_t size)
{
    size_t klen = strlen(key);
    out[0] = '\0';
    for (const char *s = variant; s && *s;) {
        const char *end = strchr(s, ',');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        if (len > klen && strncmp(s, key, klen) == 0 && s[klen] == '=') {
            size_t v = len - klen - 1;
            if (v >= size)
                v = size - 1;
            memcpy(out, s + klen + 1, v);
            out[v] = '\0';
            return;
        }
        s = end ? end + 1 : NULL;
    }
}

static int variant_int(const char *variant, const char *key)
{
    char v[32];
    pf_variant_get(variant, key, v, sizeof v);
    char *end;
    long x = strtol(v, &end, 10);
    return v[0] && !*end ? (int)x : -1;
}

/* The schema string: "pftune.results/1" only; another version or another
 * document is refused saying which. */
static int check_schema(const char *path, const json_t *doc)
{
    if (!json_is_object(doc))
        return pf_error_set("%s: not a JSON object", path);
    const char *schema = json_string_value(json_object_get(doc, "schema"));
    if (!schema)
        return pf_error_set("%s: no \"schema\" (expected \"%s/%d\")", path, PF_RDATA_SCHEMA,
                            PF_RDATA_VERSION);
    size_t n = strlen(PF_RDATA_SCHEMA);
    if (strncmp(schema, PF_RDATA_SCHEMA, n) != 0 || schema[n] != '/')
        return pf_error_set("%s: schema '%s' is not a results file (expected %s/%d)", path,
                            schema, PF_RDATA_SCHEMA, PF_RDATA_VERSION);
    char *end;
    long v = strtol(schema + n + 1, &end, 10);
    if (*end || v != PF_RDATA_VERSION)
        return pf_error_set("%s: schema '%s' is not supported (this pftune reads %s/%d)", path,
                            schema, PF_RDATA_SCHEMA, PF_RDATA_VERSION);
    if (!json_is_object(json_object_get(doc, "meta")))
        return pf_error_set("%s: missing \"meta\" (an object)", path);
    if (!json_is_array(json_object_get(doc, "records")))
        return pf_error_set("%s: missing \"records\" (an array)", path);
    return 0;
}

/* What the reader of pf_record_from_json leaves optional but reports need. */
static int check_record(const json_t *r)
{
    const char *need[] = {"status", "variant", "problem"};
    if (!json_is_object(r))
        return pf_error_set("not an object");
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (!json_is_string(json_object_get(r, need[i])))
            return pf_error_set("missing \"%s\" (a string)", need[i]);
    if (strcmp(json_string_value(json_object_get(r, "status")), "ok") != 0)
        return 0;
    const json_t *t = json_object_get(r, "time");
    if (!t || json_is_null(t))
        return 0; /* ok but untimed (a verify-only run) */
    if (!json_is_object(t) || !json_is_number(json_object_get(t, "median_ms")))
        return pf_error_set("\"time\" has no \"median_ms\" (a number)");
    return 0;
}

static void copy_str(char *dst, size_t size, const json_t *v)
{
    snprintf(dst, size, "%s", json_is_string(v) ? json_string_value(v) : "");
}

static int json_int_or(const json_t *o, const char *key, int dflt)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (int)json_integer_value(v) : dflt;
}

/* Shape facts from meta.problems (the tuner writes them), else from the
 * problem string ("... D=64 ... seq 256: layout"). */
static void fill_problem(pf_rpoint *p, const json_t *problems)
{
    const json_t *pr = NULL;
    size_t i;
    json_t *x;
    json_array_foreach(problems, i, x) {
        if (json_is_string(json_object_get(x, "desc")) &&
            strcmp(json_string_value(json_object_get(x, "desc")), p->rec.problem) == 0) {
            pr = x;
            break;
        }
    }
    const char *s = p->rec.problem;
    const char *colon = strstr(s, ": ");
    p->layout = colon ? colon + 2 : NULL;
    p->head_dim = p->hq = p->hkv = -1;
    p->window = 0;
    p->seq_len = -1;
    if (pr) {
        p->head_dim = json_int_or(pr, "head_dim", -1);
        p->seq_len = json_int_or(pr, "seq_len", -1);
        p->window = json_int_or(pr, "window", 0);
        p->hq = json_int_or(pr, "hq", -1);
        p->hkv = json_int_or(pr, "hkv", -1);
        copy_str(p->layer, sizeof p->layer, json_object_get(pr, "layer"));
        copy_str(p->rule, sizeof p->rule, json_object_get(pr, "rule"));
        return;
    }
    const char *d = strstr(s, " D=");
    if (d)
        p->head_dim = atoi(d + 3);
    else
        p->head_dim = variant_int(p->rec.variant, "HEAD_DIM");
    const char *q = strstr(s, " seq ");
    if (q)
        p->seq_len = strtoll(q + 5, NULL, 10);
    if (strstr(s, " sliding"))
        snprintf(p->layer, sizeof p->layer, "sliding");
    else if (strstr(s, " full"))
        snprintf(p->layer, sizeof p->layer, "full");
    const char *r = strstr(s, " rule ");
    if (r)
        sscanf(r + 6, "%15s", p->rule);
    const char *w = strstr(s, " W=");
    if (w)
        p->window = atoi(w + 3);
}

static void fill_variant(pf_rpoint *p)
{
    const char *v = p->rec.variant;
    pf_variant_get(v, "MASK_STORAGE", p->storage, sizeof p->storage);
    pf_variant_get(v, "INDPTR_T", p->indptr, sizeof p->indptr);
    p->block_m = variant_int(v, "BLOCK_M");
    p->block_n = variant_int(v, "BLOCK_N");
    p->warps = variant_int(v, "WARPS");
    p->stages = variant_int(v, "STAGES");
    p->tile_skip = variant_int(v, "TILE_SKIP");
    /* WARP_ROWS is in the text only where it differs from the derived grid */
    p->warp_rows = variant_int(v, "WARP_ROWS");
    if (p->warp_rows <= 0 && p->block_m > 0 && p->warps > 0) {
        pf_attn_variant av = {.block_m = p->block_m, .warps = p->warps};
        p->warp_rows = pf_attn_variant_derived_rows(&av);
    }
}

/* Device, backend and timer: meta first, the records as a fallback. */
static void fill_meta(pf_rdata *d)
{
    const json_t *m = d->meta, *dev = json_object_get(m, "device");
    copy_str(d->device, sizeof d->device, json_object_get(dev, "name"));
    copy_str(d->backend, sizeof d->backend, json_object_get(m, "backend"));
    copy_str(d->arch, sizeof d->arch, json_object_get(m, "arch"));
    copy_str(d->started, sizeof d->started, json_object_get(m, "started"));
    copy_str(d->finished, sizeof d->finished, json_object_get(m, "finished"));
    d->host_timers = json_is_true(json_object_get(dev, "host_timers"));
    for (int i = 0; i < d->n; i++) {
        const pf_record *r = &d->pts[i].rec;
        if (!d->device[0])
            snprintf(d->device, sizeof d->device, "%s", r->device);
        if (!d->backend[0])
            snprintf(d->backend, sizeof d->backend, "%s", r->backend);
        if (!d->arch[0])
            snprintf(d->arch, sizeof d->arch, "%s", r->arch);
        if (!d->timer[0] && r->time.samples > 0)
            snprintf(d->timer, sizeof d->timer, "%s", r->time.timer);
    }
    if (!d->timer[0])
        snprintf(d->timer, sizeof d->timer, "%s", "unknown");
    if (!strcmp(d->backend, "emu") || !strcmp(d->timer, "emu-host") || !strcmp(d->timer, "host"))
        d->host_timers = 1;
    if (!d->device[0])
        snprintf(d->device, sizeof d->device, "%s", "unknown device");
}

int pf_rdata_load(const char *path, pf_rdata *out)
{
    memset(out, 0, sizeof *out);
    if (pf_rdata_resolve(path, out->path, sizeof out->path))
        return -1;
    json_error_t err;
    out->doc = json_load_file(out->path, 0, &err);
    if (!out->doc) {
        if (access(out->path, R_OK) != 0)
            return pf_error_set("%s: cannot open: %s", out->path, strerror(errno));
        return pf_error_set("%s: %s (line %d)", out->path, err.text, err.line);
    }
    if (check_schema(out->path, out->doc)) {
        pf_rdata_free(out);
        return -1;
    }
    out->meta = json_object_get(out->doc, "meta");
    const json_t *recs = json_object_get(out->doc, "records");
    const json_t *problems = json_object_get(out->meta, "problems");
    size_t n = json_array_size(recs);
    out->pts = calloc(n ? n : 1, sizeof *out->pts);
    if (!out->pts) {
        pf_rdata_free(out);
        return pf_error_set("out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *r = json_array_get(recs, i);
        if (check_record(r) || pf_record_from_json(r, &out->pts[i].rec)) {
            pf_error_prefix("%s: records[%zu]", out->path, i);
            pf_rdata_free(out);
            return -1;
        }
        out->n++;
        fill_variant(&out->pts[i]);
        fill_problem(&out->pts[i], problems);
    }
    fill_meta(out);
    return 0;
}

void pf_rdata_free(pf_rdata *d)
{
    for (int i = 0; i < d->n; i++)
        pf_record_free(&d->pts[i].rec);
    free(d->pts);
    json_decref(d->doc);
    memset(d, 0, sizeof *d);
}

int pf_rdata_problems(const pf_rdata *d, int **first, int *n)
{
    *n = 0;
    *first = malloc((size_t)(d->n ? d->n : 1) * sizeof **first);
    if (!*first)
        return pf_error_set("out of memory");
    for (int i = 0; i < d->n; i++) {
        int seen = 0;
        for (int k = 0; k < *n && !seen; k++)
            seen = strcmp(d->pts[(*first)[k]].rec.problem, d->pts[i].rec.problem) == 0;
        if (!seen)
            (*first)[(*n)++] = i;
    }
    return 0;
}

int pf_rdata_best(const pf_rdata *d, const char *problem,
                  int (*keep)(const pf_rpoint *, const void *), const void *ctx)
{
    int best = -1;
    for (int i = 0; i < d->n; i++) {
        const pf_rpoint *p = &d->pts[i];
        if (!pf_rpoint_timed(p) || strcmp(p->rec.problem, problem) != 0 || (keep && !keep(p, ctx)))
            continue;
        if (best < 0 || p->rec.time.median_ms < d->pts[best].rec.time.median_ms)
            best = i;
    }
    return best;
}
