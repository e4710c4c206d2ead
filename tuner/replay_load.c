/* Reading a results file into replay problems (see replay.h). */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"
#include "measure/record.h"
#include "tuner/replay.h"

const double pf_replay_tols[PF_REPLAY_N_TOLS] = {0.01, 0.02, 0.05};

/* What replay keeps of one record. */
typedef struct entry {
    char variant[256];
    double ms;
    int registers, spill_bytes, smem_bytes;
    double metadata_bytes;
} entry;

typedef struct group {
    char problem[512];
    int n, cap;
    entry *e;
} group;

/* ---- variant strings: KEY=VALUE,KEY=VALUE ---- */

/* The next item of `*p` into key/val; 1 found, 0 at the end, -1 malformed. */
static int next_item(const char **p, char key[32], char val[256])
{
    const char *s = *p;
    if (!*s)
        return 0;
    const char *end = strchr(s, ',');
    size_t len = end ? (size_t)(end - s) : strlen(s);
    const char *eq = memchr(s, '=', len);
    if (!eq || eq == s)
        return pf_error_set("item '%.*s' is not KEY=VALUE", (int)len, s);
    if ((size_t)(eq - s) >= 32)
        return pf_error_set("key '%.*s' is longer than 31 characters", (int)(eq - s), s);
    memcpy(key, s, (size_t)(eq - s));
    key[eq - s] = '\0';
    size_t vlen = len - (size_t)(eq - s) - 1;
    memcpy(val, eq + 1, vlen);
    val[vlen] = '\0';
    *p = end ? end + 1 : s + len;
    if (end && !end[1])
        return pf_error_set("trailing ','");
    return 1;
}

static int axis_of(const pf_replay_problem *p, const char *key)
{
    for (int a = 0; a < p->n_axes; a++)
        if (strcmp(p->axes[a].name, key) == 0)
            return a;
    return -1;
}

static int value_of(const pf_replay_axis *ax, const char *val)
{
    for (int v = 0; v < ax->n_values; v++)
        if (strcmp(ax->values[v], val) == 0)
            return v;
    return -1;
}

static int add_value(pf_replay_axis *ax, const char *val)
{
    if (value_of(ax, val) >= 0)
        return 0;
    char **vs = realloc(ax->values, sizeof *vs * (size_t)(ax->n_values + 1));
    if (!vs)
        return pf_error_set("out of memory");
    ax->values = vs;
    if (!(vs[ax->n_values] = strdup(val)))
        return pf_error_set("out of memory");
    ax->n_values++;
    return 0;
}

/* Collect the axes and their values; a record without a key has "". */
static int collect_axes(pf_replay_problem *p, const group *g)
{
    char key[32], val[256];
    for (int i = 0; i < g->n; i++) {
        const char *s = g->e[i].variant;
        int r, seen[PF_SEARCH_MAX_AXES] = {0};
        while ((r = next_item(&s, key, val)) > 0) {
            int a = axis_of(p, key);
            if (a < 0) {
                if (p->n_axes == PF_SEARCH_MAX_AXES)
                    return pf_error_set("more than %d axes", PF_SEARCH_MAX_AXES);
                a = p->n_axes++;
                snprintf(p->axes[a].name, sizeof p->axes[a].name, "%s", key);
                if (i > 0 && add_value(&p->axes[a], "")) /* earlier records lack it */
                    return -1;
            }
            if (seen[a]++)
                return pf_error_set("variant '%s': %s given twice", g->e[i].variant, key);
            if (add_value(&p->axes[a], val))
                return -1;
        }
        if (r < 0)
            return pf_error_prefix("variant '%s'", g->e[i].variant);
        for (int a = 0; a < p->n_axes; a++)
            if (!seen[a] && add_value(&p->axes[a], ""))
                return -1;
    }
    return 0;
}

static int is_number(const char *s)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    return *s && !*end && errno == 0 && isfinite(d);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_number(const void *a, const void *b)
{
    double x = strtod(*(char *const *)a, NULL), y = strtod(*(char *const *)b, NULL);
    return (x > y) - (x < y);
}

static void sort_values(pf_replay_axis *ax)
{
    int numeric = 1;
    for (int v = 0; v < ax->n_values; v++)
        numeric &= is_number(ax->values[v]);
    qsort(ax->values, (size_t)ax->n_values, sizeof *ax->values, numeric ? cmp_number : cmp_name);
}

/* ---- candidates: distinct value tuples ---- */

typedef struct keyed {
    const int *tuple;
    int n_axes, entry;
} keyed;

static int cmp_tuple(const int *x, const int *y, int n_axes)
{
    for (int i = 0; i < n_axes; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

static int cmp_keyed(const void *pa, const void *pb)
{
    const keyed *a = pa, *b = pb;
    int t = cmp_tuple(a->tuple, b->tuple, a->n_axes);
    return t ? t : (a->entry > b->entry) - (a->entry < b->entry);
}

static int cmp_first(const void *pa, const void *pb)
{
    const int *a = pa, *b = pb; /* {first entry, last entry} */
    return (a[0] > b[0]) - (a[0] < b[0]);
}

/* Each entry's value indices (entries are known well formed by now). */
static void entry_tuple(const pf_replay_problem *p, const entry *e, int *t)
{
    char key[32], val[256];
    for (int a = 0; a < p->n_axes; a++)
        t[a] = value_of(&p->axes[a], "");
    const char *s = e->variant;
    while (next_item(&s, key, val) > 0) {
        int a = axis_of(p, key);
        t[a] = value_of(&p->axes[a], val);
    }
}

static void fill_candidate(pf_replay_problem *p, int c, const entry *e, const int *t)
{
    pf_candidate_info *ci = &p->cand[c];
    *ci = (pf_candidate_info){.registers = e->registers, .spill_bytes = e->spill_bytes,
                              .smem_bytes = e->smem_bytes, .threads = -1, .occupancy = -1,
                              .tiles_empty = -1, .tiles_full = -1, .tiles_partial = -1,
                              .work_units = -1, .metadata_bytes = e->metadata_bytes};
    for (int a = 0; a < p->n_axes; a++) {
        const char *v = p->axes[a].values[t[a]];
        ci->axis[a] = t[a];
        if (strcmp(p->axes[a].name, "WARPS") == 0 && is_number(v))
            ci->threads = 32 * atoi(v);
        if (strcmp(p->axes[a].name, "TILE_SKIP") == 0)
            ci->skips_empty = strcmp(v, "1") == 0;
    }
    p->ms[c] = e->ms;
    snprintf(p->variant[c], sizeof p->variant[c], "%s", e->variant);
    if (!(e->ms < INFINITY))
        p->failed++;
    else if (p->best < 0 || e->ms < p->ms[p->best])
        p->best = c;
}

static int build_candidates(pf_replay_problem *p, const group *g)
{
    size_t n = (size_t)g->n, na = (size_t)(p->n_axes ? p->n_axes : 1);
    int *tuples = malloc(n * na * sizeof *tuples), *pairs = malloc(n * 2 * sizeof *pairs);
    keyed *k = malloc(n * sizeof *k);
    int rc = -1;
    if (!tuples || !pairs || !k)
        goto done;
    for (int i = 0; i < g->n; i++) {
        entry_tuple(p, &g->e[i], tuples + (size_t)i * na);
        k[i] = (keyed){tuples + (size_t)i * na, p->n_axes, i};
    }
    qsort(k, n, sizeof *k, cmp_keyed);
    int nc = 0;
    for (int i = 0; i < g->n; i++) {
        if (i == 0 || cmp_tuple(k[i - 1].tuple, k[i].tuple, p->n_axes) != 0)
            pairs[2 * nc++] = k[i].entry; /* first record of this variant */
        pairs[2 * nc - 1] = k[i].entry;   /* latest so far */
    }
    qsort(pairs, (size_t)nc, 2 * sizeof *pairs, cmp_first);
    p->cand = calloc((size_t)nc, sizeof *p->cand);
    p->ms = calloc((size_t)nc, sizeof *p->ms);
    p->variant = calloc((size_t)nc, sizeof *p->variant);
    if (!p->cand || !p->ms || !p->variant)
        goto done;
    p->n = nc;
    p->best = -1;
    for (int c = 0; c < nc; c++)
        fill_candidate(p, c, &g->e[pairs[2 * c + 1]], tuples + (size_t)pairs[2 * c + 1] * na);
    rc = 0;
done:
    if (rc)
        pf_error_set("out of memory");
    free(tuples);
    free(pairs);
    free(k);
    return rc;
}

static int build_problem(pf_replay_problem *p, const group *g)
{
    memset(p, 0, sizeof *p);
    snprintf(p->problem, sizeof p->problem, "%s", g->problem);
    if (collect_axes(p, g))
        return pf_error_prefix("problem '%s'", g->problem);
    for (int a = 0; a < p->n_axes; a++)
        sort_values(&p->axes[a]);
    return build_candidates(p, g);
}

/* ---- the file ---- */

static int check_schema(const json_t *root)
{
    const char *want = PF_REPLAY_SCHEMA;
    if (!json_is_object(root))
        return pf_error_set("not a JSON object");
    const json_t *s = json_object_get(root, "schema");
    if (!json_is_string(s))
        return pf_error_set("no \"schema\" string (expected \"%s/%d\")", want,
                            PF_REPLAY_VERSION);
    const char *text = json_string_value(s), *slash = strrchr(text, '/');
    size_t name_len = slash ? (size_t)(slash - text) : strlen(text);
    if (name_len != strlen(want) || strncmp(text, want, name_len) != 0)
        return pf_error_set("schema '%s' is not a results file (replay reads %s/%d)", text, want,
                            PF_REPLAY_VERSION);
    if (!slash || strcmp(slash + 1, "1") != 0)
        return pf_error_set("schema '%s' is not supported (this pftune reads %s/%d)", text, want,
                            PF_REPLAY_VERSION);
    const json_t *meta = json_object_get(root, "meta");
    if (meta && !json_is_object(meta))
        return pf_error_set("\"meta\" must be an object");
    if (!json_is_array(json_object_get(root, "records")))
        return pf_error_set("no \"records\" array");
    return 0;
}

static group *group_of(group **gs, int *n, const char *problem)
{
    for (int i = 0; i < *n; i++)
        if (strcmp((*gs)[i].problem, problem) == 0)
            return &(*gs)[i];
    group *more = realloc(*gs, sizeof **gs * (size_t)(*n + 1));
    if (!more) {
        pf_error_set("out of memory");
        return NULL;
    }
    *gs = more;
    group *g = &more[(*n)++];
    memset(g, 0, sizeof *g);
    snprintf(g->problem, sizeof g->problem, "%s", problem);
    return g;
}

static int add_entry(group *g, const pf_record *r)
{
    if (g->n == g->cap) {
        int cap = g->cap ? 2 * g->cap : 64;
        entry *e = realloc(g->e, sizeof *e * (size_t)cap);
        if (!e)
            return pf_error_set("out of memory");
        g->e = e;
        g->cap = cap;
    }
    entry *e = &g->e[g->n++];
    snprintf(e->variant, sizeof e->variant, "%s", r->variant);
    int timed = r->status == PF_STATUS_OK && r->time.samples > 0 && r->time.median_ms > 0 &&
                isfinite(r->time.median_ms);
    e->ms = timed ? r->time.median_ms : INFINITY;
    e->registers = r->registers;
    e->spill_bytes = r->spill_bytes;
    e->smem_bytes = r->smem_bytes;
    e->metadata_bytes = (double)r->metadata_bytes;
    return 0;
}

static int group_records(const json_t *records, group **gs, int *n)
{
    size_t i;
    const json_t *j;
    json_array_foreach(records, i, j) {
        pf_record r;
        if (pf_record_from_json(j, &r))
            return pf_error_prefix("records[%zu]", i);
        if (r.status == PF_STATUS_INVALID) {
            /* pruned before any run: the tuner never offers it to a strategy */
            pf_record_free(&r);
            continue;
        }
        group *g = group_of(gs, n, r.problem);
        int rc = g ? add_entry(g, &r) : -1;
        pf_record_free(&r);
        if (rc)
            return -1;
    }
    return 0;
}

int pf_replay_load(const char *path, pf_replay_set *out)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return pf_error_set("%s: cannot open: %s", path, strerror(errno));
    json_error_t jerr;
    json_t *root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    fclose(f);
    if (!root)
        return pf_error_set("%s: line %d: %s", path, jerr.line, jerr.text);
    group *gs = NULL;
    int n = 0, rc = check_schema(root);
    if (rc == 0)
        rc = group_records(json_object_get(root, "records"), &gs, &n);
    if (rc == 0) {
        out->n_records = (int)json_array_size(json_object_get(root, "records"));
        out->problems = calloc((size_t)(n ? n : 1), sizeof *out->problems);
        rc = out->problems ? 0 : pf_error_set("out of memory");
    }
    for (int i = 0; rc == 0 && i < n; i++) {
        out->n_problems++;
        rc = build_problem(&out->problems[i], &gs[i]);
    }
    for (int i = 0; i < n; i++)
        free(gs[i].e);
    free(gs);
    json_decref(root);
    if (rc) {
        pf_replay_free(out);
        return pf_error_prefix("%s", path);
    }
    return 0;
}

void pf_replay_free(pf_replay_set *set)
{
    for (int i = 0; i < set->n_problems; i++) {
        pf_replay_problem *p = &set->problems[i];
        for (int a = 0; a < p->n_axes; a++) {
            for (int v = 0; v < p->axes[a].n_values; v++)
                free(p->axes[a].values[v]);
            free(p->axes[a].values);
        }
        free(p->cand);
        free(p->ms);
        free(p->variant);
    }
    free(set->problems);
    memset(set, 0, sizeof *set);
}
