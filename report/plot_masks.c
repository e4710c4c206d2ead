/* Plot 3: mask metadata bytes against sequence length (log-log): the
 * analytic bytes (pf_mask_bytes) of the workload's layout regenerated at
 * lengths 64 .. 256K, the measured points of the records, and where an
 * int32 indptr stops fitting. The layout comes from the profile in meta
 * (images workload: the same periodic layout the tuner used) or, when
 * that cannot be regenerated, from the first request of the shortest
 * measured layout repeated; the legend says which. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "attention/mask_encode.h"
#include "core/pf_error.h"
#include "report/gnuplot.h"
#include "report/rctx.h"
#include "tuner/profile.h"

#define N_STOR 4
#define GRID_LO 12 /* 2^(12/2) = 64 tokens */
#define GRID_HI 36 /* 2^18 = 262144 */

static const int stor_id[N_STOR] = {PF_MASK_DENSE, PF_MASK_BITMAP, PF_MASK_WINDOW, PF_MASK_SPANS};

/* How to build the layout of any length. */
typedef struct source {
    int periodic;            /* 1: pf_layout_gen_periodic(requests, S, img, every) */
    int requests;
    int64_t img, every;
    pf_layout *pattern;      /* else: its first request repeated */
    char desc[160];
} source;

static int build(const source *src, int64_t seq, pf_layout **out)
{
    if (src->periodic)
        return pf_layout_gen_periodic(src->requests, seq, src->img, src->every, out);
    const pf_request *one = &src->pattern->req[0];
    int64_t *types = malloc((size_t)seq * sizeof *types);
    if (!types)
        return pf_error_set("out of memory");
    for (int64_t k = 0; k < seq; k++)
        types[k] = one->types[k % one->kv_len];
    int rc = pf_layout_from_types(1, &seq, NULL, types, out);
    free(types);
    return rc;
}

/* The profile's images workload, if meta has a profile that parses. */
static int from_profile(const json_t *meta, source *src)
{
    const json_t *prof = json_object_get(meta, "profile");
    if (!json_is_object(prof))
        return 0;
    char *text = json_dumps(prof, 0);
    pf_profile *p = calloc(1, sizeof *p);
    int ok = text && p && pf_profile_parse(text, strlen(text), "meta.profile", NULL, p) == 0 &&
             p->workload == PF_WORKLOAD_IMAGES;
    pf_error_clear();
    if (ok) {
        src->periodic = 1;
        src->requests = p->requests;
        src->img = p->image_tokens;
        src->every = p->image_every;
        snprintf(src->desc, sizeof src->desc, "%d x periodic t%" PRId64 ",i%" PRId64 "...",
                 p->requests, p->image_every, p->image_tokens);
    }
    free(text);
    free(p);
    return ok;
}

/* Does storage s fit an int32 indptr at this layout? */
static int fits_int32(const pf_layout *l, int s, const pf_mask_spec *spec)
{
    int64_t *off = malloc(((size_t)l->n_req + 1) * sizeof *off);
    int ok = off && pf_mask_offsets(l, stor_id[s], spec, off) == 0 &&
             pf_mask_indptr_check(l, stor_id[s], off, 4, "mask") == 0;
    pf_error_clear();
    free(off);
    return ok;
}

static int64_t grid_seq(int k)
{
    return (int64_t)(k % 2 ? 1.41421356237 * (double)((int64_t)1 << (k / 2)) + 0.5
                           : (double)((int64_t)1 << (k / 2)));
}

/* The first length in (lo, hi] where storage s stops fitting int32 (it
 * fits at lo, not at hi). */
static int64_t bisect_limit(const source *src, int s, const pf_mask_spec *spec, int64_t lo,
                            int64_t hi)
{
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        pf_layout *l;
        if (build(src, mid, &l))
            return hi;
        int ok = fits_int32(l, s, spec);
        pf_layout_free(l);
        if (ok)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

static int one_spec(pf_rctx *c, const pf_rpoint *rep, source *src)
{
    const pf_rdata *d = c->d;
    pf_mask_spec spec = {PF_RULE_GEMMA3, PF_LAYER_FULL, rep->window};
    if (pf_rule_parse(rep->rule, &spec.rule) || pf_layer_parse(rep->layer, &spec.layer)) {
        pf_error_clear();
        fprintf(c->md, "### %s layers\n\nRule '%s' / layer '%s' unknown: no analytic lines.\n\n",
                rep->layer, rep->rule, rep->layer);
        return 0;
    }
    char name[96];
    snprintf(name, sizeof name, "masks_%s", rep->layer[0] ? rep->layer : "layer");
    char *lines = NULL, *pts = NULL, *vars = NULL;
    size_t llen = 0, plen = 0, vlen = 0;
    FILE *lf = open_memstream(&lines, &llen), *pf = open_memstream(&pts, &plen);
    if (!lf || !pf) {
        if (lf)
            fclose(lf);
        if (pf)
            fclose(pf);
        return pf_error_set("out of memory");
    }
    int64_t limit[N_STOR] = {0};
    int measured[N_STOR] = {0};
    int rc = 0;
    fprintf(lf, "# %s: pf_mask_bytes of %s, rule %s, %s layers, window %d\n"
                "# columns: seq_len bytes indptr_bytes (4 while int32 fits, else 8)\n",
            name, src->desc, rep->rule, rep->layer, rep->window);
    for (int s = 0; s < N_STOR && !rc; s++) {
        fprintf(lf, "%s# storage %s\n", s ? "\n\n" : "", pf_storage_name(stor_id[s]));
        int64_t prev_fit = -1;
        for (int k = GRID_LO; k <= GRID_HI && !rc; k++) {
            int64_t seq = grid_seq(k);
            pf_layout *l;
            if (build(src, seq, &l)) {
                rc = -1;
                break;
            }
            int fit = fits_int32(l, s, &spec);
            int64_t b = pf_mask_bytes(l, stor_id[s], spec.rule, spec.layer, spec.window, fit ? 4 : 8);
            pf_layout_free(l);
            if (b < 0) {
                rc = -1;
                break;
            }
            fprintf(lf, "%" PRId64 " %" PRId64 " %d\n", seq, b, fit ? 4 : 8);
            if (fit)
                prev_fit = seq;
            else if (!limit[s] && prev_fit > 0)
                limit[s] = bisect_limit(src, s, &spec, prev_fit, seq);
        }
    }
    fclose(lf);
    /* measured points, and the analytic bytes of the very layout measured */
    fprintf(pf, "# %s measured: record metadata_bytes (mask + indptr + tile classes)\n"
                "# columns: seq_len bytes\n", name);
    fprintf(c->md, "### %s layers (rule %s, window %d)\n\nLines: `pf_mask_bytes` of %s at each "
                   "length. int32 indptr limit:", rep->layer, rep->rule, rep->window, src->desc);
    for (int s = 0; s < N_STOR; s++)
        fprintf(c->md, " %s %s%s", pf_storage_name(stor_id[s]),
                limit[s] ? "" : "none up to 262144", s < N_STOR - 1 ? "," : ".\n\n");
    for (int s = 0; s < N_STOR; s++)
        if (limit[s])
            fprintf(c->md, "- %s stops fitting an int32 indptr at %" PRId64 " tokens per request\n",
                    pf_storage_name(stor_id[s]), limit[s]);
    fprintf(c->md, "\n| storage | seq len | measured bytes | pf_mask_bytes of that layout | "
                   "difference (tile classes) |\n|---|---|---|---|---|\n");
    for (int s = 0; s < N_STOR && !rc; s++) {
        fprintf(pf, "%s# storage %s\n", s ? "\n\n" : "", pf_storage_name(stor_id[s]));
        int64_t done[64];
        int nd = 0;
        measured[s] = 0;
        for (int i = 0; i <= d->n && !rc; i++) {
            if (i == d->n) { /* gnuplot's `index` does not count a block without data */
                if (!measured[s])
                    fprintf(pf, "NaN NaN\n");
                break;
            }
            const pf_rpoint *p = &d->pts[i];
            if (strcmp(p->layer, rep->layer) || strcmp(p->rule, rep->rule) || p->window != rep->window ||
                p->rec.metadata_bytes < 0 || p->seq_len <= 0 ||
                strcmp(p->storage, pf_storage_name(stor_id[s])))
                continue;
            int dup = 0;
            for (int k = 0; k < nd; k++)
                dup |= done[k] == p->seq_len;
            if (dup || nd >= 64)
                continue;
            done[nd++] = p->seq_len;
            fprintf(pf, "%" PRId64 " %" PRId64 "\n", p->seq_len, p->rec.metadata_bytes);
            measured[s]++;
            int64_t exact = -1;
            pf_layout *l;
            if (p->layout && pf_layout_parse(p->layout, &l) == 0) {
                exact = pf_mask_bytes(l, stor_id[s], spec.rule, spec.layer, spec.window,
                                      strcmp(p->indptr, "int64") ? 4 : 8);
                pf_layout_free(l);
            }
            pf_error_clear();
            if (exact >= 0)
                fprintf(c->md, "| %s | %" PRId64 " | %" PRId64 " | %" PRId64 " | %" PRId64 " |\n",
                        pf_storage_name(stor_id[s]), p->seq_len, p->rec.metadata_bytes, exact,
                        p->rec.metadata_bytes - exact);
            else
                fprintf(c->md, "| %s | %" PRId64 " | %" PRId64 " | (layout not in the record) | |\n",
                        pf_storage_name(stor_id[s]), p->seq_len, p->rec.metadata_bytes);
        }
    }
    fclose(pf);
    fprintf(c->md, "\n![%s](%s.png)\n\n", name, name);
    FILE *v = rc ? NULL : open_memstream(&vars, &vlen);
    if (!rc && !v)
        rc = pf_error_set("out of memory");
    if (!rc) {
        char title[256], file[160], lim[128] = "";
        snprintf(title, sizeof title, "Mask metadata bytes vs sequence length: %s layers, rule %s%s",
                 rep->layer, rep->rule, spec.layer == PF_LAYER_SLIDING ? " (sliding window)" : "");
        pf_rctx_vars(c, v, title);
        snprintf(file, sizeof file, "%s.dat", name);
        pf_gp_var_str(v, "linefile", file);
        snprintf(file, sizeof file, "%s_measured.dat", name);
        pf_gp_var_str(v, "pointfile", file);
        pf_gp_var_num(v, "nstor", N_STOR);
        pf_gp_var_str(v, "storages", "dense bitmap window spans");
        /* one dashed line per distinct limit, naming the storages it holds for */
        for (int s = 0; s < N_STOR; s++) {
            int first = 1;
            for (int k = 0; k < s; k++)
                first &= limit[k] != limit[s];
            if (!limit[s] || !first)
                continue;
            lim[0] = '\0';
            for (int k = s; k < N_STOR; k++)
                if (limit[k] == limit[s])
                    snprintf(lim + strlen(lim), sizeof lim - strlen(lim), "%s%s",
                             lim[0] ? ", " : "", pf_storage_name(stor_id[k]));
            fprintf(v, "set arrow from first %" PRId64 ", graph 0 to first %" PRId64
                       ", graph 1 nohead dt 2 lw 1.5 lc rgb \"#333333\"\n", limit[s], limit[s]);
            fprintf(v, "set label \"%s: int32 indptr limit at S=%" PRId64 "\" at first %" PRId64
                       ", graph 0.04 rotate by 90 offset -0.8,0 noenhanced\n", lim, limit[s], limit[s]);
        }
        pf_gp_var_str(v, "pattern", src->desc);
        pf_gp_var_num(v, "int32max", 2147483647.0);
        fclose(v);
        char f1[160], f2[160];
        snprintf(f1, sizeof f1, "%s.dat", name);
        snprintf(f2, sizeof f2, "%s_measured.dat", name);
        rc = pf_rctx_write(c, f1, lines, llen) || pf_rctx_write(c, f2, pts, plen) ||
                     pf_rctx_script(c, name, "masks", vars) ? -1 : 0;
    }
    free(lines);
    free(pts);
    free(vars);
    return rc;
}

int pf_plot_masks(pf_rctx *c)
{
    const pf_rdata *d = c->d;
    fprintf(c->md, "## Mask metadata bytes vs sequence length\n\n");
    source src = {0};
    if (!from_profile(d->meta, &src)) {
        /* the shortest measured layout's first request, repeated */
        int pick = -1;
        for (int i = 0; i < d->n; i++)
            if (d->pts[i].layout && d->pts[i].seq_len > 0 &&
                (pick < 0 || d->pts[i].seq_len < d->pts[pick].seq_len))
                pick = i;
        if (pick < 0 || pf_layout_parse(d->pts[pick].layout, &src.pattern)) {
            pf_error_clear();
            fprintf(c->md, "No layout to compute mask bytes from (no profile in meta, no layout "
                           "in the problems): skipped.\n\n");
            return 0;
        }
        snprintf(src.desc, sizeof src.desc, "first request of %.100s repeated",
                 d->pts[pick].layout);
    }
    /* one plot per layer kind (the bytes do not depend on the head dim) */
    char seen[4][16];
    int ns = 0, rc = 0;
    for (int i = 0; i < d->n && !rc; i++) {
        const pf_rpoint *p = &d->pts[i];
        int k = 0;
        while (k < ns && strcmp(seen[k], p->layer))
            k++;
        if (k < ns || ns >= 4 || !p->layer[0])
            continue;
        snprintf(seen[ns++], sizeof seen[0], "%s", p->layer);
        rc = one_spec(c, p, &src);
    }
    pf_layout_free(src.pattern);
    return rc;
}
