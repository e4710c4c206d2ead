/* Problems and search spaces of a profile (see space.h). */
#include "tuner/space.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attention/mask_encode.h"
#include "attention/tile_class.h"
#include "core/pf_error.h"
#include "device/arch.h"
#include "jit/jit.h"
#include "tuner/expr.h"

static const char *const axis_names[] = {"BLOCK_M",  "BLOCK_N",  "WARPS",     "STAGES",
                                         "MASK_STORAGE", "INDPTR_T", "TILE_SKIP", "WARP_ROWS",
                                         NULL};
#define N_AXES 8

/* Names constraints may use besides the axes. */
static const char *const expr_names[] = {"BLOCK_M",   "BLOCK_N", "WARPS",    "STAGES",
                                         "MASK_STORAGE", "INDPTR_T", "TILE_SKIP", "WARP_ROWS",
                                         "HEAD_DIM",  "SEQ_LEN",   NULL};

const char *const *pf_tune_axis_names(void)
{
    return axis_names;
}

/* ---- problems ---- */

int pf_tune_problems(const pf_profile *p, uint64_t seed, pf_tune_problem **out, int *n)
{
    *out = NULL;
    *n = 0;
    int total = p->n_layers * p->n_seqs;
    pf_tune_problem *pbs = calloc((size_t)(total ? total : 1), sizeof *pbs);
    if (!pbs)
        return pf_error_set("out of memory");
    int k = 0;
    for (int l = 0; l < p->n_layers; l++)
        for (int s = 0; s < p->n_seqs; s++, k++) {
            pf_tune_problem *pb = &pbs[k];
            pb->index = k;
            pb->layer = p->layers[l];
            pb->head_dim = p->head_dim_of_layer[l];
            pb->hq = p->hq;
            pb->hkv = p->hkv_of_layer[l];
            pb->mask.rule = (pf_rule)p->rule;
            pb->mask.layer = (pf_layer)pb->layer;
            pb->mask.window = pb->layer == PF_LAYER_SLIDING ? p->window : 0;
            pb->scale = p->scale_of_layer[l];
            pb->seq_len = p->seq_lens[s];
            if (pf_profile_layout(p, s, seed, &pb->layout)) {
                pf_tune_problems_free(pbs, k);
                return pf_error_prefix("workload at %lld tokens", (long long)p->seq_lens[s]);
            }
            char *lt = pf_layout_to_string(pb->layout);
            snprintf(pb->desc, sizeof pb->desc, "%s %s D=%d heads %d:%d rule %s%s%.0d seq %lld: %.200s",
                     p->model[0] ? p->model : "shape", pf_layer_name(pb->mask.layer), pb->head_dim,
                     pb->hq, pb->hkv, pf_rule_name(pb->mask.rule),
                     pb->mask.window ? " W=" : "", pb->mask.window, (long long)pb->seq_len,
                     lt ? lt : "?");
            free(lt);
        }
    *out = pbs;
    *n = total;
    return 0;
}

void pf_tune_problems_free(pf_tune_problem *pbs, int n)
{
    for (int i = 0; pbs && i < n; i++)
        pf_layout_free(pbs[i].layout);
    free(pbs);
}

/* ---- axes ---- */

static void variant_value(const pf_attn_variant *v, int axis, char *out, size_t n)
{
    switch (axis) {
    case 0: snprintf(out, n, "%d", v->block_m); break;
    case 1: snprintf(out, n, "%d", v->block_n); break;
    case 2: snprintf(out, n, "%d", v->warps); break;
    case 3: snprintf(out, n, "%d", v->stages); break;
    case 4: snprintf(out, n, "%s", pf_storage_name(v->mask_storage)); break;
    case 5: snprintf(out, n, "%s", v->indptr64 ? "int64" : "int32"); break;
    case 6: snprintf(out, n, "%d", v->tile_skip); break;
    /* 0: the derived grid (an integer like the profile's other values) */
    default: snprintf(out, n, "%d", v->warp_rows); break;
    }
}

static int add_value(pf_tune_space *s, int axis, const char *val)
{
    for (int i = 0; i < s->axis_size[axis]; i++)
        if (strcmp(s->values[axis][i], val) == 0)
            return 0;
    if (s->axis_size[axis] == PF_PROFILE_MAX_VALUES)
        return pf_error_set("axis %s: more than %d values", axis_names[axis], PF_PROFILE_MAX_VALUES);
    snprintf(s->values[axis][s->axis_size[axis]++], sizeof s->values[0][0], "%s", val);
    return 0;
}

/* Values of each axis: the profile's, else every value a valid variant of
 * this head dim on this arch uses (in the enumeration's order). */
static int axis_values(const pf_profile *p, int head_dim, const char *arch, pf_tune_space *s)
{
    s->n_axes = N_AXES;
    for (int a = 0; a < N_AXES; a++)
        snprintf(s->axis_names[a], sizeof s->axis_names[a], "%s", axis_names[a]);
    int nv = pf_attn_variant_enumerate(head_dim, arch, NULL, 0);
    if (nv < 0)
        return -1;
    pf_attn_variant *all = malloc(sizeof *all * (size_t)(nv + 1));
    if (!all)
        return pf_error_set("out of memory");
    pf_attn_variant_enumerate(head_dim, arch, all, nv);
    int rc = 0;
    for (int a = 0; a < N_AXES && !rc; a++) {
        const pf_profile_axis *given = NULL;
        for (int i = 0; i < p->n_axes; i++)
            if (strcmp(p->axes[i].name, axis_names[a]) == 0)
                given = &p->axes[i];
        if (given) {
            for (int i = 0; i < given->n_values && !rc; i++)
                rc = add_value(s, a, given->values[i]);
        } else {
            for (int i = 0; i < nv && !rc; i++) {
                char val[24];
                variant_value(&all[i], a, val, sizeof val);
                rc = add_value(s, a, val);
            }
        }
    }
    free(all);
    return rc;
}

/* ---- constraints ---- */

typedef struct point_ctx {
    const pf_tune_space *s;
    const int *idx;
    int head_dim;
    int64_t seq_len;
} point_ctx;

static int lookup(void *ctx, const char *name, size_t len, pf_expr_value *out)
{
    point_ctx *c = ctx;
    memset(out, 0, sizeof *out);
    if (len == 8 && strncmp(name, "HEAD_DIM", len) == 0) {
        out->i = c->head_dim;
        return 0;
    }
    if (len == 7 && strncmp(name, "SEQ_LEN", len) == 0) {
        out->i = c->seq_len;
        return 0;
    }
    for (int a = 0; a < c->s->n_axes; a++)
        if (strlen(c->s->axis_names[a]) == len && strncmp(c->s->axis_names[a], name, len) == 0) {
            const char *v = c->s->values[a][c->idx[a]];
            char *end = NULL;
            long long x = strtoll(v, &end, 10);
            if (*v && end && *end == '\0') {
                out->i = x;
            } else {
                out->is_string = 1;
                out->s = v;
            }
            return 0;
        }
    return -1;
}

/* ---- static facts ---- */

static double occupancy(const pf_arch *a, int regs, size_t smem, int threads)
{
    if (!a || threads <= 0)
        return -1;
    int warps = (threads + 31) / 32;
    int by_threads = a->max_threads_per_sm / (warps * 32);
    int by_smem = smem ? (int)(a->smem_per_sm / (smem + 1024)) : a->max_blocks_per_sm; /* 1 KiB reserved per block */
    int regs_per_warp = regs > 0 ? ((regs * 32 + 255) / 256) * 256 : 0; /* allocation unit 256 */
    int by_regs = regs_per_warp ? a->regs_per_sm / (regs_per_warp * warps) : a->max_blocks_per_sm;
    int blocks = a->max_blocks_per_sm;
    if (by_threads < blocks) blocks = by_threads;
    if (by_smem < blocks) blocks = by_smem;
    if (by_regs < blocks) blocks = by_regs;
    return (double)(blocks * warps) / a->max_warps_per_sm;
}

static void prune(pf_tune_point *pt, const char *fmt, const char *detail)
{
    pt->status = PF_STATUS_INVALID;
    snprintf(pt->why, sizeof pt->why, fmt, detail);
}

/* Validity, int32 offsets and constraints: everything known without a
 * compile. */
static void check_point(const pf_profile *p, const pf_tune_problem *pb, const char *arch,
                        pf_expr *const *cons, point_ctx *pc, pf_tune_point *pt)
{
    char text[300] = "";
    size_t len = 0;
    for (int a = 0; a < pc->s->n_axes; a++)
        len += (size_t)snprintf(text + len, sizeof text - len, "%s%s=%s", a ? "," : "",
                                pc->s->axis_names[a], pc->s->values[a][pc->idx[a]]);
    pt->status = PF_STATUS_OK;
    if (pf_attn_variant_parse(text, pb->head_dim, arch, &pt->v)) {
        prune(pt, "%s", pf_error_get());
        snprintf(pt->text, sizeof pt->text, "%.199s", text);
        return;
    }
    pf_attn_variant_to_string(&pt->v, pt->text, sizeof pt->text);
    char why[256] = "";
    if (!pf_attn_variant_valid(&pt->v, arch, why, sizeof why)) {
        prune(pt, "%s", why);
        return;
    }
    int64_t off[2];
    if (!pt->v.indptr64 && pt->v.mask_storage != PF_MASK_SPANS &&
        pf_mask_offsets(pb->layout, pt->v.mask_storage, &pb->mask, off) == 0 &&
        off[1] > 0x7fffffff) {
        prune(pt, "%s", "int32 indptr: mask offsets exceed INT32_MAX for this workload");
        return;
    }
    for (int c = 0; c < p->n_constraints; c++) {
        int r = pf_expr_eval(cons[c], lookup, pc);
        if (r != 1) {
            char msg[256];
            snprintf(msg, sizeof msg, "constraint %.120s: %.100s", p->constraints[c],
                     r < 0 ? pf_error_get() : "false");
            prune(pt, "%s", msg);
            return;
        }
    }
}

/* Static facts of the candidates: one NVRTC compile each (cached), in
 * parallel; spilling ones are pruned unless the profile keeps them. */
static int static_facts(const pf_profile *p, const pf_tune_problem *pb, const char *arch,
                        int threads, pf_tune_space *s)
{
    int n = 0;
    for (int i = 0; i < s->n_points; i++)
        n += s->points[i].status == PF_STATUS_OK;
    pf_variant *jv = calloc((size_t)(n ? n : 1), sizeof *jv);
    pf_jit_result *jr = calloc((size_t)(n ? n : 1), sizeof *jr);
    int *which = calloc((size_t)(n ? n : 1), sizeof *which);
    if (!jv || !jr || !which) {
        free(jv), free(jr), free(which);
        return pf_error_set("out of memory");
    }
    int k = 0;
    for (int i = 0; i < s->n_points; i++) {
        if (s->points[i].status != PF_STATUS_OK)
            continue;
        snprintf(jv[k].source, sizeof jv[k].source, "%s/attention.cu", pf_kernel_dir());
        snprintf(jv[k].target, sizeof jv[k].target, "%s", arch);
        pf_attn_variant_defines(&s->points[i].v, &jv[k]);
        which[k++] = i;
    }
    int rc = n ? pf_jit_compile_many(jv, n, threads, jr) : 0;
    const pf_arch *a = pf_arch_lookup(arch);
    pf_tile_map tiles[2][4]; /* cache by (block_n 32/64, block_m 16..128) */
    int have[2][4] = {{0}};
    for (int j = 0; j < n && rc == 0; j++) {
        pf_tune_point *pt = &s->points[which[j]];
        pf_candidate_info *ci = &pt->info;
        if (!jr[j].valid) {
            pt->status = PF_STATUS_COMPILE_FAILED;
            snprintf(pt->why, sizeof pt->why, "NVRTC %s: %.200s", arch,
                     jr[j].log ? jr[j].log : "compile failed");
            continue;
        }
        int spill = jr[j].res.spill_stores + jr[j].res.spill_loads;
        ci->registers = jr[j].res.registers;
        ci->spill_bytes = spill;
        ci->smem_bytes = (int)pf_attn_variant_smem_bytes(&pt->v) + jr[j].res.static_smem;
        ci->threads = pf_attn_variant_threads(&pt->v);
        ci->skips_empty = pt->v.tile_skip;
        ci->occupancy = occupancy(a, ci->registers, (size_t)ci->smem_bytes, ci->threads);
        if (spill > 0 && !p->keep_spills) {
            char d[64];
            snprintf(d, sizeof d, "%d bytes on %s", spill, arch);
            prune(pt, "spills %s (keep with \"keep_spills\": true)", d);
            continue;
        }
        double work = 0;
        for (int r = 0; r < pb->layout->n_req; r++)
            work += (double)((pb->layout->req[r].q_len + pt->v.block_m - 1) / pt->v.block_m);
        ci->work_units = work * pb->hq;
        ci->metadata_bytes = (double)pf_mask_bytes(pb->layout, pt->v.mask_storage, pb->mask.rule,
                                                   pb->mask.layer, pb->mask.window,
                                                   pt->v.indptr64 ? 8 : 4);
        int bn = pt->v.block_n == 64, bm = pt->v.block_m == 16 ? 0 : pt->v.block_m == 32 ? 1
                                                                  : pt->v.block_m == 64 ? 2 : 3;
        if ((pt->v.block_n == 32 || pt->v.block_n == 64) && !have[bn][bm]) {
            if (pf_tile_classify(pb->layout, &pb->mask, pt->v.block_m, pt->v.block_n,
                                 &tiles[bn][bm]) == 0)
                have[bn][bm] = 1;
            else
                pf_error_clear();
        }
        if (have[bn][bm]) {
            ci->tiles_empty = (double)tiles[bn][bm].n_empty * pb->hq;
            ci->tiles_full = (double)tiles[bn][bm].n_full * pb->hq;
            ci->tiles_partial = (double)tiles[bn][bm].n_partial * pb->hq;
        }
    }
    for (int x = 0; x < 2; x++)
        for (int y = 0; y < 4; y++)
            if (have[x][y])
                pf_tile_map_free(&tiles[x][y]);
    for (int j = 0; j < n; j++)
        pf_jit_result_free(&jr[j]);
    free(jv), free(jr), free(which);
    return rc;
}

int pf_tune_space_build(const pf_profile *p, const pf_tune_problem *pb, const char *arch,
                        int threads, pf_tune_space *s)
{
    memset(s, 0, sizeof *s);
    if (axis_values(p, pb->head_dim, arch, s))
        return -1;
    long long total = 1;
    for (int a = 0; a < s->n_axes; a++)
        total *= s->axis_size[a] ? s->axis_size[a] : 0;
    if (total <= 0)
        return pf_error_set("the search space is empty (an axis has no value)");
    if (total > PF_TUNE_MAX_POINTS)
        return pf_error_set("the search space has %lld points (at most %d): narrow the axes", total,
                            PF_TUNE_MAX_POINTS);
    pf_expr *cons[PF_PROFILE_MAX_CONSTRAINTS] = {0};
    for (int c = 0; c < p->n_constraints; c++)
        if (!(cons[c] = pf_expr_parse(p->constraints[c], expr_names))) {
            for (int j = 0; j < c; j++)
                pf_expr_free(cons[j]);
            return pf_error_prefix("constraint \"%s\"", p->constraints[c]);
        }
    s->n_points = (int)total;
    s->points = calloc((size_t)total, sizeof *s->points);
    s->cand = calloc((size_t)total, sizeof *s->cand);
    s->cand_info = calloc((size_t)total, sizeof *s->cand_info);
    int rc = s->points && s->cand && s->cand_info ? 0 : pf_error_set("out of memory");
    int idx[PF_SEARCH_MAX_AXES] = {0};
    point_ctx pc = {s, idx, pb->head_dim, pb->seq_len};
    for (int i = 0; i < s->n_points && !rc; i++) {
        pf_tune_point *pt = &s->points[i];
        memset(&pt->info, 0xff, sizeof pt->info); /* unknowns -1 ... */
        for (int a = 0; a < s->n_axes; a++)
            pt->info.axis[a] = idx[a];
        pt->info.occupancy = pt->info.tiles_empty = pt->info.tiles_full = -1;
        pt->info.tiles_partial = pt->info.work_units = pt->info.metadata_bytes = -1;
        check_point(p, pb, arch, cons, &pc, pt);
        for (int a = s->n_axes - 1; a >= 0; a--) { /* odometer: last axis fastest */
            if (++idx[a] < s->axis_size[a])
                break;
            idx[a] = 0;
        }
    }
    for (int c = 0; c < p->n_constraints; c++)
        pf_expr_free(cons[c]);
    if (!rc)
        rc = static_facts(p, pb, arch, threads, s);
    for (int i = 0; i < s->n_points && !rc; i++)
        if (s->points[i].status == PF_STATUS_OK) {
            s->cand_info[s->n_cand] = s->points[i].info;
            s->cand[s->n_cand++] = i;
        }
    if (rc)
        pf_tune_space_free(s);
    return rc;
}

void pf_tune_space_free(pf_tune_space *s)
{
    free(s->points);
    free(s->cand);
    free(s->cand_info);
    memset(s, 0, sizeof *s);
}
