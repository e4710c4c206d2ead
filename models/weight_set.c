/* Host bf16 copies of every tensor a forward reads (weight_set.h). */
#include "models/weight_set.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"

static int alloc_all(const pf_weight_model *m, const void *cfg, pf_weight_set *w)
{
    memset(w, 0, sizeof *w);
    if (m->specs(cfg, &w->specs, &w->n))
        return -1;
    w->data = calloc((size_t)w->n, sizeof *w->data);
    if (!w->data)
        return pf_error_set("out of memory for %d weight tensors", w->n);
    for (int i = 0; i < w->n; i++) {
        w->data[i] = malloc((size_t)(w->specs[i].count ? w->specs[i].count : 1) * sizeof(uint16_t));
        if (!w->data[i])
            return pf_error_set("out of memory for tensor '%s' (%lld values)", w->specs[i].name,
                                (long long)w->specs[i].count);
    }
    return 0;
}

int pf_weight_set_load(const pf_weight_model *m, const void *cfg, const char *dir,
                       pf_weight_set *out)
{
    memset(out, 0, sizeof *out);
    pf_safetensors *st = NULL;
    if (pf_st_open(dir, &st))
        return -1;
    int rc = m->check(cfg, st);
    if (!rc)
        rc = alloc_all(m, cfg, out);
    for (int i = 0; !rc && i < out->n; i++)
        rc = pf_st_to_bf16(m->find(st, out->specs[i].name), out->data[i]);
    pf_st_close(st);
    if (rc)
        pf_weight_set_free(out);
    return rc;
}

int pf_weight_set_synth(const pf_weight_model *m, const void *cfg, uint64_t seed,
                        pf_weight_set *out)
{
    if (alloc_all(m, cfg, out)) {
        pf_weight_set_free(out);
        return -1;
    }
    for (int i = 0; i < out->n; i++)
        m->synth(&out->specs[i], seed, out->data[i]);
    return 0;
}

static int find(const pf_weight_set *w, const char *name)
{
    for (int i = 0; i < w->n; i++)
        if (strcmp(w->specs[i].name, name) == 0)
            return i;
    return -1;
}

const uint16_t *pf_ws_get(const pf_weight_set *w, const char *fmt, ...)
{
    char name[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    int i = find(w, name);
    return i < 0 ? NULL : w->data[i];
}

const pf_wspec *pf_ws_spec(const pf_weight_set *w, const char *name)
{
    int i = find(w, name);
    return i < 0 ? NULL : &w->specs[i];
}

void pf_weight_set_free(pf_weight_set *w)
{
    for (int i = 0; w->data && i < w->n; i++)
        free(w->data[i]);
    free(w->data);
    free(w->specs);
    memset(w, 0, sizeof *w);
}
