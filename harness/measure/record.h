/* One measured point as a record: what ran (kernel family, variant,
 * problem), where (device, arch, backend), how it ended (core/status.h) and
 * what was measured (the timing summary and its raw samples, useful FLOPs,
 * mask metadata bytes, verification error, compiled resources).
 *
 * Measuring fills records; printers turn them into text or JSON; readers
 * (report, compare, resume) parse the JSON back. Nothing here measures. */
#ifndef PF_RECORD_H
#define PF_RECORD_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "core/status.h"
#include "measure/measure.h"

#define PF_RECORD_MAX_SAMPLES 1000

typedef struct pf_record {
    pf_status status;
    char family[32];          /* "attention" */
    char variant[256];        /* KEY=VAL,... */
    char problem[512];        /* the workload, e.g. "layout t20,i256 heads 8:4 rule gemma3 full" */
    char device[128];         /* the device name (truncated to 127 bytes) */
    char backend[16];         /* "cuda" or "emu" */
    char arch[16];            /* "sm_90" */
    pf_measure_summary time;  /* when timed (time.samples > 0) */
    double *samples_ms;       /* raw samples (time.samples of them), or NULL */
    double useful_flops;      /* per launch; 0 if not known */
    int64_t metadata_bytes;   /* mask storage + indptr + tile classes; -1 if not known */
    double error;             /* verification error (relative Frobenius); NaN if not verified */
    int registers, spill_bytes, smem_bytes; /* compiled resources; -1 if not known */
    char message[512];        /* why it is not ok, or "" */
} pf_record;

/* A record with nothing known yet: status ok, unknown numbers marked. */
void pf_record_init(pf_record *r);
/* Copy `n` samples into a malloc'd array owned by the record. 0 / -1. */
int pf_record_set_samples(pf_record *r, const double *samples_ms, int n);
void pf_record_free(pf_record *r);

/* Useful TFLOP/s from the median time; 0 when not timed or FLOPs unknown. */
double pf_record_tflops(const pf_record *r);

/* JSON object for one record (keys stable: readers match on them). */
json_t *pf_record_to_json(const pf_record *r);
/* Parse what pf_record_to_json wrote; unknown keys are ignored, a wrong type
 * or unknown status is refused naming the key. 0 / -1. */
int pf_record_from_json(const json_t *j, pf_record *out);

/* One line: status, time (median [q1, q3], samples, timer), TFLOP/s,
 * metadata, error, variant; the message on failure. */
void pf_record_print_text(FILE *f, const pf_record *r);

#endif
