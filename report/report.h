/* `pftune report DIR`: plots, their data and scripts, and summary.md in
 * DIR/report/, from DIR/results.json alone (see README "Reports"). */
#ifndef PF_REPORT_H
#define PF_REPORT_H

typedef struct pf_report_opts {
    int formats;              /* PF_FMT_PNG | PF_FMT_SVG (report/gnuplot.h) */
    const char *nvbench_path; /* also write nvbench's JSON form here, or NULL */
    const char *csv_path;     /* also write one CSV row per record here, or NULL */
} pf_report_opts;

/* Write everything and render what gnuplot can; prints one line per file
 * group to stdout. Without gnuplot the data and scripts are written and a
 * line says how to render them. 0 / -1. */
int pf_report_run(const char *dir, const pf_report_opts *o);

#endif
