/* Evaluating one point of a tuning problem on a device (in a runner
 * worker): compile for the device, verify once against the reference on a
 * random multimodal layout (the gate: a wrong variant is never timed), then
 * time it on the problem's workload through the measure layer. */
#ifndef PF_TUNE_EVALUATE_H
#define PF_TUNE_EVALUATE_H

#include <stdint.h>

#include "device/device.h"
#include "measure/record.h"
#include "tuner/profile.h"
#include "tuner/space.h"

/* What a worker sends back: the record plus its raw samples (the record's
 * samples_ms pointer does not cross a process boundary). */
typedef struct pf_tune_result {
    pf_record rec;
    double samples[PF_RECORD_MAX_SAMPLES];
} pf_tune_result;

/* Fill `out` for point `pt` of problem `pb` on dev (arch: its limits).
 * Returns the record's status; for a non-ok status pf_error holds the
 * message (also in out->rec.message). `verify`: run the gate first.
 * `seed` makes the verification inputs and the timed inputs. */
pf_status pf_tune_evaluate(pf_device *dev, const char *arch, const pf_profile *p,
                           const pf_tune_problem *pb, const pf_tune_point *pt, int verify,
                           uint64_t seed, pf_tune_result *out);

/* The record of a pruned point (status, reason, static facts). */
void pf_tune_pruned_record(const pf_tune_problem *pb, const pf_tune_point *pt, const char *arch,
                           pf_record *out);

#endif
