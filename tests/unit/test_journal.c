/* The sweep journal (tuner/journal.c): records come back as written; a
 * resume refuses another sweep's journal naming what differs; a torn last
 * line (a write cut short by kill -9) is cut off and the journal goes on;
 * an existing journal is never overwritten without --resume. */
#include <fcntl.h>
#include <math.h>
#include <unistd.h>

#include "core/pf_error.h"
#include "tuner/journal.h"
#include "pf_test.h"

typedef struct seen {
    int n;
    char variants[64][256];
    int samples[64];
} seen;

static void collect(void *ctx, const pf_record *r)
{
    seen *s = ctx;
    if (s->n < 64) {
        snprintf(s->variants[s->n], sizeof s->variants[0], "%s", r->variant);
        s->samples[s->n] = r->time.samples;
        s->n++;
    }
}

static void header(pf_journal_header *h)
{
    memset(h, 0, sizeof *h);
    snprintf(h->pftune, sizeof h->pftune, "0.1.0");
    snprintf(h->device, sizeof h->device, "emu (CPU, sm_90 limits)");
    snprintf(h->arch, sizeof h->arch, "sm_90");
    snprintf(h->kernel_hash, sizeof h->kernel_hash, "%032x", 7);
    snprintf(h->profile_hash, sizeof h->profile_hash, "%016x", 9);
    snprintf(h->strategy, sizeof h->strategy, "exhaustive");
    h->seed = 42;
}

static void record(pf_record *r, int i)
{
    pf_record_init(r);
    r->status = i % 3 ? PF_STATUS_OK : PF_STATUS_INVALID;
    snprintf(r->problem, sizeof r->problem, "problem %d", i % 2);
    snprintf(r->variant, sizeof r->variant, "BLOCK_M=%d,X=%llu", 16 << (i % 4),
             (unsigned long long)pf_test_rng());
    if (r->status == PF_STATUS_OK) {
        double v[5];
        int n = 1 + i % 5;
        for (int k = 0; k < n; k++)
            v[k] = 1.5 + pf_test_frand();
        pf_measure_summarize(v, n, &r->time);
        snprintf(r->time.timer, sizeof r->time.timer, "emu-host");
        pf_record_set_samples(r, v, n);
    }
}

int main(void)
{
    pf_test_seed();
    char dir[] = "/tmp/pf_journal_XXXXXX", path[256];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/journal.jsonl", dir);
    pf_journal_header h;
    header(&h);

    /* write 10 records */
    pf_journal *j = NULL;
    CHECK_MSG(pf_journal_open(path, &h, 0, NULL, NULL, &j) == 0, "%s", pf_error_get());
    char want[10][256];
    for (int i = 0; i < 10; i++) {
        pf_record r;
        record(&r, i);
        snprintf(want[i], sizeof want[i], "%s", r.variant);
        CHECK(pf_journal_append(j, &r) == 0);
        pf_record_free(&r);
    }
    pf_journal_close(j);

    /* never overwritten without --resume */
    CHECK(pf_journal_open(path, &h, 0, NULL, NULL, &j) == -1 && strstr(pf_error_get(), "--resume"));

    /* resume: all 10 back, in order, with their samples */
    seen s = {0};
    CHECK_MSG(pf_journal_open(path, &h, 1, collect, &s, &j) == 0, "%s", pf_error_get());
    CHECK(s.n == 10);
    for (int i = 0; i < 10 && i < s.n; i++)
        CHECK(strcmp(s.variants[i], want[i]) == 0 && s.samples[i] == (i % 3 ? 1 + i % 5 : 0));
    pf_journal_close(j);

    /* a torn last line (no newline): cut off, then appending goes on */
    int fd = open(path, O_WRONLY | O_APPEND);
    CHECK(fd >= 0 && write(fd, "{\"status\": \"ok\", \"vari", 22) == 22);
    close(fd);
    memset(&s, 0, sizeof s);
    CHECK_MSG(pf_journal_open(path, &h, 1, collect, &s, &j) == 0, "%s", pf_error_get());
    CHECK(s.n == 10);
    pf_record r;
    record(&r, 11);
    CHECK(pf_journal_append(j, &r) == 0);
    pf_record_free(&r);
    pf_journal_close(j);
    memset(&s, 0, sizeof s);
    pf_journal_header got;
    CHECK(pf_journal_read(path, &got, collect, &s) == 0 && s.n == 11);
    CHECK(strcmp(got.kernel_hash, h.kernel_hash) == 0 && got.seed == 42);

    /* another sweep's journal: refused, naming what differs */
    pf_journal_header other = h;
    snprintf(other.kernel_hash, sizeof other.kernel_hash, "%032x", 8);
    CHECK(pf_journal_open(path, &other, 1, NULL, NULL, &j) == -1);
    CHECK_MSG(strstr(pf_error_get(), "kernel source") != NULL, "%s", pf_error_get());
    other = h;
    snprintf(other.profile_hash, sizeof other.profile_hash, "%016x", 10);
    other.seed = 43;
    CHECK(pf_journal_open(path, &other, 1, NULL, NULL, &j) == -1);
    CHECK_MSG(strstr(pf_error_get(), "profile") && strstr(pf_error_get(), "seed"), "%s",
              pf_error_get());

    /* garbage in the middle is an error naming the line */
    fd = open(path, O_WRONLY | O_APPEND);
    CHECK(fd >= 0 && write(fd, "not json\n", 9) == 9);
    close(fd);
    CHECK(pf_journal_open(path, &h, 1, NULL, NULL, &j) == -1 && strstr(pf_error_get(), "line 13"));

    /* not a journal */
    char other_path[256];
    snprintf(other_path, sizeof other_path, "%s/x.jsonl", dir);
    FILE *f = fopen(other_path, "w");
    fputs("{\"schema\": \"pftune.check/1\"}\n", f);
    fclose(f);
    CHECK(pf_journal_open(other_path, &h, 1, NULL, NULL, &j) == -1 &&
          strstr(pf_error_get(), "not a pftune journal"));
    unlink(other_path);
    unlink(path);
    rmdir(dir);
    return PF_TEST_RESULT();
}
