/* pfattn_consumer: what an engine does with an exported package, using
 * only pfattn.h.
 *   pfattn_consumer info                      kernels and bucket picks
 *   pfattn_consumer dump DIR LAYOUT RULE W [MxN,...]
 *       every metadata array of LAYOUT (t20,i64|t9;a3,v5: requests by ';',
 *       spans kind+count, '|' ends the cached prefix) in the format of
 *       `pftune masks --dump`, to compare byte for byte
 *   pfattn_consumer launch HEAD_DIM           build metadata and launch with
 *       no GPU memory: on a machine without a driver this must fail cleanly
 *       (PFATTN_ERR_CUDA); never run it where a GPU is present
 *   pfattn_consumer gpu [SEED]                on a GPU: every exported kernel
 *       (each layer kind, rule and bucket that selects it) on random bf16
 *       q/k/v in device memory of its own (the driver through dlopen, as
 *       the runtime does), output NaN-poisoned first, compared with a double
 *       reference on the host whose mask is the package's dense builder;
 *       exit 1 on any failure (the GPU bundle's `export` step runs it) */
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
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


/* ---- gpu: the exported kernels on a real device, against a host reference */
static struct {
    int (*init)(unsigned);
    int (*device_get)(int *, int);
    int (*primary_retain)(void **, int);
    int (*ctx_set)(void *);
    int (*alloc)(unsigned long long *, size_t);
    int (*free_)(unsigned long long);
    int (*htod)(unsigned long long, const void *, size_t);
    int (*dtoh)(void *, unsigned long long, size_t);
    int (*sync)(void);
    int (*err)(int, const char **);
} cu;

static void cu_check(int r, const char *what)
{
    if (r != 0) {
        const char *s = NULL;
        if (cu.err)
            cu.err(r, &s);
        fprintf(stderr, "pfattn_consumer: %s: %s (CUresult %d)\n", what, s ? s : "?", r);
        exit(1);
    }
}

static void cu_load(void)
{
    void *h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "pfattn_consumer: cannot load libcuda.so.1: %s\n", dlerror());
        exit(1);
    }
    struct { void **slot; const char *name; } syms[] = {
        {(void **)&cu.init, "cuInit"}, {(void **)&cu.device_get, "cuDeviceGet"},
        {(void **)&cu.primary_retain, "cuDevicePrimaryCtxRetain"},
        {(void **)&cu.ctx_set, "cuCtxSetCurrent"}, {(void **)&cu.alloc, "cuMemAlloc_v2"},
        {(void **)&cu.free_, "cuMemFree_v2"}, {(void **)&cu.htod, "cuMemcpyHtoD_v2"},
        {(void **)&cu.dtoh, "cuMemcpyDtoH_v2"}, {(void **)&cu.sync, "cuCtxSynchronize"},
        {(void **)&cu.err, "cuGetErrorString"},
    };
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++)
        if (!(*syms[i].slot = dlsym(h, syms[i].name))) {
            fprintf(stderr, "pfattn_consumer: libcuda.so.1 has no %s\n", syms[i].name);
            exit(1);
        }
    int dev;
    void *ctx;
    cu_check(cu.init(0), "cuInit");
    cu_check(cu.device_get(&dev, 0), "cuDeviceGet");
    cu_check(cu.primary_retain(&ctx, dev), "cuDevicePrimaryCtxRetain");
    cu_check(cu.ctx_set(ctx), "cuCtxSetCurrent");
}

/* A device copy of n host bytes (NULL stays NULL); freed by dev_free_all. */
static unsigned long long dev_ptrs[32];
static int n_dev_ptrs;
static void *dev_copy(const void *host, size_t n)
{
    if (!host)
        return NULL;
    unsigned long long d;
    cu_check(cu.alloc(&d, n ? n : 1), "cuMemAlloc");
    if (n)
        cu_check(cu.htod(d, host, n), "cuMemcpyHtoD");
    dev_ptrs[n_dev_ptrs++] = d;
    return (void *)(uintptr_t)d;
}
static void dev_free_all(void)
{
    while (n_dev_ptrs)
        cu.free_(dev_ptrs[--n_dev_ptrs]);
}

static uint16_t to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return 0x7fc0;
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
}
static double from_bf16(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static uint64_t rng_state;
static double uniform(void) /* [-1, 1) */
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng_state >> 11) / 9007199254740992.0 * 2 - 1;
}

/* One launch of the kernel that (layer, rule, seq) selects; 0 when it passes. */
static int gpu_case(const char *layout, int head_dim, int rule, int layer, int64_t seq,
                    double *err_out)
{
    const int hq = 4, hkv = 2, window = layer == PFATTN_LAYER_SLIDING ? 37 : 0;
    pfattn_layout *l = parse_layout(layout);
    pfattn_layout_sizes s;
    pfattn_metadata md;
    check(pfattn_layout_sizes_get(l, &s), "sizes");
    check(pfattn_metadata_build(l, head_dim, rule, layer, window, seq, &md), "metadata");
    size_t nq = (size_t)s.total_q * hq * head_dim, nkv = (size_t)s.total_kv * hkv * head_dim;
    uint16_t *q = malloc(nq * 2), *k = malloc(nkv * 2), *v = malloc(nkv * 2), *o = malloc(nq * 2);
    for (size_t i = 0; i < nq; i++)
        q[i] = to_bf16((float)uniform()), o[i] = 0x7fc0; /* NaN: every element must be written */
    for (size_t i = 0; i < nkv; i++)
        k[i] = to_bf16((float)uniform()), v[i] = to_bf16((float)uniform());
    size_t ib = (size_t)md.indptr_bytes, ni = (size_t)md.batch + 1;
    pfattn_launch_args a;
    pfattn_launch_args_init(&a, &md);
    a.q = dev_copy(q, nq * 2);
    a.k = dev_copy(k, nkv * 2);
    a.v = dev_copy(v, nkv * 2);
    void *o_dev = dev_copy(o, nq * 2);
    a.o = o_dev;
    a.qo_indptr = dev_copy(md.qo_indptr, ni * ib);
    a.kv_indptr = dev_copy(md.kv_indptr, ni * ib);
    a.work_request = dev_copy(md.work_request, (size_t)md.num_work * 4);
    a.work_qtile = dev_copy(md.work_qtile, (size_t)md.num_work * 4);
    a.mask = dev_copy(md.mask, (size_t)md.mask_bytes);
    a.mask_indptr = dev_copy(md.mask_indptr, ni * ib);
    a.group_ids = dev_copy(md.group_ids, (size_t)s.total_kv * 4);
    a.tile_class = dev_copy(md.tile_class, (size_t)md.tile_bytes);
    a.tile_indptr = dev_copy(md.tile_indptr, ni * ib);
    a.num_qo_heads = hq;
    a.num_kv_heads = hkv;
    a.head_dim = head_dim;
    a.scale = (float)(1.0 / sqrt((double)head_dim));
    check(pfattn_launch(&a), "launch");
    cu_check(cu.sync(), "cuCtxSynchronize (after the launch)");
    cu_check(cu.dtoh(o, (unsigned long long)(uintptr_t)o_dev, nq * 2), "cuMemcpyDtoH");
    dev_free_all();

    /* the reference: dense mask from the package, double softmax */
    int64_t mbytes, *mind = malloc(ni * 8), *qo = malloc(ni * 8), *kv = malloc(ni * 8);
    check(pfattn_mask_size(l, PFATTN_MASK_DENSE, rule, layer, window, &mbytes), "mask size");
    unsigned char *mask = malloc((size_t)mbytes + 1);
    check(pfattn_mask_encode(l, PFATTN_MASK_DENSE, rule, layer, window, 8, mask, mind), "mask");
    check(pfattn_indptr(l, 8, qo, kv), "indptr");
    double num = 0, den = 0;
    int nan = 0;
    double *p = malloc((size_t)s.max_kv_len * sizeof *p);
    for (int64_t r = 0; r < s.batch; r++) {
        int64_t q0 = qo[r], nqr = qo[r + 1] - q0, k0 = kv[r], nkr = kv[r + 1] - k0;
        for (int64_t i = 0; i < nqr; i++)
            for (int h = 0; h < hq; h++) {
                const uint16_t *qi = q + ((size_t)(q0 + i) * hq + h) * head_dim;
                int hk = h / (hq / hkv);
                double mx = -INFINITY, sum = 0;
                for (int64_t j = 0; j < nkr; j++) {
                    p[j] = -INFINITY;
                    if (!mask[mind[r] + i * nkr + j])
                        continue;
                    const uint16_t *kj = k + ((size_t)(k0 + j) * hkv + hk) * head_dim;
                    double d = 0;
                    for (int c = 0; c < head_dim; c++)
                        d += from_bf16(qi[c]) * from_bf16(kj[c]);
                    p[j] = d * a.scale;
                    mx = p[j] > mx ? p[j] : mx;
                }
                for (int64_t j = 0; j < nkr; j++)
                    sum += p[j] == -INFINITY ? (p[j] = 0) : (p[j] = exp(p[j] - mx));
                const uint16_t *oi = o + ((size_t)(q0 + i) * hq + h) * head_dim;
                for (int c = 0; c < head_dim; c++) {
                    double ref = 0;
                    for (int64_t j = 0; j < nkr; j++)
                        if (p[j] != 0)
                            ref += p[j] * from_bf16(v[((size_t)(k0 + j) * hkv + hk) * head_dim + c]);
                    ref = sum > 0 ? ref / sum : 0;
                    double got = from_bf16(oi[c]);
                    nan += got != got;
                    num += (got - ref) * (got - ref);
                    den += ref * ref;
                }
            }
    }
    double err = sqrt(num / (den > 1e-30 ? den : 1e-30));
    *err_out = nan ? NAN : err;
    free(p), free(mask), free(mind), free(qo), free(kv);
    free(q), free(k), free(v), free(o);
    pfattn_metadata_free(&md);
    pfattn_layout_free(l);
    return nan || !(err < 1e-2);
}

static int gpu(uint64_t seed)
{
    static const char *const layouts[] = {"t70,i40,t30;t9,i17,t5", "i64,t3,i33,i31,t130"};
    static const int64_t seqs[] = {1, 8192, 32768, 131072, (int64_t)1 << 22};
    const int rules[] = {PFATTN_RULE_CAUSAL, PFATTN_RULE_GEMMA3, PFATTN_RULE_GEMMA4};
    rng_state = seed;
    cu_load();
    int n = 0, failed = 0, dims[16], n_dims = 0;
    for (int i = 0; i < pfattn_kernel_count(); i++) {
        int hd = pfattn_kernel_get(i)->head_dim, seen = 0;
        for (int j = 0; j < n_dims; j++)
            seen |= dims[j] == hd;
        if (!seen && n_dims < 16)
            dims[n_dims++] = hd;
    }
    for (int d = 0; d < n_dims; d++)
        for (int layer = 0; layer < 2; layer++)
            for (size_t ri = 0; ri < sizeof rules / sizeof rules[0]; ri++) {
                int done[64] = {0};
                for (size_t si = 0; si < sizeof seqs / sizeof seqs[0]; si++) {
                    int kern;
                    int64_t bucket;
                    if (pfattn_select(dims[d], layer, rules[ri], seqs[si], &kern, &bucket) != PFATTN_OK)
                        break; /* nothing exported for this (layer, rule) */
                    if (kern < 64 && done[kern])
                        continue;
                    if (kern < 64)
                        done[kern] = 1;
                    for (size_t li = 0; li < sizeof layouts / sizeof layouts[0]; li++) {
                        double err;
                        int bad = gpu_case(layouts[li], dims[d], rules[ri], layer, seqs[si], &err);
                        n++;
                        failed += bad;
                        printf("%s D=%d %s %s bucket %lld kernel %s layout %s: rel err %.2e\n",
                               bad ? "FAIL" : "ok  ", dims[d], pfattn_layer_name(layer),
                               pfattn_rule_name(rules[ri]), (long long)bucket,
                               pfattn_kernel_get(kern)->name, layouts[li], err);
                    }
                }
            }
    printf("consumer gpu: %d of %d cases passed\n", n - failed, n);
    return failed || n == 0;
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
    if ((argc == 2 || argc == 3) && strcmp(argv[1], "gpu") == 0)
        return gpu(argc == 3 ? strtoull(argv[2], NULL, 10) : 1);
    fprintf(stderr, "usage: pfattn_consumer info | dump DIR LAYOUT RULE W [MxN,...] | launch D"
                    " | gpu [SEED]\n");
    return 2;
}
