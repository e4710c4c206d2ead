/* pfattn: the exported kernels, the bucket pick (the tuner's lookup: the
 * nearest sequence-length bucket over every entry of the head dim, layer
 * kind and rule; ties go to the larger) and the whole metadata of a launch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pfattn_internal.h"

int pfattn_kernel_count(void)
{
    return pfattn_n_kernels;
}

const pfattn_kernel *pfattn_kernel_get(int index)
{
    if (index < 0 || index >= pfattn_n_kernels) {
        pfattn_fail(PFATTN_ERR_INVALID, "no kernel %d (this package has %d)", index,
                    pfattn_n_kernels);
        return NULL;
    }
    return &pfattn_kernels[index];
}

int pfattn_select(int head_dim, int layer, int rule, int64_t seq_len, int *kernel,
                  int64_t *bucket)
{
    if (!kernel)
        return pfattn_fail(PFATTN_ERR_INVALID, "select: no output pointer");
    const pfattn_bucket_rec *best = NULL;
    int64_t best_dist = -1;
    for (int e = 0; e < pfattn_n_entries; e++) {
        const pfattn_entry_rec *en = &pfattn_entries[e];
        if (en->head_dim != head_dim || en->layer != layer || en->rule != rule)
            continue;
        for (int b = 0; b < en->n_buckets; b++) {
            const pfattn_bucket_rec *x = &en->buckets[b];
            int64_t dist = x->seq_len > seq_len ? x->seq_len - seq_len : seq_len - x->seq_len;
            if (!best || dist < best_dist || (dist == best_dist && x->seq_len > best->seq_len)) {
                best = x;
                best_dist = dist;
            }
        }
    }
    if (!best) {
        char have[256] = "";
        size_t n = 0;
        for (int e = 0; e < pfattn_n_entries && n + 64 < sizeof have; e++)
            n += (size_t)snprintf(have + n, sizeof have - n, "%s%s D=%d %s", e ? ", " : "",
                                  pfattn_layer_name(pfattn_entries[e].layer),
                                  pfattn_entries[e].head_dim,
                                  pfattn_rule_name(pfattn_entries[e].rule));
        return pfattn_fail(PFATTN_ERR_NO_KERNEL, "no tuned entry for head dim %d, %s layer, "
                           "rule %s (exported: %s)", head_dim, pfattn_layer_name(layer),
                           pfattn_rule_name(rule), n ? have : "nothing");
    }
    *kernel = best->kernel;
    if (bucket)
        *bucket = best->seq_len;
    return PFATTN_OK;
}

void pfattn_metadata_free(pfattn_metadata *md)
{
    if (!md)
        return;
    free(md->qo_indptr);
    free(md->kv_indptr);
    free(md->work_request);
    free(md->work_qtile);
    free(md->mask);
    free(md->mask_indptr);
    free(md->group_ids);
    free(md->tile_class);
    free(md->tile_indptr);
    memset(md, 0, sizeof *md);
}

/* malloc of at least one byte, so empty arrays are not NULL. */
static void *alloc(int64_t bytes, int *rc)
{
    void *p = *rc ? NULL : malloc(bytes > 0 ? (size_t)bytes : 1);
    if (!p && !*rc)
        *rc = pfattn_fail(PFATTN_ERR_NOMEM, "metadata: cannot allocate %lld bytes",
                          (long long)bytes);
    return p;
}

int pfattn_metadata_build(const pfattn_layout *l, int head_dim, int rule, int layer, int window,
                          int64_t seq_len, pfattn_metadata *md)
{
    if (!md)
        return pfattn_fail(PFATTN_ERR_INVALID, "metadata: no output");
    memset(md, 0, sizeof *md);
    if (!l)
        return pfattn_fail(PFATTN_ERR_INVALID, "metadata: no layout");
    int kernel, rc = pfattn_select(head_dim, layer, rule, seq_len > 0 ? seq_len : l->max_kv_len,
                                   &kernel, NULL);
    if (rc)
        return rc;
    const pfattn_kernel *k = &pfattn_kernels[kernel];
    int ib = k->indptr_bytes;
    md->kernel = kernel;
    md->rule = rule;
    md->layer = layer;
    md->window = layer == PFATTN_LAYER_SLIDING ? window : 0;
    md->seq_len = seq_len > 0 ? seq_len : l->max_kv_len;
    md->batch = l->batch;
    md->total_q = l->total_q;
    md->total_kv = l->total_kv;
    md->indptr_bytes = ib;
    int64_t n_idx = ((int64_t)l->batch + 1) * ib;
    if ((rc = pfattn_work_size(l, k->block_m, &md->num_work)) ||
        (rc = pfattn_mask_size(l, k->mask_storage, rule, layer, window, &md->mask_bytes)))
        return rc;
    md->qo_indptr = alloc(n_idx, &rc);
    md->kv_indptr = alloc(n_idx, &rc);
    md->work_request = alloc(md->num_work * 4, &rc);
    md->work_qtile = alloc(md->num_work * 4, &rc);
    if (!rc)
        rc = pfattn_indptr(l, ib, md->qo_indptr, md->kv_indptr);
    if (!rc)
        rc = pfattn_work_list(l, k->block_m, md->work_request, md->work_qtile);
    if (k->mask_storage == PFATTN_MASK_SPANS) {
        md->group_ids = alloc(l->total_kv * 4, &rc);
        if (!rc)
            rc = pfattn_group_ids(l, md->group_ids);
    } else {
        md->mask = alloc(md->mask_bytes, &rc);
        md->mask_indptr = alloc(n_idx, &rc);
        if (!rc)
            rc = pfattn_mask_encode(l, k->mask_storage, rule, layer, window, ib, md->mask,
                                    md->mask_indptr);
        if (!rc && k->mask_storage == PFATTN_MASK_WINDOW)
            rc = pfattn_mask_band(l, rule, layer, window, &md->band);
    }
    if (k->tile_skip) {
        if (!rc)
            rc = pfattn_tile_size(l, k->block_m, k->block_n, &md->tile_bytes);
        md->tile_class = alloc(md->tile_bytes, &rc);
        md->tile_indptr = alloc(n_idx, &rc);
        if (!rc)
            rc = pfattn_tile_classes(l, rule, layer, window, k->block_m, k->block_n, ib,
                                     md->tile_class, md->tile_indptr);
    }
    if (rc)
        pfattn_metadata_free(md);
    return rc;
}
