/* Plot 2: BLOCK_M x BLOCK_N heatmaps of median time, one panel per mask
 * storage, for the longest sequence of each shape (layer, head dim): a
 * cell is the fastest timed variant with that tile shape; cells whose
 * points were all pruned or all failed are shown as such; the problem's
 * winner is marked. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"
#include "report/gnuplot.h"
#include "report/rctx.h"

#define MAXV 16

typedef struct axis {
    int n;
    int v[MAXV];
} axis;

static void axis_add(axis *a, int v)
{
    for (int i = 0; i < a->n; i++)
        if (a->v[i] == v)
            return;
    if (a->n < MAXV) { /* sorted insert */
        int i = a->n++;
        while (i > 0 && a->v[i - 1] > v) {
            a->v[i] = a->v[i - 1];
            i--;
        }
        a->v[i] = v;
    }
}

static int axis_index(const axis *a, int v)
{
    for (int i = 0; i < a->n; i++)
        if (a->v[i] == v)
            return i;
    return -1;
}

typedef struct cell {
    int best;       /* fastest timed point, -1 none */
    int pruned, failed;
} cell;

static int one_problem(pf_rctx *c, const char *problem, const pf_rpoint *shape)
{
    const pf_rdata *d = c->d;
    axis m = {0}, n = {0};
    char stor[8][16];
    int ns = 0;
    for (int i = 0; i < d->n; i++) {
        const pf_rpoint *p = &d->pts[i];
        if (strcmp(p->rec.problem, problem) || p->block_m < 0 || p->block_n < 0)
            continue;
        axis_add(&m, p->block_m);
        axis_add(&n, p->block_n);
        int k = 0;
        while (k < ns && strcmp(stor[k], p->storage))
            k++;
        if (k == ns && ns < 8)
            snprintf(stor[ns++], sizeof stor[0], "%s", p->storage[0] ? p->storage : "?");
    }
    if (ns == 0 || m.n == 0)
        return 0;
    cell *cells = calloc((size_t)(ns * MAXV * MAXV), sizeof *cells);
    if (!cells)
        return pf_error_set("out of memory");
    for (int i = 0; i < ns * MAXV * MAXV; i++)
        cells[i].best = -1;
    int winner = pf_rdata_best(d, problem, NULL, NULL);
    double lo = INFINITY, hi = 0;
    for (int i = 0; i < d->n; i++) {
        const pf_rpoint *p = &d->pts[i];
        if (strcmp(p->rec.problem, problem) || p->block_m < 0 || p->block_n < 0)
            continue;
        int s = 0;
        while (s < ns && strcmp(stor[s], p->storage[0] ? p->storage : "?"))
            s++;
        cell *x = &cells[(s * MAXV + axis_index(&m, p->block_m)) * MAXV + axis_index(&n, p->block_n)];
        if (pf_rpoint_timed(p)) {
            if (x->best < 0 || p->rec.time.median_ms < d->pts[x->best].rec.time.median_ms)
                x->best = i;
            lo = fmin(lo, p->rec.time.median_ms);
            hi = fmax(hi, p->rec.time.median_ms);
        } else if (p->rec.status == PF_STATUS_INVALID) {
            x->pruned++;
        } else {
            x->failed++;
        }
    }
    char sname[64], name[128];
    pf_rctx_shape_name(shape, sname, sizeof sname);
    snprintf(name, sizeof name, "heatmap_%s_s%" PRId64, sname, shape->seq_len);
    char *dat = NULL, *vars = NULL;
    size_t dlen = 0, vlen = 0;
    FILE *f = open_memstream(&dat, &dlen);
    if (!f) {
        free(cells);
        return pf_error_set("out of memory");
    }
    fprintf(f, "# %s: %s\n# columns: xi(BLOCK_M index) yi(BLOCK_N index) status(0 timed, 1 pruned, "
               "2 failed) median_ms label winner BLOCK_M BLOCK_N\n", name, problem);
    fprintf(c->md, "### %s\n\n`%s`\n\n| storage | BLOCK_M | BLOCK_N | cell | variant |\n"
                   "|---|---|---|---|---|\n", name, problem);
    for (int s = 0; s < ns; s++) {
        fprintf(f, "%s# storage %s\n", s ? "\n\n" : "", stor[s]);
        for (int a = 0; a < m.n; a++)
            for (int b = 0; b < n.n; b++) {
                const cell *x = &cells[(s * MAXV + a) * MAXV + b];
                char label[48];
                int st;
                double ms = NAN;
                if (x->best >= 0) {
                    st = 0;
                    ms = d->pts[x->best].rec.time.median_ms;
                    snprintf(label, sizeof label, "%.4g", ms);
                } else if (x->failed) {
                    st = 2;
                    snprintf(label, sizeof label, "failed");
                } else if (x->pruned) {
                    st = 1;
                    snprintf(label, sizeof label, "pruned");
                } else {
                    continue; /* not in the space */
                }
                int win = x->best >= 0 && x->best == winner;
                char num[32] = "NaN";
                if (st == 0)
                    snprintf(num, sizeof num, "%.6g", ms);
                fprintf(f, "%d %d %d %s \"%s%s\" %d %d %d\n", a, b, st, num, label,
                        win ? " (winner)" : "", win, m.v[a], n.v[b]);
                fprintf(c->md, "| %s | %d | %d | %s%s | %s |\n", stor[s], m.v[a], n.v[b], label,
                        win ? " **winner**" : "",
                        x->best >= 0 ? d->pts[x->best].rec.variant : "");
            }
    }
    fclose(f);
    fprintf(c->md, "\n![%s](%s.png)\n\n", name, name);
    free(cells);
    FILE *v = open_memstream(&vars, &vlen);
    int rc = v ? 0 : pf_error_set("out of memory");
    if (!rc) {
        char title[256], file[160], words[256] = "";
        snprintf(title, sizeof title, "Median kernel time by tile shape: %s layers, head dim %d, "
                 "seq %" PRId64 " (winner outlined; grey pruned, red failed)", shape->layer,
                 shape->head_dim, shape->seq_len);
        pf_rctx_vars(c, v, title);
        snprintf(file, sizeof file, "%s.dat", name);
        pf_gp_var_str(v, "datafile", file);
        pf_gp_var_num(v, "nstor", ns);
        for (int s = 0; s < ns; s++)
            snprintf(words + strlen(words), sizeof words - strlen(words), "%s%s", s ? " " : "", stor[s]);
        pf_gp_var_str(v, "storages", words);
        words[0] = '\0';
        for (int a = 0; a < m.n; a++)
            snprintf(words + strlen(words), sizeof words - strlen(words), "%s%d", a ? " " : "", m.v[a]);
        pf_gp_var_str(v, "mvals", words);
        words[0] = '\0';
        for (int b = 0; b < n.n; b++)
            snprintf(words + strlen(words), sizeof words - strlen(words), "%s%d", b ? " " : "", n.v[b]);
        pf_gp_var_str(v, "nvals", words);
        /* a colour range even when nothing (or one value) was timed */
        if (!(hi > 0)) {
            lo = 1;
            hi = 10;
        } else if (hi <= lo * 1.0001) {
            lo *= 0.9;
            hi *= 1.1;
        }
        pf_gp_var_num(v, "cbmin", lo);
        pf_gp_var_num(v, "cbmax", hi);
        pf_gp_var_num(v, "height", ns > 2 ? 900 : 520);
        fclose(v);
        rc = pf_rctx_write(c, file, dat, dlen) || pf_rctx_script(c, name, "heatmap", vars) ? -1 : 0;
    }
    free(dat);
    free(vars);
    return rc;
}

int pf_plot_heatmap(pf_rctx *c)
{
    const pf_rdata *d = c->d;
    int *first, n;
    if (pf_rctx_shapes(d, &first, &n))
        return -1;
    fprintf(c->md, "## Tile shape heatmaps (BLOCK_M x BLOCK_N)\n\n");
    int rc = 0;
    for (int k = 0; k < n && !rc; k++) {
        /* the longest sequence of this shape */
        int pick = -1;
        for (int i = 0; i < d->n; i++)
            if (pf_same_shape(&d->pts[i], &d->pts[first[k]]) &&
                (pick < 0 || d->pts[i].seq_len > d->pts[pick].seq_len))
                pick = i;
        rc = one_problem(c, d->pts[pick].rec.problem, &d->pts[pick]);
    }
    free(first);
    return rc;
}
