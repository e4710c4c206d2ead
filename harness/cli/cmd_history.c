/* `pftune history RESULTS...`: the median of each problem's best variant
 * over a series of results, step changes found (report/history.h), a
 * trend plot with its data and script, and history.md. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "core/atomic_file.h"
#include "core/pf_error.h"
#include "report/gnuplot.h"
#include "report/history.h"
#include "report/rdata.h"

#define CMD "history"
#define MAX_FILES 256
#define MAX_KEYS 64
#define MAX_PLOTTED 12

enum { OPT_KEY, OPT_AS_GIVEN, OPT_THRESHOLD, OPT_OUT, OPT_FORMAT };

static const pf_cli_opt opts[] = {
    [OPT_KEY] = {"key", 'k', "TEXT", "only problems whose string contains TEXT"},
    [OPT_AS_GIVEN] = {"as-given", 0, NULL, "keep the order given (default: by meta.finished)"},
    [OPT_THRESHOLD] = {"threshold", 't', "PCT", "smallest level change that is a step (default 5)"},
    [OPT_OUT] = {"out", 'o', "DIR", "where history.{dat,gp,png,md} go (default history)"},
    [OPT_FORMAT] = {"format", 'f', "F", "png, svg or both (default png)"},
    {0},
};

static const char description[] =
    "Follow one metric over a series of results files (or folders holding\n"
    "results.json): for each problem, the median time of its best variant in each\n"
    "result, ordered by meta.finished (--as-given keeps the command line's order).\n"
    "Step changes are listed with the result where they start, their size and p:\n"
    "each split is tested on the up to 5 results before and after it (Mann-Whitney\n"
    "U on the pooled raw samples when all have them, else Welch's t on the log\n"
    "medians); a step needs p < 0.01 and a level change beyond the threshold, and\n"
    "is the largest such change within 5 results. Writes the trend plot, its data\n"
    "and script and history.md into --out.";

typedef struct input {
    pf_rdata d;
    int given;
} input;

static int by_finished(const void *a, const void *b)
{
    const input *x = a, *y = b;
    int c = strcmp(x->d.finished, y->d.finished);
    return c ? c : x->given - y->given;
}

static void key_label(const pf_rpoint *p, char *out, size_t size)
{
    if (p->layer[0] && p->seq_len > 0)
        snprintf(out, size, "%s_D%d_s%" PRId64, p->layer, p->head_dim, p->seq_len);
    else
        snprintf(out, size, "key");
}

/* The series of one problem: its best variant's median in each result. */
static void series_of(const input *in, int np, const char *prob, pf_hist_value *vals)
{
    for (int f = 0; f < np; f++) {
        int b = pf_rdata_best(&in[f].d, prob, NULL, NULL);
        const pf_record *r = b >= 0 ? &in[f].d.pts[b].rec : NULL;
        vals[f] = (pf_hist_value){r ? r->time.median_ms : NAN, r ? r->samples_ms : NULL,
                                  r && r->samples_ms ? r->time.samples : 0};
    }
}

static int write_file(const char *dir, const char *name, const char *text, size_t len)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return pf_atomic_write(path, text, len, 0644);
}

int cmd_history(int argc, char **argv)
{
    pf_cli c;
    pf_cli_init(&c, CMD, argc, argv, opts, "pftune history RESULTS... [options]", description);
    c.examples = "  pftune history nightly/*/results.json\n"
                 "  pftune history r1 r2 r3 --as-given --key 'full D=256' --out trend\n";
    static const char *const formats[] = {"png", "svg", "both", NULL};
    const char *paths[MAX_FILES], *key = NULL, *out = "history", *val;
    int np = 0, as_given = 0, formats_mask = PF_FMT_PNG, opt;
    double threshold = 0.05;
    while ((opt = pf_cli_next(&c, &val)) != PF_CLI_DONE) {
        switch (opt) {
        case PF_CLI_HELP: return 0;
        case PF_CLI_ERROR: return 2;
        case PF_CLI_ARG:
            if (np == MAX_FILES)
                return pf_cli_usage_error(CMD, "at most %d results", MAX_FILES);
            paths[np++] = val;
            break;
        case OPT_KEY: key = val; break;
        case OPT_AS_GIVEN: as_given = 1; break;
        case OPT_THRESHOLD: {
            double pct;
            if (pf_cli_parse_double(CMD, "--threshold", val, 0, 1000, &pct) < 0)
                return 2;
            threshold = pct / 100;
            break;
        }
        case OPT_OUT: out = val; break;
        case OPT_FORMAT:
            if (pf_cli_parse_choice(CMD, "--format", val, formats) < 0)
                return 2;
            formats_mask = !strcmp(val, "png") ? PF_FMT_PNG
                           : !strcmp(val, "svg") ? PF_FMT_SVG : PF_FMT_PNG | PF_FMT_SVG;
            break;
        }
    }
    if (np < 2)
        return pf_cli_usage_error(CMD, "give at least two RESULTS (pftune history R1 R2 ...)");
    input *in = calloc((size_t)np, sizeof *in);
    if (!in)
        return pf_cli_fail(CMD, "out of memory");
    int rc = 1, loaded = 0;
    char *dat = NULL, *vars = NULL, *md = NULL;
    size_t dlen = 0, vlen = 0, mlen = 0;
    pf_hist_value *vals = NULL;
    for (; loaded < np; loaded++) {
        if (pf_rdata_load(paths[loaded], &in[loaded].d)) {
            pf_cli_fail_error(CMD);
            goto done;
        }
        in[loaded].given = loaded;
    }
    if (!as_given) {
        for (int i = 0; i < np; i++)
            if (!in[i].d.finished[0]) {
                pf_cli_fail(CMD, "%s has no meta.finished time to order by (use --as-given)",
                            in[i].d.path);
                goto done;
            }
        qsort(in, (size_t)np, sizeof *in, by_finished);
    }
    /* keys: problems in order of first appearance, filtered by --key */
    const pf_rpoint *keys[MAX_KEYS];
    static pf_hist_step allsteps[MAX_KEYS][16];
    int nk = 0, nsteps[MAX_KEYS];
    for (int f = 0; f < np; f++)
        for (int i = 0; i < in[f].d.n && nk < MAX_KEYS; i++) {
            const pf_rpoint *p = &in[f].d.pts[i];
            if (key && !strstr(p->rec.problem, key))
                continue;
            int seen = 0;
            for (int k = 0; k < nk && !seen; k++)
                seen = !strcmp(keys[k]->rec.problem, p->rec.problem);
            if (!seen)
                keys[nk++] = p;
        }
    if (!nk) {
        pf_cli_fail(CMD, key ? "no problem contains '%s'" : "no records%s", key ? key : "");
        goto done;
    }
    if (mkdir(out, 0755) != 0 && errno != EEXIST) {
        pf_cli_fail(CMD, "%s: cannot create: %s", out, strerror(errno));
        goto done;
    }
    vals = calloc((size_t)np, sizeof *vals);
    FILE *df = open_memstream(&dat, &dlen), *mf = open_memstream(&md, &mlen);
    if (!vals || !df || !mf) {
        if (df)
            fclose(df);
        if (mf)
            fclose(mf);
        pf_cli_fail(CMD, "out of memory");
        goto done;
    }
    const pf_rdata *last = &in[np - 1].d;
    fprintf(mf, "# pftune history\n\nMetric: median time of each problem's best variant. "
                "Device of the last result: %s; timer %s.\n\n| # | results | finished | "
                "device |\n|---|---|---|---|\n", last->device, last->timer);
    for (int f = 0; f < np; f++)
        fprintf(mf, "| %d | `%s` | %s | %s |\n", f + 1, in[f].d.path,
                in[f].d.finished[0] ? in[f].d.finished : "-", in[f].d.device);
    fprintf(mf, "\n## Steps\n\n| problem | at result | change | p | test |\n|---|---|---|---|---|\n");
    fprintf(df, "# history: median ms of the best variant per problem; columns: result median_ms\n");
    char names[1024] = "";
    int total_steps = 0, plotted = 0;
    printf("history: %d results, %d problem%s\n", np, nk, nk == 1 ? "" : "s");
    for (int k = 0; k < nk; k++) {
        const char *prob = keys[k]->rec.problem;
        series_of(in, np, prob, vals);
        pf_hist_step *steps = allsteps[k];
        int ns = nsteps[k] = pf_history_steps(vals, np, PF_HIST_WINDOW, threshold, 0.01, steps, 16);
        char label[96];
        key_label(keys[k], label, sizeof label);
        if (plotted < MAX_PLOTTED) {
            fprintf(df, "%s# key %s: %s\n", plotted ? "\n\n" : "", label, prob);
            for (int f = 0; f < np; f++)
                if (!isnan(vals[f].median))
                    fprintf(df, "%d %.6g\n", f + 1, vals[f].median);
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                         plotted ? " " : "", label);
            plotted++;
        }
        for (int s = 0; s < ns; s++) {
            const pf_hist_step *st = &steps[s];
            printf("step: %s at result %d (%s): %+.2f%%, p %.2g (%s)\n", prob, st->at + 1,
                   in[st->at].d.path, st->change * 100, st->p, st->test);
            fprintf(mf, "| %s | %d (`%s`) | %+.2f%% | %.2g | %s |\n", prob, st->at + 1,
                    in[st->at].d.path, st->change * 100, st->p, st->test);
            total_steps++;
        }
    }
    if (!total_steps) {
        printf("no step changes beyond %g%% (p < 0.01)\n", threshold * 100);
        fprintf(mf, "| (none beyond %g%% at p < 0.01) | | | | |\n", threshold * 100);
    }
    fprintf(mf, "\n![history](history.png)\n");
    fclose(df);
    fclose(mf);
    FILE *v = open_memstream(&vars, &vlen);
    if (!v) {
        pf_cli_fail(CMD, "out of memory");
        goto done;
    }
    pf_gp_var_str(v, "title", "Median time of the best variant per problem across results");
    pf_gp_var_str(v, "device", last->device);
    pf_gp_var_str(v, "timer", last->timer);
    pf_gp_var_str(v, "note", last->host_timers ? "host timings, not GPU numbers" : "");
    pf_gp_var_str(v, "datafile", "history.dat");
    pf_gp_var_num(v, "nkeys", plotted);
    pf_gp_var_num(v, "nresults", np);
    pf_gp_var_str(v, "keys", names);
    fclose(v);
    /* the steps as dashed lines between the results they separate */
    {
        char *extra = NULL;
        size_t elen = 0;
        FILE *e = open_memstream(&extra, &elen);
        for (int k = 0; e && k < nk; k++) {
            const pf_hist_step *steps = allsteps[k];
            int ns = nsteps[k];
            for (int s = 0; s < ns; s++)
            {
                char label[96];
                key_label(keys[k], label, sizeof label);
                fprintf(e, "set arrow from first %.1f, graph 0 to first %.1f, graph 1 nohead dt 2 "
                           "lc %d\nset label \"%s: %+.1f%% (p %.1g)\" at first %.1f, graph %.2f "
                           "offset 0.5,0 tc lt %d noenhanced\n",
                        steps[s].at + 0.5, steps[s].at + 0.5, k + 1, label, steps[s].change * 100,
                        steps[s].p, steps[s].at + 0.5, 0.95 - 0.05 * (k % 16), k + 1);
            }
        }
        if (e)
            fclose(e);
        char *both = NULL;
        size_t blen = 0;
        FILE *bf = open_memstream(&both, &blen);
        if (bf) {
            fputs(vars, bf);
            if (extra)
                fputs(extra, bf);
            fclose(bf);
        }
        free(extra);
        free(vars);
        vars = both;
    }
    if (!vars || write_file(out, "history.dat", dat, dlen) || write_file(out, "history.md", md, mlen) ||
        pf_gp_write(out, "history", "history", vars)) {
        pf_cli_fail_error(CMD);
        goto done;
    }
    const char *gp = pf_gnuplot_find();
    if (!gp)
        printf("history: gnuplot not found: render with: cd %s && gnuplot history.gp\n", out);
    else if (pf_gp_render(gp, out, "history", formats_mask)) {
        pf_cli_fail_error(CMD);
        goto done;
    } else
        printf("history: plot %s/history.%s, summary %s/history.md\n", out,
               formats_mask & PF_FMT_PNG ? "png" : "svg", out);
    rc = 0;
done:
    for (int i = 0; i < loaded; i++)
        pf_rdata_free(&in[i].d);
    free(in);
    free(vals);
    free(dat);
    free(vars);
    free(md);
    return rc;
}
