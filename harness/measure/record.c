/* Records of measured points (see record.h). */
#include "measure/record.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"

void pf_record_init(pf_record *r)
{
    memset(r, 0, sizeof *r);
    r->status = PF_STATUS_OK;
    r->metadata_bytes = -1;
    r->error = NAN;
    r->registers = r->spill_bytes = r->smem_bytes = -1;
}

int pf_record_set_samples(pf_record *r, const double *samples_ms, int n)
{
    free(r->samples_ms);
    r->samples_ms = NULL;
    if (n <= 0)
        return 0;
    if (n > PF_RECORD_MAX_SAMPLES)
        return pf_error_set("record: %d samples (at most %d)", n, PF_RECORD_MAX_SAMPLES);
    r->samples_ms = malloc(sizeof(double) * (size_t)n);
    if (!r->samples_ms)
        return pf_error_set("record: out of memory for %d samples", n);
    memcpy(r->samples_ms, samples_ms, sizeof(double) * (size_t)n);
    return 0;
}

void pf_record_free(pf_record *r)
{
    free(r->samples_ms);
    r->samples_ms = NULL;
}

double pf_record_tflops(const pf_record *r)
{
    if (r->time.samples < 1 || r->time.median_ms <= 0 || r->useful_flops <= 0)
        return 0;
    return r->useful_flops / (r->time.median_ms * 1e-3) / 1e12;
}

/* NaN and unknown (-1) become JSON null, so readers never see a fake 0. */
static json_t *num_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}
static json_t *int_or_null(int64_t v)
{
    return v >= 0 ? json_integer(v) : json_null();
}

static json_t *time_json(const pf_record *r)
{
    const pf_measure_summary *t = &r->time;
    json_t *samples = json_array();
    for (int i = 0; r->samples_ms && i < t->samples; i++)
        json_array_append_new(samples, json_real(r->samples_ms[i]));
    return json_pack("{s:s, s:s, s:i, s:b, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:I, s:o}",
                     "timer", t->timer, "timer_note", t->timer_note, "samples", t->samples,
                     "converged", t->converged, "min_ms", t->min_ms, "q1_ms", t->q1_ms,
                     "median_ms", t->median_ms, "q3_ms", t->q3_ms, "max_ms", t->max_ms,
                     "mean_ms", t->mean_ms, "stdev_ms", t->stdev_ms, "stdrel", t->stdrel,
                     "mem_peak_bytes", (json_int_t)t->mem_peak_bytes, "samples_ms", samples);
}

json_t *pf_record_to_json(const pf_record *r)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "status",
                          pf_status_name(r->status), "family", r->family, "variant", r->variant,
                          "problem", r->problem, "device", r->device, "backend", r->backend,
                          "arch", r->arch, "message", r->message);
    if (!j)
        return NULL;
    json_object_set_new(j, "time", r->time.samples > 0 ? time_json(r) : json_null());
    json_object_set_new(j, "useful_flops", r->useful_flops > 0 ? json_real(r->useful_flops)
                                                               : json_null());
    double tf = pf_record_tflops(r);
    json_object_set_new(j, "useful_tflops", tf > 0 ? json_real(tf) : json_null());
    json_object_set_new(j, "metadata_bytes", int_or_null(r->metadata_bytes));
    json_object_set_new(j, "error", num_or_null(r->error));
    json_object_set_new(j, "registers", int_or_null(r->registers));
    json_object_set_new(j, "spill_bytes", int_or_null(r->spill_bytes));
    json_object_set_new(j, "smem_bytes", int_or_null(r->smem_bytes));
    return j;
}

/* ---- reading back ---- */

static int get_str(const json_t *j, const char *key, char *out, size_t size)
{
    const json_t *v = json_object_get(j, key);
    if (!v)
        return 0;
    if (!json_is_string(v))
        return pf_error_set("record: \"%s\" must be a string", key);
    if (strlen(json_string_value(v)) >= size)
        return pf_error_set("record: \"%s\" is longer than %zu characters", key, size - 1);
    snprintf(out, size, "%s", json_string_value(v));
    return 0;
}

/* A number, or null meaning `unknown`. */
static int get_num(const json_t *j, const char *key, double unknown, double *out)
{
    const json_t *v = json_object_get(j, key);
    if (!v || json_is_null(v)) {
        *out = unknown;
        return 0;
    }
    if (!json_is_number(v))
        return pf_error_set("record: \"%s\" must be a number or null", key);
    *out = json_number_value(v);
    return 0;
}

static int get_int(const json_t *j, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
    double d = 0;
    if (get_num(j, key, -1, &d))
        return -1;
    if (d != -1 && (d != floor(d) || d < (double)lo || d > (double)hi))
        return pf_error_set("record: \"%s\" must be an integer in [%lld, %lld]", key,
                            (long long)lo, (long long)hi);
    *out = (int64_t)d;
    return 0;
}

static int time_from_json(const json_t *t, pf_record *out)
{
    pf_measure_summary *s = &out->time;
    if (!json_is_object(t))
        return pf_error_set("record: \"time\" must be an object or null");
    int64_t n = 0, peak = 0;
    double conv = 0;
    if (get_str(t, "timer", s->timer, sizeof s->timer) ||
        get_str(t, "timer_note", s->timer_note, sizeof s->timer_note) ||
        get_int(t, "samples", 0, PF_RECORD_MAX_SAMPLES, &n) ||
        get_int(t, "mem_peak_bytes", 0, INT64_MAX / 2, &peak))
        return -1;
    const json_t *c = json_object_get(t, "converged");
    if (c && !json_is_boolean(c))
        return pf_error_set("record: \"converged\" must be true or false");
    conv = c && json_is_true(c);
    s->samples = n > 0 ? (int)n : 0;
    s->converged = (int)conv;
    s->mem_peak_bytes = peak > 0 ? (size_t)peak : 0;
    struct { const char *key; double *dst; } nums[] = {
        {"min_ms", &s->min_ms},   {"q1_ms", &s->q1_ms},     {"median_ms", &s->median_ms},
        {"q3_ms", &s->q3_ms},     {"max_ms", &s->max_ms},   {"mean_ms", &s->mean_ms},
        {"stdev_ms", &s->stdev_ms}, {"stdrel", &s->stdrel},
    };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
        if (get_num(t, nums[i].key, 0, nums[i].dst))
            return -1;
    const json_t *arr = json_object_get(t, "samples_ms");
    if (arr && !json_is_array(arr))
        return pf_error_set("record: \"samples_ms\" must be an array");
    size_t m = arr ? json_array_size(arr) : 0;
    if (m == 0)
        return 0;
    if (m != (size_t)s->samples)
        return pf_error_set("record: \"samples_ms\" has %zu values, \"samples\" says %d", m,
                            s->samples);
    double v[PF_RECORD_MAX_SAMPLES];
    for (size_t i = 0; i < m; i++) {
        const json_t *x = json_array_get(arr, i);
        if (!json_is_number(x))
            return pf_error_set("record: \"samples_ms\"[%zu] must be a number", i);
        v[i] = json_number_value(x);
    }
    return pf_record_set_samples(out, v, (int)m);
}

int pf_record_from_json(const json_t *j, pf_record *out)
{
    pf_record_init(out);
    if (!json_is_object(j))
        return pf_error_set("record: must be a JSON object");
    char status[32] = "";
    if (get_str(j, "status", status, sizeof status))
        return -1;
    int st = pf_status_parse(status);
    if (st < 0)
        return pf_error_set("record: \"status\" '%s' is not a known status", status);
    out->status = (pf_status)st;
    int64_t meta, regs, spill, smem;
    double flops = 0;
    if (get_str(j, "family", out->family, sizeof out->family) ||
        get_str(j, "variant", out->variant, sizeof out->variant) ||
        get_str(j, "problem", out->problem, sizeof out->problem) ||
        get_str(j, "device", out->device, sizeof out->device) ||
        get_str(j, "backend", out->backend, sizeof out->backend) ||
        get_str(j, "arch", out->arch, sizeof out->arch) ||
        get_str(j, "message", out->message, sizeof out->message) ||
        get_num(j, "useful_flops", 0, &flops) || get_num(j, "error", NAN, &out->error) ||
        get_int(j, "metadata_bytes", 0, INT64_MAX / 2, &meta) ||
        get_int(j, "registers", 0, 65536, &regs) || get_int(j, "spill_bytes", 0, 1 << 30, &spill) ||
        get_int(j, "smem_bytes", 0, 1 << 30, &smem))
        return -1;
    out->useful_flops = flops;
    out->metadata_bytes = meta;
    out->registers = (int)regs;
    out->spill_bytes = (int)spill;
    out->smem_bytes = (int)smem;
    const json_t *t = json_object_get(j, "time");
    if (t && !json_is_null(t) && time_from_json(t, out)) {
        pf_record_free(out);
        return -1;
    }
    return 0;
}

/* ---- text ---- */

void pf_record_print_text(FILE *f, const pf_record *r)
{
    fprintf(f, "%-14s", pf_status_name(r->status));
    if (r->time.samples > 0)
        fprintf(f, " %9.3f ms [%.3f, %.3f] n=%-4d %-11s", r->time.median_ms, r->time.q1_ms,
                r->time.q3_ms, r->time.samples, r->time.timer);
    double tf = pf_record_tflops(r);
    if (tf > 0)
        fprintf(f, " %8.2f TFLOP/s", tf);
    if (r->metadata_bytes >= 0)
        fprintf(f, " mask %10.3f MiB", (double)r->metadata_bytes / 1048576.0);
    if (isfinite(r->error))
        fprintf(f, " err %.2e", r->error);
    if (r->registers >= 0)
        fprintf(f, " regs %d", r->registers);
    fprintf(f, "  %s", r->variant);
    if (r->message[0])
        fprintf(f, "  (%s)", r->message);
    fputc('\n', f);
}
