/* tuned.json from results (tuner/results.c): the fastest ok record per
 * problem, grouped by shape into sequence-length buckets; lookup by the
 * nearest bucket (ties: the larger); host timings flagged; results.json
 * round trip and schema check. */
#include <math.h>
#include <unistd.h>

#include "core/json_doc.h"
#include "core/pf_error.h"
#include "tuner/results.h"
#include "pf_test.h"

static json_t *problem(const char *desc, const char *layer, int seq)
{
    return json_pack("{s:s, s:s, s:s, s:i, s:s, s:i, s:i, s:i, s:i}", "desc", desc, "model",
                     "test-tiny", "layer", layer, "head_dim", 64, "rule", "gemma3", "window",
                     layer[0] == 's' ? 48 : 0, "hq", 2, "hkv", 1, "seq_len", seq);
}

static void add(pf_results *r, const char *desc, const char *variant, pf_status st, double ms)
{
    r->recs = realloc(r->recs, sizeof *r->recs * (size_t)(r->n + 1));
    pf_record *x = &r->recs[r->n++];
    pf_record_init(x);
    x->status = st;
    snprintf(x->problem, sizeof x->problem, "%s", desc);
    snprintf(x->variant, sizeof x->variant, "%s", variant);
    if (st == PF_STATUS_OK) {
        double v[2] = {ms, ms};
        pf_measure_summarize(v, 2, &x->time);
        snprintf(x->time.timer, sizeof x->time.timer, "emu-host");
    }
}

int main(void)
{
    pf_test_seed();
    pf_results r;
    memset(&r, 0, sizeof r);
    r.meta = json_pack("{s:{s:s}, s:s, s:s, s:[o,o,o,o]}", "device", "name", "emu", "arch", "sm_90",
                       "backend", "emu", "problems", problem("full 256", "full", 256),
                       problem("full 1024", "full", 1024), problem("sliding 256", "sliding", 256),
                       problem("full 4096", "full", 4096));
    /* full 256: B fastest; a faster but failed point never wins */
    add(&r, "full 256", "A", PF_STATUS_OK, 2.0);
    add(&r, "full 256", "B", PF_STATUS_OK, 1.5);
    add(&r, "full 256", "C", PF_STATUS_VERIFY_FAILED, 0.1);
    add(&r, "full 1024", "D", PF_STATUS_OK, 9.0);
    add(&r, "full 1024", "E", PF_STATUS_OK, 7.0);
    add(&r, "sliding 256", "F", PF_STATUS_OK, 1.0);
    add(&r, "full 4096", "G", PF_STATUS_TIMEOUT, 0); /* nothing ok: no bucket */

    json_t *t = pf_tuned_from_results(&r);
    CHECK(t != NULL);
    CHECK(strcmp(json_string_value(json_object_get(t, "schema")), "pftune.tuned/1") == 0);
    CHECK(json_array_size(json_object_get(t, "entries")) == 2);
    char v[64], timer[32];
    int64_t bucket;
    CHECK(pf_tuned_lookup(t, NULL, "full", 64, NULL, 256, v, sizeof v, &bucket, timer,
                          sizeof timer) == 0);
    CHECK(strcmp(v, "B") == 0 && bucket == 256 && strcmp(timer, "emu-host") == 0);
    CHECK(pf_tuned_lookup(t, "test-tiny", "full", 0, "gemma3", 600, v, sizeof v, &bucket, NULL, 0) == 0);
    CHECK(strcmp(v, "B") == 0 && bucket == 256); /* |600-256| < |600-1024| */
    CHECK(pf_tuned_lookup(t, NULL, "full", 0, NULL, 640, v, sizeof v, &bucket, NULL, 0) == 0);
    CHECK(strcmp(v, "E") == 0 && bucket == 1024); /* a tie: the larger bucket */
    CHECK(pf_tuned_lookup(t, NULL, "full", 0, NULL, 100000, v, sizeof v, &bucket, NULL, 0) == 0);
    CHECK(strcmp(v, "E") == 0); /* 4096 had no ok point: no bucket */
    CHECK(pf_tuned_lookup(t, NULL, "sliding", 0, NULL, 1, v, sizeof v, NULL, NULL, 0) == 0);
    CHECK(strcmp(v, "F") == 0);
    CHECK(pf_tuned_lookup(t, "gemma3-4b", NULL, 0, NULL, 1, v, sizeof v, NULL, NULL, 0) == -1);
    CHECK(strstr(pf_error_get(), "gemma3-4b") != NULL);
    /* host timings say so in the bucket */
    const json_t *b0 = json_array_get(json_object_get(json_array_get(json_object_get(t, "entries"), 0),
                                                      "buckets"), 0);
    CHECK(strstr(json_string_value(json_object_get(b0, "note")), "not GPU numbers") != NULL);
    CHECK(pf_tuned_lookup(r.meta, NULL, NULL, 0, NULL, 1, v, sizeof v, NULL, NULL, 0) == -1);

    /* results.json round trip */
    char path[] = "/tmp/pf_results_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    CHECK(pf_results_write(path, r.meta, r.recs, r.n) == 0);
    pf_results back;
    CHECK_MSG(pf_results_read(path, &back) == 0, "%s", pf_error_get());
    CHECK(back.n == r.n && strcmp(back.recs[1].variant, "B") == 0 &&
          back.recs[2].status == PF_STATUS_VERIFY_FAILED && back.recs[1].time.median_ms == 1.5);
    pf_results_free(&back);
    FILE *f = fopen(path, "w");
    fputs("{\"schema\": \"pftune.check/1\"}", f);
    fclose(f);
    CHECK(pf_results_read(path, &back) == -1 && strstr(pf_error_get(), "pftune.results/1"));
    unlink(path);
    json_decref(t);
    pf_results_free(&r);
    return PF_TEST_RESULT();
}
