/* A set of records keyed by (problem, variant): the points of a sweep, as
 * the journal replays them and new ones finish, or as shards are merged.
 * Owns its records (and their samples). */
#ifndef PF_RECORD_SET_H
#define PF_RECORD_SET_H

#include <stddef.h>
#include <stdint.h>

#include "measure/record.h"

typedef struct pf_record_set {
    pf_record *recs;
    int n, cap;
    uint64_t *keys;  /* open addressing: key -> record index + 1 in slots */
    int *slots;
    size_t n_slots;
} pf_record_set;

/* A stable 64-bit hash of a point (never 0): the set's key, and the
 * sweep's shard and input seed of the point. */
uint64_t pf_record_key(const char *problem, const char *variant);

/* What to do when the point is already there. */
typedef enum { PF_RECORD_REPLACE, PF_RECORD_KEEP_OK } pf_record_policy;

/* Take ownership of *r (it is zeroed). REPLACE: the newer record wins;
 * KEEP_OK: the existing one stays unless it is not ok and *r is. 0 / -1. */
int pf_record_set_put(pf_record_set *s, pf_record *r, pf_record_policy policy);
const pf_record *pf_record_set_find(const pf_record_set *s, const char *problem,
                                    const char *variant);
void pf_record_set_free(pf_record_set *s);

#endif
