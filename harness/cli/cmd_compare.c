/* `pftune compare BASE NEW`: point-by-point verdicts between two results
 * files (report/compare.h) as text, a markdown table or pftune.compare/1
 * JSON; exit 1 when a point got slower beyond the threshold or stopped
 * working. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "core/json_doc.h"
#include "report/compare.h"

#define CMD "compare"

enum { OPT_THRESHOLD, OPT_FORMAT, OPT_IGNORE_DEVICE };

static const pf_cli_opt opts[] = {
    [OPT_THRESHOLD] = {"threshold", 't', "PCT", "smallest median change that counts (default 5)"},
    [OPT_FORMAT] = {"format", 'f', "F", "text, md (a table for a PR comment) or json"},
    [OPT_IGNORE_DEVICE] = {"ignore-device", 0, NULL, "compare results of different devices"},
    {0},
};

static const char description[] =
    "Compare two results files (or folders holding results.json) point by point:\n"
    "points match on family, variant, problem and device. Verdicts: faster / slower\n"
    "(significant, p < 0.01, AND the median moved more than the threshold), same\n"
    "(no significant change, or a significant one within the threshold), ambiguous\n"
    "(moved more than the threshold but not significantly: measure more), failed\n"
    "(ok in BASE, not in NEW), fixed, untimed (neither side timed), base-only,\n"
    "new-only. The test is Mann-Whitney U on the raw samples when both sides have\n"
    "at least 3 (exact for up to 20 samples a side without ties, else the normal\n"
    "approximation with tie correction), else non-overlapping quartile ranges;\n"
    "\"slower\" tests NEW against BASE x (1 + threshold), so noise around a smaller\n"
    "change is not a regression, and over many points the p-values are held to a\n"
    "1% false discovery rate (Benjamini-Hochberg).\n"
    "Results of different devices are refused unless --ignore-device.\n"
    "Exit status: 1 when a point is slower or failed, else 0.";

typedef struct totals {
    int n[PF_CMP_N];
} totals;

static const pf_record *rec(const pf_rdata *d, int i)
{
    return i >= 0 ? &d->pts[i].rec : NULL;
}

static void fmt_ms(const pf_record *r, char *out, size_t size)
{
    if (r && r->time.samples > 0 && r->status == PF_STATUS_OK)
        snprintf(out, size, "%.4f", r->time.median_ms);
    else if (r)
        snprintf(out, size, "%s", pf_status_name(r->status));
    else
        snprintf(out, size, "-");
}

static void fmt_num(double v, const char *f, char *out, size_t size)
{
    if (isnan(v))
        snprintf(out, size, "-");
    else
        snprintf(out, size, f, v);
}

static const pf_record *either(const pf_rdata *b, const pf_rdata *n, const pf_cmp_point *p)
{
    return p->base >= 0 ? rec(b, p->base) : rec(n, p->new_);
}

/* The printed numbers of one point. */
typedef struct cells {
    char bm[32], nm[32], ch[32], pv[32];
} cells;

static void fill_cells(const pf_rdata *b, const pf_rdata *n, const pf_cmp_point *p, cells *x)
{
    fmt_ms(rec(b, p->base), x->bm, sizeof x->bm);
    fmt_ms(rec(n, p->new_), x->nm, sizeof x->nm);
    fmt_num(p->change * 100, "%+.2f%%", x->ch, sizeof x->ch);
    fmt_num(p->p, "%.2g", x->pv, sizeof x->pv);
}

/* Print order: what needs attention first. */
static const pf_cmp_verdict order[PF_CMP_N] = {PF_CMP_SLOWER, PF_CMP_FAILED, PF_CMP_AMBIGUOUS,
                                               PF_CMP_FASTER, PF_CMP_FIXED, PF_CMP_SAME,
                                               PF_CMP_BASE_ONLY, PF_CMP_NEW_ONLY, PF_CMP_UNTIMED};

static void print_text(const pf_rdata *b, const pf_rdata *n, const pf_cmp_point *pts, int np,
                       const totals *t, double thr)
{
    printf("compare %s -> %s (%s; threshold %g%%, p < 0.01)\n", b->path, n->path, n->device,
           thr * 100);
    for (int k = 0; k < PF_CMP_N; k++)
        for (int i = 0; i < np; i++) {
            const pf_cmp_point *p = &pts[i];
            if (p->verdict != order[k])
                continue;
            cells x;
            fill_cells(b, n, p, &x);
            const pf_record *r = either(b, n, p);
            printf("%-10s %9s  %10s -> %-10s ms  p %-8s %s  %s\n", pf_cmp_verdict_name(p->verdict),
                   x.ch, x.bm, x.nm, x.pv, r->problem, r->variant);
        }
    printf("total: %d points:", np);
    for (int k = 0; k < PF_CMP_N; k++)
        if (t->n[order[k]])
            printf(" %d %s", t->n[order[k]], pf_cmp_verdict_name(order[k]));
    printf("\n");
}

static void print_md(const pf_rdata *b, const pf_rdata *n, const pf_cmp_point *pts, int np,
                     const totals *t, double thr)
{
    printf("### pftune compare: %s\n\n", n->device);
    printf("Threshold %g%% in median, significance p < 0.01 (Mann-Whitney U on raw samples, "
           "else quartile ranges). ", thr * 100);
    int shown = 0, changed = 0;
    for (int k = 0; k < PF_CMP_N; k++)
        if (t->n[order[k]])
            printf("%s**%d %s**", shown++ ? " · " : "", t->n[order[k]],
                   pf_cmp_verdict_name(order[k]));
    for (int i = 0; i < np; i++)
        changed += pts[i].verdict != PF_CMP_SAME && pts[i].verdict != PF_CMP_UNTIMED;
    if (!changed) {
        printf("\n\nNo point changed: %d points compared, %d same, %d untimed on both sides.\n",
               np, t->n[PF_CMP_SAME], t->n[PF_CMP_UNTIMED]);
        return;
    }
    printf("\n\n| verdict | change | p | base ms | new ms | problem | variant |\n"
           "|---|---:|---:|---:|---:|---|---|\n");
    for (int k = 0; k < PF_CMP_N; k++)
        for (int i = 0; i < np; i++) {
            const pf_cmp_point *p = &pts[i];
            if (p->verdict != order[k] || p->verdict == PF_CMP_SAME || p->verdict == PF_CMP_UNTIMED)
                continue; /* the table lists what changed; the counts cover the rest */
            cells x;
            fill_cells(b, n, p, &x);
            const pf_record *r = either(b, n, p);
            printf("| %s%s | %s | %s | %s | %s | %s | `%s` |\n",
                   p->verdict == PF_CMP_SLOWER || p->verdict == PF_CMP_FAILED ? ":x: " : "",
                   pf_cmp_verdict_name(p->verdict), x.ch, x.pv, x.bm, x.nm, r->problem, r->variant);
        }
    printf("\n%d points compared; %d same, %d untimed on both sides.\n", np, t->n[PF_CMP_SAME],
           t->n[PF_CMP_UNTIMED]);
}

static json_t *side_json(const pf_record *r)
{
    if (!r)
        return json_null();
    json_t *o = json_pack("{s:s}", "status", pf_status_name(r->status));
    if (r->time.samples > 0)
        json_object_update_new(o, json_pack("{s:f, s:f, s:f, s:i, s:s}", "median_ms",
                                            r->time.median_ms, "q1_ms", r->time.q1_ms, "q3_ms",
                                            r->time.q3_ms, "samples", r->time.samples, "timer",
                                            r->time.timer));
    return o;
}

static json_t *num_or_null(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

static int print_json(const pf_rdata *b, const pf_rdata *n, const pf_cmp_point *pts, int np,
                      const totals *t, const pf_cmp_opts *o)
{
    json_t *doc = pf_json_doc_new("pftune.compare", 1);
    if (!doc)
        return -1;
    json_t *arr = json_array(), *counts = json_object();
    for (int i = 0; i < np; i++) {
        const pf_cmp_point *p = &pts[i];
        const pf_record *r = either(b, n, p);
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:s}", "verdict",
                           pf_cmp_verdict_name(p->verdict), "family", r->family, "variant",
                           r->variant, "problem", r->problem, "device", r->device,
                           "change_pct", num_or_null(p->change * 100), "p_value",
                           num_or_null(p->p), "base", side_json(rec(b, p->base)), "new",
                           side_json(rec(n, p->new_)), "test", p->test));
    }
    for (int k = 0; k < PF_CMP_N; k++)
        json_object_set_new(counts, pf_cmp_verdict_name(k), json_integer(t->n[k]));
    json_object_update_new(doc, json_pack("{s:s, s:s, s:s, s:s, s:f, s:f, s:b, s:o, s:o}", "base",
                                          b->path, "new", n->path, "base_device", b->device,
                                          "new_device", n->device, "threshold_pct",
                                          o->threshold * 100, "alpha", o->alpha,
                                          "ignore_device", o->ignore_device, "counts", counts,
                                          "points", arr));
    int rc = pf_json_doc_print(doc);
    json_decref(doc);
    return rc;
}

int cmd_compare(int argc, char **argv)
{
    pf_cli c;
    pf_cli_init(&c, CMD, argc, argv, opts, "pftune compare BASE NEW [options]", description);
    c.examples = "  pftune compare main-sweep/ pr-sweep/\n"
                 "  pftune compare a/results.json b/results.json --threshold 2 --format md\n";
    static const char *const formats[] = {"text", "md", "json", NULL};
    pf_cmp_opts o = {.threshold = 0.05, .alpha = 0.01};
    const char *paths[2] = {0}, *format = "text", *val;
    int np = 0, opt;
    while ((opt = pf_cli_next(&c, &val)) != PF_CLI_DONE) {
        switch (opt) {
        case PF_CLI_HELP: return 0;
        case PF_CLI_ERROR: return 2;
        case PF_CLI_ARG:
            if (np == 2)
                return pf_cli_usage_error(CMD, "unexpected argument '%s' (BASE and NEW)", val);
            paths[np++] = val;
            break;
        case OPT_THRESHOLD: {
            double pct;
            if (pf_cli_parse_double(CMD, "--threshold", val, 0, 1000, &pct) < 0)
                return 2;
            o.threshold = pct / 100;
            break;
        }
        case OPT_FORMAT:
            if (pf_cli_parse_choice(CMD, "--format", val, formats) < 0)
                return 2;
            format = val;
            break;
        case OPT_IGNORE_DEVICE: o.ignore_device = 1; break;
        }
    }
    if (np != 2)
        return pf_cli_usage_error(CMD, "give BASE and NEW results (pftune compare BASE NEW)");
    pf_rdata b, n;
    if (pf_rdata_load(paths[0], &b))
        return pf_cli_fail_error(CMD);
    if (pf_rdata_load(paths[1], &n)) {
        pf_rdata_free(&b);
        return pf_cli_fail_error(CMD);
    }
    pf_cmp_point *pts = NULL;
    int npts = 0, rc;
    if (pf_compare(&b, &n, &o, &pts, &npts)) {
        rc = pf_cli_fail_error(CMD);
    } else {
        totals t = {{0}};
        for (int i = 0; i < npts; i++)
            t.n[pts[i].verdict]++;
        if (!strcmp(format, "json"))
            rc = print_json(&b, &n, pts, npts, &t, &o) ? pf_cli_fail_error(CMD) : 0;
        else {
            (!strcmp(format, "md") ? print_md : print_text)(&b, &n, pts, npts, &t, o.threshold);
            rc = 0;
        }
        if (!rc && (t.n[PF_CMP_SLOWER] || t.n[PF_CMP_FAILED]))
            rc = 1;
    }
    free(pts);
    pf_rdata_free(&b);
    pf_rdata_free(&n);
    return rc;
}
