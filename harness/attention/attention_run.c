/* Host launcher of kernels/attention.cu (see attention_run.h). */
#include "attention/attention_run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/attention_params.h"
#include "attention/mask_device.h"
#include "attention/mask_encode.h"
#include "core/pf_error.h"
#include "device/arch.h"
#include "jit/jit_load.h"
#include "kernels/pf_numeric.h"
#include "attention/tile_class.h"

struct pf_attn_prepared {
    pf_device *dev;
    pf_module *module;
    pf_attn_params params;
    pf_attn_run_info info;
    /* device buffers (0 = none) */
    pf_dptr d_q, d_k, d_v, d_o, d_lse, d_qo, d_kv, d_work_req, d_work_qt;
    pf_dptr d_mask, d_mask_indptr, d_groups, d_tiles, d_tile_indptr;
    size_t o_bytes, lse_bytes;
    int64_t total_q;
    int hq, head_dim;
    int encode_on_device;
};

int pf_attn_problem_check(const pf_attn_problem *pb)
{
    if (!pb || !pb->layout)
        return pf_error_set("attention: no layout");
    if (pb->layout->n_req <= 0 || pb->layout->total_q <= 0)
        return pf_error_set("attention: empty layout");
    if (pb->hq <= 0 || pb->hkv <= 0)
        return pf_error_set("attention: head counts must be positive (got %d:%d)", pb->hq, pb->hkv);
    if (pb->hq % pb->hkv)
        return pf_error_set("attention: Hq=%d is not a multiple of Hkv=%d", pb->hq, pb->hkv);
    if (!pf_attn_head_dim_supported(pb->head_dim))
        return pf_error_set("attention: unsupported head dim %d (supported: 64, 72, 128, 256, 512)",
                            pb->head_dim);
    if (!(pb->scale > 0.0f) || !isfinite(pb->scale))
        return pf_error_set("attention: softmax scale must be positive and finite (got %g)",
                            (double)pb->scale);
    for (int r = 0; r < pb->layout->n_req; r++)
        if (pb->layout->req[r].kv_len > 0x7fffffff)
            return pf_error_set("attention: request %d has %lld tokens; the kernel indexes "
                                "positions with int (max 2147483647)",
                                r, (long long)pb->layout->req[r].kv_len);
    if (pf_mask_spec_check(&pb->mask))
        return pf_error_prefix("attention");
    return 0;
}

static int dev_upload(pf_device *dev, const void *src, size_t bytes, const char *label, pf_dptr *out)
{
    *out = 0;
    if (bytes == 0)
        return 0;
    if (pf_dev_alloc(dev, bytes, label, out))
        return -1;
    if (src && pf_dev_copy_htod(dev, *out, src, bytes, NULL))
        return -1;
    return 0;
}

/* floats -> bf16 (RNE) into a new host buffer. */
static pf_bf16 *to_bf16(const float *x, size_t n)
{
    pf_bf16 *h = (pf_bf16 *)malloc(n ? n * sizeof *h : 1);
    if (!h)
        return NULL;
    for (size_t i = 0; i < n; i++)
        h[i] = pf_f32_to_bf16(x[i]);
    return h;
}

/* Seeded pseudo-random bf16 in [-1, 1) (splitmix64). */
static pf_bf16 *random_bf16(size_t n, uint64_t seed)
{
    pf_bf16 *h = (pf_bf16 *)malloc(n ? n * sizeof *h : 1);
    if (!h)
        return NULL;
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        uint64_t z = (s += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        h[i] = pf_f32_to_bf16((float)((double)(z >> 11) / 9007199254740992.0 * 2.0 - 1.0));
    }
    return h;
}

static int upload_tensor(pf_device *dev, const float *x, size_t n, uint64_t seed,
                         const char *label, pf_dptr *out)
{
    pf_bf16 *h = x ? to_bf16(x, n) : random_bf16(n, seed);
    if (!h)
        return pf_error_set("attention: out of memory for %s (%zu elements)", label, n);
    int rc = dev_upload(dev, h, n * sizeof *h, label, out);
    free(h);
    return rc;
}

/* One work item per (request, q tile), the longest-running (last) q tiles
 * of each request first so that the tail of the grid is short. */
static int build_work(const pf_layout *L, int block_m, int **req_out, int **qt_out, int *n_out)
{
    int64_t n = 0;
    for (int r = 0; r < L->n_req; r++)
        n += (L->req[r].q_len + block_m - 1) / block_m;
    if (n > 0x7fffffff)
        return pf_error_set("attention: %lld work items exceed the grid limit", (long long)n);
    int *wr = (int *)malloc((size_t)n * sizeof *wr), *wq = (int *)malloc((size_t)n * sizeof *wq);
    if (!wr || !wq) {
        free(wr);
        free(wq);
        return pf_error_set("attention: out of memory for the work list");
    }
    int64_t i = 0;
    for (int r = 0; r < L->n_req; r++) {
        int nt = (int)((L->req[r].q_len + block_m - 1) / block_m);
        for (int t = nt - 1; t >= 0; t--) {
            wr[i] = r;
            wq[i] = t;
            i++;
        }
    }
    *req_out = wr;
    *qt_out = wq;
    *n_out = (int)n;
    return 0;
}

static int compile_variant(pf_device *dev, const pf_attn_variant *v, pf_attn_prepared *ap)
{
    pf_variant jv;
    memset(&jv, 0, sizeof jv);
    snprintf(jv.source, sizeof jv.source, "%s/attention.cu", pf_kernel_dir());
    if (pf_attn_variant_defines(v, &jv))
        return -1;
    char vs[256], what[300];
    pf_attn_variant_to_string(v, vs, sizeof vs);
    snprintf(what, sizeof what, "attention: variant %s", vs);
    pf_jit_loaded jl;
    if (pf_jit_load(dev, &jv, what, &ap->module, &jl))
        return -1;
    snprintf(ap->info.target, sizeof ap->info.target, "%s", jl.target);
    ap->info.from_cache = jl.from_cache;
    ap->info.compile_ms = jl.compile_ms;
    ap->info.res = jl.res;
    return 0;
}

/* The mask built on the device from the qo/kv indptr already there. */
static int build_mask_on_device(pf_attn_prepared *ap, const pf_attn_problem *pb,
                                const pf_attn_variant *v)
{
    pf_attn_params *P = &ap->params;
    pf_mask_device_opts o;
    pf_mask_device_opts_init(&o);
    o.qo_indptr = ap->d_qo;
    o.kv_indptr = ap->d_kv;
    pf_mask_dev dm;
    if (pf_mask_encode_device(ap->dev, pb->layout, v->mask_storage, &pb->mask,
                              v->indptr64 ? 8 : 4, &o, &dm))
        return pf_error_prefix("attention");
    ap->d_mask = dm.mask; /* freed by pf_attn_release */
    ap->d_mask_indptr = dm.indptr;
    P->use_causal = dm.use_causal;
    P->use_same = dm.use_same;
    P->window = dm.window;
    P->band_left = dm.band.left;
    P->band_right = dm.band.right;
    P->band_stride = dm.band.stride;
    P->band_past = dm.band.past;
    ap->info.mask_on_device = 1;
    return 0;
}

/* The mask (or group ids) encoded on the host and uploaded. */
static int upload_mask_host(pf_attn_prepared *ap, const pf_attn_problem *pb,
                            const pf_attn_variant *v)
{
    pf_device *dev = ap->dev;
    pf_attn_params *P = &ap->params;
    int ib = v->indptr64 ? 8 : 4;
    pf_mask_enc enc;
    memset(&enc, 0, sizeof enc);
    if (pf_mask_encode(pb->layout, v->mask_storage, &pb->mask, ib, &enc))
        return pf_error_prefix("attention");
    int rc = 0;
    if (enc.mask && enc.mask_bytes)
        rc |= dev_upload(dev, enc.mask, enc.mask_bytes, "attention mask", &ap->d_mask);
    if (!rc && enc.indptr)
        rc |= dev_upload(dev, enc.indptr, (size_t)(pb->layout->n_req + 1) * ib,
                         "attention mask indptr", &ap->d_mask_indptr);
    if (!rc && enc.group_ids && enc.group_ids_count)
        rc |= dev_upload(dev, enc.group_ids, enc.group_ids_count * sizeof(int32_t),
                         "attention group ids", &ap->d_groups);
    P->use_causal = enc.use_causal;
    P->use_same = enc.use_same;
    P->window = enc.window;
    P->band_left = enc.band.left;
    P->band_right = enc.band.right;
    P->band_stride = enc.band.stride;
    P->band_past = enc.band.past;
    pf_mask_enc_free(&enc);
    return rc ? -1 : 0;
}

/* Mask, group ids and tile classes for the variant, on the device. */
static int upload_mask(pf_attn_prepared *ap, const pf_attn_problem *pb, const pf_attn_variant *v)
{
    pf_device *dev = ap->dev;
    int ib = v->indptr64 ? 8 : 4;
    int rc = ap->encode_on_device && v->mask_storage != PF_MASK_SPANS
                 ? build_mask_on_device(ap, pb, v)
                 : upload_mask_host(ap, pb, v);
    if (rc)
        return -1;
    int64_t mb = pf_mask_bytes(pb->layout, v->mask_storage, pb->mask.rule, pb->mask.layer,
                               pb->mask.window, ib);
    ap->info.mask_bytes = mb < 0 ? 0 : mb;

    if (!v->tile_skip)
        return 0;
    pf_tile_map map;
    memset(&map, 0, sizeof map);
    if (pf_tile_classify(pb->layout, &pb->mask, v->block_m, v->block_n, &map))
        return pf_error_prefix("attention: tile classes");
    void *tind = NULL;
    rc = pf_indptr_encode(map.indptr, pb->layout->n_req, ib, "tile classes", &tind);
    if (!rc && map.n_tiles)
        rc = dev_upload(dev, map.cls, map.n_tiles, "attention tile classes", &ap->d_tiles);
    if (!rc)
        rc = dev_upload(dev, tind, (size_t)(pb->layout->n_req + 1) * ib, "attention tile indptr",
                        &ap->d_tile_indptr);
    ap->info.tile_class_bytes = (int64_t)map.n_tiles + (int64_t)(pb->layout->n_req + 1) * ib;
    ap->info.tiles_empty = map.n_empty;
    ap->info.tiles_full = map.n_full;
    ap->info.tiles_partial = map.n_partial;
    free(tind);
    pf_tile_map_free(&map);
    return rc ? pf_error_prefix("attention") : 0;
}

int pf_attn_prepare(pf_device *dev, const char *arch, const pf_attn_problem *pb,
                    const pf_attn_variant *v, const float *q, const float *k, const float *v_in,
                    uint64_t seed, int want_lse, pf_attn_prepared **out, pf_attn_run_info *info)
{
    return pf_attn_prepare_opts(dev, arch, pb, v, NULL, q, k, v_in, seed, want_lse, out, info);
}

int pf_attn_prepare_opts(pf_device *dev, const char *arch, const pf_attn_problem *pb,
                         const pf_attn_variant *v, const pf_attn_opts *opts, const float *q,
                         const float *k, const float *v_in, uint64_t seed, int want_lse,
                         pf_attn_prepared **out, pf_attn_run_info *info)
{
    *out = NULL;
    if (pf_attn_problem_check(pb))
        return -1;
    if (v->head_dim != pb->head_dim)
        return pf_error_set("attention: variant HEAD_DIM=%d does not match the problem's head dim %d",
                            v->head_dim, pb->head_dim);
    if ((q == NULL) != (k == NULL) || (q == NULL) != (v_in == NULL))
        return pf_error_set("attention: give all of q, k, v or none (random inputs)");
    int external = opts && opts->external_tensors;
    if (external && q)
        return pf_error_set("attention: external tensors are bound later; pass q/k/v NULL");
    pf_device_props pr;
    memset(&pr, 0, sizeof pr);
    if (pf_dev_props(dev, &pr))
        return -1;
    char arch_buf[16];
    if (!arch) {
        if (pf_device_arch(dev, arch_buf, sizeof arch_buf))
            return pf_error_prefix("attention");
        arch = arch_buf;
    }
    char why[256];
    if (!pf_attn_variant_valid(v, arch, why, sizeof why))
        return pf_error_set("attention: invalid variant: %s", why);
    size_t smem = pf_attn_variant_smem_bytes(v);
    if (pr.smem_per_block_optin && smem > pr.smem_per_block_optin)
        return pf_error_set("attention: invalid variant: shared memory %.1f KiB exceeds the "
                            "device's opt-in limit %.1f KiB",
                            smem / 1024.0, pr.smem_per_block_optin / 1024.0);

    pf_attn_prepared *ap = (pf_attn_prepared *)calloc(1, sizeof *ap);
    if (!ap)
        return pf_error_set("attention: out of memory");
    ap->dev = dev;
    ap->encode_on_device = opts && opts->encode_on_device;
    snprintf(ap->info.arch, sizeof ap->info.arch, "%s", arch);
    const pf_layout *L = pb->layout;
    ap->total_q = L->total_q;
    ap->hq = pb->hq;
    ap->head_dim = pb->head_dim;
    int ib = v->indptr64 ? 8 : 4;
    int *wr = NULL, *wq = NULL, nw = 0;
    void *qo = NULL, *kv = NULL;
    size_t nq = (size_t)L->total_q * pb->hq * pb->head_dim;
    size_t nkv = (size_t)L->total_kv * pb->hkv * pb->head_dim;
    int rc = compile_variant(dev, v, ap);
    if (!rc && pf_layout_indptr_encode(L, ib, &qo, &kv))
        rc = pf_error_prefix("attention");
    if (!rc)
        rc = build_work(L, v->block_m, &wr, &wq, &nw);
    if (!rc && !external)
        rc = upload_tensor(dev, q, nq, seed, "attention q", &ap->d_q);
    if (!rc && !external)
        rc = upload_tensor(dev, k, nkv, seed + 1, "attention k", &ap->d_k);
    if (!rc && !external)
        rc = upload_tensor(dev, v_in, nkv, seed + 2, "attention v", &ap->d_v);
    ap->o_bytes = nq * PF_ATTN_ELEM_BYTES;
    if (!rc && !external)
        rc = dev_upload(dev, NULL, ap->o_bytes, "attention o", &ap->d_o);
    if (!rc && want_lse) {
        ap->lse_bytes = (size_t)L->total_q * pb->hq * sizeof(float);
        rc = dev_upload(dev, NULL, ap->lse_bytes, "attention lse", &ap->d_lse);
    }
    if (!rc)
        rc = dev_upload(dev, qo, (size_t)(L->n_req + 1) * ib, "attention qo indptr", &ap->d_qo);
    if (!rc)
        rc = dev_upload(dev, kv, (size_t)(L->n_req + 1) * ib, "attention kv indptr", &ap->d_kv);
    if (!rc)
        rc = dev_upload(dev, wr, (size_t)nw * sizeof(int), "attention work requests", &ap->d_work_req);
    if (!rc)
        rc = dev_upload(dev, wq, (size_t)nw * sizeof(int), "attention work q tiles", &ap->d_work_qt);
    free(qo);
    free(kv);
    free(wr);
    free(wq);
    if (!rc)
        rc = upload_mask(ap, pb, v);
    if (!rc)
        rc = pf_attn_poison(ap);
    if (rc) {
        pf_attn_release(ap);
        return -1;
    }

    pf_attn_params *P = &ap->params;
    P->q = (const void *)(uintptr_t)ap->d_q;
    P->k = (const void *)(uintptr_t)ap->d_k;
    P->v = (const void *)(uintptr_t)ap->d_v;
    P->o = (void *)(uintptr_t)ap->d_o;
    P->lse = (float *)(uintptr_t)ap->d_lse;
    P->qo_indptr = (const void *)(uintptr_t)ap->d_qo;
    P->kv_indptr = (const void *)(uintptr_t)ap->d_kv;
    P->work_request = (const int *)(uintptr_t)ap->d_work_req;
    P->work_qtile = (const int *)(uintptr_t)ap->d_work_qt;
    P->num_work = nw;
    P->batch = L->n_req;
    P->num_qo_heads = pb->hq;
    P->num_kv_heads = pb->hkv;
    P->sm_scale_log2 = (float)(pb->scale * 1.4426950408889634);
    P->mask = (const unsigned char *)(uintptr_t)ap->d_mask;
    P->mask_indptr = (const void *)(uintptr_t)ap->d_mask_indptr;
    P->group_ids = (const int *)(uintptr_t)ap->d_groups;
    P->tile_class = (const unsigned char *)(uintptr_t)ap->d_tiles;
    P->tile_indptr = (const void *)(uintptr_t)ap->d_tile_indptr;

    ap->info.num_work = nw;
    ap->info.grid = (pf_dim3){(unsigned)nw, (unsigned)pb->hq, 1};
    ap->info.block = (pf_dim3){(unsigned)pf_attn_variant_threads(v), 1, 1};
    ap->info.smem = smem;
    if (info)
        *info = ap->info;
    *out = ap;
    return 0;
}

void pf_attn_bind(pf_attn_prepared *ap, pf_dptr q, pf_dptr k, pf_dptr v, pf_dptr o)
{
    pf_attn_params *P = &ap->params;
    P->q = (const void *)(uintptr_t)q;
    P->k = (const void *)(uintptr_t)k;
    P->v = (const void *)(uintptr_t)v;
    P->o = (void *)(uintptr_t)o;
}

int pf_attn_poison(pf_attn_prepared *ap)
{
    if (ap->d_o && pf_dev_memset8(ap->dev, ap->d_o, 0xff, ap->o_bytes, NULL))
        return -1;
    if (ap->d_lse && pf_dev_memset8(ap->dev, ap->d_lse, 0xff, ap->lse_bytes, NULL))
        return -1;
    return 0;
}

int pf_attn_launch(pf_attn_prepared *ap, pf_stream *s)
{
    if (ap->params.num_work == 0)
        return 0;
    if (!ap->params.q || !ap->params.o)
        return pf_error_set("attention: external tensors not bound (pf_attn_bind)");
    return pf_dev_launch(ap->dev, ap->module, "attention", ap->info.grid, ap->info.block,
                         ap->info.smem, s, &ap->params, sizeof ap->params);
}

static int launch_for_measure(void *ctx, pf_stream *s)
{
    return pf_attn_launch((pf_attn_prepared *)ctx, s);
}

int pf_attn_measure(pf_attn_prepared *ap, const pf_measure_opts *o, pf_measure_summary *out,
                    double *samples_ms)
{
    if (pf_measure_run(ap->dev, NULL, launch_for_measure, ap, o, out, samples_ms))
        return -1;
    ap->info.kernel_ms = out->median_ms;
    snprintf(ap->info.timer, sizeof ap->info.timer, "%s", out->timer);
    return 0;
}

int pf_attn_download(pf_attn_prepared *ap, float *o, float *lse)
{
    if (pf_dev_stream_sync(ap->dev, NULL))
        return -1;
    if (o && !ap->d_o)
        return pf_error_set("attention: the output is the caller's (external tensors)");
    if (o) {
        size_t n = ap->o_bytes / PF_ATTN_ELEM_BYTES;
        pf_bf16 *h = (pf_bf16 *)malloc(ap->o_bytes ? ap->o_bytes : 1);
        if (!h)
            return pf_error_set("attention: out of memory for the output");
        if (pf_dev_copy_dtoh(ap->dev, h, ap->d_o, ap->o_bytes, NULL)) {
            free(h);
            return -1;
        }
        for (size_t i = 0; i < n; i++)
            o[i] = pf_bf16_to_f32(h[i]);
        free(h);
    }
    if (lse && ap->d_lse && pf_dev_copy_dtoh(ap->dev, lse, ap->d_lse, ap->lse_bytes, NULL))
        return -1;
    return 0;
}

const pf_attn_run_info *pf_attn_prepared_info(const pf_attn_prepared *ap)
{
    return &ap->info;
}

void pf_attn_release(pf_attn_prepared *ap)
{
    if (!ap)
        return;
    pf_dptr bufs[] = {ap->d_q,    ap->d_k,        ap->d_v,        ap->d_o,         ap->d_lse,
                      ap->d_qo,   ap->d_kv,       ap->d_work_req, ap->d_work_qt,   ap->d_mask,
                      ap->d_mask_indptr, ap->d_groups, ap->d_tiles, ap->d_tile_indptr};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        if (bufs[i])
            pf_dev_free(ap->dev, bufs[i]);
    if (ap->module)
        pf_dev_module_unload(ap->dev, ap->module);
    free(ap);
}

int pf_attn_run(pf_device *dev, const char *arch, const pf_attn_problem *pb,
                const pf_attn_variant *v, const float *q, const float *k, const float *v_in,
                float *o, float *lse, pf_attn_run_info *info)
{
    return pf_attn_run_opts(dev, arch, pb, v, NULL, q, k, v_in, o, lse, info);
}

int pf_attn_run_opts(pf_device *dev, const char *arch, const pf_attn_problem *pb,
                     const pf_attn_variant *v, const pf_attn_opts *opts, const float *q,
                     const float *k, const float *v_in, float *o, float *lse,
                     pf_attn_run_info *info)
{
    if (!q || !k || !v_in || !o)
        return pf_error_set("attention: q, k, v and o are required");
    pf_attn_prepared *ap;
    if (pf_attn_prepare_opts(dev, arch, pb, v, opts, q, k, v_in, 0, lse != NULL, &ap, info))
        return -1;
    /* One launch, timed through the measure layer; its output is checked,
     * so no warm-up run and no L2 flush. */
    pf_measure_opts once;
    pf_measure_defaults(&once);
    once.warmup = 0;
    once.min_samples = once.max_samples = 1;
    once.flush_l2 = 0;
    pf_measure_summary sum;
    int rc = pf_attn_measure(ap, &once, &sum, NULL);
    if (!rc)
        rc = pf_attn_download(ap, o, lse);
    if (info)
        *info = ap->info;
    pf_attn_release(ap);
    return rc;
}

double pf_attn_useful_flops(const pf_attn_problem *pb)
{
    const pf_layout *L = pb->layout;
    double pairs = 0;
    for (int r = 0; r < L->n_req; r++) {
        const pf_request *rq = &L->req[r];
        for (int64_t i = 0; i < rq->q_len; i++) {
            int64_t lo, hi;
            pf_mask_row_interval(L, r, rq->prefix + i, &pb->mask, &lo, &hi);
            if (hi >= lo)
                pairs += (double)(hi - lo + 1);
        }
    }
    return pairs * 4.0 * pb->head_dim * pb->hq;
}
