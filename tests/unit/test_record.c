/* Records (measure/record.c): JSON round trip on fresh random records,
 * unknowns as null (never a fake 0), refusals that name the key, the text
 * printer, and every status name. */
#include <math.h>

#include "core/pf_error.h"
#include "core/status.h"
#include "measure/record.h"
#include "pf_test.h"

static void random_record(pf_record *r, int timed)
{
    pf_record_init(r);
    r->status = (pf_status)(pf_test_rng() % PF_STATUS_COUNT);
    snprintf(r->family, sizeof r->family, "attention");
    snprintf(r->variant, sizeof r->variant, "BLOCK_M=%d,WARPS=%d", 16 << (pf_test_rng() % 3),
             1 << (pf_test_rng() % 4));
    snprintf(r->problem, sizeof r->problem, "layout t%u,i%u", (unsigned)(pf_test_rng() % 999),
             (unsigned)(pf_test_rng() % 999));
    snprintf(r->device, sizeof r->device, "emu (sm_90 \"limits\")");
    snprintf(r->backend, sizeof r->backend, "emu");
    snprintf(r->arch, sizeof r->arch, "sm_90");
    r->useful_flops = 1e9 * (2 + pf_test_frand());   /* frand is in [-1, 1) */
    r->metadata_bytes = (int64_t)(pf_test_rng() % 100000);
    r->error = pf_test_rng() % 2 ? NAN : 1e-3 * (1 + pf_test_frand());
    r->registers = (int)(pf_test_rng() % 255);
    if (r->status != PF_STATUS_OK)
        snprintf(r->message, sizeof r->message, "failed:\twith \"quotes\"");
    if (!timed)
        return;
    int n = 1 + (int)(pf_test_rng() % 20);
    double v[20];
    for (int i = 0; i < n; i++)
        v[i] = 1.1 + pf_test_frand(); /* positive times */
    pf_measure_summarize(v, n, &r->time);
    snprintf(r->time.timer, sizeof r->time.timer, "emu-host");
    r->time.converged = n > 10;
    pf_record_set_samples(r, v, n);
}

static int same_double(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static void test_round_trip(void)
{
    for (int it = 0; it < 200; it++) {
        pf_record a, b;
        random_record(&a, it % 3 != 0);
        json_t *j = pf_record_to_json(&a);
        CHECK(j != NULL);
        /* through text, as a results file would */
        char *text = json_dumps(j, JSON_COMPACT);
        json_t *back = json_loads(text, 0, NULL);
        CHECK_MSG(pf_record_from_json(back, &b) == 0, "%s", pf_error_get());
        CHECK(a.status == b.status && strcmp(a.variant, b.variant) == 0 &&
              strcmp(a.problem, b.problem) == 0 && strcmp(a.device, b.device) == 0 &&
              strcmp(a.message, b.message) == 0 && strcmp(a.arch, b.arch) == 0);
        CHECK(same_double(a.error, b.error) && a.metadata_bytes == b.metadata_bytes &&
              a.registers == b.registers && b.spill_bytes == -1 && b.smem_bytes == -1);
        CHECK(fabs(a.useful_flops - b.useful_flops) <= 1e-9 * a.useful_flops);
        CHECK(a.time.samples == b.time.samples && strcmp(a.time.timer, b.time.timer) == 0 &&
              a.time.converged == b.time.converged && a.time.median_ms == b.time.median_ms &&
              a.time.q1_ms == b.time.q1_ms && a.time.stdev_ms == b.time.stdev_ms);
        for (int i = 0; i < a.time.samples; i++)
            CHECK(b.samples_ms && a.samples_ms[i] == b.samples_ms[i]);
        /* unknowns are null, not 0 */
        if (isnan(a.error))
            CHECK(json_is_null(json_object_get(j, "error")));
        CHECK(json_is_null(json_object_get(j, "spill_bytes")));
        if (a.time.samples == 0)
            CHECK(json_is_null(json_object_get(j, "time")) &&
                  json_is_null(json_object_get(j, "useful_tflops")));
        free(text);
        json_decref(j);
        json_decref(back);
        pf_record_free(&a);
        pf_record_free(&b);
    }
}

static void refused(const char *doc, const char *key)
{
    json_t *j = json_loads(doc, 0, NULL);
    pf_record r;
    CHECK_MSG(j && pf_record_from_json(j, &r) == -1, "accepted %s", doc);
    CHECK_MSG(strstr(pf_error_get(), key) != NULL, "'%s' lacks '%s'", pf_error_get(), key);
    json_decref(j);
}

static void test_refusals(void)
{
    refused("{\"status\": \"fast\"}", "status");
    refused("{\"status\": 3}", "status");
    refused("{\"status\": \"ok\", \"variant\": 12}", "variant");
    refused("{\"status\": \"ok\", \"registers\": 1.5}", "registers");
    refused("{\"status\": \"ok\", \"registers\": -7}", "registers");
    refused("{\"status\": \"ok\", \"time\": {\"samples\": 2, \"samples_ms\": [1]}}", "samples_ms");
    refused("{\"status\": \"ok\", \"time\": {\"samples\": 1, \"samples_ms\": [\"x\"]}}",
            "samples_ms");
    refused("{\"status\": \"ok\", \"time\": {\"samples\": 5000}}", "samples");
    refused("{\"status\": \"ok\", \"time\": 4}", "time");
    refused("[1]", "object");
    /* unknown keys are fine (newer writers) */
    json_t *j = json_loads("{\"status\": \"timeout\", \"future_key\": 1}", 0, NULL);
    pf_record r;
    CHECK(pf_record_from_json(j, &r) == 0 && r.status == PF_STATUS_TIMEOUT && isnan(r.error));
    json_decref(j);
}

static void test_text(void)
{
    pf_record r;
    random_record(&r, 1);
    r.status = PF_STATUS_OK;
    r.message[0] = 0;
    char buf[2048] = "";
    FILE *f = fmemopen(buf, sizeof buf, "w");
    pf_record_print_text(f, &r);
    fclose(f);
    CHECK(strncmp(buf, "ok ", 3) == 0 && strstr(buf, "emu-host") && strstr(buf, r.variant) &&
          strstr(buf, "TFLOP/s") && buf[strlen(buf) - 1] == '\n');
    pf_record_free(&r);
}

static void test_status_names(void)
{
    const char *want[] = {"ok", "invalid", "compile_failed", "verify_failed",
                          "runtime_failed", "crashed", "timeout"};
    CHECK(PF_STATUS_COUNT == 7);
    for (int i = 0; i < PF_STATUS_COUNT; i++) {
        CHECK(strcmp(pf_status_name((pf_status)i), want[i]) == 0);
        CHECK(pf_status_parse(want[i]) == i);
    }
    CHECK(pf_status_parse("OK") == -1 && strcmp(pf_status_name(PF_STATUS_COUNT), "?") == 0);
}

int main(void)
{
    pf_test_seed();
    test_round_trip();
    test_refusals();
    test_text();
    test_status_names();
    return PF_TEST_RESULT();
}
