/* pfattn_consumer: what an engine does with an exported package, using
 * only pfattn.h.
 *   pfattn_consumer info                      kernels and bucket picks
 *   pfattn_consumer dump DIR LAYOUT RULE W [MxN,...]
 *       every metadata array of LAYOUT (t20,i64|t9;a3,v5: requests by ';',
 *       spans kind+count, '|' ends the cached prefix) in the format of
 *       `pftune masks --dump`, to compare byte for byte
 *   pfattn_consumer launch HEAD_DIM           build metadata and launch with
 *       no GPU memory: on a machine without a driver this must fail cleanly
 *       (PFATTN_ERR_CUDA); never run it where a GPU is present */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <pfattn.h>

static int put(const char *dir, const char *name, const void *data, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    return 0;
}

static void put_text(const char *dir, const char *name, const char *text)
{
    char line[600];
    snprintf(line, sizeof line, "%s\n", text);
    put(dir, name, line, strlen(line));
}

static void check(int rc, const char *what)
{
    if (rc != PFATTN_OK) {
        fprintf(stderr, "pfattn_consumer: %s: %s\n", what, pfattn_last_error());
        exit(1);
    }
}

/* The layout grammar, into lens/prefix/types. */
static pfattn_layout *parse_layout(const char *s)
{
    int64_t lens[64] = {0}, prefix[64] = {0}, *types = malloc(1 << 24);
    int n = 0;
    int64_t total = 0;
    for (const char *p = s; *p && n < 64;) {
        char kind = *p++;
        long count = strtol(p, (char **)&p, 10);
        int t = kind == 't' ? 0 : kind == 'i' ? 1 : kind == 'v' ? 2 : kind == 'a' ? 3 : -1;
        if (t < 0 || count <= 0 || total + count > (1 << 21)) {
            fprintf(stderr, "pfattn_consumer: bad layout '%s'\n", s);
            exit(2);
        }
        for (long i = 0; i < count; i++)
            types[total++] = t;
        lens[n] += count;
        if (*p == '|')
            prefix[n] = lens[n];
        if (*p == ';')
            n++;
        if (*p)
            p++;
    }
    pfattn_layout *l;
    check(pfattn_layout_create(n + 1, lens, prefix, types, &l), "layout");
    free(types);
    return l;
}

static void put_indptr(const char *dir, const char *name, const void *i64, int64_t n,
                       int (*make32)(void *ctx, void *out), void *ctx)
{
    char file[256];
    snprintf(file, sizeof file, "%s.i64", name);
    put(dir, file, i64, (size_t)n * 8);
    int32_t *a = malloc((size_t)n * 4);
    if (make32(ctx, a) == PFATTN_OK) {
        snprintf(file, sizeof file, "%s.i32", name);
        put(dir, file, a, (size_t)n * 4);
    } else {
        snprintf(file, sizeof file, "%s.i32.err", name);
        put_text(dir, file, pfattn_last_error());
    }
    free(a);
}

typedef struct mask_ctx {
    const pfattn_layout *l;
    int storage, rule, layer, window;
    unsigned char *scratch;
    int which; /* 0 qo, 1 kv (indptr), 2 mask */
} mask_ctx;

static int make32(void *p, void *out)
{
    mask_ctx *c = p;
    pfattn_layout_sizes s;
    pfattn_layout_sizes_get(c->l, &s);
    if (c->which < 2) {
        void *other = malloc((size_t)(s.batch + 1) * 4);
        int rc = pfattn_indptr(c->l, 4, c->which ? other : out, c->which ? out : other);
        free(other);
        /* the qo refusal comes first; a kv-only refusal names kv */
        return rc;
    }
    return pfattn_mask_encode(c->l, c->storage, c->rule, c->layer, c->window, 4, c->scratch, out);
}

static void dump(const char *dir, const char *layout, const char *rule_name, int window,
                 const char *tile_list)
{
    pfattn_layout *l = parse_layout(layout);
    pfattn_layout_sizes s;
    int rule;
    check(pfattn_rule_parse(rule_name, &rule), "rule");
    check(pfattn_layout_sizes_get(l, &s), "sizes");
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        exit(1);
    size_t ni = (size_t)s.batch + 1;
    int64_t *qo = malloc(ni * 8), *kv = malloc(ni * 8);
    check(pfattn_indptr(l, 8, qo, kv), "indptr");
    mask_ctx c = {.l = l, .which = 0};
    put_indptr(dir, "qo_indptr", qo, (int64_t)ni, make32, &c);
    c.which = 1;
    put_indptr(dir, "kv_indptr", kv, (int64_t)ni, make32, &c);
    int32_t *g = malloc((size_t)s.total_kv * 4 + 4);
    check(pfattn_group_ids(l, g), "group ids");
    put(dir, "group_ids.i32", g, (size_t)s.total_kv * 4);
    int tiles[8][2], n_tiles = 0;
    char tl[256];
    snprintf(tl, sizeof tl, "%s", tile_list);
    for (char *t = strtok(tl, ","); t && n_tiles < 8; t = strtok(NULL, ","))
        if (sscanf(t, "%dx%d", &tiles[n_tiles][0], &tiles[n_tiles][1]) == 2)
            n_tiles++;
    for (int layer = 0; layer < 2; layer++) {
        if (rule == PFATTN_RULE_BIDIRECTIONAL && layer == PFATTN_LAYER_SLIDING)
            break;
        const char *ln = pfattn_layer_name(layer);
        char file[256], text[128];
        pfattn_band b;
        check(pfattn_mask_band(l, rule, layer, window, &b), "band");
        snprintf(text, sizeof text, "%d %d %d %d", b.left, b.right, b.stride, b.past);
        snprintf(file, sizeof file, "%s.band", ln);
        put_text(dir, file, text);
        for (int st = PFATTN_MASK_DENSE; st <= PFATTN_MASK_WINDOW; st++) {
            int64_t bytes;
            check(pfattn_mask_size(l, st, rule, layer, window, &bytes), "mask size");
            unsigned char *m = malloc((size_t)bytes + 1), *m32 = malloc((size_t)bytes + 1);
            int64_t *ind = malloc(ni * 8);
            check(pfattn_mask_encode(l, st, rule, layer, window, 8, m, ind), "mask");
            snprintf(file, sizeof file, "%s.%s.mask", ln, pfattn_storage_name(st));
            put(dir, file, m, (size_t)bytes);
            mask_ctx mc = {l, st, rule, layer, window, m32, 2};
            snprintf(file, sizeof file, "%s.%s.indptr", ln, pfattn_storage_name(st));
            put_indptr(dir, file, ind, (int64_t)ni, make32, &mc);
            free(m);
            free(m32);
            free(ind);
        }
        for (int t = 0; t < n_tiles; t++) {
            int64_t bytes;
            check(pfattn_tile_size(l, tiles[t][0], tiles[t][1], &bytes), "tile size");
            unsigned char *cls = malloc((size_t)bytes + 1);
            int64_t *ind = malloc(ni * 8);
            check(pfattn_tile_classes(l, rule, layer, window, tiles[t][0], tiles[t][1], 8, cls,
                                      ind), "tiles");
            snprintf(file, sizeof file, "%s.tiles.%dx%d.cls", ln, tiles[t][0], tiles[t][1]);
            put(dir, file, cls, (size_t)bytes);
            snprintf(file, sizeof file, "%s.tiles.%dx%d.indptr.i64", ln, tiles[t][0], tiles[t][1]);
            put(dir, file, ind, ni * 8);
            free(cls);
            free(ind);
            for (int st = PFATTN_MASK_DENSE; st <= PFATTN_MASK_SPANS; st++) {
                int rc = pfattn_int32_check(l, st, rule, layer, window, tiles[t][0], tiles[t][1]);
                snprintf(file, sizeof file, "%s.int32.%s.%dx%d", ln, pfattn_storage_name(st),
                         tiles[t][0], tiles[t][1]);
                put_text(dir, file, rc == PFATTN_OK ? "ok" : pfattn_last_error());
            }
        }
    }
    free(qo);
    free(kv);
    free(g);
    pfattn_layout_free(l);
}

static void info(void)
{
    for (int i = 0; i < pfattn_kernel_count(); i++) {
        const pfattn_kernel *k = pfattn_kernel_get(i);
        printf("kernel %d %s D=%d %dx%d warps %d stages %d %s int%d skip %d threads %d smem %d\n",
               i, k->name, k->head_dim, k->block_m, k->block_n, k->warps, k->stages,
               pfattn_storage_name(k->mask_storage), k->indptr_bytes * 8, k->tile_skip,
               k->threads, k->smem_bytes);
    }
}

/* Metadata for a small layout, then a launch with made-up device pointers:
 * without a driver it must stop at loading libcuda with a clear message. */
static int launch(int head_dim)
{
    pfattn_layout *l = parse_layout("t20,i16,t9;t7|i5,t3");
    pfattn_metadata md;
    check(pfattn_metadata_build(l, head_dim, PFATTN_RULE_GEMMA3, PFATTN_LAYER_FULL, 0, 0, &md),
          "metadata");
    pfattn_launch_args a;
    pfattn_launch_args_init(&a, &md);
    static char fake[64];
    a.q = a.k = a.v = a.qo_indptr = a.kv_indptr = a.mask_indptr = a.tile_indptr = fake;
    a.o = fake;
    a.work_request = a.work_qtile = a.group_ids = (const int32_t *)fake;
    a.mask = a.tile_class = (const unsigned char *)fake;
    a.num_qo_heads = 2;
    a.num_kv_heads = 1;
    a.head_dim = head_dim;
    a.scale = 0.125f;
    int rc = pfattn_launch(&a);
    printf("launch: rc %d: %s\n", rc, rc ? pfattn_last_error() : "ok");
    pfattn_metadata_free(&md);
    pfattn_layout_free(l);
    return rc == PFATTN_ERR_CUDA ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "info") == 0) {
        info();
        return 0;
    }
    if (argc >= 6 && strcmp(argv[1], "dump") == 0) {
        dump(argv[2], argv[3], argv[4], atoi(argv[5]),
             argc > 6 ? argv[6] : "64x64,64x32,128x64,16x32");
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "launch") == 0)
        return launch(atoi(argv[2]));
    fprintf(stderr, "usage: pfattn_consumer info | dump DIR LAYOUT RULE W [MxN,...] | launch D\n");
    return 2;
}
