/* Variant axes of the attention kernel: parsing, text form, defaults, the
 * validity rules (which mirror the work split and shared memory layout of
 * kernels/attention.cu) and enumeration. */
#define _GNU_SOURCE /* strcasestr */
#include "attention/attn_variant.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kernels/attention_params.h"
#include "core/pf_error.h"
#include "device/arch.h"

static const char *const storage_names[] = {"dense", "bitmap", "window", "spans"};

int pf_attn_head_dim_supported(int head_dim)
{
    return head_dim == 64 || head_dim == 72 || head_dim == 128 || head_dim == 256 ||
           head_dim == 512;
}

int pf_attn_head_dim_pad(int head_dim)
{
    return (head_dim + 15) / 16 * 16;
}

size_t pf_attn_arch_smem_limit(const char *arch)
{
    const pf_arch *a = arch ? pf_arch_lookup(arch) : NULL;
    return a ? a->smem_per_block_optin : 0;
}

/* The table's entry for arch, or NULL with "attention: unknown arch ...". */
static const pf_arch *arch_known(const char *arch)
{
    const pf_arch *a = pf_arch_lookup(arch);
    if (!a)
        pf_error_prefix("attention");
    return a;
}

/* Defaults in order of preference (tile shape, warps, stages); the first
 * whose shared memory fits the arch wins. Double-buffered K/V of 256 or 512
 * columns exceed 99 KiB (sm_86/89/120), double-buffered 512 columns exceed
 * sm_80's 163 KiB, and at 99 KiB no 32-row tile of D=512 fits at all. */
static const struct {
    int dims; /* head dims up to this one (and above the previous class) */
    int block_m, block_n, warps, stages, warp_rows; /* warp_rows 0: derived */
} default_shapes[] = {
    /* D 64/72: 32 query rows per warp, each K/V fragment feeds two m16
     * tiles and all of Q stays in registers (LDSM x4 per HMMA 0.25) */
    {80, 128, 32, 4, 2, 0}, {80, 64, 64, 4, 2, 0},
    /* D 128: 32 rows per warp with O's columns split over 2 warps (2 x 2
     * grid), so all of Q fits in registers beside the accumulators: LDSM
     * x4 per HMMA 0.28 (the 128-row shape below reloads Q every tile:
     * 0.375), fewer shared bytes per HMMA, spill-free, 57 KiB, two blocks per
     * SM on sm_80. It pays twice the K/V copies per HMMA (64-row blocks) and
     * the P exchange; docs/kernel-analysis.md has the trade, the tuner
     * sweeps both */
    {128, 64, 32, 4, 2, 32}, {128, 128, 32, 4, 2, 0}, {128, 64, 64, 4, 2, 0},
    /* 32 rows per warp, O's 256 columns split over 2 warps (4 x 2 grid):
     * each K/V fragment feeds two m16 tiles, a warp's own P slice stays in
     * registers (LDSM x4 per HMMA 0.39 instead of 0.56); 218 KiB
     * double-buffered on sm_90, 152 KiB single on sm_80 */
    {256, 128, 64, 8, 2, 32}, {256, 128, 64, 8, 1, 32},
    /* the FlashAttention-2 shape: 8 warps x 16 rows, whole rows per warp
     * (P in registers, no cross-warp reductions) */
    {256, 128, 64, 8, 2, 0}, {256, 128, 64, 8, 1, 0},
    {256, 64, 32, 8, 2, 0}, {256, 64, 32, 8, 1, 0},
    /* 512: 32 rows keep the O accumulator at 64 floats per thread */
    {512, 32, 32, 8, 2, 0}, {512, 32, 32, 8, 1, 0}, {512, 16, 32, 4, 1, 0},
};

int pf_attn_variant_default(int head_dim, const char *arch, pf_attn_variant *out)
{
    if (!pf_attn_head_dim_supported(head_dim))
        return pf_error_set("attention: unsupported head dim %d (supported: 64, 72, 128, 256, 512)",
                            head_dim);
    if (arch && !arch_known(arch))
        return -1;
    int n_arch;
    const char *fit = arch ? arch : pf_arch_table(&n_arch)[0].name; /* NULL: the oldest's */
    pf_attn_variant v;
    memset(&v, 0, sizeof v);
    v.head_dim = head_dim;
    v.mask_storage = PF_MASK_SPANS;
    v.indptr64 = 0;
    v.tile_skip = 1;
    int dims = head_dim <= 80 ? 80 : head_dim <= 128 ? 128 : head_dim;
    for (size_t i = 0; i < sizeof default_shapes / sizeof default_shapes[0]; i++) {
        if (default_shapes[i].dims != dims)
            continue;
        v.block_m = default_shapes[i].block_m;
        v.block_n = default_shapes[i].block_n;
        v.warps = default_shapes[i].warps;
        v.stages = default_shapes[i].stages;
        v.warp_rows = default_shapes[i].warp_rows;
        if (pf_attn_variant_valid(&v, fit, NULL, 0)) {
            *out = v;
            return 0;
        }
    }
    return pf_error_set("attention: no default variant of head dim %d fits %s", head_dim, fit);
}

/* Row groups of the derived grid: as many as warps allow. */
static int derived_wsm(const pf_attn_variant *v)
{
    int m_tiles = v->block_m / 16;
    int m = m_tiles < v->warps ? m_tiles : v->warps;
    return m < 1 ? 1 : m;
}

int pf_attn_variant_derived_rows(const pf_attn_variant *v)
{
    return v->block_m / derived_wsm(v);
}

/* WSM = BLOCK_M / WARP_ROWS where set (the kernel's WARP_ROWS define); at
 * least 1 x 1 even for invalid variants, which pf_attn_variant_valid
 * refuses. */
void pf_attn_variant_warp_grid(const pf_attn_variant *v, int *wsm, int *wsn)
{
    int m = v->warp_rows > 0 ? v->block_m / v->warp_rows : derived_wsm(v);
    if (m < 1)
        m = 1;
    *wsm = m;
    *wsn = v->warps / m < 1 ? 1 : v->warps / m;
}

int pf_attn_variant_threads(const pf_attn_variant *v)
{
    return 32 * v->warps;
}

/* Must match the layout at the top of kernels/attention.cu. */
size_t pf_attn_variant_smem_bytes(const pf_attn_variant *v)
{
    int wsm, wsn;
    pf_attn_variant_warp_grid(v, &wsm, &wsn);
    size_t row = (size_t)pf_attn_head_dim_pad(v->head_dim) + 8; /* bf16 elements */
    size_t q = (size_t)v->block_m * row * 2;
    /* QK_DSPLIT (the kernel's condition): partial S per D slice, rows of
     * BLOCK_N + 8 floats, over Q (the region is the larger of the two) */
    size_t spart = wsn > 1 && pf_attn_head_dim_pad(v->head_dim) >= 512
                       ? (size_t)wsn * v->block_m * ((size_t)v->block_n + 8) * 4
                       : 0;
    if (spart > q)
        q = spart;
    size_t kv = 2 * (size_t)v->stages * v->block_n * row * 2;
    /* P staging and the row reductions exist only when warps share rows */
    size_t p = wsn > 1 ? (size_t)v->block_m * ((size_t)v->block_n + 8) * 2 : 0;
    size_t red = wsn > 1 ? (size_t)wsn * v->block_m * 4 : 0;
    /* spans: each query row's allowed key interval [lo, hi]; the other
     * storages: the current tile's mask bits, one 32-bit word per row and
     * 32 keys, and, where each thread builds one word, its row's two
     * INDPTR_T offsets */
    size_t words = v->block_n < 32 ? 1 : (size_t)v->block_n / 32;
    size_t units = (size_t)v->block_m * words;
    size_t mrow = units <= (size_t)pf_attn_variant_threads(v) ? 2 * units * (v->indptr64 ? 8 : 4) : 0;
    /* two word buffers at STAGES 2 (one barrier per tile, attention.cu) */
    size_t rows = v->mask_storage == PF_MASK_SPANS ? (size_t)2 * v->block_m * 4
                                                  : units * 4 * (v->stages == 2 ? 2 : 1) + mrow;
    return q + kv + p + red + rows;
}

static int is_pow2_in(int x, int lo, int hi)
{
    return x >= lo && x <= hi && (x & (x - 1)) == 0;
}

/* WARP_ROWS, when set: whole 16-row tiles, a row-group count that divides
 * BLOCK_M and WARPS, and not the derived value (one text per kernel). */
static int warp_rows_valid(const pf_attn_variant *v, char *why, size_t why_size)
{
    int wr = v->warp_rows;
    if (wr < 16 || wr % 16 || wr > v->block_m || v->block_m % wr)
        snprintf(why, why_size, "WARP_ROWS=%d must be a multiple of 16 that divides BLOCK_M=%d",
                 wr, v->block_m);
    else if (v->warps % (v->block_m / wr))
        snprintf(why, why_size, "WARP_ROWS=%d gives %d row groups, which do not divide WARPS=%d",
                 wr, v->block_m / wr, v->warps);
    else if (wr == pf_attn_variant_derived_rows(v))
        snprintf(why, why_size, "WARP_ROWS=%d is what BLOCK_M=%d and WARPS=%d give anyway: leave "
                 "it out (0 or auto)", wr, v->block_m, v->warps);
    else
        return 1;
    return 0;
}

int pf_attn_variant_valid(const pf_attn_variant *v, const char *arch, char *why, size_t why_size)
{
    char dummy[8];
    if (!why || why_size == 0) {
        why = dummy;
        why_size = sizeof dummy;
    }
    why[0] = 0;
#define INVALID(...)                               \
    do {                                           \
        snprintf(why, why_size, __VA_ARGS__);      \
        return 0;                                  \
    } while (0)
    if (!pf_attn_head_dim_supported(v->head_dim))
        INVALID("HEAD_DIM=%d is not supported (64, 72, 128, 256, 512)", v->head_dim);
    if (!is_pow2_in(v->block_m, 16, 128))
        INVALID("BLOCK_M=%d must be 16, 32, 64 or 128", v->block_m);
    if (!is_pow2_in(v->block_n, 16, 128))
        INVALID("BLOCK_N=%d must be 16, 32, 64 or 128", v->block_n);
    if (!is_pow2_in(v->warps, 1, 8))
        INVALID("WARPS=%d must be 1, 2, 4 or 8", v->warps);
    if (v->stages != 1 && v->stages != 2)
        INVALID("STAGES=%d must be 1 (no prefetch) or 2 (double buffer)", v->stages);
    if (v->mask_storage < PF_MASK_DENSE || v->mask_storage > PF_MASK_SPANS)
        INVALID("MASK_STORAGE=%d is not a storage (dense, bitmap, window, spans)",
                v->mask_storage);
    if (v->indptr64 != 0 && v->indptr64 != 1)
        INVALID("INDPTR_T must be int32 or int64");
    if (v->tile_skip != 0 && v->tile_skip != 1)
        INVALID("TILE_SKIP=%d must be 0 or 1", v->tile_skip);
    if (v->warp_rows != 0 && !warp_rows_valid(v, why, why_size))
        return 0;

    int wsm, wsn;
    pf_attn_variant_warp_grid(v, &wsm, &wsn);
    int keys_per_warp = v->block_n / wsn;
    if (keys_per_warp < 8)
        INVALID("BLOCK_N=%d split over %d warps (BLOCK_M=%d gives %d row groups of 16 for WARPS=%d) "
                "leaves %d keys per warp; mma needs 8",
                v->block_n, wsn, v->block_m, wsm, v->warps, keys_per_warp);
    int dpad = pf_attn_head_dim_pad(v->head_dim);
    if ((dpad / wsn) % 8 != 0)
        INVALID("HEAD_DIM=%d (padded to %d) split over %d warps leaves %d output columns per warp; "
                "mma needs a multiple of 8",
                v->head_dim, dpad, wsn, dpad / wsn);
    int m_tiles_per_warp = v->block_m / 16 / wsm;
    int acc = m_tiles_per_warp * (keys_per_warp / 8 + dpad / wsn / 8) * 4;
    int acc_limit = dpad > 256 ? PF_ATTN_MAX_ACC_FLOATS_512 : PF_ATTN_MAX_ACC_FLOATS;
    if (acc > acc_limit)
        INVALID("BLOCK_M=%d, BLOCK_N=%d, WARPS=%d at HEAD_DIM=%d needs %d accumulator floats per "
                "thread (limit %d): registers would spill",
                v->block_m, v->block_n, v->warps, v->head_dim, acc, acc_limit);
    if (arch) {
        size_t limit = pf_attn_arch_smem_limit(arch);
        if (!limit)
            INVALID("%s", pf_error_get()); /* unknown arch, with the known ones */
        size_t smem = pf_attn_variant_smem_bytes(v);
        if (smem > limit)
            INVALID("shared memory %.1f KiB exceeds %s opt-in limit %zu KiB", smem / 1024.0, arch,
                    limit / 1024);
    }
#undef INVALID
    return 1;
}

static int parse_int(const char *s, int *out)
{
    char *end;
    long x = strtol(s, &end, 10);
    if (end == s || *end || x < -1000000 || x > 1000000)
        return -1;
    *out = (int)x;
    return 0;
}

static int parse_storage(const char *s, int *out)
{
    for (int i = 0; i < 4; i++)
        if (strcasecmp(s, storage_names[i]) == 0) {
            *out = i;
            return 0;
        }
    if (parse_int(s, out) == 0 && *out >= 0 && *out <= 3)
        return 0;
    return -1;
}

static int parse_indptr(const char *s, int *out)
{
    if (!strcasecmp(s, "int32") || !strcasecmp(s, "int") || !strcmp(s, "32")) {
        *out = 0;
        return 0;
    }
    if (!strcasecmp(s, "int64") || !strcasecmp(s, "long long") || !strcmp(s, "64")) {
        *out = 1;
        return 0;
    }
    return -1;
}

/* Apply one KEY=VAL. */
static int apply_key(pf_attn_variant *v, const char *key, const char *val)
{
    int x;
    if (!strcasecmp(key, "MASK_STORAGE")) {
        if (parse_storage(val, &v->mask_storage))
            return pf_error_set("variant: MASK_STORAGE='%s' (expected dense, bitmap, window, spans)",
                                val);
        return 0;
    }
    if (!strcasecmp(key, "WARP_ROWS")) {
        if (!strcasecmp(val, "auto")) {
            v->warp_rows = 0;
            return 0;
        }
        if (parse_int(val, &v->warp_rows))
            return pf_error_set("variant: WARP_ROWS='%s' (expected auto or rows per warp)", val);
        return 0;
    }
    if (!strcasecmp(key, "INDPTR_T")) {
        if (parse_indptr(val, &v->indptr64))
            return pf_error_set("variant: INDPTR_T='%s' (expected int32 or int64)", val);
        return 0;
    }
    struct {
        const char *name;
        int *field;
    } ints[] = {{"BLOCK_M", &v->block_m}, {"BLOCK_N", &v->block_n}, {"WARPS", &v->warps},
                {"STAGES", &v->stages},   {"TILE_SKIP", &v->tile_skip}, {"HEAD_DIM", &v->head_dim}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        if (strcasecmp(key, ints[i].name) == 0) {
            if (parse_int(val, &x))
                return pf_error_set("variant: %s='%s' is not an integer", ints[i].name, val);
            *ints[i].field = x;
            return 0;
        }
    }
    return pf_error_set("variant: unknown key '%s' (valid keys: %s)", key, PF_ATTN_VARIANT_KEYS);
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    size_t i = 0;
    while (s[i] && isspace((unsigned char)s[i]))
        i++;
    memmove(s, s + i, n - i + 1);
}

/* Find HEAD_DIM=... in text first so that the defaults are the right ones. */
static int find_head_dim(const char *text, int *head_dim)
{
    const char *p = text;
    while ((p = strcasestr(p, "HEAD_DIM")) != NULL) {
        int at_start = p == text || p[-1] == ',' || isspace((unsigned char)p[-1]);
        const char *q = p + 8;
        while (isspace((unsigned char)*q))
            q++;
        if (at_start && *q == '=') {
            char *end;
            long x = strtol(q + 1, &end, 10);
            if (end != q + 1 && x > 0 && x < 100000)
                *head_dim = (int)x;
            return 0;
        }
        p += 8;
    }
    return 0;
}

int pf_attn_variant_parse(const char *text, int head_dim, const char *arch, pf_attn_variant *out)
{
    if (!text)
        text = "";
    find_head_dim(text, &head_dim);
    pf_attn_variant v;
    if (pf_attn_variant_default(head_dim, arch, &v))
        return -1;
    char *copy = strdup(text);
    if (!copy)
        return pf_error_set("variant: out of memory");
    int rc = 0, shape_given = 0, rows_given = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        trim(tok);
        if (!*tok)
            continue;
        char *eq = strchr(tok, '=');
        if (!eq) {
            rc = pf_error_set("variant: '%s' is not KEY=VALUE (valid keys: %s)", tok,
                              PF_ATTN_VARIANT_KEYS);
            break;
        }
        *eq = 0;
        char *key = tok, *val = eq + 1;
        trim(key);
        trim(val);
        if (apply_key(&v, key, val)) {
            rc = -1;
            break;
        }
        shape_given |= !strcasecmp(key, "BLOCK_M") || !strcasecmp(key, "WARPS");
        rows_given |= !strcasecmp(key, "WARP_ROWS");
    }
    free(copy);
    /* the default's WARP_ROWS belongs to its shape: a text that changes
     * BLOCK_M or WARPS without naming WARP_ROWS gets the derived grid */
    if (shape_given && !rows_given)
        v.warp_rows = 0;
    if (rc == 0)
        *out = v;
    return rc;
}

int pf_attn_variant_to_string(const pf_attn_variant *v, char *buf, size_t size)
{
    const char *st = v->mask_storage >= 0 && v->mask_storage < 4 ? storage_names[v->mask_storage]
                                                                   : "?";
    char wr[24] = "";
    if (v->warp_rows)
        snprintf(wr, sizeof wr, ",WARP_ROWS=%d", v->warp_rows);
    return snprintf(buf, size,
                    "BLOCK_M=%d,BLOCK_N=%d,WARPS=%d,STAGES=%d,MASK_STORAGE=%s,INDPTR_T=%s,"
                    "TILE_SKIP=%d,HEAD_DIM=%d%s",
                    v->block_m, v->block_n, v->warps, v->stages, st,
                    v->indptr64 ? "int64" : "int32", v->tile_skip, v->head_dim, wr);
}

int pf_attn_variant_defines(const pf_attn_variant *v, pf_variant *jv)
{
    char buf[32];
    struct {
        const char *name;
        int value;
    } ints[] = {{"BLOCK_M", v->block_m},         {"BLOCK_N", v->block_n},
                {"WARPS", v->warps},             {"STAGES", v->stages},
                {"MASK_STORAGE", v->mask_storage}, {"TILE_SKIP", v->tile_skip},
                {"HEAD_DIM", v->head_dim}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        snprintf(buf, sizeof buf, "%d", ints[i].value);
        if (pf_variant_add_define(jv, ints[i].name, buf))
            return -1;
    }
    /* only when set: the derived grid's variants keep their JIT keys */
    snprintf(buf, sizeof buf, "%d", v->warp_rows);
    if (v->warp_rows && pf_variant_add_define(jv, "WARP_ROWS", buf))
        return -1;
    return pf_variant_add_define(jv, "INDPTR_T", v->indptr64 ? "long long" : "int");
}

int pf_attn_variant_equal(const pf_attn_variant *a, const pf_attn_variant *b)
{
    return a->block_m == b->block_m && a->block_n == b->block_n && a->warps == b->warps &&
           a->stages == b->stages && a->mask_storage == b->mask_storage &&
           a->indptr64 == b->indptr64 && a->tile_skip == b->tile_skip &&
           a->head_dim == b->head_dim && a->warp_rows == b->warp_rows;
}

/* Enumerated space (kept small enough that `pftune check --all` runs every
 * variant of a head dim on emu within the CI budget):
 *   HEAD_DIM <= 128: BLOCK_M {64, 128}, WARPS {BLOCK_M/32, BLOCK_M/16} but
 *     4..8 (32 or 16 query rows per warp, whole rows: WSN 1; 64 x 4, 128 x 4,
 *     128 x 8), BLOCK_N {32, 64};
 *   HEAD_DIM 256: BLOCK_M {64, 128}, WARPS {4, 8}, BLOCK_N {32, 64};
 *   HEAD_DIM 512: BLOCK_M {32, 64}, WARPS {4, 8}, BLOCK_N {32, 64} (fewer
 *     rows per block keep the large O accumulator in registers);
 *     where none of those fits the arch, BLOCK_M {16} instead;
 * all: STAGES {1, 2}, every MASK_STORAGE, INDPTR_T and TILE_SKIP value;
 * WARP_ROWS derived, and 32 after all of those where extra_warp_rows says;
 * invalid combinations (pf_attn_variant_valid) dropped. BLOCK_M/BLOCK_N 16
 * and 128 keys, 1 warp and other warp counts are legal (parse them) but left
 * out of the sweep: 16-row tiles reload K/V for too few rows, 128-key tiles
 * double the S registers, a lone warp cannot overlap loads with math.
 * enumerate_rows sweeps the given BLOCK_M values. */

/* The WARP_ROWS swept for a shape besides the derived grid, or 0: 32 rows
 * per warp with a row's keys and O's columns split over 2 warps, where the
 * derived grid gives 16 rows (each K/V fragment then feeds two m16 tiles,
 * a warp's own P slice stays in registers). Only where that pays without
 * reloading Q for too few MMAs, to keep the sweep small:
 *   HEAD_DIM above 128: Q is reloaded every key tile, so a warp needs >= 32
 *     keys (4 n8 tiles share each Q fragment): 64x64x4w and 128x64x8w;
 *   HEAD_DIM 128: all of Q stays in registers (Q_KEEP; 144 floats with the
 *     accumulators) at 64x32 with 4 warps, the smallest block (57 KiB);
 *   HEAD_DIM 64/72: none, the derived grids keep Q and reach 0.25 already. */
static int extra_warp_rows(int head_dim, int bm, int bn, int warps)
{
    pf_attn_variant v = {.block_m = bm, .block_n = bn, .warps = warps, .head_dim = head_dim};
    if (pf_attn_variant_derived_rows(&v) != 16 || bm % 32 || warps != 2 * (bm / 32))
        return 0;
    if (head_dim > 128)
        return bn / 2 >= 32 ? 32 : 0;
    return head_dim == 128 && warps == 4 && bn == 32 ? 32 : 0;
}

/* extra 0: the derived grid; 1: only the shapes extra_warp_rows sets. */
static int enumerate_rows(int head_dim, const char *arch, const int *bms, int n_bms, int extra,
                          pf_attn_variant *out, int max)
{
    static const int bns[2] = {32, 64};
    int small = head_dim <= 128;
    int n = 0;
    for (int a = 0; a < n_bms; a++)
        for (int c = 0; c < 2; c++) {
            int warps = small ? bms[a] / 32 * (c + 1) : 4 << c;
            if (warps > 8 || warps < 4)
                continue;
            for (int b = 0; b < 2; b++) {
                int wr = extra ? extra_warp_rows(head_dim, bms[a], bns[b], warps) : 0;
                if (extra && !wr)
                    continue;
                for (int stages = 1; stages <= 2; stages++)
                    for (int st = 0; st < 4; st++)
                        for (int ip = 0; ip < 2; ip++)
                            for (int ts = 0; ts < 2; ts++) {
                                pf_attn_variant v = {bms[a], bns[b], warps, stages, st, ip, ts,
                                                     head_dim, wr};
                                if (!pf_attn_variant_valid(&v, arch, NULL, 0))
                                    continue;
                                if (out && n < max)
                                    out[n] = v;
                                n++;
                            }
            }
        }
    return n;
}

/* Both passes: the derived grids first (their order predates WARP_ROWS),
 * then the WARP_ROWS shapes. */
static int enumerate_both(int head_dim, const char *arch, const int *bms, int n_bms,
                          pf_attn_variant *out, int max)
{
    int n = enumerate_rows(head_dim, arch, bms, n_bms, 0, out, max);
    int rest = max > n ? max - n : 0;
    return n + enumerate_rows(head_dim, arch, bms, n_bms, 1, out && rest ? out + n : NULL, rest);
}

int pf_attn_variant_enumerate(int head_dim, const char *arch, pf_attn_variant *out, int max)
{
    if (!pf_attn_head_dim_supported(head_dim))
        return pf_error_set("attention: unsupported head dim %d (supported: 64, 72, 128, 256, 512)",
                            head_dim);
    if (arch && !arch_known(arch))
        return -1;
    static const int small_rows[2] = {64, 128}, big_rows[2] = {32, 64}, d256_rows[2] = {64, 128},
                     narrow_rows[1] = {16};
    if (head_dim <= 128)
        return enumerate_both(head_dim, arch, small_rows, 2, out, max);
    if (head_dim == 256)
        return enumerate_both(head_dim, arch, d256_rows, 2, out, max);
    int n = enumerate_both(head_dim, arch, big_rows, 2, out, max);
    /* no 32-row tile of D=512 fits 99 KiB (sm_86/89/120): sweep 16 rows */
    return n ? n : enumerate_both(head_dim, arch, narrow_rows, 1, out, max);
}
