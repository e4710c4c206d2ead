/* Plot 5: achieved TFLOP/s of each problem's best variant against the
 * device's bf16 peak (report/peak.c); none on emu or unknown devices. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"
#include "report/gnuplot.h"
#include "report/rctx.h"

int pf_plot_peak(pf_rctx *c)
{
    const pf_rdata *d = c->d;
    const char *part = NULL;
    double peak = d->host_timers ? 0 : pf_peak_bf16_tflops(d->device, &part);
    const char *why = d->host_timers ? "host timings (emu-host) are not GPU numbers"
                                     : "the device is not in the table of known GPUs";
    int *first, n;
    if (pf_rdata_problems(d, &first, &n))
        return -1;
    char *dat = NULL, *vars = NULL;
    size_t dlen = 0, vlen = 0;
    FILE *f = open_memstream(&dat, &dlen);
    if (!f) {
        free(first);
        return pf_error_set("out of memory");
    }
    fprintf(f, "# peak: best variant per problem (%s, timer %s; peak %g TFLOP/s)\n"
               "# columns: index label tflops percent_of_peak\n", d->device, d->timer, peak);
    fprintf(c->md, "## Achieved TFLOP/s vs peak\n\n");
    if (peak > 0)
        fprintf(c->md, "Peak: %s dense bf16 tensor cores, %g TFLOP/s.\n\n", part, peak);
    else
        fprintf(c->md, "No peak: %s.\n\n", why);
    fprintf(c->md, "| problem | useful TFLOP/s | of peak |\n|---|---|---|\n");
    int rows = 0;
    for (int k = 0; k < n; k++) {
        const pf_rpoint *p = &d->pts[first[k]];
        int b = pf_rdata_best(d, p->rec.problem, NULL, NULL);
        if (b < 0)
            continue;
        double tf = pf_tflops_at(&d->pts[b].rec, d->pts[b].rec.time.median_ms);
        char label[96];
        snprintf(label, sizeof label, "%s D=%d s%" PRId64, p->layer, p->head_dim, p->seq_len);
        fprintf(f, "%d \"%s\" %.6g %.4g\n", rows++, label, tf, peak > 0 ? 100 * tf / peak : 0);
        if (peak > 0)
            fprintf(c->md, "| %s | %.4g | %.2f%% |\n", p->rec.problem, tf, 100 * tf / peak);
        else
            fprintf(c->md, "| %s | %.4g | - |\n", p->rec.problem, tf);
    }
    fclose(f);
    free(first);
    if (!rows) {
        fprintf(c->md, "\nNo timed points: no plot.\n\n");
        free(dat);
        return 0;
    }
    fprintf(c->md, "\n![peak](peak.png)\n\n");
    FILE *v = open_memstream(&vars, &vlen);
    int rc = v ? 0 : pf_error_set("out of memory");
    if (!rc) {
        pf_rctx_vars(c, v, "Achieved useful TFLOP/s of the best variant per problem vs the "
                           "device's bf16 peak");
        pf_gp_var_str(v, "datafile", "peak.dat");
        pf_gp_var_num(v, "peak", peak);
        pf_gp_var_str(v, "peakpart", part ? part : "");
        pf_gp_var_str(v, "peaknote", why);
        fclose(v);
        rc = pf_rctx_write(c, "peak.dat", dat, dlen) || pf_rctx_script(c, "peak", "peak", vars) ? -1 : 0;
    }
    free(dat);
    free(vars);
    return rc;
}
