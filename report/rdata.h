/* The data every report reads: one results file (pftune.results/1, from
 * `pftune tune` or `merge`) checked and parsed, each record with the facts
 * the plots group by (storage, tile shape, head dim, layer, sequence length)
 * taken from its variant string and from meta.problems. Nothing here needs
 * a device: a sweep measured on a GPU machine is reported anywhere. */
#ifndef PF_RDATA_H
#define PF_RDATA_H

#include <jansson.h>
#include <stdint.h>

#include "measure/record.h"

#define PF_RDATA_SCHEMA "pftune.results"
#define PF_RDATA_VERSION 1

/* One record and what it says about its point. Unknown numbers are -1,
 * unknown strings "". */
typedef struct pf_rpoint {
    pf_record rec;
    char storage[16];        /* MASK_STORAGE */
    int block_m, block_n, warps, stages, tile_skip;
    int warp_rows;           /* query rows per warp: WARP_ROWS, else the derived grid's */
    char indptr[8];          /* INDPTR_T */
    int head_dim;            /* from meta.problems, else "D=" in the problem, else HEAD_DIM */
    int64_t seq_len;
    char layer[16];          /* "full" / "sliding" */
    char rule[16];
    int window, hq, hkv;
    const char *layout;      /* the layout after ": " in the problem, or NULL */
} pf_rpoint;

typedef struct pf_rdata {
    char path[1024];         /* the results.json read */
    json_t *doc;             /* owned: the whole document */
    const json_t *meta;      /* borrowed from doc */
    int n;
    pf_rpoint *pts;
    char device[128], backend[16], arch[16], timer[16];
    char started[32], finished[32];
    int host_timers;         /* emu or another host clock: not GPU numbers */
} pf_rdata;

/* Resolve a results file or a directory holding results.json into `out`
 * (size bytes). 0 / -1. */
int pf_rdata_resolve(const char *path, char *out, size_t size);
/* Read and check `path` (a file, or a directory with results.json): the
 * schema name and version, "meta" and "records", and in every record
 * "status", "variant", "problem" (strings) and, when ok, a "time" object
 * with "median_ms"; refusals name the file, record and key. 0 / -1. */
int pf_rdata_load(const char *path, pf_rdata *out);
void pf_rdata_free(pf_rdata *d);

/* The value of KEY in a "KEY=VAL,..." variant into out ("" when absent). */
void pf_variant_get(const char *variant, const char *key, char *out, size_t size);

/* A timed, ok point? */
static inline int pf_rpoint_timed(const pf_rpoint *p)
{
    return p->rec.status == PF_STATUS_OK && p->rec.time.samples > 0 && p->rec.time.median_ms > 0;
}

/* Problems in order of first appearance: their first point index in
 * first[0..*n) (malloc'd). 0 / -1. */
int pf_rdata_problems(const pf_rdata *d, int **first, int *n);
/* The fastest timed point of `problem` (optionally only those passing
 * `keep`), or -1. */
int pf_rdata_best(const pf_rdata *d, const char *problem,
                  int (*keep)(const pf_rpoint *, const void *), const void *ctx);

#endif
