/* Plot 1: kernel time and useful TFLOP/s against sequence length, one line
 * per mask storage (and tile-skip setting when both were swept), each point
 * the best variant of that storage at that length. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"
#include "report/gnuplot.h"
#include "report/rctx.h"

#define MAX_SERIES 16
#define MAX_SEQS 64

typedef struct series {
    char storage[16];
    int tile_skip;
} series;

typedef struct keep_ctx {
    const series *s;
} keep_ctx;

static int keep_series(const pf_rpoint *p, const void *ctx)
{
    const series *s = ((const keep_ctx *)ctx)->s;
    return !strcmp(p->storage, s->storage) && p->tile_skip == s->tile_skip;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The problem of this shape at seq_len (its first point), or -1. */
static int problem_at(const pf_rdata *d, const pf_rpoint *shape, int64_t seq)
{
    for (int i = 0; i < d->n; i++)
        if (pf_same_shape(&d->pts[i], shape) && d->pts[i].seq_len == seq)
            return i;
    return -1;
}

static int one_shape(pf_rctx *c, const pf_rpoint *shape)
{
    const pf_rdata *d = c->d;
    series ser[MAX_SERIES];
    int64_t seqs[MAX_SEQS];
    int ns = 0, nq = 0, skips[2] = {0, 0};
    for (int i = 0; i < d->n; i++) {
        const pf_rpoint *p = &d->pts[i];
        if (!pf_same_shape(p, shape) || !pf_rpoint_timed(p) || p->seq_len <= 0)
            continue;
        int k = 0;
        while (k < ns && !(strcmp(ser[k].storage, p->storage) == 0 && ser[k].tile_skip == p->tile_skip))
            k++;
        if (k == ns && ns < MAX_SERIES) {
            snprintf(ser[ns].storage, sizeof ser[ns].storage, "%s", p->storage[0] ? p->storage : "?");
            ser[ns++].tile_skip = p->tile_skip;
        }
        skips[p->tile_skip == 1] = 1;
        k = 0;
        while (k < nq && seqs[k] != p->seq_len)
            k++;
        if (k == nq && nq < MAX_SEQS)
            seqs[nq++] = p->seq_len;
    }
    char sname[64], name[96];
    pf_rctx_shape_name(shape, sname, sizeof sname);
    fprintf(c->md, "### %s layers, head dim %d\n\n", shape->layer, shape->head_dim);
    if (ns == 0) {
        fprintf(c->md, "No timed points.\n\n");
        return 0;
    }
    qsort(seqs, (size_t)nq, sizeof *seqs, cmp_i64);
    snprintf(name, sizeof name, "scaling_%s", sname);
    char *dat = NULL, *vars = NULL, names[512] = "";
    size_t dlen = 0, vlen = 0;
    FILE *f = open_memstream(&dat, &dlen);
    if (!f)
        return pf_error_set("out of memory");
    fprintf(f, "# %s: best variant per mask storage and sequence length (%s, timer %s)\n"
               "# columns: seq_len median_ms q1_ms q3_ms tflops tflops_at_q3 tflops_at_q1\n",
            name, d->device, d->timer);
    fprintf(c->md, "| series | seq len | median ms [q1, q3] | useful TFLOP/s | variant |\n"
                   "|---|---|---|---|---|\n");
    for (int s = 0; s < ns; s++) {
        char label[48];
        if (skips[0] && skips[1])
            snprintf(label, sizeof label, "%.15s,skip=%d", ser[s].storage, ser[s].tile_skip);
        else
            snprintf(label, sizeof label, "%.15s", ser[s].storage);
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", s ? " " : "", label);
        fprintf(f, "%s# series %d: %s\n", s ? "\n\n" : "", s, label);
        keep_ctx k = {&ser[s]};
        for (int q = 0; q < nq; q++) {
            int pi = problem_at(d, shape, seqs[q]);
            int b = pi < 0 ? -1 : pf_rdata_best(d, d->pts[pi].rec.problem, keep_series, &k);
            if (b < 0)
                continue;
            const pf_record *r = &d->pts[b].rec;
            const pf_measure_summary *t = &r->time;
            fprintf(f, "%" PRId64 " %.6g %.6g %.6g %.6g %.6g %.6g\n", seqs[q], t->median_ms,
                    t->q1_ms, t->q3_ms, pf_tflops_at(r, t->median_ms), pf_tflops_at(r, t->q3_ms),
                    pf_tflops_at(r, t->q1_ms));
            fprintf(c->md, "| %s | %" PRId64 " | %.4f [%.4f, %.4f] | %.4g | `%s` |\n", label,
                    seqs[q], t->median_ms, t->q1_ms, t->q3_ms, pf_tflops_at(r, t->median_ms),
                    r->variant);
        }
    }
    fclose(f);
    fprintf(c->md, "\n![%s](%s.png)\n\n", name, name);
    FILE *v = open_memstream(&vars, &vlen);
    int rc = v ? 0 : pf_error_set("out of memory");
    if (!rc) {
        char title[256], file[128];
        snprintf(title, sizeof title, "Kernel time and useful TFLOP/s vs sequence length: %s layers, "
                 "head dim %d (best variant per storage)", shape->layer, shape->head_dim);
        pf_rctx_vars(c, v, title);
        snprintf(file, sizeof file, "%s.dat", name);
        pf_gp_var_str(v, "datafile", file);
        pf_gp_var_num(v, "nseries", ns);
        pf_gp_var_str(v, "series", names);
        fclose(v);
        snprintf(file, sizeof file, "%s.dat", name);
        rc = pf_rctx_write(c, file, dat, dlen) || pf_rctx_script(c, name, "scaling", vars) ? -1 : 0;
    }
    free(dat);
    free(vars);
    return rc;
}

int pf_plot_scaling(pf_rctx *c)
{
    int *first, n;
    if (pf_rctx_shapes(c->d, &first, &n))
        return -1;
    fprintf(c->md, "## Time and TFLOP/s vs sequence length\n\n");
    int rc = 0;
    for (int k = 0; k < n && !rc; k++)
        rc = one_shape(c, &c->d->pts[first[k]]);
    free(first);
    return rc;
}
