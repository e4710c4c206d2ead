/* Plot scripts and the gnuplot that renders them. A script is the plot's
 * variables (written by the report), plots/common.gp (terminal, output,
 * labels) and the plot's template from plots/, written beside its data so
 * anyone can edit and re-render it: `gnuplot -e 'fmt="svg"' NAME.gp`. */
#ifndef PF_GNUPLOT_H
#define PF_GNUPLOT_H

#include <stddef.h>
#include <stdio.h>

/* Image formats to render (bit set). */
enum { PF_FMT_PNG = 1, PF_FMT_SVG = 2 };

/* The templates' folder: $PFTUNE_PLOTS_DIR, else the source tree's plots/. */
const char *pf_plots_dir(void);

/* gnuplot to run: $PFTUNE_GNUPLOT (a path; "none" means no gnuplot), else
 * "gnuplot" when it is on PATH; NULL when there is none. */
const char *pf_gnuplot_find(void);

/* Append `name = "value"` (gnuplot string, escaped) / `name = number`. */
void pf_gp_var_str(FILE *vars, const char *name, const char *value);
void pf_gp_var_num(FILE *vars, const char *name, double value);

/* Write DIR/NAME.gp: header comment, `vars` text, common.gp, TEMPLATE.gp
 * (from pf_plots_dir()). 0 / -1. */
int pf_gp_write(const char *dir, const char *name, const char *template_name, const char *vars);

/* Run gnuplot on DIR/NAME.gp in DIR for each format in `formats`; its
 * messages go to DIR/gnuplot.log. Checks the image is there and not empty.
 * 0 / -1 ("gnuplot failed on NAME.gp: see DIR/gnuplot.log"). */
int pf_gp_render(const char *gnuplot, const char *dir, const char *name, int formats);

/* Escape `s` for a gnuplot double-quoted string into out. */
void pf_gp_escape(const char *s, char *out, size_t size);

#endif
