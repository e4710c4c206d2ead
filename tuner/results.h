/* Sweep outputs: results.json (every point of a sweep, with the meta that
 * says where and how it was measured) and tuned.json (the best variant per
 * model shape and sequence-length bucket, looked up by nearest bucket).
 *
 * results.json: {"schema": "pftune.results/1", "meta": {..., "problems":
 * [{"desc", "model", "layer", "head_dim", "rule", "window", "hq", "hkv",
 * "seq_len"}]}, "records": [record, ...]} (records: measure/record.h; a
 * record's "problem" is one of the problems' "desc").
 * tuned.json: {"schema": "pftune.tuned/1", "device", "arch", "backend",
 * "entries": [{"model", "layer", "head_dim", "rule", "window", "hq", "hkv",
 * "buckets": [{"seq_len", "variant", "median_ms", "useful_tflops", "timer",
 * "note"?}]}]}. */
#ifndef PF_TUNE_RESULTS_H
#define PF_TUNE_RESULTS_H

#include <jansson.h>
#include <stdint.h>

#include "measure/record.h"

typedef struct pf_results {
    json_t *meta;       /* owned */
    int n;
    pf_record *recs;    /* owned */
} pf_results;

/* Write atomically. */
int pf_results_write(const char *path, const json_t *meta, const pf_record *recs, int n);
/* Read and check the schema; records parsed (refusals name the record). */
int pf_results_read(const char *path, pf_results *out);
void pf_results_free(pf_results *r);

/* Build tuned.json from results: per problem the fastest ok record; entries
 * group problems of one shape, buckets are their sequence lengths. */
json_t *pf_tuned_from_results(const pf_results *r);

/* The chosen variant for a shape at seq_len: the entry matching model
 * (or any when NULL/""), layer, head dim (0: any) and rule (NULL: any),
 * and in it the bucket nearest to seq_len (ties: the larger). 0, or -1 with
 * a message saying what is there. `bucket`, `timer` may be NULL. */
int pf_tuned_lookup(const json_t *tuned, const char *model, const char *layer, int head_dim,
                    const char *rule, int64_t seq_len, char *variant, size_t variant_size,
                    int64_t *bucket, char *timer, size_t timer_size);

#endif
