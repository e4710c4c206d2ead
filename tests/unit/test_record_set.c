/* The record set (tuner/record_set.c): one record per (problem, variant)
 * over thousands of random points (growth, collisions of the index), the
 * two policies, ownership of samples. */
#include "core/pf_error.h"
#include "tuner/record_set.h"
#include "pf_test.h"

static void make(pf_record *r, int problem, int variant, pf_status st)
{
    pf_record_init(r);
    r->status = st;
    snprintf(r->problem, sizeof r->problem, "problem %d", problem);
    snprintf(r->variant, sizeof r->variant, "V=%d", variant);
    double v[3] = {1, 2, 3 + variant};
    pf_measure_summarize(v, 3, &r->time);
    pf_record_set_samples(r, v, 3);
}

int main(void)
{
    pf_test_seed();
    pf_record_set s;
    memset(&s, 0, sizeof s);
    static unsigned char seen[50][200];
    int distinct = 0;
    for (int i = 0; i < 6000; i++) {
        int p = (int)(pf_test_rng() % 50), v = (int)(pf_test_rng() % 200);
        pf_record r;
        make(&r, p, v, pf_test_rng() % 2 ? PF_STATUS_OK : PF_STATUS_INVALID);
        distinct += !seen[p][v];
        seen[p][v] = 1;
        CHECK(pf_record_set_put(&s, &r, PF_RECORD_REPLACE) == 0);
        CHECK(r.samples_ms == NULL); /* moved */
    }
    CHECK(s.n == distinct);
    int found = 0;
    for (int p = 0; p < 50; p++)
        for (int v = 0; v < 200; v++) {
            char prob[32], var[32];
            snprintf(prob, sizeof prob, "problem %d", p);
            snprintf(var, sizeof var, "V=%d", v);
            const pf_record *r = pf_record_set_find(&s, prob, var);
            CHECK((r != NULL) == seen[p][v]);
            if (r) {
                found++;
                CHECK(strcmp(r->problem, prob) == 0 && strcmp(r->variant, var) == 0);
                CHECK(r->samples_ms && r->samples_ms[2] == 3 + v);
            }
        }
    CHECK(found == distinct);
    pf_record_set_free(&s);

    /* policies: REPLACE takes the newer; KEEP_OK keeps an ok one and
     * upgrades a failed one */
    pf_record a, b, c;
    make(&a, 1, 1, PF_STATUS_INVALID);
    make(&b, 1, 1, PF_STATUS_OK);
    make(&c, 1, 1, PF_STATUS_TIMEOUT);
    CHECK(pf_record_set_put(&s, &a, PF_RECORD_KEEP_OK) == 0);
    CHECK(pf_record_set_put(&s, &b, PF_RECORD_KEEP_OK) == 0);
    CHECK(s.n == 1 && s.recs[0].status == PF_STATUS_OK);
    CHECK(pf_record_set_put(&s, &c, PF_RECORD_KEEP_OK) == 0);
    CHECK(s.n == 1 && s.recs[0].status == PF_STATUS_OK);
    make(&c, 1, 1, PF_STATUS_TIMEOUT);
    CHECK(pf_record_set_put(&s, &c, PF_RECORD_REPLACE) == 0);
    CHECK(s.n == 1 && s.recs[0].status == PF_STATUS_TIMEOUT);
    CHECK(pf_record_set_find(&s, "problem 1", "V=2") == NULL);
    pf_record_set_free(&s);
    return PF_TEST_RESULT();
}
