/* `pftune report`: the summary's head, the best variant per problem, every
 * plot writer in turn, rendering, summary.md (see report.h). */
#include "report/report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/pf_error.h"
#include "report/export.h"
#include "report/gnuplot.h"
#include "report/rctx.h"

static const char *meta_str(const json_t *meta, const char *key)
{
    const char *s = json_string_value(json_object_get(meta, key));
    return s && s[0] ? s : "unknown";
}

static void summary_head(pf_rctx *c)
{
    const pf_rdata *d = c->d;
    FILE *md = c->md;
    fprintf(md, "# pftune report\n\n");
    fprintf(md, "| | |\n|---|---|\n");
    fprintf(md, "| results | `%s` |\n", d->path);
    fprintf(md, "| device | %s |\n| backend | %s |\n| arch | %s |\n| timer | %s |\n", d->device,
            d->backend[0] ? d->backend : "unknown", d->arch[0] ? d->arch : "unknown", d->timer);
    fprintf(md, "| pftune | %s |\n| NVRTC | %s |\n| host | %s |\n", meta_str(d->meta, "pftune"),
            meta_str(d->meta, "nvrtc"), meta_str(d->meta, "host"));
    fprintf(md, "| started | %s |\n| finished | %s |\n| profile | %s |\n",
            d->started[0] ? d->started : "unknown", d->finished[0] ? d->finished : "unknown",
            meta_str(d->meta, "profile_path"));
    int ok = 0;
    for (int i = 0; i < d->n; i++)
        ok += pf_rpoint_timed(&d->pts[i]);
    fprintf(md, "| records | %d (%d timed ok) |\n\n", d->n, ok);
    if (d->host_timers)
        fprintf(md, "**Timer %s: these are host timings (the CPU emulator or a host clock), "
                    "not GPU numbers.** They show the pipeline works; compare kernels on a "
                    "GPU.\n\n", d->timer);
}

static void summary_best(pf_rctx *c)
{
    const pf_rdata *d = c->d;
    int *first, n;
    if (pf_rdata_problems(d, &first, &n))
        return;
    fprintf(c->md, "## Best variant per problem\n\n"
                   "| problem | best variant | median ms [q1, q3] | useful TFLOP/s | samples | "
                   "timed / points |\n|---|---|---|---|---|---|\n");
    for (int k = 0; k < n; k++) {
        const char *prob = d->pts[first[k]].rec.problem;
        int b = pf_rdata_best(d, prob, NULL, NULL), timed = 0, all = 0;
        for (int i = 0; i < d->n; i++)
            if (!strcmp(d->pts[i].rec.problem, prob)) {
                all++;
                timed += pf_rpoint_timed(&d->pts[i]);
            }
        if (b < 0) {
            fprintf(c->md, "| %s | none (no point timed ok) | | | | %d / %d |\n", prob, timed, all);
            continue;
        }
        const pf_record *r = &d->pts[b].rec;
        fprintf(c->md, "| %s | `%s` | %.4f [%.4f, %.4f] | %.4g | %d | %d / %d |\n", prob,
                r->variant, r->time.median_ms, r->time.q1_ms, r->time.q3_ms,
                pf_tflops_at(r, r->time.median_ms), r->time.samples, timed, all);
    }
    fprintf(c->md, "\n");
    free(first);
}

static int render_all(pf_rctx *c, int formats)
{
    const char *gp = pf_gnuplot_find();
    if (!gp) {
        printf("report: gnuplot not found: data (.dat) and scripts (.gp) written; render with: "
               "cd %s && for f in *.gp; do gnuplot \"$f\"; gnuplot -e 'fmt=\"svg\"' \"$f\"; done\n",
               c->out);
        fprintf(c->md, "gnuplot was not found when this report was written: render the plots "
                       "with `for f in *.gp; do gnuplot \"$f\"; done` in this folder.\n\n");
        return 0;
    }
    char path[1300];
    snprintf(path, sizeof path, "%s/gnuplot.log", c->out);
    unlink(path);
    for (int i = 0; i < c->n_plots; i++)
        if (pf_gp_render(gp, c->out, c->plots[i], formats))
            return -1;
    printf("report: %d plot%s (%s%s%s) in %s/\n", c->n_plots, c->n_plots == 1 ? "" : "s",
           formats & PF_FMT_PNG ? "png" : "", formats == (PF_FMT_PNG | PF_FMT_SVG) ? ", " : "",
           formats & PF_FMT_SVG ? "svg" : "", c->out);
    return 0;
}

static void summary_plots(pf_rctx *c, int formats)
{
    fprintf(c->md, "## Plots\n\nEach plot's data (`NAME.dat`) and gnuplot script (`NAME.gp`) "
                   "are beside it: edit and re-render with `gnuplot NAME.gp` "
                   "(`gnuplot -e 'fmt=\"svg\"' NAME.gp` for SVG).\n\n");
    for (int i = 0; i < c->n_plots; i++)
        fprintf(c->md, "- [%s](%s.%s)\n", c->plots[i], c->plots[i],
                formats & PF_FMT_PNG ? "png" : "svg");
    fprintf(c->md, "\n");
}

int pf_report_run(const char *dir, const pf_report_opts *o)
{
    pf_rdata d;
    if (pf_rdata_load(dir, &d))
        return -1;
    pf_rctx c = {.d = &d};
    char *md_text = NULL;
    size_t md_len = 0;
    int rc = -1;
    struct stat st;
    snprintf(c.src, sizeof c.src, "%s", dir);
    if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) { /* a results file: its folder */
        char *slash = strrchr(c.src, '/');
        if (slash)
            *slash = '\0';
        else
            snprintf(c.src, sizeof c.src, ".");
    }
    snprintf(c.out, sizeof c.out, "%s/report", c.src);
    if (mkdir(c.out, 0755) != 0 && errno != EEXIST) {
        pf_error_set("%s: cannot create: %s", c.out, strerror(errno));
        goto done;
    }
    if (!(c.md = open_memstream(&md_text, &md_len))) {
        pf_error_set("out of memory");
        goto done;
    }
    summary_head(&c);
    summary_best(&c);
    int (*plots[])(pf_rctx *) = {pf_plot_scaling, pf_plot_heatmap, pf_plot_masks,
                                 pf_plot_forward, pf_plot_peak, pf_plot_convergence};
    for (size_t i = 0; i < sizeof plots / sizeof plots[0]; i++)
        if (plots[i](&c))
            goto done;
    if (render_all(&c, o->formats))
        goto done;
    summary_plots(&c, o->formats);
    if (o->nvbench_path && pf_export_nvbench(&d, o->nvbench_path))
        goto done;
    if (o->csv_path && pf_export_csv(&d, o->csv_path))
        goto done;
    fclose(c.md);
    c.md = NULL;
    if (pf_rctx_write(&c, "summary.md", md_text, md_len))
        goto done;
    printf("report: summary %s/summary.md\n", c.out);
    if (o->nvbench_path)
        printf("report: nvbench JSON %s\n", o->nvbench_path);
    if (o->csv_path)
        printf("report: CSV %s\n", o->csv_path);
    rc = 0;
done:
    if (c.md)
        fclose(c.md);
    free(md_text);
    pf_rdata_free(&d);
    return rc;
}
