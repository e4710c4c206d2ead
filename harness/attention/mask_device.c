/* Host side of the device mask encoders (see mask_device.h): sizes, band
 * and int32 refusal from the layout as the host encoder decides them, then
 * compile kernels/mask_build.cu for the device, upload the small inputs,
 * launch one block per (request, row chunk) and hand back device buffers. */
#include "attention/mask_device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jit/jit_load.h"
#include "kernels/mask_build_params.h"
#include "core/pf_error.h"
#include "attention/tile_class.h"

#define MB_DEFAULT_THREADS 128
#define MB_MAX_ROWS 64         /* rows per block at most: keeps big grids */
#define MB_BYTES_PER_WORK 8192 /* aim per block when rows are short */

void pf_mask_device_opts_init(pf_mask_device_opts *o)
{
    memset(o, 0, sizeof *o);
    o->poison = -1;
}

static int dev_alloc(pf_device *dev, size_t bytes, const char *label, pf_dptr *out)
{
    *out = 0;
    return pf_dev_alloc(dev, bytes ? bytes : 1, label, out);
}

static int dev_upload(pf_device *dev, const void *src, size_t bytes, const char *label,
                      pf_dptr *out)
{
    if (dev_alloc(dev, bytes, label, out))
        return -1;
    if (pf_dev_copy_htod(dev, *out, src, bytes, NULL)) {
        pf_dev_free(dev, *out);
        *out = 0;
        return -1;
    }
    return 0;
}

static int dev_free(pf_device *dev, pf_dptr *p)
{
    int rc = *p ? pf_dev_free(dev, *p) : 0;
    *p = 0;
    return rc;
}

/* kernels/mask_build.cu for the device's target: MASK_STORAGE=storage, or
 * TILE_BUILD=1 when storage < 0. */
static int load_builder(pf_device *dev, int storage, int indptr_bytes, pf_module **out)
{
    pf_variant v;
    memset(&v, 0, sizeof v);
    snprintf(v.source, sizeof v.source, "%s/mask_build.cu", pf_kernel_dir());
    char num[16];
    snprintf(num, sizeof num, "%d", storage);
    if (pf_variant_add_define(&v, "INDPTR_T", indptr_bytes == 8 ? "long long" : "int") ||
        pf_variant_add_define(&v, storage < 0 ? "TILE_BUILD" : "MASK_STORAGE",
                              storage < 0 ? "1" : num))
        return -1;
    return pf_jit_load(dev, &v, "mask builder", out, NULL);
}

/* One work item per (request, chunk of `rows` query rows); work_row holds
 * the chunk's first row, or its index when the chunks are query tiles. */
static int build_work(const pf_layout *L, int rows, int rows_are_tiles, int **req_out,
                      int **row_out, int *n_out)
{
    *req_out = *row_out = NULL;
    int64_t n = 0;
    for (int r = 0; r < L->n_req; r++)
        n += (L->req[r].q_len + rows - 1) / rows;
    if (n > 0x7fffffff)
        return pf_error_set("mask builder: %lld work items exceed the grid limit", (long long)n);
    int *wr = (int *)malloc((size_t)n * sizeof *wr + 1);
    int *wq = (int *)malloc((size_t)n * sizeof *wq + 1);
    if (!wr || !wq) {
        free(wr);
        free(wq);
        return pf_error_set("mask builder: out of memory for the work list");
    }
    int64_t i = 0;
    for (int r = 0; r < L->n_req; r++)
        for (int64_t c = 0; c * rows < L->req[r].q_len; c++, i++) {
            wr[i] = r;
            wq[i] = (int)(rows_are_tiles ? c : c * rows);
        }
    *req_out = wr;
    *row_out = wq;
    *n_out = (int)n;
    return 0;
}

/* Device buffers of one build that do not outlive it. */
typedef struct mb_temps {
    pf_dptr groups, qo, kv, work_req, work_row;
} mb_temps;

static int temps_free(pf_device *dev, mb_temps *t)
{
    int rc = dev_free(dev, &t->groups);
    rc |= dev_free(dev, &t->qo);
    rc |= dev_free(dev, &t->kv);
    rc |= dev_free(dev, &t->work_req);
    rc |= dev_free(dev, &t->work_row);
    return rc ? -1 : 0;
}

/* Group ids and qo/kv indptr the caller did not provide. */
static int upload_inputs(pf_device *dev, const pf_layout *L, int ib, const pf_mask_device_opts *o,
                         mb_temps *t, pf_mask_build_params *P)
{
    pf_dptr groups = o->group_ids, qo = o->qo_indptr, kv = o->kv_indptr;
    if (!groups) {
        int32_t *g = (int32_t *)malloc((size_t)L->total_kv * sizeof *g + 1);
        if (!g)
            return pf_error_set("mask builder: out of memory for group ids");
        for (int r = 0; r < L->n_req; r++)
            memcpy(g + L->kv_indptr[r], L->req[r].group, (size_t)L->req[r].kv_len * sizeof *g);
        int rc = dev_upload(dev, g, (size_t)L->total_kv * sizeof *g, "mask builder group ids",
                            &t->groups);
        free(g);
        if (rc)
            return -1;
        groups = t->groups;
    }
    if (!qo || !kv) {
        void *hqo = NULL, *hkv = NULL;
        if (pf_layout_indptr_encode(L, ib, &hqo, &hkv))
            return pf_error_prefix("mask builder");
        size_t n = ((size_t)L->n_req + 1) * (size_t)ib;
        int rc = 0;
        if (!qo && (rc = dev_upload(dev, hqo, n, "mask builder qo indptr", &t->qo)) == 0)
            qo = t->qo;
        if (!rc && !kv && (rc = dev_upload(dev, hkv, n, "mask builder kv indptr", &t->kv)) == 0)
            kv = t->kv;
        free(hqo);
        free(hkv);
        if (rc)
            return -1;
    }
    P->group_ids = (const int *)(uintptr_t)groups;
    P->qo_indptr = (const void *)(uintptr_t)qo;
    P->kv_indptr = (const void *)(uintptr_t)kv;
    return 0;
}

/* The common part: encode and upload the output indptr from offsets, allocate
 * (and poison) the output, upload inputs and the work list, launch, wait.
 * On success *out_buf / *out_indptr own device buffers; on failure none. */
static int run_builder(pf_device *dev, const pf_layout *L, int storage, int ib,
                       const pf_mask_device_opts *o, const int64_t *offsets, const char *what,
                       int rows, pf_mask_build_params *P, pf_dptr *out_buf,
                       pf_dptr *out_indptr)
{
    *out_buf = *out_indptr = 0;
    void *hind = NULL;
    if (pf_indptr_encode(offsets, L->n_req, ib, what, &hind))
        return -1;
    mb_temps t;
    memset(&t, 0, sizeof t);
    pf_module *mod = NULL;
    int *wr = NULL, *wq = NULL, nw = 0;
    size_t bytes = (size_t)offsets[L->n_req];
    int threads = o->threads > 0 ? o->threads : MB_DEFAULT_THREADS;
    int rc = load_builder(dev, storage, ib, &mod);
    if (!rc)
        rc = dev_upload(dev, hind, ((size_t)L->n_req + 1) * (size_t)ib, "mask builder out indptr",
                        out_indptr);
    if (!rc)
        rc = dev_alloc(dev, bytes, storage < 0 ? "device tile classes" : "device mask", out_buf);
    if (!rc && o->poison >= 0)
        rc = pf_dev_memset8(dev, *out_buf, o->poison & 0xff, bytes, NULL);
    if (!rc)
        rc = upload_inputs(dev, L, ib, o, &t, P);
    if (!rc)
        rc = build_work(L, rows, storage < 0, &wr, &wq, &nw);
    if (!rc)
        rc = dev_upload(dev, wr, (size_t)nw * sizeof *wr, "mask builder work requests",
                        &t.work_req);
    if (!rc)
        rc = dev_upload(dev, wq, (size_t)nw * sizeof *wq, "mask builder work rows", &t.work_row);
    if (!rc) {
        P->out = (unsigned char *)(uintptr_t)*out_buf;
        P->out_indptr = (const void *)(uintptr_t)*out_indptr;
        P->work_request = (const int *)(uintptr_t)t.work_req;
        P->work_row = (const int *)(uintptr_t)t.work_row;
        P->num_work = nw;
        P->rows_per_work = rows;
        pf_dim3 grid = {(unsigned)nw, 1, 1}, block = {(unsigned)threads, 1, 1};
        const char *name = storage < 0 ? "tile_build" : "mask_build";
        rc = pf_dev_launch(dev, mod, name, grid, block, 0, NULL, P, sizeof *P);
        if (rc)
            pf_error_prefix("%s builder", what);
    }
    /* temporaries are freed below: wait for the kernel even after an error */
    if (pf_dev_stream_sync(dev, NULL) && !rc)
        rc = pf_error_prefix("%s builder", what);
    if (temps_free(dev, &t) && !rc)
        rc = -1;
    if (mod && pf_dev_module_unload(dev, mod) && !rc)
        rc = -1;
    free(wr);
    free(wq);
    free(hind);
    if (rc) { /* already failing: the frees' own errors add nothing */
        (void)dev_free(dev, out_buf);
        (void)dev_free(dev, out_indptr);
    }
    return rc;
}

/* Query rows per block: about MB_BYTES_PER_WORK output bytes, 1..MB_MAX_ROWS. */
static int rows_for(const pf_layout *L, int storage, int band_stride)
{
    int64_t row_bytes = 1;
    for (int r = 0; r < L->n_req; r++) {
        int64_t kv = L->req[r].kv_len;
        int64_t b = storage == PF_MASK_DENSE ? kv : storage == PF_MASK_BITMAP ? (kv + 7) / 8
                                                                              : band_stride;
        if (b > row_bytes)
            row_bytes = b;
    }
    int64_t rows = MB_BYTES_PER_WORK / row_bytes;
    return rows < 1 ? 1 : rows > MB_MAX_ROWS ? MB_MAX_ROWS : (int)rows;
}

static int check_common(pf_device *dev, const pf_layout *L, const pf_mask_spec *spec,
                        int indptr_bytes)
{
    if (!dev || !L || !spec)
        return pf_error_set("mask builder: missing device, layout or spec");
    if (L->n_req <= 0)
        return pf_error_set("mask builder: empty layout");
    if (indptr_bytes != 4 && indptr_bytes != 8)
        return pf_error_set("mask builder: indptr must be 4 or 8 bytes (got %d)", indptr_bytes);
    return pf_mask_spec_check(spec);
}

int pf_mask_encode_device(pf_device *dev, const pf_layout *layout, int storage,
                          const pf_mask_spec *spec, int indptr_bytes,
                          const pf_mask_device_opts *opts, pf_mask_dev *out)
{
    memset(out, 0, sizeof *out);
    out->storage = storage;
    out->indptr_bytes = indptr_bytes;
    if (check_common(dev, layout, spec, indptr_bytes))
        return -1;
    if (storage == PF_MASK_SPANS)
        return pf_error_set("mask builder: spans storage has no mask to build (its group ids "
                            "are the builder's input)");
    if (storage != PF_MASK_DENSE && storage != PF_MASK_BITMAP && storage != PF_MASK_WINDOW)
        return pf_error_set("mask builder: unknown mask storage %d", storage);
    pf_mask_device_opts defaults;
    pf_mask_device_opts_init(&defaults);
    const pf_mask_device_opts *o = opts ? opts : &defaults;

    pf_mask_build_params P;
    memset(&P, 0, sizeof P);
    pf_mask_flags(spec, &out->use_causal, &out->use_same, &out->window);
    if (storage == PF_MASK_WINDOW && pf_mask_band(layout, spec, &out->band))
        return -1;
    P.use_causal = out->use_causal;
    P.use_same = out->use_same;
    P.window = out->window;
    P.band_left = out->band.left;
    P.band_right = out->band.right;
    P.band_stride = out->band.stride;

    int64_t *offsets = (int64_t *)malloc(((size_t)layout->n_req + 1) * sizeof *offsets);
    if (!offsets)
        return pf_error_set("mask builder: out of memory");
    char what[32];
    snprintf(what, sizeof what, "%s mask", pf_storage_name(storage));
    int rc = pf_mask_offsets(layout, storage, spec, offsets);
    if (!rc)
        rc = pf_mask_indptr_check(layout, storage, offsets, indptr_bytes, what);
    if (!rc)
        rc = run_builder(dev, layout, storage, indptr_bytes, o, offsets, what,
                         o->rows_per_work > 0 ? o->rows_per_work
                                              : rows_for(layout, storage, out->band.stride),
                         &P, &out->mask, &out->indptr);
    if (!rc)
        out->mask_bytes = (size_t)offsets[layout->n_req];
    free(offsets);
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}

int pf_mask_dev_free(pf_device *dev, pf_mask_dev *m)
{
    int rc = dev_free(dev, &m->mask);
    rc |= dev_free(dev, &m->indptr);
    m->mask_bytes = 0;
    return rc ? -1 : 0;
}

int pf_tile_classify_device(pf_device *dev, const pf_layout *layout, const pf_mask_spec *spec,
                            int block_m, int block_n, int indptr_bytes,
                            const pf_mask_device_opts *opts, pf_tile_dev *out)
{
    memset(out, 0, sizeof *out);
    out->block_m = block_m;
    out->block_n = block_n;
    out->indptr_bytes = indptr_bytes;
    if (check_common(dev, layout, spec, indptr_bytes))
        return -1;
    pf_mask_device_opts defaults;
    pf_mask_device_opts_init(&defaults);
    const pf_mask_device_opts *o = opts ? opts : &defaults;
    int64_t *offsets = (int64_t *)malloc(((size_t)layout->n_req + 1) * sizeof *offsets);
    if (!offsets)
        return pf_error_set("tile classes: out of memory");
    pf_mask_build_params P;
    memset(&P, 0, sizeof P);
    pf_mask_flags(spec, &P.use_causal, &P.use_same, &P.window);
    P.block_m = block_m;
    P.block_n = block_n;
    int rc = pf_tile_offsets(layout, block_m, block_n, offsets);
    if (!rc)
        rc = run_builder(dev, layout, -1, indptr_bytes, o, offsets, "tile classes", block_m, &P,
                         &out->cls, &out->indptr);
    if (!rc)
        out->n_tiles = (size_t)offsets[layout->n_req];
    free(offsets);
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}

int pf_tile_dev_free(pf_device *dev, pf_tile_dev *t)
{
    int rc = dev_free(dev, &t->cls);
    rc |= dev_free(dev, &t->indptr);
    t->n_tiles = 0;
    return rc ? -1 : 0;
}
