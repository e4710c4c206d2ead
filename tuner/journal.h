/* The sweep journal (OUT/journal.jsonl): one JSON line per finished point,
 * written and fsync'd as each point finishes, so a sweep stopped by Ctrl-C,
 * a crash or kill -9 resumes without measuring a finished point twice or
 * losing one. The first line is a header naming what the records are valid
 * for; a resume checks it and refuses a mismatch, naming what differs. */
#ifndef PF_JOURNAL_H
#define PF_JOURNAL_H

#include <stdint.h>

#include "measure/record.h"

typedef struct pf_journal_header {
    char pftune[64];         /* version (git revision) */
    char device[128];        /* device name(s) */
    char arch[16];
    char kernel_hash[33];    /* pf_jit_source_hash of the kernel */
    char profile_hash[17];   /* the profile file's XXH3-64 */
    char shard[24];          /* "i/N" or "" */
    char strategy[32];
    uint64_t seed;
} pf_journal_header;

typedef struct pf_journal pf_journal;

/* Open `path`. A new file gets the header. An existing one is refused
 * unless `resume`; with resume its header must equal `h` (else an error
 * naming the fields that differ), each record in it is passed to
 * `on_record` (may be NULL), and a torn last line (a write cut short) is
 * cut off before appending. */
int pf_journal_open(const char *path, const pf_journal_header *h, int resume,
                    void (*on_record)(void *ctx, const pf_record *r), void *ctx,
                    pf_journal **out);
/* Append one record as one line, then fsync. 0 / -1. */
int pf_journal_append(pf_journal *j, const pf_record *r);
void pf_journal_close(pf_journal *j);

/* Read a journal without opening it for writing (merge, status): header
 * into *h (may be NULL), each record to on_record. */
int pf_journal_read(const char *path, pf_journal_header *h,
                    void (*on_record)(void *ctx, const pf_record *r), void *ctx);

#endif
