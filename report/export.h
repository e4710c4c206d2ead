/* Results in other tools' forms: nvbench's JSON (what NVIDIA/nvbench's
 * scripts/nvbench_compare.py reads) and CSV for spreadsheets. */
#ifndef PF_EXPORT_H
#define PF_EXPORT_H

#include "report/rdata.h"

/* nvbench JSON (file version 1.0.0 in meta.version.json): one device, one
 * benchmark per problem, one state per record timed ok, its axes the
 * variant's KEY=VALUE items (string axes); summaries tagged
 * nv/cold/time/gpu/mean and nv/cold/time/gpu/stdev/relative (seconds,
 * values as strings, as nvbench writes them), nv/cold/sample_size, and
 * pftune/median and pftune/timer (host timings say so in the summaries'
 * descriptions: nvbench's tags cannot). Raw samples are not exported. */
int pf_export_nvbench(const pf_rdata *d, const char *path);
/* CSV with a header row: one row per record. 0 / -1. */
int pf_export_csv(const pf_rdata *d, const char *path);

#endif
