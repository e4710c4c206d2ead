/* What the plot writers of `pftune report` share: the data, the output
 * folder, the summary.md being written, and the plots to render. Each plot
 * writer (plot_*.c) writes its .dat and .gp, registers the plot, and adds
 * its table to the summary. */
#ifndef PF_RCTX_H
#define PF_RCTX_H

#include <stdio.h>
#include <string.h>

#include "report/rdata.h"

#define PF_RCTX_MAX_PLOTS 64

typedef struct pf_rctx {
    const pf_rdata *d;
    char src[1024];       /* DIR: results.json, journal.jsonl, forward.json */
    char out[1100];       /* DIR/report */
    FILE *md;             /* summary.md (a memstream) */
    int n_plots;
    char plots[PF_RCTX_MAX_PLOTS][96];
} pf_rctx;

/* title, device, timer and note (host timings say so) for a script. */
void pf_rctx_vars(const pf_rctx *c, FILE *vars, const char *title);
/* Register a plot written as OUT/NAME.gp. 0 / -1. */
int pf_rctx_add_plot(pf_rctx *c, const char *name);
/* Write OUT/FILE atomically. 0 / -1. */
int pf_rctx_write(const pf_rctx *c, const char *file, const char *text, size_t len);
/* Write `vars` (a memstream's text) and template into OUT/NAME.gp and
 * register it. 0 / -1. */
int pf_rctx_script(pf_rctx *c, const char *name, const char *template_name, const char *vars);

/* "full D=64" style name parts: "full_d64". */
void pf_rctx_shape_name(const pf_rpoint *p, char *out, size_t size);

/* Distinct shapes (layer, head dim) in order of first appearance: index of
 * a representative point each, in first[0..*n) (malloc'd). 0 / -1. */
int pf_rctx_shapes(const pf_rdata *d, int **first, int *n);
static inline int pf_same_shape(const pf_rpoint *a, const pf_rpoint *b)
{
    return a->head_dim == b->head_dim && !strcmp(a->layer, b->layer) && !strcmp(a->rule, b->rule) &&
           a->window == b->window;
}

/* The plots (plot_*.c). Each returns 0 (also when it has nothing to plot,
 * saying so in the summary) or -1. */
int pf_plot_scaling(pf_rctx *c);
int pf_plot_heatmap(pf_rctx *c);
int pf_plot_masks(pf_rctx *c);
int pf_plot_forward(pf_rctx *c);
int pf_plot_peak(pf_rctx *c);
int pf_plot_convergence(pf_rctx *c);

/* Dense bf16 tensor-core peak TFLOP/s of a known GPU (by name), or 0; `part`
 * gets the table's name for it. */
double pf_peak_bf16_tflops(const char *device, const char **part);

/* Useful TFLOP/s at a time in ms (0 when unknown). */
static inline double pf_tflops_at(const pf_record *r, double ms)
{
    return r->useful_flops > 0 && ms > 0 ? r->useful_flops / (ms * 1e-3) / 1e12 : 0;
}

#endif
