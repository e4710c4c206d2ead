/* How far one sweep directory (a tune --out, e.g. a shard of a Slurm
 * array) has come, read without disturbing a sweep that is running in it:
 * points finished per status from its journal, the planned count and the
 * complete flag from its results.json meta (tune writes both before the
 * first problem and after each). Used by status, merge --complete-only
 * and the resubmission of unfinished shards. */
#ifndef PF_SHARD_STATE_H
#define PF_SHARD_STATE_H

#include <stdint.h>

#include "measure/record.h"

typedef struct pf_shard_state {
    int has_journal, has_results;
    int complete;               /* results meta: swept to the end */
    int64_t planned;            /* results meta planned_points; -1: not known */
    int64_t done, pruned, failed; /* journal points: ok, invalid, any other status */
    char shard[24];             /* the journal header's "i/N", or "" */
    char profile_hash[17];      /* the journal header's */
} pf_shard_state;

/* Read `dir`. A missing directory, journal or results.json is not an
 * error (the flags say what is there); each journal record is also passed
 * to on_record (may be NULL). 0, or -1 with pf_error set for a file that
 * exists but cannot be read. */
int pf_shard_state_read(const char *dir, pf_shard_state *st,
                        void (*on_record)(void *ctx, const pf_record *r), void *ctx);

/* Points still to sweep: 0 when complete, else planned - finished (>= 0),
 * -1 when the plan is not known yet. */
int64_t pf_shard_state_remaining(const pf_shard_state *st);

/* Why a shard is not complete, in a few words ("no results.json yet", "5 of
 * 8 points"); "" when it is. */
void pf_shard_state_why(const pf_shard_state *st, char *out, size_t n);

#endif
