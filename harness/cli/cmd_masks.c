/* `pftune masks`: mask metadata bytes per storage and layer kind for a
 * layout, computed from the layout (never allocated), and whether an int32
 * indptr can address them. Reproduces DESIGN.md's 128K table:
 *   pftune masks --seq 131072 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/masks_dump.h"
#include "attention/layout.h"
#include "attention/mask_encode.h"
#include "attention/mask_rule.h"
#include "core/json_doc.h"
#include "core/pf_error.h"

#define CMD "masks"

enum { OPT_LAYOUT, OPT_LAYOUT_FILE, OPT_SEQ, OPT_WINDOW, OPT_RULE, OPT_INDPTR, OPT_JSON, OPT_DUMP,
       OPT_TILES };

static const pf_cli_opt opts[] = {
    [OPT_LAYOUT] = {"layout", 'l', "SPEC", "layout string, e.g. 't20,i256,t30;t100|t40'"},
    [OPT_LAYOUT_FILE] = {"layout-file", 0, "FILE", "layout from .json or .npy token types"},
    [OPT_SEQ] = {"seq", 0, "S", "one request of S tokens with a 256-token image every 4096"},
    [OPT_WINDOW] = {"window", 'w', "W", "sliding window W (default 1024)"},
    [OPT_RULE] = {"rule", 'r', "RULE", "causal, gemma3 (default), gemma4, bidirectional"},
    [OPT_INDPTR] = {"indptr", 0, "TYPE", "int32 or int64 (default): indptr bytes counted"},
    [OPT_JSON] = {"json", 0, NULL, "print one JSON object"},
    [OPT_DUMP] = {"dump", 0, "DIR", "write every encoder's bytes to DIR (masks_dump.h; small layouts)"},
    [OPT_TILES] = {"tiles", 0, "MxN,...", "tile sizes for --dump (default 64x64,64x32,128x64,16x32)"},
    {0},
};

/* Periodic layout of --seq: Gemma-style prompts with an image of 256 soft
 * tokens after every 4096 text tokens. */
#define SEQ_IMAGE_TOKENS 256
#define SEQ_IMAGE_EVERY 4096

typedef struct masks_args {
    const char *layout, *layout_file;
    long seq, window;
    pf_rule rule;
    int indptr_bytes, json;
    const char *dump;
    int tiles[PF_MASKS_DUMP_MAX_TILES][2], n_tiles;
} masks_args;

/* "64x64,64x32" -> tiles. */
static int parse_tiles(const char *text, masks_args *a)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", text);
    char *save = NULL;
    a->n_tiles = 0;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int m, n, used = 0;
        if (a->n_tiles == PF_MASKS_DUMP_MAX_TILES ||
            sscanf(t, "%dx%d%n", &m, &n, &used) != 2 || t[used] || m <= 0 || n <= 0)
            return pf_cli_usage_error(CMD, "--tiles: want up to %d sizes like 64x32 (got '%s')",
                                      PF_MASKS_DUMP_MAX_TILES, t);
        a->tiles[a->n_tiles][0] = m;
        a->tiles[a->n_tiles++][1] = n;
    }
    return 0;
}

static int parse_args(int argc, char **argv, masks_args *a)
{
    *a = (masks_args){.window = 1024, .rule = PF_RULE_GEMMA3, .indptr_bytes = 8,
                      .tiles = {{64, 64}, {64, 32}, {128, 64}, {16, 32}}, .n_tiles = 4};
    pf_cli c;
    pf_cli_init(&c, CMD, argc, argv, opts, "pftune masks (--layout SPEC | --layout-file F | --seq S) [options]",
                "Print the mask metadata bytes of each storage (dense, bitmap, window, spans)\n"
                "for full and sliding layers, computed without allocating, and whether an\n"
                "int32 indptr can address them.");
    c.examples = "  pftune masks --seq 131072\n"
                 "  pftune masks --layout 't20,i256,t30;t100|t40,i64,t5' --rule gemma4 --json\n"
                 "  pftune masks --layout-file mm_token_type_ids.npy --window 512\n";
    const char *val;
    int o;
    while ((o = pf_cli_next(&c, &val)) != PF_CLI_DONE) {
        switch (o) {
        case PF_CLI_HELP: return 0;
        case PF_CLI_ERROR: return 2;
        case PF_CLI_ARG: return pf_cli_usage_error(CMD, "unexpected argument '%s'", val);
        case OPT_LAYOUT: a->layout = val; break;
        case OPT_LAYOUT_FILE: a->layout_file = val; break;
        case OPT_SEQ:
            if (pf_cli_parse_long(CMD, "--seq", val, 1, (long)PF_LAYOUT_MAX_TOKENS, &a->seq) < 0)
                return 2;
            break;
        case OPT_WINDOW:
            if (pf_cli_parse_long(CMD, "--window", val, 1, 1L << 30, &a->window) < 0)
                return 2;
            break;
        case OPT_RULE:
            if (pf_rule_parse(val, &a->rule) < 0)
                return pf_cli_usage_error(CMD, "%s", pf_error_get());
            break;
        case OPT_INDPTR:
            if (strcmp(val, "int32") == 0)
                a->indptr_bytes = 4;
            else if (strcmp(val, "int64") == 0)
                a->indptr_bytes = 8;
            else
                return pf_cli_usage_error(CMD, "--indptr must be int32 or int64 (got '%s')", val);
            break;
        case OPT_JSON: a->json = 1; break;
        case OPT_DUMP: a->dump = val; break;
        case OPT_TILES:
            if (parse_tiles(val, a))
                return 2;
            break;
        }
    }
    int sources = (a->layout != NULL) + (a->layout_file != NULL) + (a->seq > 0);
    if (sources != 1)
        return pf_cli_usage_error(CMD, "give exactly one of --layout, --layout-file, --seq");
    return -1; /* go on */
}

static void human_bytes(int64_t b, char *out, size_t n)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = (double)b;
    int u = 0;
    while (v >= 1024.0 && u < 5) {
        v /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(out, n, "%lld B", (long long)b);
    else
        snprintf(out, n, "%.2f %s", v, units[u]);
}

/* One row: bytes and the int32 verdict ("" = fits, else the refusal). */
typedef struct masks_row {
    int storage;
    pf_layer layer;
    int64_t bytes;
    int int32_fits;
    char why[PF_ERROR_MAX];
} masks_row;

static int compute_row(const pf_layout *l, const masks_args *a, int storage, pf_layer layer,
                       masks_row *row)
{
    pf_mask_spec spec = {a->rule, layer, (int)a->window};
    row->storage = storage;
    row->layer = layer;
    row->bytes = pf_mask_bytes(l, storage, a->rule, layer, (int)a->window, a->indptr_bytes);
    if (row->bytes < 0)
        return -1;
    int64_t *off = malloc(((size_t)l->n_req + 1) * sizeof(*off));
    if (!off)
        return pf_error_set("out of memory");
    char what[32];
    snprintf(what, sizeof(what), "%s mask", pf_storage_name(storage));
    /* spans has no mask indptr; every storage needs qo/kv indptr */
    int ok = pf_indptr_check(l->qo_indptr, l->n_req, 4, "qo indptr") == 0 &&
             pf_indptr_check(l->kv_indptr, l->n_req, 4, "kv indptr") == 0 &&
             (storage == PF_MASK_SPANS ||
              (pf_mask_offsets(l, storage, &spec, off) == 0 &&
               pf_mask_indptr_check(l, storage, off, 4, what) == 0));
    free(off);
    row->int32_fits = ok;
    snprintf(row->why, sizeof(row->why), "%s", ok ? "" : pf_error_get());
    return 0;
}

static void print_text(const pf_layout *l, const masks_args *a, const masks_row *rows, int n)
{
    int64_t groups = 0;
    for (int r = 0; r < l->n_req; r++)
        groups += l->req[r].n_groups;
    printf("layout: %d request%s, %lld tokens (%lld new), %lld vision group%s (longest %lld)\n",
           l->n_req, l->n_req == 1 ? "" : "s", (long long)l->total_kv, (long long)l->total_q,
           (long long)groups, groups == 1 ? "" : "s", (long long)l->max_group_len);
    printf("rule %s, window %ld, %s indptr; bytes = mask + indptr (+ group ids for spans)\n\n",
           pf_rule_name(a->rule), a->window, a->indptr_bytes == 4 ? "int32" : "int64");
    printf("%-8s %-8s %12s %22s  %s\n", "storage", "layer", "size", "bytes", "int32 indptr");
    for (int i = 0; i < n; i++) {
        char h[32];
        human_bytes(rows[i].bytes, h, sizeof(h));
        printf("%-8s %-8s %12s %22lld  %s\n", pf_storage_name(rows[i].storage),
               pf_layer_name(rows[i].layer), h, (long long)rows[i].bytes,
               rows[i].int32_fits ? "fits" : "refused");
        if (!rows[i].int32_fits)
            printf("%-17s  (%s)\n", "", rows[i].why);
    }
}

static int print_json(const pf_layout *l, const masks_args *a, const masks_row *rows, int n)
{
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:I, s:b, s:s?}", "storage", pf_storage_name(rows[i].storage),
                           "layer", pf_layer_name(rows[i].layer), "bytes", (json_int_t)rows[i].bytes,
                           "int32_fits", rows[i].int32_fits, "int32_error",
                           rows[i].int32_fits ? NULL : rows[i].why));
    json_t *root = pf_json_doc_new("pftune.masks", 1);
    if (root && json_object_update_new(root, json_pack("{s:i, s:I, s:I, s:I, s:s, s:i, s:s, s:o}", "requests", l->n_req,
                             "total_q", (json_int_t)l->total_q, "total_kv",
                             (json_int_t)l->total_kv, "max_group_len",
                             (json_int_t)l->max_group_len, "rule", pf_rule_name(a->rule),
                             "window", (int)a->window, "indptr",
                             a->indptr_bytes == 4 ? "int32" : "int64", "rows", arr)) != 0) {
        json_decref(root);
        root = NULL;
    }
    if (!root)
        return pf_cli_fail(CMD, "cannot build JSON output");
    int rc = pf_json_doc_print(root);
    json_decref(root);
    return rc ? pf_cli_fail_error(CMD) : 0;
}

int pf_cmd_masks(int argc, char **argv)
{
    masks_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
    pf_layout *l = NULL;
    if (a.layout)
        rc = pf_layout_parse(a.layout, &l);
    else if (a.layout_file)
        rc = pf_layout_load(a.layout_file, &l);
    else
        rc = pf_layout_gen_periodic(1, a.seq, SEQ_IMAGE_TOKENS, SEQ_IMAGE_EVERY, &l);
    /* A bad layout string is a usage error; a bad layout file is bad input
     * data (exit 1), as in `pftune attention`. */
    if (rc < 0)
        return a.layout_file ? pf_cli_fail_error(CMD) : pf_cli_usage_error(CMD, "%s", pf_error_get());
    if (a.dump) {
        rc = pf_masks_dump(a.dump, l, a.rule, (int)a.window, (const int(*)[2])a.tiles, a.n_tiles);
        pf_layout_free(l);
        return rc ? pf_cli_fail_error(CMD) : 0;
    }
    masks_row rows[8];
    int n = 0;
    for (int storage = PF_MASK_DENSE; storage <= PF_MASK_SPANS; storage++)
        for (int layer = PF_LAYER_FULL; layer <= PF_LAYER_SLIDING; layer++) {
            if (a.rule == PF_RULE_BIDIRECTIONAL && layer == PF_LAYER_SLIDING)
                continue; /* no sliding layers in vision towers */
            if (compute_row(l, &a, storage, (pf_layer)layer, &rows[n]) < 0) {
                pf_layout_free(l);
                return pf_cli_fail_error(CMD);
            }
            n++;
        }
    rc = a.json ? print_json(l, &a, rows, n) : (print_text(l, &a, rows, n), 0);
    pf_layout_free(l);
    return rc;
}
